import ArgumentParser
import Foundation
import PurserLedger

/// The root command: only argument parsing and printing live in this module.
struct Purser: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "purser",
        // No `version:` here: ArgumentParser would then take a subcommand's own --version option (the
        // behavioral version) for the root's version flag whenever another option is missing, and exit 0.
        abstract: "A release checklist and tamper-evident audit ledger for AI agents (purser 0.1.0).",
        discussion: """
            The ledger is one SQLite file (default ./ledger/purser.sqlite, or --ledger PATH, or $PURSER_LEDGER)
            of hash-chained entries with a Merkle tree over them, and an Ed25519 key that signs checkpoints.

            Examples:
              purser init --origin example.com/support-agent
              echo '{"note":"hello"}' | purser append --kind custom.note --body -
              purser log --kind custom.note --json
              purser checkpoint --out held.checkpoint
              purser verify --checkpoint held.checkpoint
              purser proof inclusion --seq 1 --json
              purser export --out bundle/ && purser verify-bundle bundle/

            Exit codes: 0 success, 1 blocked, 2 inconclusive, 3 integrity violation, 64 usage,
            65 bad input data, 66 not found, 70 internal error.
            """,
        subcommands: [
            Demo.self,
            Init.self, VersionCommand.self, Eval.self, Waive.self, Check.self, Deploy.self, Metrics.self, Canary.self,
            Shadow.self,
            Rollback.self,
            Status.self,
            At.self, History.self,
            Append.self, Log.self, Verify.self, Reindex.self, CheckpointCommand.self, Proof.self, Export.self,
            VerifyBundle.self, Audit.self, Serve.self, Token.self,
        ]
    )
}

@main
enum Main {
    static func main() {
        do {
            var command = try Purser.parseAsRoot()
            try command.run()
        } catch {
            ExitStatus.exit(for: error)
        }
    }
}
