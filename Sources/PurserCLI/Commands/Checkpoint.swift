import ArgumentParser
import Foundation
import PurserLedger

struct CheckpointCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "checkpoint",
        abstract: "Sign a checkpoint (C2SP tlog-checkpoint) of the current tree.",
        discussion: """
            Keep checkpoints outside the ledger (a CI artifact, a git repository): a held checkpoint is what lets
            `purser verify --checkpoint FILE` detect truncation and rewriting.

            --json prints {"origin":"…","size":N,"root":"<hex>","note":"<the signed note text>"}.

            Examples:
              purser checkpoint
              purser checkpoint --out checkpoints/$(date +%F)
            """)

    @OptionGroup var ledgerOptions: LedgerOptions
    @OptionGroup var keyOptions: KeyOptions

    @Option(help: ArgumentHelp("Write the signed note to this file.", valueName: "file")) var out: String?
    @Flag(help: "Print the result as JSON.") var json = false

    func run() throws {
        let key = try SigningKey.load(from: keyOptions.path(forLedgerAt: ledgerOptions.ledger))
        let ledger = try ledgerOptions.open()
        let checkpoint = try ledger.checkpoint()
        let note = try ledger.sign(checkpoint, with: key)
        if let out {
            do {
                try Data(note.utf8).write(to: URL(fileURLWithPath: out), options: .atomic)
            } catch {
                throw LedgerError(.internal, "cannot write \(out): \(error.localizedDescription)")
            }
        }
        if json {
            Output.json(
                .object([
                    "origin": .string(checkpoint.origin), "size": .int(checkpoint.size),
                    "root": .string(checkpoint.root.hex),
                    "note": .string(note),
                ]))
        } else if let out {
            Output.line("checkpoint of \(checkpoint.size) entries written to \(out)")
        } else {
            FileHandle.standardOutput.write(Data(note.utf8))
        }
    }
}
