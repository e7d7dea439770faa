import Foundation
import PurserCore
import PurserLedger

/// 8. What ran when: `releases.traffic.at(_:)` over 100,000 lifecycle events in 20 environments spread over a year,
/// as a library call and as `purser at` processes.
func benchmarkTrafficAt(in directory: String, purser: String?) throws {
    let path = directory + "/at.sqlite"
    let ledger = try Ledger.create(at: path, origin: "bench.example/at", keyPath: directory + "/at.key")
    var releases = try Releases(ledger: ledger)
    let fixture = try ManifestFixture(folder: directory + "/at-manifest", promptBytes: 4 * 1024, tools: 20)
    let versions = try fixture.recordVariants(50, in: releases) { "support-agent@1.\($0).0" }

    let environments = 20
    let total = 100_000
    let span = lastYear()
    var timeline: TrafficTimeline?
    let generateTime = try seconds {
        timeline = try TrafficTimeline(
            environments: environments, events: total, versions: versions, span: span, seed: 0x5EED)
    }
    let events = timeline!.events
    let appendTime = try seconds { try ledger.append(contentsOf: events, batchSize: 1_000) }
    let reindexTime = try seconds { try Releases.reindex(ledger) }
    releases = try Releases(ledger: ledger)
    let kinds = Dictionary(grouping: events, by: \.kind).mapValues(\.count)
    print(
        "(generated \(events.count) lifecycle events in \(format(generateTime, 1)) s: "
            + kinds.sorted { $0.key < $1.key }.map { "\($0.value) \($0.key)" }.joined(separator: ", ") + ")")
    report(
        "raw append of \(total) lifecycle events", "\(format(appendTime, 2)) s",
        target: "(\(format(Double(total) / appendTime)) entries/s, 1,000/txn)")
    report(
        "Releases.reindex (\(try ledger.size()) entries)", "\(format(reindexTime, 2)) s",
        target: "(\(format(Double(total) / reindexTime)) entries/s)")

    // Library calls: random instants over the year; every answer checked against the generator's states.
    var random = SeededGenerator(seed: 0xA7)
    let times = (0..<1_000).map { _ in ledgerTime(milliseconds: Int64.random(in: span, using: &random)) }
    _ = try releases.traffic.at(times[0])
    var queryTimes: [Double] = []
    for time in times {
        var found: [EnvironmentTraffic] = []
        queryTimes.append(try seconds { found = try releases.traffic.at(time, env: nil) })
        let expected = timeline!.expected(at: time)
        precondition(found.count == expected.count, "traffic.at(\(time)) found \(found.count) environments")
        for environment in found {
            let want = expected[environment.env]
            precondition(
                want?.state == environment.state && want?.effectiveAt == environment.effectiveAt,
                "traffic.at(\(time)) in \(environment.env) differs from the generated timeline")
        }
    }
    let median = percentile(queryTimes, 0.5) * 1000
    let p95 = percentile(queryTimes, 0.95) * 1000
    report(
        "`at` query, \(total) events in \(environments) envs", "median \(format(median, 2)) ms",
        target: "target < 10 ms: \(verdict(median < 10)) (1,000 random, p95 \(format(p95, 2)) ms)")

    guard let purser else {
        report("`purser at` as a process", "skipped", target: "no purser binary beside purser-bench")
        return
    }
    try checkAtOutput(purser, ledger: path, time: times[1], environments: timeline!.expected(at: times[1]).count)
    for (label, extra) in [("all envs", [String]()), ("--env e07", ["--env", "e07"])] {
        let runs = 30
        var processTimes: [Double] = []
        _ = timeProcess(purser, ["at", times[0], "--ledger", path, "--json"] + extra)
        for run in 0..<runs {
            let result = timeProcess(purser, ["at", times[2 + run], "--ledger", path, "--json"] + extra)
            guard result.status == 0 else { fatalError("purser at failed: \(result.status)") }
            processTimes.append(result.seconds)
        }
        let processMedian = percentile(processTimes, 0.5) * 1000
        let p90 = percentile(processTimes, 0.9) * 1000
        report(
            "`purser at --json` as a process, \(label)", "median \(format(processMedian, 1)) ms",
            target: "target < 40 ms: \(verdict(processMedian < 40)) (\(runs) runs, p90 \(format(p90, 1)) ms)")
    }
}

/// Runs `purser at TIME --json` once and checks that it lists `environments` environments.
private func checkAtOutput(_ purser: String, ledger: String, time: String, environments: Int) throws {
    let process = Process()
    process.executableURL = URL(fileURLWithPath: purser)
    process.arguments = ["at", time, "--ledger", ledger, "--json"]
    let output = Pipe()
    process.standardOutput = output
    try process.run()
    let bytes = Array(output.fileHandleForReading.readDataToEndOfFile())
    process.waitUntilExit()
    guard process.terminationStatus == 0, case .array(let listed)? = try JSONValue(parsing: bytes)["environments"]
    else { fatalError("purser at \(time) --json exited \(process.terminationStatus) or printed no environments") }
    precondition(listed.count == environments, "purser at listed \(listed.count) environments, not \(environments)")
}
