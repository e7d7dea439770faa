import Foundation
import PurserLedger
import Testing

@Suite struct CanaryLookCommandTests {
    @Test("canary judge prints and records each look's number and alpha; verify recomputes both looks")
    func repeatedJudgements() throws {
        let workspace = Workspace()
        try workspace.startCanaryRollout()
        let started = Timestamp.format(Date())
        let tasks = (0..<400).map { index in
            #"{"task_id":"t\#(index)","version":"agent@\#(index % 2 + 1)","env":"prod","started_at":"\#(started)","duration_ms":100,"completed":true,"error":\#(index % 40 < 2),"quality":0.9}"#
        }
        workspace.write("tasks.jsonl", tasks.joined(separator: "\n") + "\n")
        #expect(try workspace.run(["metrics", "ingest", "tasks.jsonl"]).status == 0)
        workspace.write(
            "canary.yaml",
            """
            steps: [10, 100]
            min-sample-size: 100
            metrics:
              - {name: error_rate, statistic: rate, bad: increase, critical: true}
              - {name: quality, statistic: mean, bad: decrease, max-relative-change: 0.05}
            scoring: {pass: 0.9, marginal: 0.5}
            auto-rollback: true
            """)
        let judge = ["canary", "judge", "--env", "prod", "--config", "canary.yaml"]
        let first = try workspace.run(judge)
        #expect(first.status == 0, "\(first.stderr)")
        let line = "look 1 of this rollout: each test at alpha 0.025 (plan spend)"
        #expect(first.stdout.contains(line), "\(first.stdout)")
        let second = try workspace.run(judge + ["--json"])
        #expect(second.status == 0, "\(second.stderr)")
        let json = try JSONValue(parsing: Array(second.stdout.utf8))
        #expect(json["look"] == .number(2))
        #expect(json["plan"] == .string("spend"))
        #expect(json["alpha"] == .number(0.05 / 6))
        let verified = try workspace.run(["verify"])
        #expect(verified.status == 0, "\(verified.stdout)\(verified.stderr)")
    }
}
