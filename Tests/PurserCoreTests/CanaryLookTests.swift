import Foundation
import PurserCore
import PurserLedger
import Testing

@Suite("Canary looks: repeated judgements of one rollout spend alpha by plan")
struct CanaryLookTests {
    /// completion_rate (not critical) is the metric that moves; the checklist's critical error rate and guarded
    /// quality stay alike.
    static let config = """
        steps: [10, 100]
        min-sample-size: 100
        metrics:
          - {name: error_rate, statistic: rate, bad: increase, critical: true}
          - {name: completion_rate, statistic: rate, bad: decrease}
          - {name: quality, statistic: mean, bad: decrease, max-relative-change: 0.05}
        scoring: {pass: 0.9, marginal: 0.5}
        auto-rollback: true
        """

    /// agent@1 and agent@2 (a canary in prod), 500 tasks each in `env` since now: 10 of agent@1's tasks and
    /// `incomplete` of agent@2's do not complete; none fails.
    private func setUp(_ test: TestReleases, incomplete: Int) throws -> (v1: String, v2: String) {
        let v1 = try test.record(prompt: "one", label: "agent@1")
        let v2 = try test.record(prompt: "two", label: "agent@2")
        _ = try test.releases.traffic.deploy(v1, env: .prod, strategy: .blueGreen, breakGlass: .test)
        _ = try test.releases.traffic.deploy(v2, env: .prod, strategy: .canary, weight: 10, breakGlass: .test)
        let started = Timestamp.format(Date())
        let lines = (0..<1000).map { index in
            let canary = index % 2 == 1
            let completed = index / 2 >= (canary ? incomplete : 10)
            return
                #"{"task_id":"t\#(index)","version":"agent@\#(canary ? 2 : 1)","env":"prod","started_at":"\#(started)","duration_ms":100,"completed":\#(completed),"error":false,"quality":0.9}"#
        }
        let path = test.directory + "/tasks.jsonl"
        try Data(lines.joined(separator: "\n").utf8).write(to: URL(fileURLWithPath: path))
        _ = try test.releases.metrics.ingest(path: path, format: .jsonl)
        return (v1, v2)
    }

    private func judge(
        _ test: TestReleases, env: String = "prod", baseline: String? = nil, canary: String? = nil,
        since: String? = nil
    ) throws -> CanaryJudgement {
        let bytes = Array(Self.config.utf8)
        return try test.releases.canary.judge(
            env: EnvironmentName(env), baseline: baseline, canary: canary,
            config: try CanaryConfig(bytes: bytes, source: "canary.yaml"), configBytes: bytes,
            configSource: "canary.yaml", since: since)
    }

    @Test("the look counts the earlier judgements of the rollout only; a new deployment.started resets it")
    func lookNumbers() throws {
        let test = try TestReleases()
        let (v1, v2) = try setUp(test, incomplete: 10)
        #expect(try judge(test).look == 1)
        #expect(try judge(test).look == 2)
        // The same canary judged in another environment is another rollout, and does not count here.
        let staging = try judge(test, env: "staging", baseline: v1, canary: v2, since: "2000-01-01T00:00:00Z")
        #expect(staging.look == 1)
        let third = try judge(test)
        #expect(third.look == 3)
        #expect(third.plan == .spend)
        #expect(third.alpha == 0.05 / 12)
        _ = try test.releases.traffic.abort(env: .prod)
        _ = try test.releases.traffic.deploy(v2, env: .prod, strategy: .canary, weight: 10, breakGlass: .test)
        #expect(try judge(test, since: "2000-01-01T00:00:00Z").look == 1)
        #expect(try Releases.derivedFaults(test.ledger).isEmpty)
    }

    @Test("look k tests at alpha/(k(k+1)): a p between that and 0.05 is a regression at look 1, not at look 2")
    func alphaIsSpent() throws {
        let test = try TestReleases()
        // 477 of 500 against 490 of 500 completed: Fisher's one-sided p is 0.016.
        _ = try setUp(test, incomplete: 23)
        let first = try judge(test)
        let second = try judge(test)
        let p1: Double = try #require(first.metrics[1].pValue)
        let p2: Double = try #require(second.metrics[1].pValue)
        let alpha2: Double = 0.05 / 6
        #expect(p1 == p2)
        #expect(p1 > alpha2)
        #expect(p1 < 0.025)
        #expect(first.alpha == 0.025)
        #expect(second.alpha == alpha2)
        #expect(first.metrics[1].label == .regression)
        #expect(first.verdict == .hold)
        #expect(second.metrics[1].label == .pass)
        #expect(second.verdict == .promote)
        #expect(second.metrics[1].intervalLevel == 1 - 2 * alpha2)
        let body = try #require(try test.ledger.entry(second.seq)).body
        #expect(body["look"] == JSONValue.number(2))
        #expect(body["plan"] == JSONValue.string("spend"))
        #expect(body["alpha"] == JSONValue.number(alpha2))
        #expect(try Releases.derivedFaults(test.ledger).isEmpty, "verify recomputes each look at its own alpha")
    }

    @Test("a fixed plan tests every look at 0.05")
    func fixedPlan() throws {
        let yaml = Self.config + "\nlooks: {plan: fixed}\n"
        let config = try CanaryConfig(bytes: Array(yaml.utf8), source: "canary.yaml")
        #expect(config.looks == .fixed)
        #expect(config.looks.alpha(look: 7) == 0.05)
        #expect(throws: LedgerError.self) {
            try CanaryConfig(bytes: Array((Self.config + "\nlooks: {plan: sometimes}\n").utf8), source: "c.yaml")
        }
        #expect(try CanaryConfig(bytes: Array(Self.config.utf8), source: "canary.yaml").looks == .spend)
    }

    @Test("the sample-size check uses the first look's level: bad either needs 5 with plan spend, 4 with fixed")
    func smallestSampleAtTheFirstLook() throws {
        let yaml = """
            steps: [10, 100]
            min-sample-size: 4
            metrics:
              - {name: error_rate, statistic: rate, bad: either, critical: true}
              - {name: quality, statistic: mean, bad: decrease, max-relative-change: 0.05}
            scoring: {pass: 0.9, marginal: 0.5}
            auto-rollback: true
            """
        let spend = try CanaryConfig(bytes: Array(yaml.utf8), source: "canary.yaml").problems()
        #expect(spend.count == 1)
        #expect(spend.first?.contains("at least 5") == true, "\(spend)")
        let fixed = try CanaryConfig(bytes: Array((yaml + "\nlooks: {plan: fixed}").utf8), source: "c.yaml")
        #expect(fixed.problems().isEmpty, "\(fixed.problems())")
    }

    @Test("verify flags a judgement whose recorded look number is not its count of earlier judgements")
    func tamperedLook() throws {
        let test = try TestReleases()
        _ = try setUp(test, incomplete: 10)
        _ = try judge(test)
        let second = try judge(test)
        #expect(try Releases.derivedFaults(test.ledger).isEmpty)
        // A third judgement written as a first look, with the first look's alpha.
        guard case .object(var body) = try #require(try test.ledger.entry(second.seq)).body else {
            Issue.record("not an object")
            return
        }
        body["look"] = .number(1)
        body["alpha"] = .number(0.025)
        let forged = try test.ledger.append(try Event(kind: "canary.judged", body: .object(body)))
        let faults = try Releases.derivedFaults(test.ledger)
        #expect(faults.map(\.kind) == [.judgement], "\(faults)")
        #expect(faults.first?.seq == forged.seq)
        let detail = faults.first?.detail ?? ""
        #expect(detail.contains("look 1"))
        #expect(detail.contains("judgement 3"))
    }
}
