import Foundation
import PurserLedger
import Testing

/// One ledger, one canary judgement: how its numbers read in every human-readable output.
@Suite("one format per kind of number, in every output")
struct NumberFormatTests {
    /// agent@1 serving prod and agent@2 a 10% canary, 1,000 tasks each: errors at 2% and 6%, the same quality,
    /// and costs of about a millionth of a dollar. Judged on three metrics, the errors roll it back at 2/3.
    func judgedLedger() throws -> (workspace: Workspace, judge: String) {
        let workspace = Workspace()
        try workspace.startCanaryRollout()
        workspace.write(
            "canary.yaml",
            """
            steps: [10, 50, 100]
            min-sample-size: 200
            metrics:
              - {name: error_rate, statistic: rate, bad: increase, max-absolute-change: 0.01, critical: true}
              - {name: quality, statistic: mean, bad: decrease, max-relative-change: 0.05, min-sample-size: 50}
              - {name: cost_usd, statistic: mean, bad: increase, max-relative-change: 0.1}
            scoring: {pass: 0.9, marginal: 0.5}
            auto-rollback: true
            """)
        let now = Timestamp.format(Date())
        var lines: [String] = []
        for index in 0..<2000 {
            let canary = index % 2 == 1
            let error = (index / 2) % 100 < (canary ? 6 : 2)
            // Quality 0.04 lower and costs 5% higher in the canary: within what the metrics allow.
            let quality = #","quality":0.\#((canary ? 76 : 80) + index / 2 % 17)"#
            let cost = "0.00000\(100 + index % 37 + (canary ? 5 : 0))"
            lines.append(
                #"{"task_id":"t\#(index)","version":"\#(canary ? "agent@2" : "agent@1")","env":"prod","started_at":"\#(now)","duration_ms":\#(900 + index % 200),"completed":true,"error":\#(error),"cost_usd":\#(cost)\#(quality)}"#
            )
        }
        workspace.write("tasks.jsonl", lines.joined(separator: "\n"))
        #expect(try workspace.run(["metrics", "ingest", "tasks.jsonl"]).status == 0)
        let judged = try workspace.run(["canary", "judge", "--env", "prod", "--config", "canary.yaml"])
        #expect(judged.status == 1, "rolled back: \(judged.stdout) \(judged.stderr)")
        return (workspace, judged.stdout)
    }

    func htmlEscaped(_ text: String) -> String {
        text.replacingOccurrences(of: "&", with: "&amp;").replacingOccurrences(of: "<", with: "&lt;")
    }

    func markdownEscaped(_ text: String) -> String {
        text.replacingOccurrences(of: "<", with: "\\<").replacingOccurrences(of: "_", with: "\\_")
    }

    @Test("the score, each p-value and each effect read the same in canary judge, history, log, HTML and Markdown")
    func sameNumbersEverywhere() throws {
        let (workspace, judge) = try judgedLedger()
        let history = try workspace.run(["history", "--env", "prod"]).stdout
        let html = try workspace.run(["audit", "--format", "html"]).stdout
        let markdown = try workspace.run(["audit", "--format", "md"]).stdout

        #expect(judge.contains("ROLLBACK: score 66.7%"), "\(judge)")
        #expect(history.contains("score 66.7%"), "\(history)")
        #expect(html.contains("score 66.7%"))
        #expect(markdown.contains("score 66.7%"))
        let log = try workspace.run(["log"]).stdout
        #expect(log.contains("score=66.7%"), "\(log)")

        // The error rate, as a rate: 2% against 6%, a change of 4 percentage points.
        let errorLine = judge.split(separator: "\n").first { $0.contains("error_rate") }.map(String.init) ?? ""
        #expect(errorLine.contains("2% -> 6% (+200%), change +4 pp ["), "\(errorLine)")
        #expect(errorLine.contains("allowed +1 pp, p < 0.0001"), "\(errorLine)")

        #expect(
            judge.contains(
                "0.8798 -> 0.8398 (-4.5%), change -0.04 [-0.04429, -0.03571] at 95%, allowed -0.04399, p = 0.966,"),
            "\(judge)")

        // Every metric's effect, allowed change and p, found by the judge's own words, in both reports.
        for metric in ["error_rate", "quality", "cost_usd"] {
            let line = judge.split(separator: "\n").first { $0.contains(" \(metric)") }.map(String.init) ?? ""
            let effect = try #require(capture(#"change (\S+(?: pp)?) \["#, in: line), "\(metric): \(line)")
            let allowed = try #require(capture(#", allowed ([^,]+),"#, in: line), "\(metric): \(line)")
            let p = try #require(capture(#" p (< 0\.0001|= [0-9.]+),"#, in: line), "\(metric): \(line)")
                .replacingOccurrences(of: "= ", with: "")
            let row = html.components(separatedBy: "<tr>").first { $0.hasPrefix("<td>\(metric)") } ?? ""
            let cells = [effect, allowed, p].map { "<td>\(htmlEscaped($0))</td>" }.joined()
            #expect(row.contains(cells), "\(metric): \(row)")
            let bullet = "- \(markdownEscaped(metric)) ("
            let item = markdown.split(separator: "\n").first { $0.contains(bullet) }.map(String.init) ?? ""
            let words = ["effect \(effect)", "allowed \(allowed)", "p \(p)"].map(markdownEscaped)
            #expect(item.contains(words.joined(separator: ", ")), "\(metric): \(item)")
        }
    }

    @Test("no human-readable output writes a number in e-notation, however small or large")
    func noENotation() throws {
        let (workspace, judge) = try judgedLedger()
        var pairs: [String] = []
        for index in 0..<40 {
            let cost = "0.00000\(100 + index)"
            pairs.append(
                #"{"request_id":"r\#(index)","primary":{"quality":0.9,"passed":true,"cost_usd":\#(cost),"duration_ms":\#(1000 + index)},"shadow":{"quality":0.9,"passed":true,"cost_usd":0.0000009\#(index % 10),"duration_ms":\#(1000 + index * 3)}}"#
            )
        }
        workspace.write("pairs.jsonl", pairs.joined(separator: "\n"))
        let shadow = try workspace.run([
            "shadow", "compare", "--env", "prod", "--primary", "agent@1", "--shadow", "agent@2", "--pairs",
            "pairs.jsonl",
        ])
        #expect(shadow.stdout.contains("cost_usd"), "\(shadow.stdout) \(shadow.stderr)")
        let outputs: [(String, String)] = [
            ("canary judge", judge),
            (
                "metrics report",
                try workspace.run(["metrics", "report", "--version", "agent@1", "--version", "agent@2"]).stdout
            ),
            ("shadow compare", shadow.stdout),
            ("metrics drift", try workspace.run(["metrics", "drift", "--metric", "cost_usd"]).stdout),
            ("history", try workspace.run(["history"]).stdout),
            ("log", try workspace.run(["log"]).stdout),
            ("audit html", try workspace.run(["audit", "--format", "html"]).stdout),
            ("audit md", try workspace.run(["audit", "--format", "md"]).stdout),
        ]
        let eNotation = try NSRegularExpression(
            pattern: #"(?<![0-9A-Za-z])[0-9]+(\.[0-9]+)?[eE][+-]?[0-9]+(?![0-9A-Za-z])"#)
        for (name, text) in outputs {
            #expect(!text.isEmpty, "\(name) printed something")
            let found = eNotation.matches(in: text, range: NSRange(text.startIndex..., in: text)).map {
                (text as NSString).substring(with: $0.range)
            }
            #expect(found.isEmpty, "\(name): \(found)")
        }
        #expect(judge.contains("cost_usd"))
    }

    /// The first capture group of `pattern` in `text`.
    func capture(_ pattern: String, in text: String) -> String? {
        guard let regex = try? Regex(pattern), let match = text.firstMatch(of: regex), match.count > 1,
            let range = match[1].range
        else { return nil }
        return String(text[range])
    }
}
