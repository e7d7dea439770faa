#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// Help text hand-wrapped in the source, re-flowed so that ArgumentParser wraps it to the terminal's width (COLUMNS):
/// the lines of a paragraph are joined into one; blank lines, indented lines (examples, JSON shapes) and the first
/// line of a list item ("- ") stay where they are, and a list item's own continuation lines join it. Here, not in
/// the CLI, because `purser serve --help` is `purser-server`'s.
public func reflowed(_ text: String) -> String {
    // Every process reflows every command's help (ArgumentParser reads all their configurations), so the lines are
    // split and tested as UTF-8 bytes: splitting them into Characters took six times as long.
    var result = ""
    result.reserveCapacity(text.utf8.count)
    var joinable = false
    for (index, line) in text.utf8.split(separator: UInt8(ascii: "\n"), omittingEmptySubsequences: false).enumerated() {
        if line.isEmpty || line.first == UInt8(ascii: " ") {
            joinable = false
        } else if joinable, !line.starts(with: "- ".utf8) {
            result += " " + Substring(line)
            continue
        } else {
            joinable = true
        }
        if index > 0 { result += "\n" }
        result += Substring(line)
    }
    return result
}

/// The fewest columns help is laid out in: ArgumentParser stops on an assertion for fewer than 27 (and prints no help
/// at all in a release build).
public let minimumHelpColumns = 40

/// Before arguments are parsed: sets COLUMNS to `minimumHelpColumns` when it, or else the terminal standard output is,
/// is narrower (`COLUMNS=20 purser --help` is laid out for 40 columns), and unsets it when it is no number.
public func clampHelpColumns() {
    var columns: Int?
    if let text = getenv("COLUMNS").map({ String(cString: $0) }) {
        columns = Int(text)
        if columns == nil { unsetenv("COLUMNS") }
    }
    if columns == nil {
        var size = winsize()
        #if canImport(Glibc)
            let request = UInt(TIOCGWINSZ)
        #else
            let request = TIOCGWINSZ
        #endif
        if isatty(STDOUT_FILENO) == 1, ioctl(STDOUT_FILENO, request, &size) == 0, size.ws_col > 0 {
            columns = Int(size.ws_col)
        }
    }
    if let columns, columns < minimumHelpColumns { setenv("COLUMNS", String(minimumHelpColumns), 1) }
}
