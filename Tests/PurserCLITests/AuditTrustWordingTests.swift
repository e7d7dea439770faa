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

    /// A ledger of `count` entries: the genesis entry and `count - 1` custom ones.
    func appendEntries(_ workspace: Workspace, _ count: Int) throws {
        let lines = (0..<count).map { #"{"step":\#($0)}"# }.joined(separator: "\n")
        #expect(try workspace.run(["append", "--kind", "custom.step", "--lines", "-"], input: lines).status == 0)
    }

    @Test("a held checkpoint older than the ledger: intact up to it, the entries after it self-consistent only")
    func olderCheckpoint() throws {
        let workspace = Workspace()
        try workspace.initLedger()
        try appendEntries(workspace, 26)
        #expect(try workspace.run(["checkpoint", "--out", "held.checkpoint"]).status == 0)
        try appendEntries(workspace, 13)

        let verify = try workspace.run(["verify", "--checkpoint", "held.checkpoint"])
        #expect(verify.status == 0, "\(verify.stderr)")
        #expect(
            verify.stdout.hasPrefix(
                "intact up to entry 26 (the held checkpoint of 27 entries); entries 27–39 self-consistent only: 40 entries, root "
            ), "\(verify.stdout)")
        #expect(verify.stdout.contains("(a rewrite of entries 27–39 would not show; pass a newer --checkpoint FILE"))
        #expect(!verify.stdout.contains("intact:"), "\(verify.stdout)")
        let json = try workspace.json(
            try workspace.run(["verify", "--checkpoint", "held.checkpoint", "--json"]).stdout)
        #expect(json["trusted"] == .bool(true) && json["size"] == .number(40) && json["trusted_size"] == .number(27))

        for format in ["html", "md"] {
            let report = try workspace.run(["audit", "--format", format, "--checkpoint", "held.checkpoint"])
            #expect(report.status == 0, "\(format): \(report.stderr)")
            let line = verdictLine(report.stdout)
            #expect(
                line.contains(
                    "40 entries, intact up to the held checkpoint of 27 entries; entries 27–39 self-consistent only"),
                "\(format): \(line)")
            #expect(!line.contains("consistent with 1 held checkpoint"), "\(format): \(line)")
        }
        let audit = try workspace.json(
            try workspace.run(["audit", "--format", "json", "--checkpoint", "held.checkpoint"]).stdout)
        #expect(audit["verification"]?["trusted_size"] == .number(27))
        #expect(
            audit["verification"]?["self_consistent_tail"]
                == .object(["first_seq": .number(27), "last_seq": .number(39)]))

        // A checkpoint of the whole ledger: today's wording, and no tail.
        #expect(try workspace.run(["checkpoint", "--out", "new.checkpoint"]).status == 0)
        let whole = try workspace.run(["verify", "--checkpoint", "held.checkpoint", "--checkpoint", "new.checkpoint"])
        #expect(whole.stdout.hasPrefix("intact: 40 entries, root "), "\(whole.stdout)")
        #expect(whole.stdout.hasSuffix("consistent with 2 held checkpoint(s)\n"), "\(whole.stdout)")
        let wholeJSON = try workspace.json(
            try workspace.run(["verify", "--checkpoint", "new.checkpoint", "--json"]).stdout)
        #expect(wholeJSON["trusted_size"] == .number(40))
        let wholeAudit = try workspace.json(
            try workspace.run(["audit", "--format", "json", "--checkpoint", "new.checkpoint"]).stdout)
        #expect(wholeAudit["verification"]?["trusted_size"] == .number(40))
        #expect(wholeAudit["verification"]?["self_consistent_tail"] == .null)
        // Without a held checkpoint, nothing is vouched for.
        let alone = try workspace.json(try workspace.run(["verify", "--json"]).stdout)
        #expect(alone["trusted_size"] == .number(0))
        let help = try workspace.run(["verify", "--help"]).stdout.split(whereSeparator: \.isWhitespace).joined(
            separator: " ")
        #expect(help.contains(#""trusted":bool,"trusted_size":N,"#))
        #expect(help.contains(#"the ledger is then "intact" up to the largest of them"#))
    }
}
