import ArgumentParser
import Foundation
import PurserCore
import PurserLedger
import PurserOperations

struct CheckpointCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "checkpoint",
        abstract: "Sign a checkpoint (C2SP tlog-checkpoint) of the current tree.",
        discussion: reflowed(
            """
            Keep checkpoints outside the ledger (a CI artifact, a git repository): a held checkpoint is what lets
            `purser verify --checkpoint FILE` detect truncation and rewriting.

            --json prints:
              {"origin":"…","size":N,"root":"<hex>","note":"<the signed note text>"}

            Examples:
              purser checkpoint
              purser checkpoint --out checkpoints/$(date +%F)
            """))

    @OptionGroup var ledgerOptions: LedgerOptions
    @OptionGroup var keyOptions: KeyOptions

    @Option(help: ArgumentHelp("Write the signed note to this file.", valueName: "file")) var out: String?
    @Flag(help: "Print the result as JSON.") var json = false

    func run() throws {
        let (origin, size, root, note): (String, UInt64, String, String)
        if let server = ledgerOptions.serverURL {
            // Signed by the server's key.
            let answer = try Client(server: server, token: environmentValue("PURSER_TOKEN")).get(
                "/v1/checkpoint")
            guard let text = answer["note"]?.stringValue, let number = answer["size"]?.numberValue,
                let originText = answer["origin"]?.stringValue, let rootText = answer["root"]?.stringValue
            else {
                throw LedgerError(.internal, "the server's checkpoint lacks origin, size, root or note")
            }
            (origin, size, root, note) = (originText, UInt64(number), rootText, text)
        } else {
            let key = try SigningKey.load(from: keyOptions.path(forLedgerAt: ledgerOptions.ledger))
            let ledger = try ledgerOptions.open()
            let checkpoint = try ledger.checkpoint()
            (origin, size, root, note) = (
                checkpoint.origin, checkpoint.size, checkpoint.root.hex, try ledger.sign(checkpoint, with: key)
            )
        }
        if let out { try OutputFile.write(Array(note.utf8), to: out) }
        if json {
            Output.json(
                .object([
                    "origin": .string(origin), "size": .int(size), "root": .string(root),
                    "note": .string(note),
                ]))
        } else if let out {
            Output.line("checkpoint of \(size) entries written to \(out)")
        } else {
            // A server's note, escaped line by line as every other line the CLI prints.
            let lines = note.split(separator: "\n", omittingEmptySubsequences: false).map {
                TerminalText.escaped(String($0))
            }
            FileHandle.standardOutput.write(Data(lines.joined(separator: "\n").utf8))
        }
    }
}
