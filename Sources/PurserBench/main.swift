// purser-bench: measures the ledger and the release domain against their targets, on this machine.
//
//   swift run -c release purser-bench [--entries N] [--dir PATH] [--only ledger|versions|at|check|metrics|audit|server|otlp|otlp-steps|drift|startup] [--keep]
//       [--otlp-seconds S] [--otlp-rate N]
//
// Every figure comes from real SQLite files in a scratch folder and, where a process is timed, the
// release `purser` binary built beside this one.
import Foundation
import PurserLedger
import PurserStatistics

struct Options {
    /// The groups of benchmarks `--only` selects from.
    static let parts = [
        "ledger", "versions", "at", "check", "metrics", "audit", "server", "otlp", "otlp-steps", "drift", "startup",
    ]

    var entries = 1_000_000
    var directory = NSTemporaryDirectory() + "purser-bench-\(getpid())"
    var parts = Set(Options.parts)
    /// Leave the scratch folder (ledgers, manifests) for inspection or profiling.
    var keep = false
    /// How long the OTLP receiver's steady-rate run lasts, in seconds, and its rate in spans per second.
    var otlpSeconds = 60.0
    var otlpRate = 5_000

    init(_ arguments: [String]) {
        var iterator = arguments.dropFirst().makeIterator()
        while let argument = iterator.next() {
            switch argument {
            case "--entries": entries = Int(iterator.next() ?? "") ?? entries
            case "--dir": directory = iterator.next() ?? directory
            case "--only":
                let part = iterator.next() ?? ""
                guard Options.parts.contains(part) else {
                    Options.fail(
                        "--only takes ledger, versions, at, check, metrics, audit, server, otlp, otlp-steps, drift or startup"
                    )
                }
                parts = [part]
            case "--keep": keep = true
            case "--otlp-seconds": otlpSeconds = Double(iterator.next() ?? "") ?? otlpSeconds
            case "--otlp-rate": otlpRate = Int(iterator.next() ?? "") ?? otlpRate
            case "--help", "-h":
                print(
                    "usage: purser-bench [--entries N (default 1000000)] [--dir PATH]"
                        + " [--only ledger|versions|at|check|metrics|audit|server|otlp|otlp-steps|drift|startup] [--keep]"
                        + " [--otlp-seconds S (steady run, default 60)] [--otlp-rate SPANS/S (default 5000)]")
                exit(0)
            default: Options.fail("unknown argument \(argument)")
            }
        }
    }

    static func fail(_ message: String) -> Never {
        FileHandle.standardError.write(Data("purser-bench: \(message)\n".utf8))
        exit(64)
    }
}

let options = Options(CommandLine.arguments)
try? FileManager.default.removeItem(atPath: options.directory)
try FileManager.default.createDirectory(atPath: options.directory, withIntermediateDirectories: true)
defer { if !options.keep { try? FileManager.default.removeItem(atPath: options.directory) } }

func seconds(_ body: () throws -> Void) rethrows -> Double {
    let start = DispatchTime.now().uptimeNanoseconds
    try body()
    return Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
}

func report(_ name: String, _ value: String, target: String) {
    print(
        "\(name.padding(toLength: 46, withPad: " ", startingAt: 0)) \(value.padding(toLength: 22, withPad: " ", startingAt: 0)) \(target)"
    )
    // Out now, so that what was measured is seen even when a later part fails.
    fflush(nil)
}

/// Starts `executable` with `arguments`, its standard output discarded; returns its process id.
func spawn(_ executable: String, _ arguments: [String]) -> pid_t {
    var pid: pid_t = 0
    var actions = posix_spawn_file_actions_t()
    posix_spawn_file_actions_init(&actions)
    posix_spawn_file_actions_addopen(&actions, 1, "/dev/null", O_WRONLY, 0)
    defer { posix_spawn_file_actions_destroy(&actions) }
    let argv = ([executable] + arguments).map { strdup($0) } + [nil]
    defer { for pointer in argv { free(pointer) } }
    guard posix_spawn(&pid, executable, &actions, nil, argv, environ) == 0 else {
        fatalError("cannot start \(executable)")
    }
    return pid
}

/// Runs `executable` with `arguments`, output discarded; returns wall time, exit status and peak resident memory.
///
/// The peak is the child's own VmHWM, read from /proc while it runs: wait4's ru_maxrss would report this
/// bench's size, because a spawned child inherits its parent's high-water mark until exec.
func runProcess(_ executable: String, _ arguments: [String]) -> (seconds: Double, status: Int32, peakKB: Int) {
    let start = DispatchTime.now().uptimeNanoseconds
    let pid = spawn(executable, arguments)
    var status: Int32 = 0
    var peakKB = 0
    while waitpid(pid, &status, WNOHANG) == 0 {
        if let text = try? String(contentsOfFile: "/proc/\(pid)/status", encoding: .utf8),
            let line = text.split(separator: "\n").first(where: { $0.hasPrefix("VmHWM:") }),
            let kb = Int(line.split(separator: " ", omittingEmptySubsequences: true).dropFirst().first ?? "")
        {
            peakKB = max(peakKB, kb)
        }
        usleep(2_000)
    }
    let elapsed = Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
    return (elapsed, (status >> 8) & 0xFF, peakKB)
}

/// Runs `executable` with `arguments`, output discarded, and blocks until it exits; returns wall time, exit status
/// and the CPU time (user + system) of the child alone. Without `runProcess`'s polling, the wall time is exact.
func timeProcess(_ executable: String, _ arguments: [String]) -> (seconds: Double, status: Int32, cpuSeconds: Double) {
    let start = DispatchTime.now().uptimeNanoseconds
    let pid = spawn(executable, arguments)
    var status: Int32 = 0
    var usage = rusage()
    while wait4(pid, &status, 0, &usage) == -1 && errno == EINTR {}
    let elapsed = Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
    func seconds(_ time: timeval) -> Double { Double(time.tv_sec) + Double(time.tv_usec) / 1e6 }
    return (elapsed, (status >> 8) & 0xFF, seconds(usage.ru_utime) + seconds(usage.ru_stime))
}

func format(_ value: Double, _ decimals: Int = 0) -> String { String(format: "%.\(decimals)f", value) }

/// The `fraction` quantile of `values`, interpolated between the nearest ranks: 0.5 for the median.
func percentile(_ values: [Double], _ fraction: Double) -> Double {
    PurserStatistics.percentile(values.sorted(), fraction)
}

/// "pass" or "FAIL", for a figure against its target.
func verdict(_ met: Bool) -> String { met ? "pass" : "FAIL" }

/// A task record of about 300 bytes, like an agent's per-task event.
func body(_ n: Int) -> JSONValue {
    .object([
        "task_id": .string("task-\(n)"),
        "version": .string("3f1c9a0e5b7d2468ace13579bdf02468ace13579bdf02468ace13579bdf0\(n % 10)abc"),
        "env": .string("prod"), "task_type": .string("refund-request"), "model": .string("claude-3-5-sonnet-20241022"),
        "duration_ms": .number(Double(1200 + n % 900)), "input_tokens": .number(Double(800 + n % 300)),
        "output_tokens": .number(Double(200 + n % 50)), "cost_usd": .number(0.0123), "completed": .bool(true),
        "note": .string("refund for order \(n) approved"),
    ])
}

let machine: String = {
    let cpu =
        (try? String(contentsOfFile: "/proc/cpuinfo", encoding: .utf8))?.split(separator: "\n")
        .first { $0.hasPrefix("model name") }?.split(separator: ":").last?.trimmingCharacters(in: .whitespaces)
        ?? "unknown CPU"
    return
        "\(ProcessInfo.processInfo.activeProcessorCount) cores, \(cpu), \(ProcessInfo.processInfo.physicalMemory >> 30) GiB"
}()
print(
    "purser-bench on \(machine); "
        + (options.parts.contains("ledger") ? "\(options.entries) entries; " : "") + "SQLite WAL, synchronous=FULL\n")

let purser = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent().appendingPathComponent("purser")
    .path
let havePurser = FileManager.default.isExecutableFile(atPath: purser)

if options.parts.contains("ledger") {
    // 1. Batched append vs plain SQLite inserts of the same rows.
    let batchEntries = min(options.entries, 200_000)
    let batchPath = options.directory + "/batch.sqlite"
    var rows: [Entry] = []
    do {
        let events = try (0..<batchEntries).map { try Event(kind: "custom.task", body: body($0)) }
        let averageBody = Double(events.prefix(1000).map(\.body.count).reduce(0, +)) / 1000
        let ledger = try Ledger.create(
            at: batchPath, origin: "bench.example/batch", keyPath: options.directory + "/batch.key")
        let batchTime = try seconds { try ledger.append(contentsOf: events, batchSize: 1_000) }
        try ledger.forEachEntry(from: 1) { rows.append($0) }

        // The same rows (as the ledger stored them) into a plain table of the same shape, 1,000 per transaction.
        let plain = try Connection(path: options.directory + "/plain.sqlite", mode: .create)
        try plain.execute("PRAGMA journal_mode = WAL; PRAGMA synchronous = FULL;")
        try plain.execute(
            "CREATE TABLE entries (seq INTEGER PRIMARY KEY, at TEXT NOT NULL, kind TEXT NOT NULL, leaf_hash BLOB NOT NULL, entry BLOB NOT NULL); CREATE INDEX entries_by_kind ON entries(kind, seq);"
        )
        let plainTime = try seconds {
            let insert = try plain.prepare(
                "INSERT INTO entries (seq, at, kind, leaf_hash, entry) VALUES (?, ?, ?, ?, ?)")
            for start in stride(from: 0, to: rows.count, by: 1_000) {
                try plain.immediateTransaction {
                    for row in rows[start..<min(start + 1_000, rows.count)] {
                        try insert.bind(1, Int64(row.seq))
                        try insert.bind(2, row.at)
                        try insert.bind(3, row.kind)
                        try insert.bind(4, bytes: row.leafHash.bytes)
                        try insert.bind(5, bytes: row.bytes)
                        try insert.step()
                        insert.reset()
                    }
                }
            }
        }
        let batchRate = Double(batchEntries) / batchTime
        let plainRate = Double(rows.count) / plainTime
        report(
            "batched append (1,000/txn, \(format(averageBody))-byte bodies)", "\(format(batchRate)) entries/s",
            target: "target ≥ 200,000/s")
        report(
            "plain SQLite inserts of the same rows", "\(format(plainRate)) rows/s",
            target: "ours = \(format(100 * batchRate / plainRate))% (target ≥ 50%)")

        // 2. Single-entry durable appends in one process.
        let singles = 2_000
        let singleTime = try seconds {
            for n in 0..<singles { try ledger.append(try Event(kind: "custom.single", body: body(n))) }
        }
        report(
            "single-entry durable appends, one process", "\(format(Double(singles) / singleTime)) appends/s",
            target: "target ≥ 1,000/s")
    }

    // 3. `purser append` as a process, on the ledger above (no other connection open).
    if havePurser {
        let bodyFile = options.directory + "/body.json"
        try Data(CanonicalJSON.encode(body(7))).write(to: URL(fileURLWithPath: bodyFile))
        var times: [Double] = []
        var cpu: [Double] = []
        for _ in 0..<60 {
            let arguments = ["append", "--ledger", batchPath, "--kind", "custom.cli", "--body", bodyFile]
            let run = timeProcess(purser, arguments)
            guard run.status == 0 else { fatalError("purser append failed: \(run.status)") }
            times.append(run.seconds)
            cpu.append(run.cpuSeconds)
        }
        times.sort()
        report(
            "`purser append` as a process (60 runs)", "median \(format(times[30] * 1000, 1)) ms",
            target:
                "target < 30 ms (p90 \(format(times[54] * 1000, 1)) ms, CPU \(format(percentile(cpu, 0.5) * 1000, 1)) ms)"
        )
    } else {
        report("`purser append` as a process", "skipped", target: "no purser binary beside purser-bench")
    }

    // 4. Verify a large ledger: in process, and `purser verify` as a process with its peak memory.
    let bigPath = options.directory + "/big.sqlite"
    var size: UInt64 = 0
    do {
        let big = try Ledger.create(at: bigPath, origin: "bench.example/big", keyPath: options.directory + "/big.key")
        let fillTime = try seconds {
            var n = 0
            while n < options.entries - 1 {
                let count = min(100_000, options.entries - 1 - n)
                try big.append(
                    contentsOf: (n..<n + count).map { try Event(kind: "custom.task", body: body($0)) }, batchSize: 1_000
                )
                n += count
            }
        }
        size = try big.size()
        print("(filled \(size) entries in \(format(fillTime, 1)) s)")
        let inProcess = try seconds {
            let result = try big.verify()
            precondition(result.ok, "verify failed: \(String(describing: result.fault))")
        }
        report(
            "verify in process (\(size) entries)", "\(format(Double(size) / inProcess)) entries/s",
            target: "target ≥ 500,000/s (\(format(inProcess, 2)) s)")

        // 5. Proofs on the large ledger.
        var inclusionTimes: [Double] = []
        var consistencyTimes: [Double] = []
        for _ in 0..<200 {
            let seq = UInt64.random(in: 0..<size)
            inclusionTimes.append(try seconds { _ = try big.inclusionProof(seq: seq) })
            let from = UInt64.random(in: 1...size)
            consistencyTimes.append(try seconds { _ = try big.consistencyProof(from: from) })
        }
        inclusionTimes.sort()
        consistencyTimes.sort()
        report(
            "inclusion proof (200 random, \(size) entries)", "median \(format(inclusionTimes[100] * 1000, 2)) ms",
            target: "target < 5 ms (max \(format(inclusionTimes.last! * 1000, 2)) ms)")
        report(
            "consistency proof (200 random)", "median \(format(consistencyTimes[100] * 1000, 2)) ms",
            target: "target < 5 ms (max \(format(consistencyTimes.last! * 1000, 2)) ms)")
    }
    if havePurser {
        // The median of three runs: the first may still share the disk with the write-back of the fill.
        let runs = (0..<3).map { _ in runProcess(purser, ["verify", "--ledger", bigPath]) }.sorted {
            $0.seconds < $1.seconds
        }
        precondition(runs.allSatisfy { $0.status == 0 }, "purser verify failed")
        report(
            "`purser verify` as a process (median of 3)",
            "\(format(runs[1].seconds, 2)) s, peak \(runs.map(\.peakKB).max()! / 1024) MB",
            target: "target < 2 s per 1M, < 100 MB")
    }

    // 6. Bytes on disk per entry, after a checkpoint folds the WAL into the file.
    try Connection(path: bigPath, mode: .readWrite).execute("PRAGMA wal_checkpoint(TRUNCATE)")
    let fileSize = (try FileManager.default.attributesOfItem(atPath: bigPath)[.size] as? Int) ?? 0
    let entryBytes = Double(rows.map(\.bytes.count).reduce(0, +)) / Double(max(rows.count, 1))
    report(
        "bytes on disk per entry", "\(format(Double(fileSize) / Double(size))) bytes",
        target: "(entry text \(format(entryBytes)) bytes)")
}

if options.parts.contains("versions") {
    try benchmarkVersionRecording(in: options.directory)
}

if options.parts.contains("at") {
    try benchmarkTrafficAt(in: options.directory, purser: havePurser ? purser : nil)
}

if options.parts.contains("check") {
    try benchmarkCheck(in: options.directory, purser: havePurser ? purser : nil)
}

if options.parts.contains("metrics") {
    try benchmarkMetrics(in: options.directory)
}

if options.parts.contains("audit") {
    try benchmarkAudit(in: options.directory)
}

if options.parts.contains("drift") {
    benchmarkDrift()
    benchmarkSequential()
}

if options.parts.contains("startup") {
    try benchmarkStartup(in: options.directory, purser: havePurser ? purser : nil)
}

if options.parts.contains("server") {
    if havePurser {
        print("")
        try benchmarkServer(in: options.directory, purser: purser)
    } else {
        print("(server: skipped, no purser binary beside this one; build it with swift build -c release)")
    }
}

if options.parts.contains("otlp-steps") {
    print("")
    try benchmarkOTLPSteps(in: options.directory + "/otlp-steps")
}

if options.parts.contains("otlp") {
    if havePurser {
        print("")
        try benchmarkOTLP(
            in: options.directory, purser: purser, seconds: options.otlpSeconds, rate: options.otlpRate)
    } else {
        print("(otlp: skipped, no purser binary beside this one; build it with swift build -c release)")
    }
}
