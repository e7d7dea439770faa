import ArgumentParser
import Foundation
import PurserCore
import PurserLedger
import PurserOperations

struct Export: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Write an offline audit bundle: entries.jsonl, checkpoint, key.pub.",
        discussion: """
            Line i of entries.jsonl is exactly the bytes of entry i. An auditor verifies the bundle with
            `purser verify-bundle DIR`, or with a short script written from ledger/README.md alone.

            Examples:
              purser export --out audit-2026-11/
            """)

    @OptionGroup var ledgerOptions: LedgerOptions
    @OptionGroup var keyOptions: KeyOptions
    @Option(help: ArgumentHelp("The bundle folder (created if needed).", valueName: "dir")) var out: String
    @Flag(help: "Print the result as JSON.") var json = false

    func run() throws {
        let key = try SigningKey.load(from: keyOptions.path(forLedgerAt: ledgerOptions.ledger))
        let checkpoint = try ledgerOptions.open().export(to: out, key: key)
        if json {
            Output.json(
                .object(["out": .string(out), "size": .int(checkpoint.size), "root": .string(checkpoint.root.hex)]))
        } else {
            Output.line("exported \(checkpoint.size) entries to \(out) (root \(checkpoint.root.hex))")
        }
    }
}

struct VerifyBundle: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "verify-bundle",
        abstract: "Verify an audit bundle without any database; exit 3 on any fault.",
        discussion: """
            Checks the checkpoint's signature with key.pub, every entry and link, and the root against the checkpoint.
            Pin the key you expect with --key, and pass checkpoints you kept from before with --checkpoint: without
            them a bundle made by someone else, or cut short and re-signed, would look intact.

            Examples:
              purser verify-bundle audit-2026-11/ --json
              purser verify-bundle audit-2026-11/ --key "$(cat prod.pub)" --checkpoint checkpoints/2026-10-31
            """)

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
