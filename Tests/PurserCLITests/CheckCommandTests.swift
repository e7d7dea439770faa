import Foundation
import PurserCore
import PurserLedger
import Testing

/// The stable check ids, in the order `purser check` reports them.
private let checkIDs = [
    "version-recorded", "components-pinned", "queue-healthy", "dashboards-updated", "rollback-tested", "eval-passed",
    "canary-configured",
]

extension Workspace {
    /// A ledger with `templates/` copied to `release/` (the policy, its evidence, runbook and canary configuration),
    /// and the agent template recorded as support-agent@1.0.0 and evaluated, so that its checklist passes.
    /// - Returns: the version id.
    @discardableResult
    fileprivate func prepareRelease(sourceLocation: SourceLocation = #_sourceLocation) throws -> String {
        try initLedger()
        try FileManager.default.copyItem(atPath: agentTemplates.path, toPath: file("release"))
        let id = try recordAgentVariant("1", label: "support-agent@1.0.0", sourceLocation: sourceLocation)
        let evaluated = try run([
            "eval", "record", "--version", "support-agent@1.0.0", "--results", "release/evidence/eval-results.json",
        ])
        #expect(evaluated.status == 0, "eval record: \(evaluated.stderr)", sourceLocation: sourceLocation)
        return id
    }

    /// `purser check` of `version` in prod with the copied template policy, plus `extra` arguments.
    fileprivate func check(_ version: String, _ extra: [String] = []) throws -> RunResult {
        try run(["check", "--version", version, "--env", "prod", "--policy", "release/checklist.yaml"] + extra)
    }

    /// The bodies of the ledger's entries of `kind`, oldest first.
    fileprivate func bodies(_ kind: String) throws -> [JSONValue] {
        let log = try run(["log", "--kind", kind, "--json"])
        #expect(log.status == 0, "log: \(log.stderr)")
        return try log.stdout.split(separator: "\n").map { line in
            let entry = try json(String(line))["entry"]?.stringValue ?? ""
            return try json(entry)["body"] ?? .null
        }
    }
}

/// The keys of a JSON object, sorted.
private func keys(_ value: JSONValue?) -> [String] {
    if case .object(let members)? = value { return members.keys.sorted() }
    return []
}

/// The line of a `purser check` table that reports `id`.
private func row(_ id: String, in stdout: String) -> String? {
    stdout.split(separator: "\n").map(String.init).first { line in
        line.split(separator: " ", omittingEmptySubsequences: true).dropFirst().first == Substring(id)
    }
}

@Suite("purser check, eval record, waive and the deploy gate, end to end")
struct CheckCommandTests {
    @Test("check exits 0 when allowed and 1 when blocked, with the table and a BLOCKED line; both runs recorded")
    func allowedAndBlocked() throws {
        let workspace = Workspace()
        let v1 = try workspace.prepareRelease()
        let allowed = try workspace.check("support-agent@1.0.0")
        #expect(allowed.status == 0, "\(allowed.stdout)\(allowed.stderr)")
        for id in checkIDs {
            #expect(row(id, in: allowed.stdout)?.hasPrefix("PASS ") == true, "\(id) passes: \(allowed.stdout)")
        }
        #expect(allowed.stdout.contains("ALLOWED: \(v1.prefix(12)) (support-agent@1.0.0) may be released to prod"))

        let v2 = try workspace.recordAgentVariant("2", label: "support-agent@1.1.0")
        let entries = try workspace.entryCount()
        let blocked = try workspace.check("support-agent@1.1.0")
        #expect(blocked.status == 1, "\(blocked.stdout)\(blocked.stderr)")
        let dashboard = row("dashboards-updated", in: blocked.stdout) ?? ""
        #expect(dashboard.hasPrefix("FAIL ") && dashboard.contains("(support-agent@1.0.0)"), "\(dashboard)")
        let eval = row("eval-passed", in: blocked.stdout) ?? ""
        #expect(eval.hasPrefix("FAIL ") && eval.contains("recorded for \(v2.prefix(12))"), "\(eval)")
        #expect(row("version-recorded", in: blocked.stdout)?.hasPrefix("PASS ") == true)
        #expect(blocked.stdout.contains("evidence: file:evidence/dashboard.json sha256:"))
        let last = blocked.stdout.split(separator: "\n").last.map(String.init) ?? ""
        #expect(last == "BLOCKED: dashboards-updated, eval-passed (recorded as seq \(entries))", "\(last)")

        #expect(try workspace.entryCount() == entries + 1)
        let runs = try workspace.bodies("checklist.evaluated")
        #expect(runs.map { $0["allowed"] } == [.bool(true), .bool(false)])
        #expect(runs.map { $0["version"] } == [.string(v1), .string(v2)])
    }

    @Test("check --json prints the verdict document; the same inputs print the same document")
    func jsonDocument() throws {
        let workspace = Workspace()
        try workspace.prepareRelease()
        let v2 = try workspace.recordAgentVariant("2", label: "support-agent@1.1.0")
        let first = try workspace.check("support-agent@1.1.0", ["--json"])
        #expect(first.status == 1)
        let document = try workspace.json(first.stdout)
        #expect(keys(document) == ["allowed", "checks", "env", "version"])
        #expect(document["allowed"] == .bool(false) && document["version"] == .string(v2))
        #expect(document["env"] == .string("prod"))
        let checks = document["checks"]?.arrayItems ?? []
        #expect(checks.compactMap { $0["id"]?.stringValue } == checkIDs)
        for check in checks {
            #expect(keys(check) == ["evidence", "id", "reason", "verdict"], "\(check)")
            let verdict = check["verdict"]?.stringValue ?? "none"
            let reason = check["reason"]?.stringValue ?? ""
            #expect(["pass", "fail", "error", "waived"].contains(verdict))
            #expect(reason.count > 10, "a reason a person can act on: \(reason)")
            for evidence in check["evidence"]?.arrayItems ?? [] {
                #expect(isSHA256Hex(evidence["digest"]?.stringValue) && evidence["source"]?.stringValue != nil)
            }
        }
        #expect(
            checks.map { $0["verdict"]?.stringValue ?? "" } == ["pass", "pass", "pass", "fail", "pass", "fail", "pass"])

        // The queue probe prints the time it ran: hold it still, so that the inputs are the same.
        workspace.write(
            "release/evidence/queue.json", #"{"depth": 1, "capacity": 10, "consumers": 2, "oldest_age_s": 0}"#)
        workspace.edit(
            "release/checklist.yaml", replacing: "{command: [sh, evidence/queue-probe.sh], timeout: 10s, max-age: 10m}",
            with: "{file: evidence/queue.json}")
        let again = try workspace.check("support-agent@1.1.0", ["--json"])
        let once = try workspace.check("support-agent@1.1.0", ["--json"])
        #expect(again.stdout == once.stdout && again.status == 1)
    }

    @Test("check --junit writes JUnit XML with a failure element for each failing check")
    func junitReport() throws {
        let workspace = Workspace()
        try workspace.prepareRelease()
        _ = try workspace.recordAgentVariant("2", label: "support-agent@1.1.0")
        let blocked = try workspace.check("support-agent@1.1.0", ["--junit", "checklist.xml"])
        #expect(blocked.status == 1)
        let xml = workspace.read("checklist.xml")
        #expect(xml.hasPrefix("<?xml version=\"1.0\" encoding=\"UTF-8\"?>"))
        #expect(xml.contains(#"tests="7" failures="2" errors="0""#))
        #expect(
            xml.contains(#"<testcase classname="purser.checklist" name="eval-passed"><failure message="no evaluation"#))
        // purser's own strict JUnit reader reads it back: well-formed, one case per check, two failing.
        let report = try EvaluationResults.parse(Array(xml.utf8), format: .junit, source: "checklist.xml")
        #expect(report.cases.map(\.name) == checkIDs.map { "purser.checklist.\($0)" })
        #expect(
            report.cases.filter { !$0.passed }.map(\.name) == [
                "purser.checklist.dashboards-updated", "purser.checklist.eval-passed",
            ])
    }

    struct BadPolicy: Sendable, CustomTestStringConvertible {
        let name: String
        let old: String
        let new: String
        let mentions: [String]

        var testDescription: String { name }

        static let all = [
            BadPolicy(
                name: "invalid YAML", old: "max-age: 24h\n", new: "max-age: [24h\n",
                mentions: ["invalid YAML", "line 18"]),
            BadPolicy(
                name: "a missing check section", old: "  canary-configured:\n    config: canary.yaml\n", new: "",
                mentions: ["checks.canary-configured", "missing"]),
            BadPolicy(
                name: "an unknown field", old: "    max-utilization: 0.8", new: "    max-utilisation: 0.8",
                mentions: ["checks.queue-healthy.max-utilisation", "unknown field"]),
            BadPolicy(
                name: "a rate outside 0...1", old: "min-pass-rate: 0.95", new: "min-pass-rate: 95",
                mentions: ["checks.eval-passed.min-pass-rate", "from 0 to 1"]),
        ]
    }

    @Test(
        "a bad policy file exits 65 with one line naming the file and field, and writes nothing",
        arguments: BadPolicy.all)
    func badPolicy(_ bad: BadPolicy) throws {
        let workspace = Workspace()
        try workspace.prepareRelease()
        workspace.edit("release/checklist.yaml", replacing: bad.old, with: bad.new)
        let before = workspace.ledgerSnapshot()
        let result = try workspace.check("support-agent@1.0.0")
        #expect(result.status == 65, "\(result.stderr)")
        expectOneErrorLine(result)
        #expect(result.stderr.contains("release/checklist.yaml"), "\(result.stderr)")
        for text in bad.mentions {
            #expect(result.stderr.contains(text), "names \(text): \(result.stderr)")
        }
        #expect(result.stdout.isEmpty)
        #expect(workspace.ledgerSnapshot() == before)
    }

    @Test("eval record reads json, JUnit and promptfoo results")
    func evalRecordFormats() throws {
        let workspace = Workspace()
        try workspace.initLedger()
        _ = try workspace.recordAgentVariant("1", label: "support-agent@1.0.0")
        workspace.write(
            "junit.xml",
            """
            <?xml version="1.0" encoding="UTF-8"?>
            <testsuites name="support junit">
              <testsuite name="refunds" tests="3" failures="1">
                <testcase classname="refunds" name="within 30 days"/>
                <testcase classname="refunds" name="after 30 days"><failure message="granted anyway"/></testcase>
                <testcase classname="refunds" name="not yet written"><skipped/></testcase>
              </testsuite>
            </testsuites>

            """)
        let row =
            #"{"success": %@, "testCase": {"description": "refund over limit"}, "vars": {"amount": 120}, "prompt": {"label": "p"}, "provider": {"id": "openai:gpt-4o-2024-08-06"}}"#
        let rows = ["true", "false", "true"].map { row.replacingOccurrences(of: "%@", with: $0) }
        workspace.write(
            "promptfoo.json",
            #"{"evalId": "eval-1", "results": {"version": 3, "results": [\#(rows.joined(separator: ", "))]}, "config": {"description": "promptfoo suite"}}"#
        )
        workspace.write("cases.json", #"[{"name": "greeting", "passed": true}]"#)

        let cases: [(arguments: [String], suite: String, runs: Double, passed: Double, count: Double)] = [
            (["--results", "junit.xml", "--format", "junit"], "support junit", 2, 1, 2),
            (["--results", "promptfoo.json", "--format", "promptfoo"], "promptfoo suite", 3, 2, 1),
            (["--results", "cases.json", "--suite", "smoke"], "smoke", 1, 1, 1),
            (
                ["--results", agentTemplates.appendingPathComponent("evidence/eval-results.json").path],
                "support-regression", 8, 8, 7
            ),
        ]
        for (arguments, suite, runs, passed, count) in cases {
            let recorded = try workspace.runJSON(
                ["eval", "record", "--version", "support-agent@1.0.0", "--json"] + arguments)
            #expect(recorded["suite"] == .string(suite), "\(arguments)")
            #expect(recorded["runs"] == .number(runs) && recorded["passed"] == .number(passed), "\(arguments)")
            #expect(recorded["cases"] == .number(count), "\(arguments)")
        }
        let bodies = try workspace.bodies("evaluation.recorded")
        #expect(bodies.map { $0["format"]?.stringValue ?? "" } == ["junit", "promptfoo", "json", "json"])
        #expect(bodies.allSatisfy { isSHA256Hex($0["results"]?["digest"]?.stringValue) })
    }

    @Test("eval record refuses a bad results file with exit 65 naming it, and writes nothing")
    func evalRecordBadResults() throws {
        let workspace = Workspace()
        try workspace.initLedger()
        _ = try workspace.recordAgentVariant("1", label: "support-agent@1.0.0")
        workspace.write("bad.json", #"{"cases": [{"name": "refund", "passed": "yes"}]}"#)
        workspace.write("not-junit.xml", #"{"cases": []}"#)
        let before = workspace.ledgerSnapshot()
        for (file, format, mentions) in [
            ("bad.json", "json", "bad.json: cases[0].passed"), ("not-junit.xml", "junit", "not-junit.xml"),
        ] {
            let result = try workspace.run([
                "eval", "record", "--version", "support-agent@1.0.0", "--results", file, "--format", format,
            ])
            #expect(result.status == 65, "\(file): \(result.stderr)")
            expectOneErrorLine(result)
            #expect(result.stderr.contains(mentions), "\(result.stderr)")
        }
        let unknownFormat = try workspace.run([
            "eval", "record", "--version", "support-agent@1.0.0", "--results", "bad.json", "--format", "csv",
        ])
        #expect(unknownFormat.status == 64)
        #expect(workspace.ledgerSnapshot() == before)
    }

    @Test("waive: a valid waiver lets check pass with the checks counted as waived; a past expiry is refused")
    func waive() throws {
        let workspace = Workspace()
        try workspace.prepareRelease()
        _ = try workspace.recordAgentVariant("2", label: "support-agent@1.1.0")
        let before = workspace.ledgerSnapshot()
        let base = ["waive", "--version", "support-agent@1.1.0", "--check", "dashboards-updated", "--reason", "OPS-88"]

        let past = try workspace.run(base + ["--approver", "dana", "--expires", "2020-01-01T00:00:00Z"])
        #expect(past.status == 65, "\(past.stderr)")
        expectOneErrorLine(past)
        #expect(past.stderr.contains("--expires 2020-01-01T00:00:00.000Z is not in the future"), "\(past.stderr)")
        #expect(workspace.ledgerSnapshot() == before)

        let expiry = Timestamp.format(Date().addingTimeInterval(3600))
        for check in ["dashboards-updated", "eval-passed"] {
            let granted = try workspace.run([
                "waive", "--version", "support-agent@1.1.0", "--check", check, "--reason", "OPS-88", "--approver",
                "dana@example.com", "--expires", expiry,
            ])
            #expect(granted.status == 0, "\(granted.stderr)")
        }
        let allowed = try workspace.check("support-agent@1.1.0")
        #expect(allowed.status == 0, "\(allowed.stdout)")
        #expect(row("eval-passed", in: allowed.stdout)?.hasPrefix("WAIVED ") == true, "\(allowed.stdout)")
        #expect(row("dashboards-updated", in: allowed.stdout)?.contains("waived by dana@example.com") == true)
        #expect(allowed.stdout.contains("(2 check(s) waived)"))
    }

    @Test("deploy start: refused (exit 1, nothing written) without a run; allowed after one; break-glass needs both")
    func deployGate() throws {
        let workspace = Workspace()
        try workspace.prepareRelease()
        let deploy = ["deploy", "start", "support-agent@1.0.0", "--env", "prod", "--strategy", "blue-green"]
        let before = workspace.ledgerSnapshot()

        let refused = try workspace.run(deploy)
        #expect(refused.status == 1, "\(refused.stderr)")
        expectOneErrorLine(refused)
        #expect(refused.stderr.contains("no checklist run allows"), "\(refused.stderr)")
        #expect(refused.stderr.contains("saying why and who approved (--break-glass --reason, --approver)"))

        let noApprover = try workspace.run(deploy + ["--break-glass", "--reason", "hotfix"])
        #expect(noApprover.status == 64, "\(noApprover.stderr)")
        expectOneErrorLine(noApprover)
        let noFlag = try workspace.run(deploy + ["--reason", "hotfix", "--approver", "dana"])
        #expect(noFlag.status == 64, "\(noFlag.stderr)")
        #expect(workspace.ledgerSnapshot() == before)

        let check = try workspace.check("support-agent@1.0.0")
        #expect(check.status == 0, "\(check.stdout)")
        let deployed = try workspace.run(deploy)
        #expect(deployed.status == 0, "\(deployed.stderr)")

        _ = try workspace.recordAgentVariant("2", label: "support-agent@1.1.0")
        let overridden = try workspace.run([
            "deploy", "start", "support-agent@1.1.0", "--env", "prod", "--strategy", "canary", "--break-glass",
            "--reason", "hotfix for incident 42", "--approver", "dana@example.com",
        ])
        #expect(overridden.status == 0, "\(overridden.stderr)")
        let started = try workspace.bodies("deployment.started")
        #expect(
            started.map { $0["break_glass"] } == [
                nil, .object(["reason": .string("hotfix for incident 42"), "approver": .string("dana@example.com")]),
            ])
    }

    struct MissingOption: Sendable, CustomTestStringConvertible {
        let arguments: [String]
        let missing: String

        var testDescription: String { "\(arguments.prefix(2).joined(separator: " ")) without \(missing)" }

        static let all = [
            MissingOption(
                arguments: [
                    "waive", "--version", "support-agent@1.0.0", "--check", "dashboards-updated", "--reason", "OPS-88",
                    "--expires", "2099-01-01T00:00:00Z",
                ], missing: "--approver"),
            MissingOption(
                arguments: ["check", "--version", "support-agent@1.0.0", "--policy", "release/checklist.yaml"],
                missing: "--env"),
            MissingOption(arguments: ["eval", "record", "--version", "support-agent@1.0.0"], missing: "--results"),
        ]
    }

    @Test(
        "a missing required option is a usage error (64), also when --version is given",
        arguments: MissingOption.all)
    func missingRequiredOption(_ command: MissingOption) throws {
        let workspace = Workspace()
        try workspace.prepareRelease()
        let before = workspace.ledgerSnapshot()
        let result = try workspace.run(command.arguments)
        #expect(result.status == 64, "stdout: \(result.stdout)")
        expectOneErrorLine(result)
        #expect(result.stderr.contains(command.missing), "\(result.stderr)")
        #expect(workspace.ledgerSnapshot() == before)
    }
}
