import Foundation
import PurserCore
import PurserLedger

/// 7. Recording a behavioral version from a manifest (100 KB prompt, 200 tools) as a library call:
/// `Manifest.load` then `Versions.record`, each run a new version; then re-recording an identical one.
func benchmarkVersionRecording(in directory: String) throws {
    let fixture = try ManifestFixture(folder: directory + "/manifest", promptBytes: 100 * 1024, tools: 200)
    let toolsSize =
        (try FileManager.default.attributesOfItem(atPath: fixture.folder + "/tools.json")[.size] as? Int) ?? 0
    let ledger = try Ledger.create(
        at: directory + "/versions.sqlite", origin: "bench.example/versions", keyPath: directory + "/versions.key")
    let releases = try Releases(ledger: ledger)

    let runs = 20
    var loadTimes: [Double] = []
    var recordTimes: [Double] = []
    var totalTimes: [Double] = []
    // Run 0 warms the caches (files, SQLite pages, regex compilation) and is not counted.
    for run in 0...runs {
        try fixture.writePrompt(variant: run)
        var version: BehavioralVersion?
        var outcome: RecordOutcome?
        let load = try seconds { version = try Manifest.load(at: fixture.manifestPath) }
        let record = try seconds { outcome = try releases.versions.record(version!, label: "support-agent@1.0.\(run)") }
        precondition(outcome?.isNew == true, "run \(run) did not record a new version")
        guard run > 0 else { continue }
        loadTimes.append(load)
        recordTimes.append(record)
        totalTimes.append(load + record)
    }
    let median = percentile(totalTimes, 0.5) * 1000
    let p90 = percentile(totalTimes, 0.9) * 1000
    report(
        "record a version (100 KB prompt, 200 tools)", "median \(format(median, 1)) ms",
        target: "target < 50 ms: \(verdict(median < 50)) (\(runs) new versions, p90 \(format(p90, 1)) ms)")
    report(
        "  of which Manifest.load / Versions.record",
        "\(format(percentile(loadTimes, 0.5) * 1000, 1)) / \(format(percentile(recordTimes, 0.5) * 1000, 1)) ms",
        target: "(tools.json \(toolsSize / 1024) KB)")

    var sameTimes: [Double] = []
    for _ in 0..<runs {
        var outcome: RecordOutcome?
        sameTimes.append(
            try seconds {
                outcome = try releases.versions.record(try Manifest.load(at: fixture.manifestPath), label: nil)
            })
        precondition(outcome?.isNew == false && outcome?.seq == nil, "re-recording the same manifest wrote an entry")
    }
    let sameMedian = percentile(sameTimes, 0.5) * 1000
    report(
        "re-record the identical manifest (no-op)", "median \(format(sameMedian, 1)) ms",
        target: "target < 50 ms: \(verdict(sameMedian < 50)) (\(runs) runs, nothing appended)")
}
