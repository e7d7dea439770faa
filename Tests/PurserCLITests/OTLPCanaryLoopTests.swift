import Foundation
import PurserLedger
import Testing

/// From telemetry to rollback with no pipeline in between: a canary deployed with `judge-every`, whose failing
/// traces arrive at `purser serve` over OTLP, is judged and rolled back by the server alone.
@Suite("OTLP traces roll a canary back through the server's own judgement")
struct OTLPCanaryLoopTests {
    @Test func failingTracesRollTheCanaryBack() throws {
        let workspace = Workspace()
        let judge = ScheduledJudgeTests()
        try judge.prepare(workspace)
        let token = try workspace.token("writer", name: "agent-runtime")
        let server = try RunningServer(
            in: workspace,
            arguments: TraceReceiver.options + ["--on-rollback", #"echo "$PURSER_CANARY" > rolled-back"#])
        let client = ["PURSER_SERVER": server.url, "PURSER_TOKEN": token]
        // The server first judges the canary 8 s after it is deployed, by when the traces below are summarized (a
        // judgement without them would roll back for want of data: the error rate is critical).
        workspace.write("canary.yaml", ScheduledJudgeTests.config(judgeEvery: "8s"))
        let deployed = Date()
        let canary = try workspace.run(
            [
                "deploy", "start", "agent@2", "--env", "prod", "--strategy", "canary", "--canary-config",
                "canary.yaml",
            ] + ScheduledJudgeTests.glass, environment: client)
        try #require(canary.status == 0, "\(canary.stderr)")

        // 1,000 tasks of each version from a second after the deployment, 1 ms apart: 2% of agent@1's fail, 15% of
        // agent@2's.
        let base = Int(deployed.timeIntervalSince1970 + 1) * 1_000_000_000
        for chunk in stride(from: 0, to: 2_000, by: 200) {
            let spans = (chunk..<chunk + 200).flatMap { n in
                let canary = n % 2 == 1
                let fails = (n / 2) % 100 < (canary ? 15 : 2)
                return OTLPIngestTests.task(
                    n, version: canary ? "agent@2" : "agent@1", tokens: 100, fails: fails, base: base,
                    step: 1_000_000)
            }
            let answer = exchange(
                server.url + "/v1/traces",
                headers: ["Content-Type": "application/json", "Authorization": "Bearer \(token)"],
                body: Data(OTLPIngestTests.request(spans).utf8))
            try #require(answer.status == 200, "\(answer.body)")
        }
        #expect(try judge.entries(workspace, kind: "rollback.performed", server: client).isEmpty)

        // No command: the traces are summarized, the server judges, rolls back and runs the hook.
        try judge.waitFor("the rollback's hook") { !workspace.read("rolled-back").isEmpty }
        let judged = try judge.entries(workspace, kind: "canary.judged", server: client)
        let last = try #require(judged.last?["body"])
        #expect(last["verdict"] == .string("rollback"), "\(last)")
        #expect(last["recorded_by"] == .string("purser serve (judge-every)"))
        let errorRate = last["metrics"]?.arrayItems.first { $0["metric"] == .string("error_rate") }
        #expect(errorRate?["label"] == .string("regression"), "\(last)")
        #expect(judged.count == 1, "judged once, with the traces")
        #expect(try judge.entries(workspace, kind: "rollback.performed", server: client).count == 1)
        let summaries = try judge.entries(workspace, kind: "metrics.summarized", server: client)
        #expect(!summaries.isEmpty)
        #expect(summaries.allSatisfy { $0["body"]?["recorded_by"] == .string("purser serve (OTLP)") })
        #expect(summaries.reduce(0) { $0 + ($1["body"]?["records"]?.numberValue ?? 0) } == 2_000)
        #expect(server.stop() == 0)
        #expect(try workspace.run(["verify"]).status == 0)
    }
}
