import ArgumentParser
import Foundation
import PurserCore
import PurserLedger
import PurserOperations

/// Options every command that touches a ledger takes.
struct LedgerOptions: ParsableArguments {
    @Option(
        name: .long,
        help: ArgumentHelp("The ledger file (env PURSER_LEDGER).", valueName: "path"))
    var ledger: String = environmentValue("PURSER_LEDGER") ?? Ledger.defaultPath

    @Option(
        name: .long,
        help: ArgumentHelp(
            "Act on the ledger of this purser server instead of a local file (env PURSER_SERVER; the token in env PURSER_TOKEN).",
            valueName: "url"))
    var server: String?

    /// The server to act on, if any: --server, else $PURSER_SERVER (empty is unset).
    var serverURL: String? { server ?? environmentValue("PURSER_SERVER") }

    /// The local ledger, dated by `CommandClock`. Commands that cannot yet act on a server refuse one here.
    func open() throws -> Ledger {
        if let serverURL {
            throw LedgerError(
                .usage,
                "this command works on a local ledger file only, not yet through --server \(serverURL) (unset PURSER_SERVER to use --ledger)"
            )
        }
        let opened = try Ledger(openingAt: ledger)
        opened.clock = try CommandClock.clock()
        return opened
    }

    /// Performs `operation` on the server (with --server or $PURSER_SERVER) or on the local ledger, prints the
    /// reply as text or JSON, and exits 1 or 2 for a negative or inconclusive verdict: the same either way.
    func perform(_ operation: some LedgerOperation, json: Bool) throws {
        try print(reply(operation), json: json)
    }

    /// Performs `operation` on the server or on the local ledger, and returns its reply unprinted.
    func reply(_ operation: some LedgerOperation) throws -> Reply {
        if let serverURL {
            return try Client(server: serverURL, token: environmentValue("PURSER_TOKEN")).perform(operation)
        }
        return try operation.perform(on: releases())
    }

    /// Prints a reply as text or JSON, and exits 1, 2 or 3 for a negative, inconclusive or integrity verdict.
    func print(_ reply: Reply, json: Bool) throws {
        reply.write(json: json)
        try reply.exit()
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
        key ?? environmentValue("PURSER_KEY") ?? Ledger.defaultKeyPath(forLedgerAt: ledger)
    }
}

/// Printing results: text for people, canonical JSON for programs (stable field names).
enum Output {
    /// Prints `text` as one line, escaped (`TerminalText`, tabs kept): what a ledger, a server or a file holds
    /// never reaches the terminal as a control sequence.
    static func line(_ text: String) {
        FileHandle.standardOutput.write(Data((TerminalText.escaped(text, keepingTabs: true) + "\n").utf8))
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

/// Reads `--checkpoint` files.
func heldCheckpoints(_ paths: [String]) throws -> [Ledger.HeldCheckpoint] {
    try paths.map { path in
        Ledger.HeldCheckpoint(source: path, text: String(decoding: try checkpointFile(path).bytes, as: UTF8.self))
    }
}

/// Reads one `--checkpoint` file; a missing one is named as a checkpoint file.
func checkpointFile(_ path: String) throws -> InputFile {
    InputFile(
        source: Inputs.name(path),
        bytes: try InputBytes.read(path, source: "checkpoint file \(Inputs.name(path))"))
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
