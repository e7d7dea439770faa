import ArgumentParser
import Foundation
import PurserLedger
import PurserOperations

/// The root command: only argument parsing and printing live in this module.
struct Purser: ParsableCommand {
    /// What `purser --version` prints after the name.
    static let version = "0.1.0"

    static let configuration = CommandConfiguration(
        commandName: "purser",
        // No `version:` here: ArgumentParser would then take a subcommand's own --version option (the
        // behavioral version) for the root's version flag whenever another option is missing, and exit 0.
        // `Main` answers `purser --version` alone.
        abstract: "A release checklist and tamper-evident audit ledger for AI agents (purser \(version)).",
        discussion: reflowed(
            """
            The ledger is one SQLite file (default ./ledger/purser.sqlite, or --ledger PATH, or $PURSER_LEDGER)
            of hash-chained entries with a Merkle tree over them, and an Ed25519 key that signs checkpoints.

            Examples:
              # A release, from a new ledger to the audit report:
              purser init --origin example.com/support-agent
              purser version record agent.yaml --label support-agent@1.1.0
              purser eval record --version support-agent@1.1.0 --results results.json
              purser check --version support-agent@1.1.0 --env prod --policy checklist.yaml
              purser deploy start support-agent@1.1.0 --env prod --strategy canary
              purser metrics ingest tasks.jsonl
              purser canary judge --env prod --config canary.yaml
              purser audit --format html --out audit.html

              # The ledger itself:
              purser log --json
              purser checkpoint --out held.checkpoint
              purser verify --checkpoint held.checkpoint
              purser export --out bundle/ && purser verify-bundle bundle/

            `purser demo` runs a whole release story on a fresh ledger; `purser help <command>` explains each
            command; `purser --version` prints the version.

            Exit codes: 0 success, 1 blocked, 2 inconclusive, 3 integrity violation, 64 usage, 65 bad input data,
            66 not found, 70 internal error.
            """),
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
        let arguments = Array(CommandLine.arguments.dropFirst())
        clampHelpColumns()
        // Only alone: with anything else, --version is a subcommand's option (the behavioral version).
        if arguments == ["--version"] {
            Output.line("purser \(Purser.version)")
            exit(ExitStatus.success)
        }
        var flags: [String: String] = [:]
        do {
            // Before parsing: the parser would show the root's help for `purser verfy --help`, and report some
            // other argument than the mistyped name.
            if let unknown = UnknownCommand.find(in: arguments) { throw unknown }
            var command = try Purser.parseAsRoot(arguments)
            flags = (type(of: command) as? any RenamesParameters.Type)?.flags ?? [:]
            try command.run()
        } catch {
            ExitStatus.exit(for: error, flags: flags)
        }
    }
}
