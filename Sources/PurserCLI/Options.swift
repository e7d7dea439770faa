import ArgumentParser
import Foundation
import PurserCore
import PurserLedger

/// Options every command that touches a ledger takes.
struct LedgerOptions: ParsableArguments {
    @Option(
        name: .long,
        help: ArgumentHelp("The ledger file (env PURSER_LEDGER).", valueName: "path"))
    var ledger: String = ProcessInfo.processInfo.environment["PURSER_LEDGER"] ?? Ledger.defaultPath

    func open() throws -> Ledger {
        try Ledger(openingAt: ledger)
    }

    /// The release domain over the ledger.
    func releases() throws -> Releases {
        try Releases(ledger: open())
    }
}

/// The signing key option of commands that sign checkpoints.
struct KeyOptions: ParsableArguments {
    @Option(
        name: .long,
        help: ArgumentHelp(
            "The private signing key file (env PURSER_KEY; default: beside the ledger, with extension .key).",
            valueName: "path"))
    var key: String?

    func path(forLedgerAt ledger: String) -> String {
        key ?? ProcessInfo.processInfo.environment["PURSER_KEY"] ?? Ledger.defaultKeyPath(forLedgerAt: ledger)
    }
}

/// Printing results: text for people, canonical JSON for programs (stable field names).
enum Output {
    static func line(_ text: String) {
        FileHandle.standardOutput.write(Data((text + "\n").utf8))
    }

    static func json(_ value: JSONValue) {
        var bytes = CanonicalJSON.encode(value)
        bytes.append(0x0A)
        FileHandle.standardOutput.write(Data(bytes))
    }

    /// Progress on standard error, only when a person is watching.
    static func progress(_ text: String) {
        guard isatty(STDERR_FILENO) == 1 else { return }
        FileHandle.standardError.write(Data("\r\(text)".utf8))
    }

    static func endProgress() {
        guard isatty(STDERR_FILENO) == 1 else { return }
        FileHandle.standardError.write(Data("\n".utf8))
    }
}

extension JSONValue {
    static func int(_ value: UInt64) -> JSONValue { .number(Double(value)) }
    static func hashes(_ values: [Hash]) -> JSONValue { .array(values.map { .string($0.hex) }) }
}

/// Reads `--checkpoint` files.
func heldCheckpoints(_ paths: [String]) throws -> [Ledger.HeldCheckpoint] {
    try paths.map { path in
        Ledger.HeldCheckpoint(source: path, text: String(decoding: try Inputs.read(path), as: UTF8.self))
    }
}

/// Parses a `--since`/`--until` value into the ledger's timestamp form.
func ledgerTimestamp(_ text: String?, option: String) throws -> String? {
    try parseTime(text, option: option).map(Timestamp.format)
}

/// Parses an `--effective-at`-style time.
func parseTime(_ text: String?, option: String) throws -> Date? {
    guard let text else { return nil }
    guard let date = Timestamp.parse(text) else {
        throw LedgerError(
            .usage, "\(option) \"\(text)\" is not an RFC 3339 time (e.g. 2026-11-27T14:03:00Z) or a date (2026-11-27)")
    }
    return date
}

/// `text` followed by spaces up to `width` characters (never cut).
func padded(_ text: String, _ width: Int) -> String {
    text.count >= width ? text : text + String(repeating: " ", count: width - text.count)
}

/// The folder of purser's templates that holds every one of `files`: `templates` here, else the one of the
/// checkout the running binary was built in (the nearest `templates` above it: `.build/release/purser`
/// links to `.build/<triple>/release/purser`); nil if neither does.
func templatesFolder(holding files: [String]) -> String? {
    func holds(_ folder: String) -> Bool {
        files.allSatisfy { FileManager.default.fileExists(atPath: folder + "/" + $0) }
    }
    if holds("templates") { return "templates" }
    let executable = (Bundle.main.executableURL ?? URL(fileURLWithPath: CommandLine.arguments[0]))
        .resolvingSymlinksInPath()
    var folder = executable.deletingLastPathComponent()
    while folder.path != "/" {
        let candidate = folder.appendingPathComponent("templates").path
        if holds(candidate) { return candidate }
        folder = folder.deletingLastPathComponent()
    }
    return nil
}
