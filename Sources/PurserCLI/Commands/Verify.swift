import ArgumentParser
import Foundation
import PurserCore
import PurserLedger
import PurserOperations

struct Verify: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "verify",
        abstract: "Check every entry, link, the tree head, the query tables and stored artifacts; exit 3 on any fault.",
        discussion: reflowed(
            """
            Without a held checkpoint the verdict is "self-consistent": the ledger agrees with itself, which does
            not rule out truncation or a wholesale rewrite. Keep checkpoints elsewhere (CI artifacts, git) and pass
            them with --checkpoint to detect those too: the ledger is then "intact" up to the largest of them, and
            the entries appended after it are self-consistent only. The chain checks stop at the first fault. Once the chain is
            sound, every further fault is reported: entries that cannot be replayed (fault "replay"; every command
            goes on without them), query tables that disagree with a rebuild from the entries (fault "projection":
            run `purser reindex`), stored files that no longer hash to their digests (fault "artifact"), canary
            judgements that their configuration does not give on the tasks ingested before them (fault
            "judgement"), a SQL schema altered outside purser, such as a dropped append-only trigger (fault
            "schema"), and entries dated more than 5 minutes after this machine's clock (fault "clock").

            --json prints, where "fault" is the first of "faults":
              {"ok":bool,"size":N,"root":"<hex>","trusted":bool,"trusted_size":N,
               "fault":{"seq":N,"kind":"…","detail":"…"}|null,
               "faults":[{"seq":N,"kind":"…","detail":"…"},…]}

            "trusted_size" is how many entries the held checkpoints vouch for (0 without one).

            Examples:
              purser verify
              purser verify --checkpoint checkpoints/2026-11-20 \\
                --checkpoint checkpoints/2026-11-27 --json
            """))

    @OptionGroup var ledgerOptions: LedgerOptions

    @Option(
        name: .customLong("checkpoint"),
        help: ArgumentHelp("A held signed checkpoint file (repeatable).", valueName: "file"))
    var checkpoints: [String] = []

    @Flag(help: "Print the verdict as JSON.") var json = false

    func run() throws {
        if ledgerOptions.serverURL != nil {
            try ledgerOptions.perform(VerifyLedger(checkpoints: checkpoints.map(checkpointFile)), json: json)
            return
        }
        let held = try heldCheckpoints(checkpoints)
        let report = try Releases.verify(at: ledgerOptions.ledger, checkpoints: held, now: CommandClock.now()) { done in
            Output.progress("verified \(done) entries")
        }
        Output.endProgress()
        try ledgerOptions.print(verificationReply(report, listingFaults: true), json: json)
    }
}
