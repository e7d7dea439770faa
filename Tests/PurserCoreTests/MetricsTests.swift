import Foundation
import PurserCore
import PurserLedger
import Testing

@Suite("Metrics: ingesting per-task records and reporting them per version")
struct MetricsTests {
    /// A JSON Lines record with the required fields and `extra`.
    static func line(_ id: String, _ version: String, _ extra: String = "") -> String {
        #"{"task_id":"\#(id)","version":"\#(version)","env":"prod","started_at":"2026-11-27T10:00:00Z","duration_ms":100,"completed":true,"error":false\#(extra)}"#
    }

    func write(_ test: TestReleases, _ name: String, _ lines: [String]) throws -> String {
        let path = test.directory + "/" + name
        try Data(lines.joined(separator: "\n").utf8).write(to: URL(fileURLWithPath: path))
        return path
    }

    @Test("report figures equal a hand computation; re-ingesting counts nothing twice; reindex rebuilds the tasks")
    func reportAndReingest() throws {
        let test = try TestReleases()
        let v1 = try test.record(prompt: "one", label: "agent@1")
        let v2 = try test.record(prompt: "two", label: "agent@2")
        let records = [
            #"{"task_id":"a","version":"agent@1","env":"prod","started_at":"2026-11-27T10:00:00Z","duration_ms":100,"completed":true,"error":false,"quality":0.8,"cost_usd":0.01,"tool_calls":4,"tool_errors":1}"#,
            #"{"task_id":"b","version":"agent@1","env":"prod","started_at":"2026-11-27T11:00:00Z","duration_ms":300,"completed":true,"error":true,"quality":1.0}"#,
            #"{"task_id":"c","version":"\#(v1.prefix(8))","env":"prod","started_at":"2026-11-27T12:00:00Z","duration_ms":200,"completed":false,"error":false}"#,
            #"{"task_id":"d","version":"\#(v2)","env":"staging","started_at":"2026-11-27T12:00:00Z","duration_ms":50,"completed":true,"error":false,"tool_calls":2}"#,
        ]
        let path = try write(test, "tasks.jsonl", records)
        let first = try test.releases.metrics.ingest(path: path, format: .jsonl)
        #expect(first.records == 4 && first.new == 4)
        #expect(first.versions == [v1: 3, v2: 1])
        let again = try test.releases.metrics.ingest(path: path, format: .jsonl)
        #expect(again.new == 0 && again.seq == first.seq + 1, "re-ingesting records an entry and counts nothing")

        let report = try test.releases.metrics.report()
        #expect(report.map(\.version) == [v1, v2])
        let one = report[0]
        #expect(one.tasks == 3)
        #expect(abs(one.completionRate - 2.0 / 3) < 1e-12)
        #expect(abs(one.errorRate - 1.0 / 3) < 1e-12)
        #expect(one.durationP50 == 200)
        #expect(abs(one.durationP95 - 290) < 1e-9, "linear interpolation: 200 + 0.9 × 100")
        #expect(one.cost == 0.01, "the mean over the tasks that report a cost")
        #expect(one.toolSuccessRate == 0.75)
        #expect(abs(one.quality! - 0.9) < 1e-12 && one.qualityTasks == 2)
        let spread = 1.959963984540054 * (0.02 / 2).squareRoot()
        #expect(abs(one.qualityInterval!.lowerBound - (0.9 - spread)) < 1e-12)
        #expect(report[1].toolSuccessRate == 1 && report[1].quality == nil)

        #expect(try test.releases.metrics.report(env: EnvironmentName("staging")).map(\.version) == [v2])
        #expect(try test.releases.metrics.report(versions: [v2]).map(\.tasks) == [1])
        #expect(try test.releases.metrics.report(since: "2026-11-27T11:00:00.000Z").map(\.tasks) == [2, 1])

        #expect(try Releases.verifyDerived(test.ledger) == nil)
        try test.ledger.write { try $0.connection.execute("DELETE FROM main.tasks") }
        #expect(try Releases.verifyDerived(test.ledger)?.kind == .projection)
        try Releases.reindex(test.ledger)
        #expect(try test.releases.metrics.report().map(\.tasks) == [3, 1])

        // A stored metrics file that no longer hashes to its digest is a fault; reindex leaves its tasks out.
        try test.ledger.write { transaction in
            try transaction.connection.execute(
                "DROP TRIGGER artifacts_immutable_update; UPDATE artifacts SET bytes = replace(bytes, 'true', 'fals') WHERE length(bytes) > 500"
            )
        }
        let fault = try #require(try Releases.verifyDerived(test.ledger))
        #expect(fault.seq == first.seq)
        try Releases.reindex(test.ledger)
        #expect(try Releases.derivedFaults(test.ledger).contains { $0.kind == .replay && $0.seq == first.seq })
    }

    static let badFiles: [(String, [String], String)] = [
        ("an unknown version", [line("a", "agent@9")], "line 1: version: no recorded version matches agent@9"),
        ("a missing field", [#"{"task_id":"a","version":"agent@1","env":"prod"}"#], "line 1: started_at: missing"),
        ("quality out of range", [line("a", "agent@1", #","quality":1.5"#)], "line 1: quality: 1.5 is outside 0–1"),
        ("more tool errors than calls", [line("a", "agent@1", #","tool_calls":1,"tool_errors":2"#)], "tool_errors"),
        (
            "a bad line after good ones", [line("a", "agent@1"), line("b", "agent@1"), "not json"],
            "line 3: not a JSON object"
        ),
        (
            "a bad time", [line("a", "agent@1").replacingOccurrences(of: "2026-11-27T10:00:00Z", with: "yesterday")],
            "started_at"
        ),
    ]

    @Test("a task id repeated within a file, or already ingested by another, counts once: the first record stays")
    func repeatedTaskIDs() throws {
        let test = try TestReleases()
        let v1 = try test.record(prompt: "one", label: "agent@1")
        let first = try write(
            test, "first.jsonl",
            [
                Self.line("a", "agent@1", #","quality":0.2"#), Self.line("b", "agent@1"),
                Self.line("a", "agent@1", #","quality":0.9"#),
            ])
        let outcome = try test.releases.metrics.ingest(path: first, format: .jsonl)
        #expect(outcome.records == 3 && outcome.new == 2 && outcome.versions == [v1: 2])
        let second = try write(test, "second.jsonl", [Self.line("b", "agent@1"), Self.line("c", "agent@1")])
        let overlap = try test.releases.metrics.ingest(path: second, format: .jsonl)
        #expect(overlap.records == 2 && overlap.new == 1 && overlap.versions == [v1: 1])
        let report = try test.releases.metrics.report()
        #expect(report.map(\.tasks) == [3])
        #expect(report.first?.quality == 0.2, "the first record of task a is kept")
        #expect(try Releases.verifyDerived(test.ledger) == nil, "a rebuild from the stored files gives the same rows")
    }

    @Test("a bad file is refused with its line and field, and writes nothing", arguments: badFiles)
    func badFile(_ name: String, _ lines: [String], _ message: String) throws {
        let test = try TestReleases()
        try test.record(prompt: "one", label: "agent@1")
        let path = try write(test, "bad.jsonl", lines)
        let size = try test.ledger.size()
        do {
            _ = try test.releases.metrics.ingest(path: path, format: .jsonl)
            Issue.record("\(name) was ingested")
        } catch {
            #expect(error.message.contains(message), "\(name): \(error.message)")
            #expect(error.message.contains("bad.jsonl") && error.message.contains("nothing was ingested"))
        }
        #expect(try test.ledger.size() == size)
        #expect(try test.releases.metrics.report().isEmpty)
    }

    @Test("a file of several MiB, read a piece at a time, keeps every record's order and line number")
    func largeFileLines() throws {
        // 24,000 lines of about 140 bytes: 3.2 MiB, so three pieces; blank and CRLF lines on the way.
        var lines: [String] = []
        var expected: [(line: Int, id: String)] = []
        for index in 0..<24_000 {
            if index % 997 == 0 { lines.append(index % 2 == 0 ? "" : "  \r") }
            lines.append(Self.line("t\(index)", "agent@1") + (index % 101 == 0 ? "\r" : ""))
            expected.append((lines.count, "t\(index)"))
        }
        let bytes = Array(lines.joined(separator: "\n").utf8) + [0x0A]
        #expect(bytes.count > 3 << 20)
        let records = try MetricsFile.parse(bytes, format: .jsonl, source: "big.jsonl")
        #expect(records.map(\.line) == expected.map(\.line))
        #expect(records.map(\.record.taskID) == expected.map(\.id))

        // Bad lines at the start, in the middle, near the piece bounds and at the end are all found, in order.
        let bad = [3, 4_000, 7_999, 8_001, 16_001, 20_000, lines.count]
        var broken = lines
        for line in bad { broken[line - 1] = "not json" }
        do {
            _ = try MetricsFile.parse(Array(broken.joined(separator: "\n").utf8), format: .jsonl, source: "big.jsonl")
            Issue.record("a file with bad lines was read")
        } catch {
            let others = bad.dropFirst().prefix(5).map(String.init).joined(separator: ", ")
            #expect(
                error.message.hasPrefix("big.jsonl line 3: not a JSON object (and 6 more bad line(s): \(others), …)"))
        }
    }

    @Test(
        "an unknown version or a bad line in the last piece of a large file writes nothing, though earlier pieces were stored"
    )
    func lateProblemInLargeFile() throws {
        let test = try TestReleases()
        try test.record(prompt: "one", label: "agent@1")
        let lines = (0..<24_000).map { Self.line("t\($0)", "agent@1") }
        let size = try test.ledger.size()
        for (line, text, message) in [
            (23_999, Self.line("x", "agent@9"), "line 23999: version: no recorded version matches agent@9"),
            (24_000, "{", "line 24000: not a JSON object"),
        ] {
            var broken = lines
            broken[line - 1] = text
            let path = try write(test, "late.jsonl", broken)
            do {
                _ = try test.releases.metrics.ingest(path: path, format: .jsonl)
                Issue.record("a file with a bad line \(line) was ingested")
            } catch {
                #expect(error.message.contains(message) && error.message.contains("nothing was ingested"), "\(error)")
            }
            #expect(try test.ledger.size() == size)
            #expect(try test.releases.metrics.report().isEmpty)
        }
        let good = try test.releases.metrics.ingest(path: try write(test, "good.jsonl", lines), format: .jsonl)
        #expect(good.records == 24_000 && good.new == 24_000)
        #expect(try Releases.verifyDerived(test.ledger) == nil, "a rebuild reads the file in the same pieces")
    }

    @Test("CSV: a header row, quoted cells with commas, quotes and newlines, empty cells as absent")
    func csv() throws {
        let test = try TestReleases()
        try test.record(prompt: "one", label: "agent@1")
        let path = test.directory + "/tasks.csv"
        let text = [
            "task_id,version,env,task_type,started_at,duration_ms,completed,error,quality\r\n",
            #""a,1",agent@1,prod,"refund ""partial""",2026-11-27T10:00:00Z,120,true,0,0.5"# + "\r\n",
            "b,agent@1,prod,\"multi\nline\",2026-11-27T10:00:00Z,80,1,false,\r\n\n",
        ].joined()
        try Data(text.utf8).write(to: URL(fileURLWithPath: path))
        let outcome = try test.releases.metrics.ingest(path: path, format: .csv)
        #expect(outcome.records == 2)
        let groups = try test.releases.metrics.report(by: .taskType)
        #expect(Set(groups.compactMap(\.group)) == ["refund \"partial\"", "multi\nline"])
        #expect(groups.first { $0.group == "refund \"partial\"" }?.quality == 0.5)
        #expect(groups.first { $0.group == "multi\nline" }?.quality == nil)

        try Data("task_id,version,colour\n".utf8).write(to: URL(fileURLWithPath: path))
        #expect(throws: LedgerError.self) { try test.releases.metrics.ingest(path: path, format: .csv) }
    }

    @Test(
        "report: until is exclusive, a task without a model groups under \"\", filters combine; drift sums per version")
    func filtersGroupsAndDriftSums() throws {
        let test = try TestReleases()
        let v1 = try test.record(prompt: "one", label: "agent@1")
        let v2 = try test.record(prompt: "two", label: "agent@2")
        func task(_ id: String, _ version: String, _ env: String, _ hour: Int, _ extra: String) -> String {
            #"{"task_id":"\#(id)","version":"\#(version)","env":"\#(env)","started_at":"2026-11-27T\#(hour):00:00Z","duration_ms":100,"completed":true,"error":false\#(extra)}"#
        }
        let path = try write(
            test, "tasks.jsonl",
            [
                task("a", "agent@1", "prod", 10, #","model":"m1","cost_usd":1"#),
                task("b", "agent@1", "prod", 11, #","cost_usd":3"#),
                task("c", "agent@1", "staging", 12, #","model":"m1","cost_usd":10"#),
                task("d", "agent@2", "prod", 10, #","model":"m2","cost_usd":5"#),
                task("e", "agent@1", "prod", 13, ""),
            ])
        _ = try test.releases.metrics.ingest(path: path, format: .jsonl)

        #expect(try test.releases.metrics.report(until: "2026-11-27T11:00:00.000Z").map(\.tasks) == [1, 1])
        func rows(_ report: [VersionMetrics]) -> [String] {
            report.map { "\($0.version == v1 ? "v1" : "v2") \($0.group ?? "-") \($0.tasks)" }
        }
        #expect(try rows(test.releases.metrics.report()) == ["v1 - 4", "v2 - 1"])
        #expect(try rows(test.releases.metrics.report(by: .model)) == ["v1  2", "v1 m1 2", "v2 m2 1"])
        #expect(
            try rows(
                test.releases.metrics.report(
                    env: EnvironmentName("prod"), versions: [v1], since: "2026-11-27T10:30:00.000Z", by: .model))
                == ["v1  2"])

        let until = try #require(Timestamp.parse("2026-11-28T00:00:00Z"))
        func periods(_ reports: [DriftReport]) -> [String] {
            reports.map { report in
                let period = report.periods.map { "\($0.start) \($0.mean) \($0.tasks)" }.joined(separator: ", ")
                return "\(report.version == v1 ? "v1" : "v2"): \(period)"
            }.sorted()
        }
        #expect(
            try periods(test.releases.metrics.drift(metric: "cost_usd", window: 2 * 86_400, until: until)) == [
                "v1: 2026-11-27T00:00:00.000Z \(14.0 / 3) 3", "v2: 2026-11-27T00:00:00.000Z 5.0 1",
            ], "only the tasks that carry a cost, in the day they started")
        #expect(
            try periods(
                test.releases.metrics.drift(
                    metric: "cost_usd", env: EnvironmentName("prod"), versions: [v1], window: 2 * 86_400, until: until)
            ) == ["v1: 2026-11-27T00:00:00.000Z 2.0 2"])
        #expect(
            try test.releases.metrics.drift(metric: "cost_usd", window: 86_400, until: until.addingTimeInterval(86_400))
                .isEmpty, "no task in the window")

        // Task rows whose version row is gone: the report names the version's seq and refuses.
        try test.ledger.write { try $0.connection.execute("DELETE FROM main.versions WHERE id = '\(v2)'") }
        #expect {
            try test.releases.metrics.report()
        } throws: { error in
            let error = error as? LedgerError
            return error?.code == .integrity
                && error?.message.hasSuffix(
                    "which the versions table lacks; run `purser verify`") == true
        }
    }
}

@Suite("Drift: a slow, steady decline is flagged; flat noise is not")
struct DriftTests {
    /// Four weeks of daily data: 20 tasks a day whose quality is the day's mean; the day's mean declines by
    /// `declinePerWeek` (relative) with a daily standard deviation of 3%, from a fixed seed.
    func ingest(_ test: TestReleases, version: String, declinePerWeek: Double, seed: UInt64) throws -> Date {
        var state = seed
        func uniform() -> Double {
            state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
            return (Double(state >> 11) + 0.5) / Double(1 << 53)
        }
        func normal() -> Double { (-2 * log(uniform())).squareRoot() * cos(2 * .pi * uniform()) }
        let start = Timestamp.parse("2026-10-01T00:00:00Z")!
        var lines: [String] = []
        for day in 0..<28 {
            let mean = 0.85 * (1 - declinePerWeek * Double(day) / 7) * (1 + 0.03 * normal())
            for task in 0..<20 {
                let time = Timestamp.format(start.addingTimeInterval(Double(day) * 86_400 + Double(task) * 60))
                lines.append(
                    #"{"task_id":"\#(version)-\#(day)-\#(task)","version":"\#(version)","env":"prod","started_at":"\#(time)","duration_ms":100,"completed":true,"error":false,"quality":\#(min(1, max(0, mean)))}"#
                )
            }
        }
        let path = test.directory + "/drift-\(seed).jsonl"
        try Data(lines.joined(separator: "\n").utf8).write(to: URL(fileURLWithPath: path))
        _ = try test.releases.metrics.ingest(path: path, format: .jsonl)
        return start.addingTimeInterval(28 * 86_400)
    }

    @Test func decliningIsFlaggedFlatIsNot() throws {
        let test = try TestReleases()
        let declining = try test.record(prompt: "declining", label: "agent@1")
        let flat = try test.record(prompt: "flat", label: "agent@2")
        _ = try ingest(test, version: declining, declinePerWeek: 0.02, seed: 3)
        let until = try ingest(test, version: flat, declinePerWeek: 0, seed: 4)
        let reports = try test.releases.metrics.drift(until: until)
        let byVersion = Dictionary(uniqueKeysWithValues: reports.map { ($0.version, $0) })
        let down = try #require(byVersion[declining])
        #expect(down.periods.count == 28)
        #expect(down.flagged, "p = \(String(describing: down.p))")
        #expect(abs(down.relativeSlopePerWeek! + 0.02) < 0.01, "about −2% a week: \(down.relativeSlopePerWeek!)")
        let level = try #require(byVersion[flat])
        #expect(!level.flagged, "p = \(String(describing: level.p))")
        #expect(throws: LedgerError.self) { try test.releases.metrics.drift(metric: "happiness") }
    }
}
