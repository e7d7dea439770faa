import ArgumentParser
import Foundation
import PurserCore
import PurserLedger
import PurserOperations

struct Init: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "init",
        abstract: "Create a ledger and its Ed25519 signing key.",
        discussion: reflowed(
            """
            Writes the genesis entry (seq 0, kind ledger.created) with the origin and the public key. The private
            key goes to a file of mode 0600 outside the database. An existing ledger or key is never overwritten.

            init works on a local file only: with --server or PURSER_SERVER set it refuses (exit 64) and creates
            nothing. A server's ledger is made by running purser init on the server's machine, before purser serve.

            Examples:
              purser init
              purser init --origin example.com/support-agent \\
                --ledger /var/lib/purser/prod.sqlite --key /etc/purser/prod.key
              purser init --if-missing    # in scripts: succeed if the ledger exists
            """))

    @OptionGroup var ledgerOptions: LocalLedgerOptions
    @OptionGroup var keyOptions: KeyOptions

    @Option(help: ArgumentHelp("The checkpoint origin: a unique name without spaces or '+'.", valueName: "name"))
    var origin: String?

    @Flag(help: "Succeed without changing anything if a valid ledger already exists.") var ifMissing = false

    @Flag(help: "Print the result as JSON.") var json = false

    func run() throws {
        if let named = ledgerOptions.namedServer {
            throw LedgerError(
                .usage,
                "purser init creates a local ledger file and does not act on a server (\(named)); run purser init on the server's machine before purser serve, or unset PURSER_SERVER (drop --server) to create a local ledger"
            )
        }
        let keyPath = keyOptions.path(forLedgerAt: ledgerOptions.ledger)
        if ifMissing && FileManager.default.fileExists(atPath: ledgerOptions.ledger) {
            let ledger = try Ledger(openingAt: ledgerOptions.ledger)
            if let origin, origin != ledger.origin {
                throw LedgerError(
                    .invalidInput, "\(ledger.path) exists with origin \(ledger.origin), not the requested \(origin)")
            }
            print(ledger, keyPath: keyPath, created: false)
            return
        }
        // Ledger.create refuses an existing ledger too; here the refusal also says how to go on.
        var isFolder: ObjCBool = false
        if FileManager.default.fileExists(atPath: ledgerOptions.ledger, isDirectory: &isFolder), !isFolder.boolValue {
            throw LedgerError(
                .alreadyExists,
                "a ledger already exists at \(ledgerOptions.ledger); refusing to overwrite it: pass --ledger PATH to create another, or --if-missing to go on with this one"
            )
        }
        let origin = origin ?? "purser.local/ledger-" + Hash.sha256(Array(UUID().uuidString.utf8)).hex.prefix(16)
        let clock = try CommandClock.clock()
        let ledger = try Ledger.create(at: ledgerOptions.ledger, origin: origin, keyPath: keyPath, now: clock())
        ledger.clock = clock
        _ = try Releases(ledger: ledger)  // creates the query tables now, so later commands write only entries
        print(ledger, keyPath: keyPath, created: true)
    }

    private func print(_ ledger: Ledger, keyPath: String, created: Bool) {
        if json {
            Output.json(
                .object([
                    "ledger": .string(ledger.path), "origin": .string(ledger.origin), "key": .string(keyPath),
                    "verifier_key": .string(ledger.verifierKey.description), "created": .bool(created),
                ]))
        } else {
            Output.line("\(created ? "created" : "found") ledger \(ledger.path) (origin \(ledger.origin))")
            Output.line("signing key:  \(keyPath) (mode 0600; keep it out of version control)")
            Output.line("verifier key: \(ledger.verifierKey)")
            Output.line("              (also in \(Ledger.publicKeyPath(forKeyAt: keyPath)): give it to auditors)")
        }
    }
}
