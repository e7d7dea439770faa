import Foundation
import PurserCore
import PurserLedger
import Testing

private let hostileReason = #"<script>alert("x")</script> & 'quotes' | *stars*"#
private let hostileApprover = #"o'brien <b>&amp;</b>"#

extension Workspace {
    /// Runs `purser` and requires `status`; with `now` set, the next command runs a second later.
    @discardableResult
    fileprivate func expect(
        _ arguments: [String], status: Int32 = 0, sourceLocation: SourceLocation = #_sourceLocation
    ) throws -> RunResult {
        let result = try run(arguments)
        now = now?.addingTimeInterval(1)
        #expect(
            result.status == status, "\(arguments.prefix(3)): exit \(result.status): \(result.stderr)",
            sourceLocation: sourceLocation)
        return result
    }

    fileprivate func check(_ version: String, env: String = "prod", status: Int32 = 0) throws {
        try expect(
            ["check", "--version", version, "--env", env, "--policy", "release/checklist.yaml"], status: status)
    }

    /// A ledger with one finding of each kind but integrity, and releases that give none:
    /// - seq of the v1 deployment: floating-model and expired-waiver (its checklist waived
    ///   components-pinned until a moment before it shipped);
    /// - a covered canary of v2, rolled back after a drill (no finding);
    /// - a break-glass canary of v2 (break-glass), rolled back (drilled: no finding);
    /// - a deployment of v2 to staging that took effect weeks before it was recorded (backdated);
    /// - a deployment of v1 to staging appended by something other than purser (unchecked-deployment);
    /// - a rollback of staging to v2 that was never drilled (undrilled-rollback).
    /// - Returns: the expected findings as (kind, seq), and the ids of v1 and v2.
    fileprivate func scriptedLedger() throws -> (findings: Set<String>, v1: String, v2: String) {
        // The machine's time, which the queue probe of the template policy dates its evidence by; then 2 minutes on.
        let start = Date()
        now = start
        try initLedger(origin: "audit.example/agent")
        try FileManager.default.copyItem(atPath: agentTemplates.path, toPath: file("release"))
        let manifest1 = try copyAgentTemplate(to: "v1")
        edit("v1/agent.yaml", replacing: "id: claude-3-5-sonnet-20241022", with: "id: claude-3-5-sonnet-latest")
        let v1 = try #require(
            try runJSON(["version", "record", manifest1, "--label", "support-agent@1.0.0", "--json"])["id"]?
                .stringValue)
        try expect(["eval", "record", "--version", v1, "--results", "release/evidence/eval-results.json"])
        try check(v1, status: 1)  // components-pinned: the model id floats
        try expect([
            "waive", "--version", v1, "--check", "components-pinned", "--reason", "vendor alias for a week",
            "--approver", "release-manager", "--expires", Timestamp.format(start.addingTimeInterval(60)),
        ])
        try check(v1)
        now = start.addingTimeInterval(120)  // the waiver has expired; the run stays valid for 24 h
        let deployed1 = try json(
            try expect(["deploy", "start", v1, "--env", "prod", "--strategy", "blue-green", "--json"]).stdout)
        let seq1 = Int(deployed1["seq"]?.numberValue ?? -1)

        let v2 = try recordAgentVariant("2", label: "support-agent@1.1.0")
        try expect(["eval", "record", "--version", v2, "--results", "release/evidence/eval-results.json"])
        try expect(["rollback", "drill", "--env", "staging", "--from", v2, "--to", v1, "--result", "passed"])
        edit(
            "release/evidence/dashboard.json", replacing: #""current": {"value": "support-agent@1.0.0"}"#,
            with: #""current": {"value": "support-agent@1.1.0"}"#)
        try check(v2)
        try expect(["deploy", "start", v2, "--env", "prod", "--strategy", "canary", "--weight", "5"])
        try expect(["rollback", "--env", "prod", "--reason", hostileReason])
        let glass = try json(
            try expect([
                "deploy", "start", v2, "--env", "prod", "--strategy", "canary", "--weight", "5", "--break-glass",
                "--reason", hostileReason, "--approver", hostileApprover, "--json",
            ]).stdout)
        try expect(["rollback", "--env", "prod", "--reason", "second thoughts"])

        try check(v2, env: "staging")
        let backdated = try json(
            try expect([
                "deploy", "start", v2, "--env", "staging", "--strategy", "blue-green", "--effective-at",
                "2026-01-05T00:00:00Z", "--json",
            ]).stdout)
        // Written by something other than purser's gate: a valid chain, no checklist run for it.
        let ledger = try Ledger(openingAt: ledgerPath)
        let rawTime = try #require(now)
        ledger.clock = { rawTime }
        let raw = try ledger.write { transaction in
            try transaction.append([
                Event(
                    kind: "deployment.started",
                    body: .object([
                        "env": .string("staging"), "version": .string(v1), "strategy": .string("blue-green"),
                        "weight": .number(100),
                    ]))
            ])
        }
        let undrilled = try json(
            try expect(["rollback", "--env", "staging", "--reason", "v1 was never checked", "--json"]).stdout)
        return (
            [
                "floating-model \(seq1)", "expired-waiver \(seq1)",
                "break-glass \(Int(glass["seq"]?.numberValue ?? -1))",
                "backdated \(Int(backdated["seq"]?.numberValue ?? -1))", "unchecked-deployment \(raw[0].seq)",
                "undrilled-rollback \(Int(undrilled["seq"]?.numberValue ?? -1))",
            ], v1, v2
        )
    }
}

@Suite("purser audit, end to end")
struct AuditCommandTests {
    @Test("the report lists one finding of each seeded kind, and none for the releases that were done right")
    func seededFindings() throws {
        let workspace = Workspace()
        let (expected, v1, v2) = try workspace.scriptedLedger()
        #expect(expected.count == 6)
        let result = try workspace.run(["audit", "--format", "json"])
        #expect(result.status == 0, "audit: \(result.stderr)")
        let report = try workspace.json(result.stdout)
        let findings = Set(
            (report["findings"]?.arrayItems ?? []).map {
                "\($0["kind"]?.stringValue ?? "") \(Int($0["seq"]?.numberValue ?? -1))"
            })
        #expect(findings == expected)
        #expect(report["schema"]?.stringValue == "purser-audit/1")
        #expect(report["verification"]?["ok"] == .bool(true))
        #expect(report["checkpoint"]?.stringValue?.hasPrefix("audit.example/agent\n") == true)
        // Five deployments, each with its gate decision; both versions shipped, v1 floating.
        let gates = (report["deployments"]?.arrayItems ?? []).map { $0["gate"]?.stringValue ?? "" }
        #expect(gates == ["covered", "covered", "break-glass", "covered", "not-covered"])
        let versions = (report["versions"]?.arrayItems ?? []).map {
            "\($0["id"]?.stringValue ?? "") \($0["floating"] == .bool(true))"
        }
        #expect(versions == ["\(v1) true", "\(v2) false"])
        #expect(report["rollbacks"]?.arrayItems.count == 3)
        // The timeline knows both environments; prod's v2 band has the 5% canary segments.
        let timeline = report["timeline"]?.arrayItems ?? []
        #expect(timeline.map { $0["env"]?.stringValue ?? "" } == ["prod", "staging"])
        let prodV2 = timeline.first?["versions"]?.arrayItems.first { $0["version"]?.stringValue == v2 }
        #expect(prodV2?["segments"]?.arrayItems.contains { $0["weight"] == .number(5) } == true)

        // A window that starts after everything: no deployments, so no findings of them.
        let empty = try workspace.json(
            try workspace.run([
                "audit", "--format", "json", "--from", Timestamp.format(try #require(workspace.now) + 3_600),
            ]).stdout)
        #expect(empty["findings"]?.arrayItems.isEmpty == true)
        #expect(empty["deployments"]?.arrayItems.isEmpty == true)
        // Only staging: its three findings, and v1's floating model id, since v1 shipped there too.
        let staging = try workspace.json(try workspace.run(["audit", "--format", "json", "--env", "staging"]).stdout)
        #expect(
            Set((staging["findings"]?.arrayItems ?? []).map { $0["kind"]?.stringValue ?? "" })
                == ["backdated", "unchecked-deployment", "undrilled-rollback", "floating-model"])
    }

    @Test("HTML and Markdown escape hostile reasons and approvers; the HTML is one self-contained file")
    func escaping() throws {
        let workspace = Workspace()
        _ = try workspace.scriptedLedger()
        let html = try workspace.run(["audit", "--format", "html", "--out", "audit.html"])
        #expect(html.status == 0, "audit: \(html.stderr)")
        #expect(html.stdout.contains("wrote html report to audit.html"))
        let page = workspace.read("audit.html")
        #expect(page.hasPrefix("<!DOCTYPE html>"))
        #expect(!page.contains("<script"), "no script element, hostile or not")
        #expect(page.contains("&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt; &amp; &#39;quotes&#39;"))
        #expect(page.contains("o&#39;brien &lt;b&gt;&amp;amp;&lt;/b&gt;"))
        #expect(!page.contains("<b>&amp;</b>"))
        for external in ["src=\"http", "href=\"http", "@import", "url(http"] {
            #expect(!page.contains(external), "nothing loaded from elsewhere: \(external)")
        }
        #expect(page.contains("<svg"), "the timeline is embedded")
        try expectInlinePartialsRenderTheSame(page, in: workspace)

        let markdown = try workspace.run(["audit", "--format", "md", "--out", "audit.md"])
        #expect(markdown.status == 0, "audit: \(markdown.stderr)")
        let text = workspace.read("audit.md")
        #expect(text.contains(#"\<script\>alert("x")\</script\> \& 'quotes' \| \*stars\*"#))
        #expect(!text.contains("<script>"))
        #expect(text.contains("![What ran when](audit.timeline.svg)"))
        let svg = workspace.read("audit.timeline.svg")
        #expect(svg.hasPrefix("<svg") && svg.contains("support-agent@1.1.0"))
    }

    @Test("above 200 deployments the HTML shows those that need a look in full, then the routine ones a line each")
    func compact() throws {
        let workspace = Workspace()
        try workspace.initLedger()
        // Alternately a shadow of the next version (not gated, nothing of note: routine) and a blue-green
        // deployment of it without a checklist run (not covered), 219 deployments in all.
        var events: [Event] = []
        for index in 0..<110 {
            let version = JSONValue.string(String(repeating: "0", count: 60) + String(format: "%04d", index))
            if index > 0 {
                events.append(
                    try Event(
                        kind: "deployment.started",
                        body: .object([
                            "env": .string("prod"), "version": version, "strategy": .string("shadow"),
                            "weight": .number(0),
                        ])))
            }
            events.append(
                try Event(
                    kind: "deployment.started",
                    body: .object([
                        "env": .string("prod"), "version": version, "strategy": .string("blue-green"),
                        "weight": .number(100),
                    ])))
        }
        let ledger = try Ledger(openingAt: workspace.ledgerPath)
        let entries = try ledger.write { try $0.append(events) }
        let result = try workspace.run(["audit", "--format", "html", "--out", "audit.html"])
        #expect(result.status == 0, "audit: \(result.stderr)")
        let page = workspace.read("audit.html")
        let full = try entries.filter { try $0.body["strategy"]?.stringValue == "blue-green" }.map(\.seq)
        let routine = try entries.filter { try $0.body["strategy"]?.stringValue == "shadow" }.map(\.seq)
        #expect(full.count == 110 && routine.count == 109)
        // Each deployment once, in order: those in full, then the routine table.
        let listed = page.matches(of: /<(div class="deployment"|tr) id="d(\d+)">/).map {
            ($0.output.1 == "tr" ? "line" : "full", UInt64($0.output.2) ?? 0)
        }
        #expect(listed.map(\.0) == Array(repeating: "full", count: 110) + Array(repeating: "line", count: 109))
        #expect(listed.map(\.1) == full + routine)
        let heading = try #require(page.range(of: "<h3>Routine deployments</h3>"))
        let lastFull = try #require(page.range(of: #"<div class="deployment" id="d\#(full.last!)">"#))
        #expect(lastFull.upperBound < heading.lowerBound)

        try expectInlinePartialsRenderTheSame(page, in: workspace)
        #expect(try Self.deployments(page).matches(of: /id="d\d+"/).count == 219)
    }

    /// Both lists are rendered beforehand on every core (`rendered`); a template that names the partials inside
    /// the lists instead must get the very same deployments.
    private func expectInlinePartialsRenderTheSame(_ page: String, in workspace: Workspace) throws {
        try FileManager.default.copyItem(
            atPath: agentTemplates.appendingPathComponent("report").path, toPath: workspace.file("inline"))
        let template = workspace.read("inline/report.html.mustache")
        let inlined = template.replacingOccurrences(
            of: "{{#deployments_in_full}}{{{rendered}}}", with: "{{#deployments_in_full}}{{> deployment.html}}"
        ).replacingOccurrences(
            of: "{{#routine_deployments}}{{{rendered}}}", with: "{{#routine_deployments}}{{> routine.html}}")
        #expect(!inlined.contains("rendered") && template.contains("rendered"))
        workspace.write("inline/report.html.mustache", inlined)
        let inline = try workspace.run(["audit", "--format", "html", "--out", "inline.html", "--template", "inline"])
        #expect(inline.status == 0, "audit: \(inline.stderr)")
        #expect(try Self.deployments(workspace.read("inline.html")) == Self.deployments(page))
    }

    /// The Deployments section of an HTML report.
    private static func deployments(_ page: String) throws -> Substring {
        let start = try #require(page.range(of: "<h2>Deployments</h2>"))
        let end = try #require(page.range(of: "<h2>Rollbacks</h2>"))
        return page[start.lowerBound..<end.lowerBound]
    }

    @Test("the report of a tampered ledger says so at the top and exits 3")
    func tampered() throws {
        let workspace = Workspace()
        _ = try workspace.scriptedLedger()
        let attacker = try Connection(path: workspace.ledgerPath, mode: .readWrite)
        try attacker.execute("DROP TRIGGER entries_append_only_update")
        try attacker.execute(
            #"UPDATE entries SET entry = CAST(replace(CAST(entry AS TEXT), 'second thoughts', 'planned change') AS BLOB) WHERE kind = 'rollback.performed'"#
        )
        let result = try workspace.run(["audit", "--format", "html", "--out", "audit.html"])
        #expect(result.status == 3)
        #expect(result.stderr.contains("failed verification"))
        let page = workspace.read("audit.html")
        let banner = try #require(page.range(of: "INTEGRITY FAULT"))
        let findings = try #require(page.range(of: "<h2>Findings</h2>"))
        #expect(banner.lowerBound < findings.lowerBound, "the fault is said before anything else")
        let json = try workspace.json(try workspace.run(["audit", "--format", "json"]).stdout)
        #expect(json["verification"]?["ok"] == .bool(false))
        #expect(json["findings"]?.arrayItems.first?["kind"]?.stringValue == "integrity")
    }

    @Test("bad options are refused with 64, missing files with 66, a malformed checkpoint with 65; nothing is written")
    func refusals() throws {
        let workspace = Workspace()
        try workspace.initLedger()
        let before = workspace.ledgerSnapshot()
        workspace.write("bad.checkpoint", "garbage\n")
        let cases: [(arguments: [String], status: Int32, message: String)] = [
            (["--format", "pdf"], 64, "'--format <format>'. Please provide one of 'md', 'html' or 'json'"),
            (["--format", "md", "--from", "2026-12-01", "--to", "2026-11-01"], 64, "is not before --to"),
            (["--format", "md", "--from", "yesterday"], 64, #"--from "yesterday" is not an RFC 3339 time"#),
            (["--format", "html", "--template", "nowhere"], 66, "no report templates at nowhere"),
            (["--format", "json", "--pins", "nowhere.yaml"], 66, "nowhere.yaml not found"),
            (["--format", "json", "--checkpoint", "nowhere"], 66, "nowhere not found"),
            (["--format", "json", "--checkpoint", "bad.checkpoint"], 65, "bad.checkpoint is not a signed checkpoint"),
        ]
        for (arguments, status, message) in cases {
            let result = try workspace.run(["audit"] + arguments + ["--out", "audit.html"])
            #expect(result.status == status, "\(arguments): \(result.stderr)")
            #expect(result.stderr.hasPrefix("purser: error: ") && result.stderr.contains(message), "\(result.stderr)")
            #expect(result.stdout.isEmpty)
        }
        #expect(workspace.ledgerSnapshot() == before)
        #expect(!FileManager.default.fileExists(atPath: workspace.file("audit.html")))
    }
}
