/// Help text hand-wrapped in the source, re-flowed so that ArgumentParser wraps it to the terminal's width (COLUMNS):
/// the lines of a paragraph are joined into one; blank lines, indented lines (examples, JSON shapes) and the first
/// line of a list item ("- ") stay where they are, and a list item's own continuation lines join it. Here, not in
/// the CLI, because `purser serve --help` is `purser-server`'s.
public func reflowed(_ text: String) -> String {
    var lines: [String] = []
    var joinable = false
    for line in text.split(separator: "\n", omittingEmptySubsequences: false) {
        if line.isEmpty || line.first == " " {
            lines.append(String(line))
            joinable = false
        } else if joinable, !line.hasPrefix("- ") {
            lines[lines.count - 1] += " " + line
        } else {
            lines.append(String(line))
            joinable = true
        }
    }
    return lines.joined(separator: "\n")
}
