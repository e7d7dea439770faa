import Foundation
import PurserCore
import PurserLedger
import Testing

@Suite("Canary schedule: judge-every, and the rollouts a server judges on its own")
struct CanaryScheduleTests {
    static func text(judgeEvery: String?) -> String {
        """
        steps: [10, 100]
        min-sample-size: 100
        metrics:
          - {name: error_rate, statistic: rate, bad: increase, critical: true}
          - {name: quality, statistic: mean, bad: decrease, max-relative-change: 0.05}
        scoring: {pass: 0.9, marginal: 0.5}
        auto-rollback: true
        """ + (judgeEvery.map { "\njudge-every: \($0)\n" } ?? "\n")
    }

    static func file(judgeEvery: String?) -> InputFile {
        InputFile(source: "config/canary.yaml", bytes: Array(text(judgeEvery: judgeEvery).utf8))
    }

    @Test(
        "judge-every takes a duration of at least 1 s",
        arguments: [("30s", 30.0), ("5m", 300), ("1h", 3600), ("1.5s", 1.5), ("1s", 1)])
    func durations(_ text: String, _ seconds: Double) throws {
        let config = try CanaryConfig(bytes: Array(Self.text(judgeEvery: text).utf8), source: "canary.yaml")
        #expect(config.judgeEvery == seconds)
        #expect(config.problems() == [])
    }

    @Test("judge-every is optional")
    func optional() throws {
        #expect(try CanaryConfig(bytes: Array(Self.text(judgeEvery: nil).utf8), source: "c.yaml").judgeEvery == nil)
    }

    @Test(
        "a judge-every that is not a duration of at least 1 s is refused, naming the file and the field",
        arguments: ["500ms", "0s", "-5s", "soon", "[1]", "0.5"])
    func refused(_ text: String) throws {
        let error = try #require(throws: LedgerError.self) {
            try CanaryConfig(bytes: Array(Self.text(judgeEvery: text).utf8), source: "canary.yaml")
        }
        #expect(error.code == .invalidInput)
        #expect(error.message.hasPrefix("canary.yaml: judge-every: "), "\(error.message)")
    }

    @Test("a canary deployment names its configuration; one with judge-every is scheduled from its start")
    func scheduledFromTheStart() throws {
        let test = try TestReleases()
        let v1 = try test.record(prompt: "one", label: "agent@1")
        let v2 = try test.record(prompt: "two", label: "agent@2")
        _ = try test.releases.traffic.deploy(v1, env: .prod, strategy: .blueGreen, breakGlass: .test)
        #expect(try test.releases.canary.scheduled().isEmpty)
        let started = try test.releases.traffic.deploy(
            v2, env: .prod, strategy: .canary, weight: 10, breakGlass: .test,
            canaryConfig: Self.file(judgeEvery: "5m"))
        let start = try #require(try test.ledger.entry(started.seq))
        let digest = Hash.sha256(Array(Self.text(judgeEvery: "5m").utf8))
        #expect(
            try start.body["canary_config"]
                == .object(["file": .string("canary.yaml"), "digest": .string(digest.hex)]))
        #expect(try test.ledger.artifact(digest) == Array(Self.text(judgeEvery: "5m").utf8))

        let scheduled = try test.releases.canary.scheduled()
        try #require(scheduled.count == 1)
        #expect((scheduled[0].env.name, scheduled[0].baseline, scheduled[0].canary) == ("prod", v1, v2))
        #expect(scheduled[0].startSeq == started.seq && scheduled[0].configFile == "canary.yaml")
        #expect(scheduled[0].lastJudged == Timestamp.parse(start.at))
        #expect(scheduled[0].due == Timestamp.parse(start.at)?.addingTimeInterval(300))

        // A judgement moves the next one on.
        let now = Timestamp.format(Date())
        let lines = (0..<1000).map { index in
            #"{"task_id":"t\#(index)","version":"agent@\#(index % 2 + 1)","env":"prod","started_at":"\#(now)","duration_ms":100,"completed":true,"error":false,"quality":0.9}"#
        }
        let path = test.directory + "/tasks.jsonl"
        try Data(lines.joined(separator: "\n").utf8).write(to: URL(fileURLWithPath: path))
        _ = try test.releases.metrics.ingest(path: path, format: .jsonl)
        let judged = try test.releases.canary.judge(
            env: .prod, config: scheduled[0].config, configBytes: scheduled[0].configBytes,
            configSource: scheduled[0].configFile)
        #expect(judged.rollbackSeq == nil)
        let entry = try #require(try test.ledger.entry(judged.seq))
        #expect(try test.releases.canary.scheduled().first?.lastJudged == Timestamp.parse(entry.at))
        #expect(try Releases.derivedFaults(test.ledger).isEmpty)
    }

    @Test("a configuration without judge-every, or a rollout no longer in progress, is not scheduled")
    func notScheduled() throws {
        let test = try TestReleases()
        let v1 = try test.record(prompt: "one", label: "agent@1")
        let v2 = try test.record(prompt: "two", label: "agent@2")
        _ = try test.releases.traffic.deploy(v1, env: .prod, strategy: .blueGreen, breakGlass: .test)
        _ = try test.releases.traffic.deploy(
            v2, env: .prod, strategy: .canary, weight: 10, breakGlass: .test, canaryConfig: Self.file(judgeEvery: nil))
        #expect(try test.releases.canary.scheduled().isEmpty)
        _ = try test.releases.traffic.abort(env: .prod)
        _ = try test.releases.traffic.deploy(
            v2, env: .prod, strategy: .canary, weight: 10, breakGlass: .test, canaryConfig: Self.file(judgeEvery: "1s"))
        #expect(try test.releases.canary.scheduled().count == 1)
        _ = try test.releases.traffic.promote(env: .prod)
        #expect(try test.releases.canary.scheduled().isEmpty)
    }

    @Test("a canary configuration with another strategy is refused, naming the parameter, and writes nothing")
    func otherStrategies() throws {
        let test = try TestReleases()
        let v1 = try test.record(prompt: "one", label: "agent@1")
        let size = try test.ledger.size()
        for strategy in [Strategy.blueGreen, .shadow] {
            let error = try #require(throws: LedgerError.self) {
                try test.releases.traffic.deploy(
                    v1, env: .prod, strategy: strategy, breakGlass: strategy == .shadow ? nil : .test,
                    canaryConfig: Self.file(judgeEvery: "1s"))
            }
            #expect(error.code == .usage && error.message.contains("canaryConfig"), "\(error.message)")
        }
        #expect(try test.ledger.size() == size)
    }
}
