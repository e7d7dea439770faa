import Foundation
import PurserCore
import PurserLedger
import Testing

/// Verification that one bad entry cannot stop, and that edited query tables cannot fool: every entry that
/// cannot be replayed is reported and passed over, the progress row is checked, and recorded judgements are
/// recomputed.
@Suite struct VerifyFaultTests {
    /// A `traffic.shifted` entry written around the release domain, with no canary rollout to shift.
    private func appendUnreplayable(_ ledger: Ledger, env: String) throws -> UInt64 {
        try ledger.append(Event(kind: "traffic.shifted", body: .object(["env": .string(env), "weight": .number(10)])))
            .seq
    }

    @Test func replayGoesOnPastEntriesItCannotApplyAndCommandsKeepWorking() throws {
        let test = try TestReleases()
        let v1 = try test.record(prompt: "one")
        _ = try test.releases.traffic.deploy(v1, env: .prod, strategy: .blueGreen, breakGlass: .test)
        let first = try appendUnreplayable(test.ledger, env: "prod")
        let second = try appendUnreplayable(test.ledger, env: "prod")

        // Opening, recording and reading go on without the two entries.
        let releases = try Releases(ledger: test.ledger)
        let v2 = try releases.versions.record(makeVersion(prompt: "two"), label: "agent@2").id
        _ = try releases.traffic.deploy(v2, env: .staging, strategy: .blueGreen, breakGlass: .test)
        #expect(try releases.versions.list().map(\.id).contains(v2))
        #expect(try releases.traffic.status(env: .staging).first?.state.shares.first?.version == v2)
        #expect(try releases.traffic.status(env: .prod).first?.state.shares.first?.version == v1)

        let faults = try Releases.derivedFaults(test.ledger)
        #expect(faults.map(\.kind) == [.replay, .replay], "\(faults)")
        #expect(faults.map(\.seq) == [first, second])
        #expect(faults[0].detail.contains("no canary rollout in progress"), "\(faults[0])")
        // A rebuild leaves them out too, and stays in step with the tables.
        try Releases.reindex(test.ledger)
        #expect(try Releases.derivedFaults(test.ledger).map(\.seq) == [first, second])
    }

    @Test func anIngestionThatFailsHalfWayLeavesNoRows() throws {
        let test = try TestReleases()
        let v1 = try test.record(prompt: "one", label: "agent@1")
        // 70 records of agent@1, then one of a version the entry does not resolve: the first 64 rows are
        // inserted before the 71st record fails.
        let lines = (0..<71).map {
            #"{"task_id":"t\#($0)","version":"agent@\#($0 < 70 ? 1 : 9)","env":"prod","started_at":"2026-11-27T10:00:00Z","duration_ms":100,"completed":true,"error":false}"#
        }
        let file = Array(lines.joined(separator: "\n").utf8)
        let digest = try test.ledger.write { try $0.storeArtifact(file) }
        let bad = try test.ledger.append(
            Event(
                kind: "metrics.summarized",
                body: .object([
                    "file": .string("tasks.jsonl"), "digest": .string(digest.hex), "format": .string("jsonl"),
                    "records": .number(71), "new": .number(71), "versions": .object(["agent@1": .string(v1)]),
                ])))
        let releases = try Releases(ledger: test.ledger)
        #expect(try releases.metrics.report().isEmpty, "none of its rows stay")
        let faults = try Releases.derivedFaults(test.ledger)
        #expect(faults.map(\.kind) == [.replay] && faults.first?.seq == bad.seq, "\(faults)")
    }

    @Test func aGzipdFileIsInflatedAndOneThatIsNotOrOfAnotherCompressionIsAFault() throws {
        let test = try TestReleases()
        let v1 = try test.record(prompt: "one", label: "agent@1")
        func record(_ id: String) -> String {
            #"{"task_id":"\#(id)","version":"agent@1","env":"prod","started_at":"2026-11-27T10:00:00Z","duration_ms":100,"completed":true,"error":false}"#
        }
        /// Appends a `metrics.summarized` entry of `file`, stored as it is, read as `compression` says.
        func append(_ file: [UInt8], compression: String) throws -> UInt64 {
            let digest = try test.ledger.write { try $0.storeArtifact(file) }
            return try test.ledger.append(
                Event(
                    kind: "metrics.summarized",
                    body: .object([
                        "file": .string("tasks.jsonl.gz"), "digest": .string(digest.hex), "format": .string("jsonl"),
                        "compression": .string(compression), "records": .number(1), "new": .number(1),
                        "versions": .object(["agent@1": .string(v1)]),
                    ]))
            ).seq
        }
        _ = try append(Gzip.compress(Array(record("packed").utf8)), compression: "gzip")
        let notGzip = try append(Array(record("plain").utf8), compression: "gzip")
        let zstd = try append(Gzip.compress(Array(record("other").utf8)), compression: "zstd")
        let releases = try Releases(ledger: test.ledger)
        #expect(try releases.metrics.report().first?.tasks == 1, "only the gzip'd file's task is a row")
        let faults = try Releases.derivedFaults(test.ledger)
        #expect(faults.map(\.seq) == [notGzip, zstd], "\(faults)")
        #expect(faults.first?.detail.contains("its stored file is not gzip") == true, "\(faults)")
        #expect(faults.last?.detail.contains("a known compression (gzip)") == true, "\(faults)")
    }

    @Test func aProgressRowMovedAheadIsAProjectionFault() throws {
        let test = try TestReleases()
        let v1 = try test.record(prompt: "one")
        #expect(try Releases.derivedFaults(test.ledger).isEmpty)
        try test.ledger.write {
            try $0.connection.execute("UPDATE main.projection_meta SET value = 1000 WHERE key = 'applied_seq'")
        }
        // Every later change would now be left out of the tables.
        _ = try test.releases.traffic.deploy(v1, env: .prod, strategy: .blueGreen, breakGlass: .test)
        let faults = try Releases.derivedFaults(test.ledger)
        #expect(faults.contains { $0.kind == .projection && $0.detail.contains("projection_meta") }, "\(faults)")
    }

    static let config = """
        steps: [10, 100]
        min-sample-size: 100
        metrics:
          - {name: error_rate, statistic: rate, bad: increase, max-absolute-change: 0.01, critical: true}
          - {name: quality, statistic: mean, bad: decrease, max-relative-change: 0.05}
        scoring: {pass: 0.9, marginal: 0.5}
        auto-rollback: true
        """

    /// agent@2 as a canary of agent@1 in prod, 500 tasks each: 2% errors in the baseline, 8% in the canary.
    private func canary(_ test: TestReleases) throws {
        let v1 = try test.record(prompt: "one", label: "agent@1")
        let v2 = try test.record(prompt: "two", label: "agent@2")
        _ = try test.releases.traffic.deploy(v1, env: .prod, strategy: .blueGreen, breakGlass: .test)
        _ = try test.releases.traffic.deploy(v2, env: .prod, strategy: .canary, weight: 10, breakGlass: .test)
        let started = Timestamp.format(Date())
        let lines = (0..<1000).map { index in
            let error = index % 2 == 0 ? index % 100 < 4 : index % 100 > 83
            return
                #"{"task_id":"t\#(index)","version":"agent@\#(index % 2 + 1)","env":"prod","started_at":"\#(started)","duration_ms":100,"completed":true,"error":\#(error),"quality":0.9}"#
        }
        let path = test.directory + "/tasks.jsonl"
        try Data(lines.joined(separator: "\n").utf8).write(to: URL(fileURLWithPath: path))
        _ = try test.releases.metrics.ingest(path: path, format: .jsonl)
    }

    private func judge(_ test: TestReleases) throws -> CanaryJudgement {
        let bytes = Array(Self.config.utf8)
        return try test.releases.canary.judge(
            env: .prod, config: try CanaryConfig(bytes: bytes, source: "canary.yaml"),
            configBytes: bytes, configSource: "canary.yaml")
    }

    @Test func aJudgementMadeOnEditedTasksIsFoundAfterReindex() throws {
        let test = try TestReleases()
        try canary(test)
        try test.ledger.write { transaction in
            try transaction.connection.execute(
                "UPDATE main.tasks SET error = 0 WHERE version = (SELECT seq FROM main.versions WHERE id IN (SELECT id FROM main.version_labels WHERE label = 'agent@2'))"
            )
        }
        let edited = try judge(test)
        #expect(edited.verdict == .promote)
        try Releases.reindex(test.ledger)
        let faults = try Releases.derivedFaults(test.ledger)
        #expect(faults.map(\.kind) == [.judgement], "\(faults)")
        #expect(faults.first?.seq == edited.seq)
        #expect(faults.first?.detail.contains("promote") == true && faults.first?.detail.contains("rollback") == true)
    }

    @Test func tasksIngestedAfterAJudgementDoNotCount() throws {
        let test = try TestReleases()
        try canary(test)
        #expect(try judge(test).verdict == .rollback)
        #expect(try Releases.derivedFaults(test.ledger).isEmpty, "an honest judgement recomputes alike")
        // As many good canary tasks again: judged now, the verdict would differ; the recorded one still holds.
        let started = Timestamp.format(Date())
        let lines = (0..<2000).map {
            #"{"task_id":"later\#($0)","version":"agent@2","env":"prod","started_at":"\#(started)","duration_ms":100,"completed":true,"error":false,"quality":0.9}"#
        }
        let path = test.directory + "/later.jsonl"
        try Data(lines.joined(separator: "\n").utf8).write(to: URL(fileURLWithPath: path))
        _ = try test.releases.metrics.ingest(path: path, format: .jsonl)
        #expect(try Releases.derivedFaults(test.ledger).isEmpty)
    }
}
