import Foundation
import PurserLedger
import Testing

@Suite("the audit report claims no more than verification showed")
struct AuditTrustWordingTests {
    /// The line of a report that states the verification verdict.
    func verdictLine(_ report: String) -> String {
        report.split(separator: "\n").first { $0.contains("Ledger verified") }.map(String.init) ?? ""
    }

    @Test("without --checkpoint HTML and Markdown say self-consistent only, never intact; with one, intact")
    func trustWording() throws {
        let workspace = Workspace()
        try workspace.startCanaryRollout()
        for format in ["html", "md"] {
            let report = try workspace.run(["audit", "--format", format])
            #expect(report.status == 0, "\(format): \(report.stderr)")
            let line = verdictLine(report.stdout)
            #expect(line.contains("self-consistent only"), "\(format): \(line)")
            #expect(line.contains("--checkpoint FILE"), "\(format) says how to get more: \(line)")
            #expect(!report.stdout.contains("intact"), "\(format) without a held checkpoint: \(line)")
        }
        let json = try workspace.json(try workspace.run(["audit", "--format", "json"]).stdout)
        #expect(json["verification"]?["trusted"] == .bool(false))

        #expect(try workspace.run(["checkpoint", "--out", "held.checkpoint"]).status == 0)
        for format in ["html", "md"] {
            let report = try workspace.run(["audit", "--format", format, "--checkpoint", "held.checkpoint"])
            #expect(report.status == 0, "\(format): \(report.stderr)")
            let line = verdictLine(report.stdout)
            #expect(line.contains("intact: consistent with 1 held checkpoint(s)"), "\(format): \(line)")
            #expect(!line.contains("self-consistent"), "\(format): \(line)")
        }
        let trusted = try workspace.json(
            try workspace.run(["audit", "--format", "json", "--checkpoint", "held.checkpoint"]).stdout)
        #expect(trusted["verification"]?["trusted"] == .bool(true))

        let help = try workspace.run(["audit", "--help"]).stdout.split(whereSeparator: \.isWhitespace).joined(
            separator: " ")
        #expect(help.contains("intact (consistent with a held --checkpoint), self-consistent only (without one)"))
    }
}
