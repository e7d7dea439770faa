import Foundation
import PurserCore
import PurserLedger

/// 11. Ingesting per-task records from JSON Lines (100,000 per file), and a report over 1,000,000 tasks of
/// two versions, as library calls.
func benchmarkMetrics(in directory: String) throws {
    let folder = directory + "/metrics"
    try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
    let ledger = try Ledger.create(
        at: folder + "/ledger.sqlite", origin: "bench.example/metrics", keyPath: folder + "/l.key")
    let releases = try Releases(ledger: ledger)
    let fixture = try ManifestFixture(folder: folder + "/manifest", promptBytes: 4 * 1024, tools: 20)
    let versions = try (0..<2).map { index in
        try fixture.writePrompt(variant: index)
        return try releases.versions.record(Manifest.load(at: fixture.manifestPath), label: "agent@1.\(index)").id
    }
    var generator = SeededGenerator(seed: 42)
    func file(_ number: Int, records: Int) throws -> String {
        var text = ""
        text.reserveCapacity(records * 330)
        for index in 0..<records {
            let id = number * records + index
            let version = versions[id % 2]
            let quality = generator.next() % 5 == 0 ? ",\"quality\":0.\(70 + generator.next() % 30)" : ""
            text +=
                #"{"task_id":"t\#(id)","version":"\#(version.prefix(12))","env":"prod","task_type":"\#(id % 3 == 0 ? "refund" : "status")","model":"claude-3-5-sonnet-20241022","started_at":"2026-11-2\#(id % 7)T10:00:00Z","duration_ms":\#(800 + generator.next() % 2000),"completed":\#(generator.next() % 20 != 0),"error":\#(generator.next() % 30 == 0),"input_tokens":\#(500 + generator.next() % 2500),"output_tokens":\#(50 + generator.next() % 400),"cost_usd":0.0\#(10 + generator.next() % 80),"tool_calls":3,"tool_errors":\#(generator.next() % 4 == 0 ? 1 : 0),"tool_latency_ms":\#(50 + generator.next() % 350)\#(quality)}"#
            text += "\n"
        }
        let path = folder + "/tasks-\(number).jsonl"
        try Data(text.utf8).write(to: URL(fileURLWithPath: path))
        return path
    }
    let records = 100_000
    var ingestTimes: [Double] = []
    for number in 0..<10 {
        let path = try file(number, records: records)
        var outcome: IngestOutcome?
        ingestTimes.append(try seconds { outcome = try releases.metrics.ingest(path: path, format: .jsonl) })
        precondition(outcome?.new == records, "file \(number) was not ingested whole")
        try FileManager.default.removeItem(atPath: path)
        if number == 1 { try benchmarkJudge(releases, baseline: versions[0], canary: versions[1]) }
    }
    let rate = Double(records) / percentile(ingestTimes, 0.5)
    report(
        "ingest 100,000 task records from JSONL", "\(format(rate)) records/s",
        target: "target ≥ 100,000/s: \(verdict(rate >= 100_000)) (median of 10 files)")
    var rows: [VersionMetrics] = []
    let times = try (0..<5).map { _ in try seconds { rows = try releases.metrics.report() } }
    precondition(rows.map(\.tasks).reduce(0, +) == 10 * records)
    let median = percentile(times, 0.5)
    report(
        "report over 1,000,000 tasks (2 versions)", "median \(format(median * 1000)) ms",
        target: "target < 1 s: \(verdict(median < 1)) (5 runs)")
}

/// 12. The canary judge on 100,000 tasks per arm with 8 metrics (the two files ingested so far), as a
/// library call: reading the tasks, the tests and recording the judgement.
func benchmarkJudge(_ releases: Releases, baseline: String, canary: String) throws {
    func metric(
        _ name: String, _ statistic: CanaryConfig.Statistic, _ bad: CanaryConfig.Direction
    ) -> CanaryConfig.Metric {
        CanaryConfig.Metric(
            name: name, statistic: statistic, bad: bad, maxRelativeChange: 0.1, critical: name == "error_rate",
            minSampleSize: 100)
    }
    let config = CanaryConfig(
        steps: [5, 100], minSampleSize: 100,
        metrics: [
            metric("error_rate", .rate, .increase), metric("completion_rate", .rate, .decrease),
            metric("tool_success_rate", .rate, .decrease), metric("quality", .mean, .decrease),
            metric("duration_ms", .p95, .increase), metric("cost_usd", .mean, .increase),
            metric("input_tokens", .mean, .increase), metric("output_tokens", .mean, .increase),
        ], pass: 0.9, marginal: 0.5, autoRollback: true)
    var judgement: CanaryJudgement?
    let times = try (0..<5).map { _ in
        try seconds {
            judgement = try releases.canary.judge(
                env: EnvironmentName("prod"), baseline: baseline, canary: canary, config: config,
                configBytes: Array("bench".utf8), configSource: "bench.yaml", since: "2026-01-01T00:00:00.000Z")
        }
    }
    precondition(judgement?.metrics.first?.baselineCount == 100_000, "the judge did not see 100,000 tasks per arm")
    let median = percentile(times, 0.5)
    report(
        "canary judge, 100,000 tasks per arm, 8 metrics", "median \(format(median * 1000)) ms",
        target: "target < 300 ms: \(verdict(median < 0.3)) (5 runs)")
}
