import ArgumentParser
import Foundation
import PurserCore
import PurserLedger
import PurserOperations

struct Verify: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Check every entry, link, the tree head, the query tables and stored artifacts; exit 3 on any fault.",
        discussion: """
            Without a held checkpoint the verdict is "self-consistent": the ledger agrees with itself, which does
            not rule out truncation or a wholesale rewrite. Keep checkpoints elsewhere (CI artifacts, git) and pass
            them with --checkpoint to detect those too. Once the chain is sound, the query tables are compared with a
            rebuild from the entries (fault "projection": run `purser reindex`) and every stored version component
            and drill evidence is hashed against its digest (fault "artifact").

            --json prints {"ok":bool,"size":N,"root":"<hex>","trusted":bool,"fault":{"seq":N,"kind":"…","detail":"…"}|null}.

            Examples:
              purser verify
              purser verify --checkpoint checkpoints/2026-11-20 --checkpoint checkpoints/2026-11-27 --json
            """)

    @OptionGroup var ledgerOptions: LedgerOptions

    @Option(
        name: .customLong("checkpoint"),
        help: ArgumentHelp("A held signed checkpoint file (repeatable).", valueName: "file"))
    var checkpoints: [String] = []

    @Flag(help: "Print the verdict as JSON.") var json = false

    func run() throws {
        if ledgerOptions.serverURL != nil {
            try ledgerOptions.perform(VerifyLedger(checkpoints: checkpoints.map(InputFile.read)), json: json)
            return
        }
        let held = try heldCheckpoints(checkpoints)
        var report = try Ledger.verify(at: ledgerOptions.ledger, checkpoints: held) { done in
            Output.progress("verified \(done) entries")
        }
        Output.endProgress()
        if report.ok, let fault = try Releases.verifyDerived(ledgerOptions.open()) {
            report = report.with(fault: fault)
        }
        try ledgerOptions.print(verificationReply(report), json: json)
    }
}
