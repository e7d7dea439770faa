import Foundation
import PurserLedger

/// 15. Short commands as processes, where start-up is most of the time: `purser --help` (argument parsing
/// and help text, no ledger), `purser append` of one entry (a durable commit: its fsyncs wait on the disk)
/// and `purser verify` of a ledger of about 100 entries. The runs go round-robin, so that a busy moment on
/// this shared machine falls on all three alike; each reports its median and p95 wall time and the median
/// CPU time (user + system) the child itself used, which varies less with other load.
func benchmarkStartup(in directory: String, purser: String?) throws {
    guard let purser else {
        report("short commands as processes", "skipped", target: "(no release purser binary beside the bench)")
        return
    }
    let folder = directory + "/startup"
    try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
    let ledgerPath = folder + "/ledger.sqlite"
    let ledger = try Ledger.create(at: ledgerPath, origin: "bench.example/startup", keyPath: folder + "/ledger.key")
    try ledger.append(contentsOf: (0..<99).map { try Event(kind: "custom.task", body: body($0)) }, batchSize: 100)
    let bodyFile = folder + "/body.json"
    try Data(CanonicalJSON.encode(body(7))).write(to: URL(fileURLWithPath: bodyFile))

    let commands: [(name: String, arguments: [String])] = [
        ("`purser --help`", ["--help"]),
        ("`purser append`, one entry", ["append", "--ledger", ledgerPath, "--kind", "custom.cli", "--body", bodyFile]),
        ("`purser verify`, ~100 entries", ["verify", "--ledger", ledgerPath]),
    ]
    let runs = 100
    var wall = Array(repeating: [Double](), count: commands.count)
    var cpu = Array(repeating: [Double](), count: commands.count)
    for run in -3..<runs {
        for (index, command) in commands.enumerated() {
            let result = timeProcess(purser, command.arguments)
            guard result.status == 0 else { fatalError("purser \(command.arguments[0]) exited \(result.status)") }
            if run >= 0 {
                wall[index].append(result.seconds)
                cpu[index].append(result.cpuSeconds)
            }
        }
    }
    for (index, command) in commands.enumerated() {
        let median = percentile(wall[index], 0.5) * 1000
        report(
            "\(command.name) as a process", "median \(format(median, 1)) ms",
            target:
                "target < 20 ms: \(verdict(median < 20)) (\(runs) runs, p95 \(format(percentile(wall[index], 0.95) * 1000, 1)) ms, CPU \(format(percentile(cpu[index], 0.5) * 1000, 1)) ms)"
        )
    }
}
