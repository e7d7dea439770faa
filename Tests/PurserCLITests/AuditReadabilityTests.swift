import Foundation
import PurserLedger
import Testing

/// The demo's audit report read by someone who knows neither purser nor statistics: every term of the canary
/// tables is explained, nothing a check relied on is left out, and the checkpoint says what to do with it.
@Suite("the audit report reads on its own")
struct AuditReadabilityTests {
    /// A workspace where `purser demo` has run, with its HTML report, and the Markdown and JSON ones of the same
    /// ledger.
    struct Demo {
        let workspace = Workspace()
        let stdout: String
        let html: String
        let markdown: String
        let json: JSONValue

        init() throws {
            let demo = try workspace.run(["demo"])
            try #require(demo.status == 0, "the demo failed: \(demo.stderr)")
            stdout = demo.stdout
            html = workspace.read("ledger/demo/audit.html")
            let markdown = try workspace.run(["audit", "--format", "md"])
            try #require(markdown.status == 0, "\(markdown.stderr)")
            self.markdown = markdown.stdout
            json = try workspace.json(try workspace.run(["audit", "--format", "json"]).stdout)
        }
    }

    @Test("each metric's allowed change is in the report as `purser canary judge` printed it")
    func allowedChangeAsTheCLIPrintsIt() throws {
        let demo = try Demo()
        // "  REGRESSION error_rate*   1.5% -> 6.9% (+360%), change …, allowed +1 pp, p < 0.0001, n = …"
        let judged = try Regex(#"\n  (?:PASS|REGRESSION|NODATA) +([a-z_]+)\*? +[^\n]*, allowed ([^,]+), p"#)
        let printed = demo.stdout.matches(of: judged).map {
            (metric: String(demo.stdout[$0.output[1].range!]), allowed: String(demo.stdout[$0.output[2].range!]))
        }
        #expect(printed.count == 12, "two judgements of six metrics: \(printed)")
        #expect(printed.first?.allowed == "+1 pp", "error_rate: a rise of 1 point is allowed")
        #expect(demo.html.contains("<th>Effect</th><th>Allowed</th><th>p</th>"))
        for (metric, allowed) in printed {
            let cell = NSRegularExpression.escapedPattern(for: "<td>\(allowed)</td>")
            let row = try Regex("<tr><td>\(metric)( \\(critical\\))?</td>(<td>[^<]*</td>){5}\(cell)")
            #expect(demo.html.contains(row), "\(metric): no row with allowed \(allowed)")
            #expect(demo.markdown.contains(", allowed \(allowed), p "), "\(metric): allowed \(allowed) in Markdown")
        }
        let metrics = demo.json["deployments"]?.arrayValue?.flatMap { $0["canary_judgements"]?.arrayValue ?? [] }
            .flatMap { $0["metrics"]?.arrayValue ?? [] }
        #expect(metrics?.first?["bad"] == .string("increase"), "the JSON report says which way error_rate is bad")
    }

    @Test("a legend beside the canary tables says what score, pp, allowed and p mean; the gate says what covered is")
    func legendAndGate() throws {
        let demo = try Demo()
        for report in [demo.html, demo.markdown] {
            for term in [
                "Score: the share of metrics that passed.", "pp: percentage points.",
                "Allowed: the change the canary configuration tolerates",
                "p: the test's p-value at the α of that look",
            ] {
                #expect(report.components(separatedBy: term).count == 3, "once per deployment judged: \(term)")
            }
            #expect(report.contains("look 1, α = 0.025"), "the α the legend speaks of")
        }
        let definition = try #require(demo.html.range(of: "<b>covered</b> when its checklist run"))
        let firstUse = try #require(demo.html.range(of: "<span class=\"pill covered\">covered</span>"))
        #expect(definition.lowerBound < firstUse.lowerBound, "covered is defined before its first use")
        #expect(demo.markdown.contains("**covered** when its checklist run"))
    }

    @Test("the floating-model finding names the waiver of components-pinned that let the release through")
    func floatingModelFindingNamesTheWaiver() throws {
        let demo = try Demo()
        let finding = try #require(
            demo.json["findings"]?.arrayValue?.first { $0["kind"] == .string("floating-model") })
        let detail = try #require(finding["detail"]?.stringValue)
        #expect(
            detail.contains(
                "its checklist run (seq 5) let it through on waiver seq 4 of components-pinned, approved by "
                    + "dana@example.com until "),
            "\(detail)")
        #expect(detail.hasSuffix(": first release; the model is pinned in 1.1.0"), "\(detail)")
        #expect(demo.html.contains("let it through on waiver seq 4 of components-pinned"))
    }

    @Test("the pin column says what fixes a commit and a file, not only a model")
    func pinColumnForEveryKind() throws {
        let demo = try Demo()
        let components = demo.json["versions"]?.arrayValue?.first?["components"]?.arrayValue ?? []
        let notes = Dictionary(
            uniqueKeysWithValues: components.map { ($0["name"]?.stringValue ?? "", $0["pin_note"]?.stringValue) })
        #expect(notes["code"] == "commit 9fceb02d0ae5")
        #expect(notes["prompt"] == "content-addressed: the digest fixes its contents")
        #expect(notes["tools"] == "content-addressed: the digest fixes its contents")
        #expect(components.first { $0["name"] == .string("code") }?["pinned"] == .null, "a commit is not judged")
        let code = "6991508bda1bb8e6cf93b28a041eba65f2e7c87283dafb7891da34e429a0c39f"
        #expect(demo.markdown.contains("| code | commit | `\(code)` | commit 9fceb02d0ae5 |"))
        #expect(demo.html.contains("</td><td>commit 9fceb02d0ae5</td></tr>"))
        #expect(demo.html.contains("</td><td>content-addressed: the digest fixes its contents</td></tr>"))
        #expect(demo.markdown.contains("| **floating**: claude-3-5-sonnet-latest is not pinned"))
        #expect(demo.html.contains("\">floating</span></td></tr>"))
    }

    @Test("the checkpoint says to save it and pass it to purser verify --checkpoint, and that works")
    func checkpointInstruction() throws {
        let demo = try Demo()
        let instruction = "save the text below to a file and pass it to"
        #expect(demo.html.contains("\(instruction) <code>purser verify --checkpoint FILE</code>"))
        #expect(demo.markdown.contains("\(instruction) `purser verify --checkpoint FILE`"))
        let block = try #require(demo.markdown.components(separatedBy: "```\n").dropFirst().first)
        demo.workspace.write("held", block)
        let verify = try demo.workspace.run(["verify", "--checkpoint", "held"])
        #expect(verify.status == 0, "\(verify.stdout) \(verify.stderr)")
        #expect(verify.stdout.hasPrefix("intact: 27 entries"))
    }

    @Test("a Markdown evidence cell separates its references with '; ' and does not end with one")
    func markdownEvidenceHasNoStraySeparator() throws {
        let demo = try Demo()
        #expect(!demo.markdown.contains(try Regex(#";\s*\|"#)), "a cell ending in a separator")
        #expect(demo.markdown.contains("`; ledger:seq 4 (waiver.granted) `"), "two references, one separator")
    }
}
