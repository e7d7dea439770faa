import Foundation
import PurserLedger
import Testing

@Suite struct CanaryCommandTests {
    /// A ledger with agent@1 serving prod and agent@2 as a 10% canary, and `config` written beside it.
    func prepare(_ workspace: Workspace) throws {
        try workspace.startCanaryRollout()
        workspace.write(
            "canary.yaml",
            """
            steps: [10, 50, 100]
            min-sample-size: 200
            metrics:
              - {name: error_rate, statistic: rate, bad: increase, max-absolute-change: 0.01, critical: true}
              - {name: quality, statistic: mean, bad: decrease, max-relative-change: 0.05, min-sample-size: 50}
            scoring: {pass: 0.9, marginal: 0.5}
            auto-rollback: true
            """)
    }

    /// Tasks of both versions: errors at `baselineErrors` and `canaryErrors` in 1,000.
    func tasks(_ workspace: Workspace, baselineErrors: Int, canaryErrors: Int) {
        let now = Timestamp.format(Date())
        var lines: [String] = []
        for index in 0..<2000 {
            let canary = index % 2 == 1
            let error = (index / 2) % 1000 < (canary ? canaryErrors : baselineErrors)
            let quality = index % 5 == 0 ? #","quality":0.\#(80 + index % 10)"# : ""
            lines.append(
                #"{"task_id":"t\#(index)","version":"\#(canary ? "agent@2" : "agent@1")","env":"prod","started_at":"\#(now)","duration_ms":\#(900 + index % 200),"completed":true,"error":\#(error)\#(quality)}"#
            )
        }
        workspace.write("tasks.jsonl", lines.joined(separator: "\n"))
    }

    @Test func aCanaryWithTripleTheErrorsIsRolledBackAndTheHookRuns() throws {
        let workspace = Workspace()
        try prepare(workspace)
        tasks(workspace, baselineErrors: 20, canaryErrors: 60)
        let ingest = try workspace.run(["metrics", "ingest", "tasks.jsonl", "--json"])
        #expect(ingest.status == 0, "\(ingest.stderr)")
        #expect(try workspace.json(ingest.stdout)["new"] == .number(2000))

        let report = try workspace.run(["metrics", "report", "--version", "agent@1", "--version", "agent@2"])
        #expect(report.status == 0 && report.stdout.contains("error rate") && report.stdout.contains("+200%"))

        let judged = try workspace.run([
            "canary", "judge", "--env", "prod", "--config", "canary.yaml", "--json", "--on-rollback",
            "echo \"$PURSER_ENV $PURSER_CANARY\" > hook.out",
        ])
        #expect(judged.status == 1, "rollback exits 1: \(judged.stderr)")
        let verdict = try workspace.json(judged.stdout)
        #expect(verdict["verdict"] == .string("rollback"))
        #expect(verdict["rollback_seq"]?.numberValue == (verdict["seq"]?.numberValue).map { $0 + 1 })
        #expect(workspace.read("hook.out").hasPrefix("prod "))
        let status = try workspace.json(try workspace.run(["status", "--env", "prod", "--json"]).stdout)
        #expect(status["environments"].map { "\($0)" }?.contains("agent@2") == true)
        #expect(try workspace.run(["verify"]).status == 0)
    }

    @Test("metrics report --by model: each model a column, and tasks without a model one named so")
    func reportByModel() throws {
        let workspace = Workspace()
        try workspace.recordTwoVersions()
        let now = Timestamp.format(Date())
        workspace.write(
            "tasks.jsonl",
            (0..<4).map { index in
                let model = index < 3 ? #","model":"gpt-4o""# : ""
                return
                    #"{"task_id":"m\#(index)","version":"agent@1","env":"prod","started_at":"\#(now)","duration_ms":10,"completed":true,"error":false\#(model)}"#
            }.joined(separator: "\n"))
        #expect(try workspace.run(["metrics", "ingest", "tasks.jsonl"]).status == 0)
        let report = try workspace.run(["metrics", "report", "--by", "model"])
        let header = report.stdout.split(separator: "\n").first.map(String.init) ?? ""
        #expect(header.contains("agent@1 [gpt-4o]") && header.contains("agent@1 [no model]"), "\(report.stdout)")
        #expect(!report.stdout.contains("[]"), "\(report.stdout)")
    }

    /// A metric's name ends in `*` when it is critical: the judge says what that means below its metrics.
    @Test func theJudgeExplainsTheStarOfACriticalMetric() throws {
        let workspace = Workspace()
        try prepare(workspace)
        tasks(workspace, baselineErrors: 20, canaryErrors: 20)
        #expect(try workspace.run(["metrics", "ingest", "tasks.jsonl"]).status == 0)
        let judged = try workspace.run(["canary", "judge", "--env", "prod", "--config", "canary.yaml"])
        #expect(judged.status == 0, "\(judged.stderr)")
        let lines = judged.stdout.split(separator: "\n").map(String.init)
        let legend = try #require(lines.firstIndex { $0.hasPrefix("  * critical: ") })
        #expect(
            lines[legend]
                == "  * critical: a regression, or too few tasks to judge it, rolls the canary back whatever the score")
        #expect(lines[legend - 1].contains(" quality ") && lines[legend - 2].contains(" error_rate* "))
        #expect(lines[legend + 1].hasPrefix("PROMOTE: "))
    }

    @Test func equalCanaryIsPromotedAndABadMetricsFileWritesNothing() throws {
        let workspace = Workspace()
        try prepare(workspace)
        tasks(workspace, baselineErrors: 20, canaryErrors: 20)
        #expect(try workspace.run(["metrics", "ingest", "tasks.jsonl"]).status == 0)
        let judged = try workspace.run(["canary", "judge", "--env", "prod", "--config", "canary.yaml"])
        #expect(judged.status == 0, "promote exits 0: \(judged.stdout) \(judged.stderr)")
        #expect(judged.stdout.contains("PROMOTE"))

        workspace.write("bad.jsonl", #"{"task_id":"x","version":"agent@1","env":"prod"}"#)
        let before = workspace.ledgerSnapshot()
        let bad = try workspace.run(["metrics", "ingest", "bad.jsonl"])
        #expect(bad.status == 65 && bad.stderr.contains("bad.jsonl line 1"))
        #expect(workspace.ledgerSnapshot() == before)
    }

    static let refused: [(arguments: [String], status: Int32, mentions: String)] = [
        (
            [
                "shadow", "compare", "--env", "prod", "--primary", "agent@1", "--shadow", "agent@2", "--pairs",
                "pairs.jsonl",
            ],
            65, "pairs.jsonl line 2: shadow.quality"
        ),
        (
            [
                "shadow", "compare", "--env", "prod", "--primary", "agent@1", "--shadow", "agent@1", "--pairs",
                "pairs.jsonl",
            ],
            64, "same version"
        ),
        (
            [
                "shadow", "compare", "--env", "prod", "--primary", "agent@1", "--shadow", "agent@2", "--pairs",
                "none.jsonl",
            ],
            66, "none.jsonl"
        ),
        (["canary", "judge", "--env", "prod", "--config", "missing.yaml"], 66, "missing.yaml"),
        (["canary", "judge", "--env", "prod", "--config", "bad-canary.yaml"], 65, "do not increase strictly"),
        (["metrics", "drift", "--window", "2x"], 64, "--window"),
        (["metrics", "drift", "--metric", "happiness"], 64, "unknown metric happiness"),
        (["metrics", "report", "--by", "colour"], 64, "Please provide one of 'task-type' and 'model'"),
        (
            ["metrics", "ingest", "tasks.jsonl", "--format", "xml"], 64,
            "Please provide one of 'jsonl', 'csv' or 'otlp'"
        ),
    ]

    @Test(
        "bad input to shadow, canary and metrics commands: one line, its exit code, and an unchanged ledger",
        arguments: refused)
    func refusedInput(_ arguments: [String], _ status: Int32, _ mentions: String) throws {
        let workspace = Workspace()
        try prepare(workspace)
        workspace.write(
            "pairs.jsonl",
            #"{"request_id":"a","primary":{"quality":0.8},"shadow":{"quality":0.9}}"# + "\n"
                + #"{"request_id":"b","primary":{"quality":0.8},"shadow":{"quality":1.7}}"#)
        workspace.write(
            "bad-canary.yaml",
            workspace.read("canary.yaml").replacingOccurrences(of: "steps: [10, 50, 100]", with: "steps: [50, 10, 100]")
        )
        let before = workspace.ledgerSnapshot()
        let result = try workspace.run(arguments)
        #expect(result.status == status, "\(arguments): \(result.stderr)")
        #expect(result.stderr.hasPrefix("purser: error: ") && result.stderr.split(separator: "\n").count == 1)
        #expect(result.stderr.contains(mentions), "\(result.stderr)")
        #expect(workspace.ledgerSnapshot() == before, "\(arguments) changed the ledger")
    }
}
