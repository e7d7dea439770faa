import Foundation
import PurserCore
import PurserLedger
import Testing

@Suite("Canary judge: statistics, labels, verdicts and automatic rollback")
struct CanaryJudgeTests {
    static let errorRate = CanaryConfig.Metric(
        name: "error_rate", statistic: .rate, bad: .increase, maxAbsoluteChange: 0.01, critical: true,
        minSampleSize: 100)
    static let quality = CanaryConfig.Metric(
        name: "quality", statistic: .mean, bad: .decrease, maxRelativeChange: 0.05, minSampleSize: 20)

    /// Normal-ish values around `mean` from a fixed seed (sum of uniforms).
    static func values(_ count: Int, mean: Double, spread: Double, seed: UInt64) -> [Double] {
        var state = seed
        func next() -> Double {
            state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
            return Double(state >> 11) / Double(1 << 53)
        }
        return (0..<count).map { _ in mean + spread * ((0..<6).map { _ in next() }.reduce(0, +) - 3) / 3 }
    }

    @Test("2 against 2 non-overlapping values is nodata, never a regression or a pass")
    func tinySamples() {
        let judgement = CanaryJudge.judge(Self.quality, .continuous(baseline: [0.9, 0.95], canary: [0.1, 0.2]))
        #expect(judgement.label == .nodata)
        #expect(judgement.pValue == nil)
    }

    @Test("an error rate that triples on 500 tasks per arm is a critical regression: rollback")
    func tripledErrorRate() {
        let judgement = CanaryJudge.judge(
            Self.errorRate, .proportion(baseline: (10, 500), canary: (30, 500)))
        #expect(judgement.label == .regression)
        #expect(abs(judgement.pValue! - 0.000_897) < 0.000_01, "Fisher one-sided p for 30/500 against 10/500")
        #expect(judgement.canaryInterval!.contains(0.06) && judgement.baselineInterval!.contains(0.02))
        let config = CanaryConfig(
            steps: [5, 100], minSampleSize: 100, metrics: [Self.errorRate, Self.quality], pass: 0.9, marginal: 0.5,
            autoRollback: true)
        let quality = CanaryJudge.judge(
            Self.quality,
            .continuous(
                baseline: Self.values(200, mean: 0.85, spread: 0.1, seed: 1),
                canary: Self.values(200, mean: 0.85, spread: 0.1, seed: 2)))
        #expect(CanaryJudge.verdict([judgement, quality], config: config).verdict == .rollback)
    }

    @Test("identical distributions pass and are promoted")
    func identical() {
        let baseline = Self.values(400, mean: 0.85, spread: 0.1, seed: 7)
        let quality = CanaryJudge.judge(Self.quality, .continuous(baseline: baseline, canary: baseline))
        let errors = CanaryJudge.judge(Self.errorRate, .proportion(baseline: (20, 1000), canary: (20, 1000)))
        #expect(quality.label == .pass && errors.label == .pass)
        #expect(abs(quality.estimate!) < 1e-12 && quality.pValue! > 0.9)
        let config = CanaryConfig(
            steps: [5, 100], minSampleSize: 100, metrics: [Self.errorRate, Self.quality], pass: 0.9, marginal: 0.5,
            autoRollback: true)
        #expect(CanaryJudge.verdict([quality, errors], config: config) == (1, .promote))
    }

    @Test("a small but significant quality drop within the allowed change is not a regression")
    func smallDrop() {
        let baseline = Self.values(5000, mean: 0.85, spread: 0.05, seed: 11)
        let canary = Self.values(5000, mean: 0.83, spread: 0.05, seed: 12)
        let judgement = CanaryJudge.judge(Self.quality, .continuous(baseline: baseline, canary: canary))
        #expect(judgement.interval!.upperBound < 0, "the drop is significant")
        #expect(judgement.interval!.lowerBound > -judgement.margin!, "but not beyond the allowed 5%")
        #expect(judgement.pValue! > 0.05)
        #expect(abs(judgement.relativeEffect! + 0.0235) < 0.005, "about −2.4%, within the allowed 5%")
        #expect(judgement.label == .pass)
        let bigDrop = CanaryJudge.judge(
            Self.quality, .continuous(baseline: baseline, canary: Self.values(5000, mean: 0.75, spread: 0.05, seed: 13))
        )
        #expect(bigDrop.label == .regression)
    }

    @Test("hold between marginal and pass; a critical nodata rolls back")
    func verdicts() {
        let config = CanaryConfig(
            steps: [5, 100], minSampleSize: 100, metrics: [Self.errorRate, Self.quality], pass: 0.9, marginal: 0.5,
            autoRollback: true)
        let pass = CanaryJudge.judge(Self.errorRate, .proportion(baseline: (5, 500), canary: (5, 500)))
        let qualityNodata = CanaryJudge.judge(Self.quality, .continuous(baseline: [0.9], canary: [0.9]))
        #expect(CanaryJudge.verdict([pass, qualityNodata], config: config) == (0.5, .hold))
        let errorNodata = CanaryJudge.judge(Self.errorRate, .proportion(baseline: (0, 10), canary: (0, 10)))
        #expect(CanaryJudge.verdict([errorNodata], config: config).verdict == .rollback)
    }

    @Test("deploying the canary again restarts the analysis: samples from before its latest start do not count")
    func restartedCanary() throws {
        let test = try TestReleases()
        let v1 = try test.record(prompt: "one", label: "agent@1")
        let v2 = try test.record(prompt: "two", label: "agent@2")
        let now = Date()
        func at(_ hoursAgo: Double) -> Date { now.addingTimeInterval(-hoursAgo * 3600) }
        _ = try test.releases.traffic.deploy(
            v1, env: .prod, strategy: .blueGreen, effectiveAt: at(3), breakGlass: .test)
        _ = try test.releases.traffic.deploy(
            v2, env: .prod, strategy: .canary, weight: 10, effectiveAt: at(2), breakGlass: .test)
        _ = try test.releases.traffic.abort(env: .prod, effectiveAt: at(1.5))
        let restart = try test.releases.traffic.deploy(
            v2, env: .prod, strategy: .canary, weight: 10, effectiveAt: at(1), breakGlass: .test)
        var lines: [String] = []
        for index in 0..<2000 {
            let early = index < 1000
            let version = index % 2 == 0 ? "agent@1" : "agent@2"
            // Before the restart the canary failed a tenth of its tasks; after it, as often as the baseline.
            let error = early && version == "agent@2" ? index % 10 == 1 : index % 50 == 0
            let time = Timestamp.format(at(early ? 1.75 : 0.5).addingTimeInterval(Double(index)))
            lines.append(
                #"{"task_id":"t\#(index)","version":"\#(version)","env":"prod","started_at":"\#(time)","duration_ms":100,"completed":true,"error":\#(error),"quality":0.9}"#
            )
        }
        let path = test.directory + "/tasks.jsonl"
        try Data(lines.joined(separator: "\n").utf8).write(to: URL(fileURLWithPath: path))
        _ = try test.releases.metrics.ingest(path: path, format: .jsonl)
        let config = CanaryConfig(
            steps: [10, 100], minSampleSize: 100, metrics: [Self.errorRate, Self.quality], pass: 0.9, marginal: 0.5,
            autoRollback: true)
        let judgement = try test.releases.canary.judge(
            env: .prod, config: config, configBytes: [], configSource: "canary.yaml")
        #expect(judgement.since == restart.effectiveAt)
        #expect(judgement.metrics[0].baselineCount == 500 && judgement.metrics[0].canaryCount == 500)
        #expect(judgement.verdict == .promote)
        let everything = try test.releases.canary.judge(
            env: .prod, config: config, configBytes: [], configSource: "canary.yaml",
            since: Timestamp.format(at(2)))
        #expect(everything.verdict == .rollback, "with the samples from before the restart it would roll back")
    }

    @Test("a rollback verdict with auto-rollback records the judgement and the rollback together")
    func autoRollback() throws {
        let test = try TestReleases()
        let v1 = try test.record(prompt: "one", label: "agent@1")
        let v2 = try test.record(prompt: "two", label: "agent@2")
        _ = try test.releases.traffic.deploy(v1, env: .prod, strategy: .blueGreen, breakGlass: .test)
        _ = try test.releases.traffic.deploy(v2, env: .prod, strategy: .canary, weight: 10, breakGlass: .test)
        var lines: [String] = []
        for index in 0..<1000 {
            let version = index % 2 == 0 ? "agent@1" : "agent@2"
            // Errors: 2% in the baseline, 8% in the canary.
            let error = index % 2 == 0 ? index % 100 < 4 : index % 100 > 83
            lines.append(
                #"{"task_id":"t\#(index)","version":"\#(version)","env":"prod","started_at":"\#(Timestamp.format(Date()))","duration_ms":100,"completed":true,"error":\#(error)}"#
            )
        }
        let path = test.directory + "/tasks.jsonl"
        try Data(lines.joined(separator: "\n").utf8).write(to: URL(fileURLWithPath: path))
        _ = try test.releases.metrics.ingest(path: path, format: .jsonl)
        let config = CanaryConfig(
            steps: [10, 100], minSampleSize: 100, metrics: [Self.errorRate, Self.quality], pass: 0.9, marginal: 0.5,
            autoRollback: true)
        let size = try test.ledger.size()
        // The file the configuration was read from: `verify` recomputes the judgement from it.
        let yaml = """
            steps: [10, 100]
            min-sample-size: 100
            metrics:
              - {name: error_rate, statistic: rate, bad: increase, max-absolute-change: 0.01, critical: true}
              - {name: quality, statistic: mean, bad: decrease, max-relative-change: 0.05, min-sample-size: 20}
            scoring: {pass: 0.9, marginal: 0.5}
            auto-rollback: true
            """
        let judgement = try test.releases.canary.judge(
            env: .prod, config: config, configBytes: Array(yaml.utf8), configSource: "canary.yaml")
        #expect(judgement.verdict == .rollback)
        #expect(judgement.metrics[0].baselineCount == 500 && judgement.metrics[0].canaryCount == 500)
        #expect(judgement.rollbackSeq == judgement.seq + 1)
        #expect(try test.ledger.size() == size + 2)
        let state = try #require(try test.releases.traffic.status(env: .prod).first).state
        #expect(state.shares.first == TrafficShare(version: v1, weight: 100, role: .serving))
        #expect(state.rollout == nil)

        #expect(try test.ledger.entry(judgement.seq)?.kind == "canary.judged")
        let rollback = try #require(try test.ledger.entry(judgement.rollbackSeq!))
        let judged = try test.ledger.entry(judgement.seq)
        #expect(rollback.kind == "rollback.performed" && rollback.at == judged?.at, "one transaction, one time")
        #expect(try rollback.body["to"]?.stringValue == v1)
        #expect(try Releases.verifyDerived(test.ledger) == nil)

        // A configuration the checklist would refuse is refused here too, and the same version cannot be both arms.
        let empty = CanaryConfig(steps: [10], minSampleSize: 1, metrics: [], pass: 0, marginal: 0, autoRollback: true)
        #expect(throws: LedgerError.self) {
            try test.releases.canary.judge(
                env: .prod, baseline: v1, canary: v2, config: empty, configBytes: [],
                configSource: "empty.yaml")
        }
        #expect(throws: LedgerError.self) {
            try test.releases.canary.judge(
                env: .prod, baseline: v2, canary: v2, config: config, configBytes: [],
                configSource: "canary.yaml")
        }
    }
}

@Suite("Shadow comparison: paired tests per metric")
struct ShadowComparisonTests {
    @Test func betterQualityWorseCostAndEquivalentDuration() throws {
        let test = try TestReleases()
        let primary = try test.record(prompt: "primary", label: "agent@1")
        let shadow = try test.record(prompt: "shadow", label: "agent@2")
        var lines: [String] = []
        for index in 0..<60 {
            let quality = 0.7 + Double(index % 20) / 100
            let passedPrimary = index % 3 != 0
            let passedShadow = index % 10 != 0
            lines.append(
                #"{"request_id":"r\#(index)","primary":{"quality":\#(quality),"passed":\#(passedPrimary),"cost_usd":0.010,"duration_ms":\#(1000 + index)},"shadow":{"quality":\#(quality + 0.05),"passed":\#(passedShadow),"cost_usd":\#(0.012 + Double(index % 7) / 10000),"duration_ms":\#(1000 + index + (index % 2 == 0 ? 3 : -3))}}"#
            )
        }
        let path = test.directory + "/pairs.jsonl"
        try Data(lines.joined(separator: "\n").utf8).write(to: URL(fileURLWithPath: path))
        let comparison = try test.releases.shadow.compare(
            env: .prod, primary: primary, shadow: shadow, pairs: path)
        let verdicts = Dictionary(uniqueKeysWithValues: comparison.metrics.map { ($0.metric, $0.verdict) })
        #expect(verdicts == ["quality": .better, "passed": .better, "cost_usd": .worse, "duration_ms": .equivalent])
        #expect(comparison.pairs == 60)
        #expect(try test.ledger.entry(comparison.seq)?.kind == "shadow.compared")

        try Data((lines + [#"{"request_id":"r1","primary":{},"shadow":{}}"#]).joined(separator: "\n").utf8).write(
            to: URL(fileURLWithPath: path))
        let size = try test.ledger.size()
        #expect(throws: LedgerError.self) {
            try test.releases.shadow.compare(
                env: .prod, primary: primary, shadow: shadow, pairs: path)
        }
        #expect(try test.ledger.size() == size)
    }

    @Test func theDirectionComesFromTheRanksNotAnOutlierInTheMean() throws {
        let test = try TestReleases()
        let primary = try test.record(prompt: "primary")
        let shadow = try test.record(prompt: "shadow")
        var lines = (0..<30).map { index in
            #"{"request_id":"r\#(index)","primary":{"duration_ms":\#(1000 + index)},"shadow":{"duration_ms":\#(1000 + index - 10 - index)}}"#
        }
        lines.append(#"{"request_id":"slow","primary":{"duration_ms":1000},"shadow":{"duration_ms":3000}}"#)
        let path = test.directory + "/pairs.jsonl"
        try Data(lines.joined(separator: "\n").utf8).write(to: URL(fileURLWithPath: path))
        // A margin of 1% (about 10 ms): the shadow's 10 to 39 ms gain is more than it, so not equivalent.
        let comparison = try test.releases.shadow.compare(
            env: .prod, primary: primary, shadow: shadow, pairs: path, margins: ["duration_ms=1%"])
        let duration = try #require(comparison.metrics.first { $0.metric == "duration_ms" })
        #expect(duration.meanDifference! > 0, "the one slow request outweighs the mean")
        #expect(duration.verdict == .better, "but the shadow was faster on 30 of 31 requests")

        try Data(#"{"request_id":"x","primary":{"quality":"abc"},"shadow":{}}"#.utf8).write(
            to: URL(fileURLWithPath: path))
        #expect(throws: LedgerError.self) {
            try test.releases.shadow.compare(
                env: .prod, primary: primary, shadow: shadow, pairs: path)
        }
        #expect(throws: LedgerError.self) {
            try test.releases.shadow.compare(
                env: .prod, primary: primary, shadow: primary, pairs: path)
        }
    }
}
