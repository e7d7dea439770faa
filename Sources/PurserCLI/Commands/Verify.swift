import ArgumentParser
import Foundation
import PurserCore
import PurserLedger
import PurserServer

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
        let held = try heldCheckpoints(checkpoints)
        var report = try Ledger.verify(at: ledgerOptions.ledger, checkpoints: held) { done in
            Output.progress("verified \(done) entries")
        }
        Output.endProgress()
        if report.ok, let fault = try Releases.verifyDerived(ledgerOptions.open()) {
            report = report.with(fault: fault)
        }
        printReport(report, json: json)
        if !report.ok { throw ExitCode(ExitStatus.integrity) }
    }
}

/// Prints a verification verdict (shared with verify-bundle).
func printReport(_ report: VerificationReport, json: Bool) {
    if json {
        let fault: JSONValue =
            report.fault.map {
                .object(["seq": .int($0.seq), "kind": .string($0.kind.name), "detail": .string($0.detail)])
            } ?? .null
        Output.json(
            .object([
                "ok": .bool(report.ok), "size": .int(report.size), "root": .string(report.root.hex),
                "trusted": .bool(report.trusted), "fault": fault,
            ]))
        return
    }
    if let fault = report.fault {
        Output.line("FAULT: \(fault.kind) at seq \(fault.seq): \(fault.detail)")
    } else if report.trusted {
        Output.line(
            "intact: \(report.size) entries, root \(report.root.hex), consistent with \(report.checkpoints.count) held checkpoint(s)"
        )
    } else {
        Output.line("self-consistent: \(report.size) entries, root \(report.root.hex)")
        Output.line("(no held checkpoint: truncation or a wholesale rewrite would not show; pass --checkpoint FILE)")
    }
}
