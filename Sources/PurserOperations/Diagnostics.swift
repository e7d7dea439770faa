import Foundation
import PurserCore
public import PurserLedger

/// The lines both executables write on standard error: `purser: error: …`, `purser: warning: …`,
/// `purser: note: …`, one line each.
public enum Diagnostics {
    /// Prints `message` on one line, escaped (`TerminalText`): a line break a message still holds (a name a user
    /// typed) is written as \n, a terminal escape or a soft hyphen (from the command line or a server) as \u{1B},
    /// \u{AD}.
    public static func printError(_ message: String) {
        printLine("error", message)
    }

    /// Prints `error`'s message, naming the parameters it names as the command line's flags (`flag(for:)`).
    /// - Parameter flags: the flags of the command that failed, by request field, where they are not the usual ones.
    public static func printError(_ error: LedgerError, flags: [String: String] = [:]) {
        printLine("error", error.text.rendered { flag(for: $0, flags: flags) })
    }

    /// The flag that gives the request field `parameter` on the command line: `flags[parameter]`, else the
    /// field in kebab case (`effectiveAt` is `--effective-at`) but for the fields whose flag is shorter
    /// (`breakGlassReason` is `--reason`).
    public static func flag(for parameter: String, flags: [String: String] = [:]) -> String {
        if let flag = flags[parameter] ?? renamed[parameter] { return flag }
        var flag = "--"
        for character in parameter {
            if character.isUppercase {
                flag += "-" + character.lowercased()
            } else {
                flag.append(character)
            }
        }
        return flag
    }

    /// The request fields whose flag is not the field's name, whatever the command.
    private static let renamed = [
        "breakGlassReason": "--reason", "breakGlassApprover": "--approver", "margins": "--margin",
    ]

    /// Prints `message` as a warning: the command goes on, but something needs a person's attention.
    public static func printWarning(_ message: String) {
        printLine("warning", message)
    }

    /// Prints `message` as a note: something a person should know about a command that succeeded, which is not
    /// an error.
    public static func printNote(_ message: String) {
        printLine("note", message)
    }

    /// The line `printError`, `printWarning` or `printNote` writes, with its line break.
    static func line(_ label: String, _ message: String) -> String {
        "purser: \(label): \(TerminalText.escaped(message, keepingTabs: true))\n"
    }

    private static func printLine(_ label: String, _ message: String) {
        FileHandle.standardError.write(Data(line(label, message).utf8))
    }
}
