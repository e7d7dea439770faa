/// How an error message names a path (or any name a user typed): as it is when it prints on one line and reads
/// back unambiguously, else in double quotes with its control characters, quotes and backslashes escaped
/// (`"a\nb"`, `"tab\there"`, `"\u{7f}"`), so that every error stays one line a person can copy back.
public func quoted(_ path: String) -> String {
    func needsEscape(_ scalar: Unicode.Scalar) -> Bool {
        scalar.value < 0x20 || (0x7F...0x9F).contains(scalar.value) || scalar == "\u{2028}" || scalar == "\u{2029}"
    }
    guard path.unicodeScalars.contains(where: needsEscape) else { return path }
    var text = "\""
    for scalar in path.unicodeScalars {
        switch scalar {
        case "\"": text += "\\\""
        case "\\": text += "\\\\"
        case "\n": text += "\\n"
        case "\r": text += "\\r"
        case "\t": text += "\\t"
        case _ where needsEscape(scalar): text += "\\u{" + String(scalar.value, radix: 16) + "}"
        default: text.unicodeScalars.append(scalar)
        }
    }
    return text + "\""
}
