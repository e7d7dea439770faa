import Foundation
import PurserCore

/// The lines both executables write on standard error: `purser: error: …`, `purser: warning: …`,
/// `purser: note: …`, one line each.
public enum Diagnostics {
    /// Prints `message` on one line, escaped (`TerminalText`): a line break a message still holds (a name a user
    /// typed) is written as \n, a terminal escape or a soft hyphen (from the command line or a server) as \u{1B},
    /// \u{AD}.
    public static func printError(_ message: String) {
        printLine("error", message)
    }

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
