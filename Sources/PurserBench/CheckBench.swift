import Foundation
import PurserCore
import PurserLedger

/// 10. `purser check` with all seven checks on local evidence, as a process: the template policy (its
/// queue probe is a shell script, the dashboard a file), against the example agent after an evaluation
/// and with one deployment serving, so that the rollback drill and the baseline suite are looked up.
func benchmarkCheck(in directory: String, purser: String?) throws {
    guard let purser else {
        report("`purser check` as a process", "skipped", target: "(no release purser binary beside the bench)")
        return
    }
    let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent()
    let folder = directory + "/check"
    try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
    try FileManager.default.copyItem(
        atPath: root.appendingPathComponent("templates").path, toPath: folder + "/templates")
    let ledgerPath = folder + "/ledger.sqlite"
    let ledger = try Ledger.create(at: ledgerPath, origin: "bench.example/check", keyPath: folder + "/ledger.key")
    let releases = try Releases(ledger: ledger)
    let templates = folder + "/templates"
    let v1 = try releases.versions.record(Manifest.load(at: templates + "/agent.yaml"), label: "support-agent@1.0.0")
    _ = try releases.traffic.deploy(
        v1.id, env: EnvironmentName("prod"), strategy: .blueGreen,
        breakGlass: BreakGlass(reason: "benchmark", approver: "bench"))
    try Data("A slightly different prompt.\n".utf8).write(
        to: URL(fileURLWithPath: templates + "/agent/system-prompt.md"))
    let v2 = try releases.versions.record(Manifest.load(at: templates + "/agent.yaml"), label: "support-agent@1.1.0")
    for version in [v1.id, v2.id] {
        _ = try releases.checklist.recordEvaluation(
            version: version, results: templates + "/evidence/eval-results.json", format: .json)
    }
    _ = try releases.traffic.recordDrill(
        env: EnvironmentName("staging"), from: v2.id, to: v1.id, result: .passed)
    let dashboard = try String(contentsOfFile: templates + "/evidence/dashboard.json", encoding: .utf8)
    try Data(dashboard.replacingOccurrences(of: "support-agent@1.0.0", with: "support-agent@1.1.0").utf8).write(
        to: URL(fileURLWithPath: templates + "/evidence/dashboard.json"))

    let arguments = [
        "check", "--version", "support-agent@1.1.0", "--env", "prod", "--policy", templates + "/checklist.yaml",
        "--ledger", ledgerPath,
    ]
    let warm = timeProcess(purser, arguments)
    precondition(warm.status == 0, "purser check did not allow the benchmark's release (exit \(warm.status))")
    let times = (0..<30).map { _ in timeProcess(purser, arguments) }
    precondition(times.allSatisfy { $0.status == 0 }, "a purser check run failed")
    let median = percentile(times.map(\.seconds), 0.5) * 1000
    report(
        "`purser check`, 7 checks, local evidence", "median \(format(median, 1)) ms",
        target:
            "target < 100 ms: \(verdict(median < 100)) (30 runs, p90 \(format(percentile(times.map(\.seconds), 0.9) * 1000, 1)) ms)"
    )
}
