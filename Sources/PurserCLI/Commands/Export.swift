import ArgumentParser
import Foundation
import PurserCore
import PurserLedger
import PurserOperations

struct Export: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "export",
        abstract: "Write an offline audit bundle: entries.jsonl, checkpoint, key.pub.",
        discussion: reflowed(
            """
            Line i of entries.jsonl is exactly the bytes of entry i. An auditor verifies the bundle with
            `purser verify-bundle DIR`, or with a short script written from ledger/README.md alone.

            With --server, the server signs a checkpoint of its tree and the entries it covers are fetched and
            checked against its root here; a reader token is enough.

            Examples:
              purser export --out audit-2026-11/
              PURSER_TOKEN=... purser export --server http://ledger.internal:8080 \\
                --out audit-2026-11/
            """))

    @OptionGroup var ledgerOptions: LedgerOptions
    @OptionGroup var keyOptions: KeyOptions
    @Option(help: ArgumentHelp("The bundle folder (created if needed).", valueName: "dir")) var out: String
    @Flag(help: "Print the result as JSON.") var json = false

    func run() throws {
        let checkpoint: Checkpoint
        if let server = ledgerOptions.serverURL {
            checkpoint = try exportThroughServer(server)
        } else {
            let key = try SigningKey.load(from: keyOptions.path(forLedgerAt: ledgerOptions.ledger))
            checkpoint = try ledgerOptions.open().export(to: out, key: key)
        }
        if json {
            Output.json(
                .object(["out": .string(out), "size": .int(checkpoint.size), "root": .string(checkpoint.root.hex)]))
        } else {
            Output.line("exported \(checkpoint.size) entries to \(out) (root \(checkpoint.root.hex))")
        }
    }
}

extension Export {
    /// The bundle of the server's ledger: a checkpoint the server signs, checked with the key of the ledger's
    /// first entry, and the entries it covers, a thousand at a time, which must hash to its root.
    private func exportThroughServer(_ server: String) throws -> Checkpoint {
        let client = try Client(server: server, token: environmentValue("PURSER_TOKEN"))
        guard let note = try client.get("/v1/checkpoint")["note"]?.stringValue else {
            throw LedgerError(.internal, "the server at \(server) sent a checkpoint without its signed note")
        }
        let writer = try AuditBundle.Writer(directory: out)
        var signed: (checkpoint: Checkpoint, key: VerifierKey)?
        repeat {
            let limit = signed.map { Int(min(1_000, $0.checkpoint.size - writer.size)) } ?? 1
            let page = try client.perform(EntriesQuery(from: writer.size, limit: limit))
            guard case .array(let entries)? = page.json["entries"], !entries.isEmpty else {
                throw LedgerError(.internal, "the server at \(server) sent no entries from seq \(writer.size)")
            }
            for entry in entries {
                guard let text = entry["entry"]?.stringValue else {
                    throw LedgerError(.internal, "the server at \(server) sent an entry without its bytes")
                }
                let bytes = Array(text.utf8)
                if signed == nil { signed = try openCheckpoint(note, genesis: bytes) }
                try bytes.withUnsafeBytes { try writer.append($0) }
            }
            Output.progress("exported \(writer.size) of \(signed!.checkpoint.size) entries")
        } while writer.size < signed!.checkpoint.size
        Output.endProgress()
        try writer.finish(checkpoint: signed!.checkpoint, note: note, key: signed!.key)
        return signed!.checkpoint
    }

    /// The server's checkpoint, opened with the key its ledger's first entry names.
    /// - Throws: `.integrity` if the note is not signed by that key.
    private func openCheckpoint(_ note: String, genesis: [UInt8]) throws -> (Checkpoint, VerifierKey) {
        guard case .object(let entry) = try JSONValue(parsing: genesis), entry["seq"] == .number(0),
            let text = entry["body"]?["public_key"]?.stringValue
        else {
            throw LedgerError(.integrity, "the server's entry 0 is not a ledger.created entry with a public_key")
        }
        let key = try VerifierKey(parsing: text)
        switch try Checkpoint.open(note, source: "the server's checkpoint", key: key) {
        case .verified(let checkpoint): return (checkpoint, key)
        case .badSignature(_, let reason):
            throw LedgerError(.integrity, "the server's checkpoint is not signed by its ledger's key \(key): \(reason)")
        }
    }
}

struct VerifyBundle: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "verify-bundle",
        abstract: "Verify an audit bundle without any database; exit 3 on any fault.",
        discussion: reflowed(
            """
            Checks the checkpoint's signature with key.pub, every entry and link, and the root against the checkpoint.
            Pin the key you expect with --key, and pass checkpoints you kept from before with --checkpoint: without
            them a bundle made by someone else, or cut short and re-signed, would look intact.

            Examples:
              purser verify-bundle audit-2026-11/ --json
              purser verify-bundle audit-2026-11/ --key "$(cat prod.pub)" \\
                --checkpoint checkpoints/2026-10-31
            """))

    @Argument(help: ArgumentHelp("The bundle folder.", valueName: "dir")) var directory: String

    @Option(
        name: .customLong("checkpoint"),
        help: ArgumentHelp("A checkpoint held from before (repeatable).", valueName: "file"))
    var checkpoints: [String] = []

    @Option(help: ArgumentHelp("The expected verifier key: the key string, or a file holding it.", valueName: "key"))
    var key: String?

    @Flag(help: "Print the verdict as JSON.") var json = false

    func run() throws {
        let held = try heldCheckpoints(checkpoints)
        let pinned = try key.map { text in
            try VerifierKey(
                parsing: FileManager.default.fileExists(atPath: text)
                    ? String(decoding: try Inputs.read(text), as: UTF8.self) : text)
        }
        let report = try AuditBundle.verify(directory: directory, held: held, pinnedKey: pinned) { done in
            Output.progress("verified \(done) entries")
        }
        Output.endProgress()
        let reply = verificationReply(report)
        reply.write(json: json)
        try reply.exit()
    }
}
