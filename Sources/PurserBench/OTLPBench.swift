import Foundation
import OTLPProto
import PurserCore
import PurserLedger
import PurserOperations
import PurserServer
import SwiftProtobuf

/// 13. OTLP/HTTP into `purser serve` (`POST /v1/traces`, protobuf), against the release binary on a loopback port.
///
/// Throughput: concurrent keep-alive clients send pre-encoded `ExportTraceServiceRequest`s of 512 spans (agent
/// traces of 4 or 5 spans, unique trace ids per request) as fast as the server answers; then the bench waits for
/// the inbox to drain and checks that every task sent is in the `tasks` table. Memory: a steady rate for
/// `seconds`, with 5% of traces missing their `invoke_agent` span, the server's RSS sampled every second; then the
/// entries' `unattributed` must equal the spans sent without their parent.
func benchmarkOTLP(in directory: String, purser: String, seconds: Double, rate: Int) throws {
    let throughput = try OTLPServer(in: directory + "/otlp-throughput", purser: purser)
    let clients = 8
    let load = OTLPLoad(orphanEvery: 0)
    print("(\(load.tasks) tasks, \(load.spans) spans, \(load.template[0].count / 1024) KiB per request)")
    let flat = try driveOTLP(server: throughput, clients: clients, seconds: 20, period: nil, load: load)
    let achieved = Double(flat.ok * load.spans) / flat.seconds
    let p99 = percentile(flat.latencies, 0.99) * 1000
    report(
        "OTLP protobuf, \(clients) clients (20 s)", "\(format(achieved)) spans/s",
        target: "target ≥ 50,000/s: \(verdict(achieved >= 50_000))")
    report(
        "  export latency p50 / p99", "\(format(percentile(flat.latencies, 0.5) * 1000, 1)) / \(format(p99, 1)) ms",
        target: "(queueing: \(clients) requests in flight)")
    report(
        "  requests 200 / 429 / other", "\(flat.ok) / \(flat.refused) / \(flat.failed)",
        target: "(a 429 is not counted as sent)")
    let drained = try throughput.drain(tasks: flat.ok * load.tasks)
    drained.report(sent: flat.ok * load.tasks)
    try throughput.stop()

    // The latency target at the throughput target: flat out, a client's latency is only how long its request
    // queues behind the others' (8 in flight); paced at 50,000 spans/s, it is what an exporter waits.
    let paced = try OTLPServer(in: directory + "/otlp-paced", purser: purser)
    let (serverBefore, benchBefore) = (paced.cpuSeconds(), processCPUSeconds())
    let target = try driveOTLP(
        server: paced, clients: clients, seconds: 20, period: Double(clients * load.spans) / 50_000, load: load)
    let benchCPU = processCPUSeconds() - benchBefore
    let pacedP99 = percentile(target.latencies, 0.99) * 1000
    report(
        "OTLP at 50,000 spans/s, \(clients) clients (20 s)",
        "p50 / p99 \(format(percentile(target.latencies, 0.5) * 1000, 1)) / \(format(pacedP99, 1)) ms",
        target: "p99 target < 100 ms: \(verdict(pacedP99 < 100 && target.refused == 0 && target.failed == 0))")
    report(
        "  requests 200 / 429 / other", "\(target.ok) / \(target.refused) / \(target.failed)",
        target: "\(format(Double(target.ok * load.spans) / target.seconds)) spans/s sent")
    let settledPaced = try paced.drain(tasks: target.ok * load.tasks)
    settledPaced.report(sent: target.ok * load.tasks)
    // The server's CPU until every span sent was summarized, and the load generator's (this process) while sending.
    let pacedSpans = Double(target.ok * load.spans)
    report(
        "  CPU per span: server / load generator",
        "\(format((paced.cpuSeconds() - serverBefore) / pacedSpans * 1e6, 1)) / \(format(benchCPU / pacedSpans * 1e6, 1)) µs",
        target: "")
    try paced.stop()

    // Receiving alone: a window of an hour holds every span, so that no batch is summarized meanwhile.
    let holding = try OTLPServer(
        in: directory + "/otlp-receive", purser: purser,
        arguments: ["--otlp-window", "3600", "--otlp-max-pending", "2000000"])
    let received = try driveOTLP(server: holding, clients: clients, seconds: 10, period: nil, load: load)
    let receiving = Double(received.ok * load.spans) / received.seconds
    report(
        "  receiving alone (nothing summarized, 10 s)", "\(format(receiving)) spans/s",
        target:
            "p50 / p99 \(format(percentile(received.latencies, 0.5) * 1000, 1)) / \(format(percentile(received.latencies, 0.99) * 1000, 1)) ms; 429: \(received.refused)"
    )
    try holding.stop()

    let steady = try OTLPServer(in: directory + "/otlp-memory", purser: purser)
    let orphaned = OTLPLoad(orphanEvery: 20)
    let steadyClients = 4
    let period = Double(steadyClients * orphaned.spans) / Double(rate)
    var samples: [Int] = []
    let run = try driveOTLP(
        server: steady, clients: steadyClients, seconds: seconds, period: period, load: orphaned
    ) {
        samples.append(steady.residentKB())
    }
    let minute = samples.suffix(60)
    report(
        "OTLP steady \(format(Double(run.ok * orphaned.spans) / run.seconds)) spans/s (\(format(seconds)) s)",
        "peak RSS \(format(Double(samples.max() ?? 0) / 1024)) MiB",
        target: "last minute mean \(format(Double(minute.reduce(0, +)) / Double(max(minute.count, 1)) / 1024)) MiB")
    // One sample a second: the resident memory at the end of each minute shows whether it levels off.
    let minutes = stride(from: 59, to: samples.count, by: 60).map { format(Double(samples[$0]) / 1024) }
    if minutes.count > 1 { print("  RSS at each minute's end: \(minutes.joined(separator: ", ")) MiB") }
    report(
        "  requests 200 / 429 / other", "\(run.ok) / \(run.refused) / \(run.failed)",
        target: "p99 \(format(percentile(run.latencies, 0.99) * 1000, 1)) ms")
    let settled = try steady.drain(tasks: run.ok * orphaned.tasks)
    settled.report(sent: run.ok * orphaned.tasks)
    let orphans = run.ok * orphaned.orphans
    report(
        "  spans sent without their invoke_agent", "\(orphans)",
        target: "unattributed \(settled.unattributed): \(verdict(settled.unattributed == orphans))")
    try steady.stop()
    guard drained.tasks == flat.ok * load.tasks, settled.tasks == run.ok * orphaned.tasks,
        settled.unattributed == orphans
    else {
        throw LoadError(message: "OTLP: tasks or unattributed spans differ from what was sent (above)")
    }
}

/// Where the server's time per span goes, as library calls on one thread: decoding protobuf requests of 512 spans,
/// and summarizing a batch of 100,000 spans (ten of the receiver's largest) with its parts: writing the batch's
/// OTLP/JSON file, gzip'ing it, reading it back and assembling the tasks, the rest (inserts, the record of the inbox
/// requests it took, the artifact) in the transaction.
func benchmarkOTLPSteps(in folder: String) throws {
    try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
    let load = OTLPLoad(orphanEvery: 0)
    let requests = (0..<196).map { load.body(UInt64($0 + 1)) }
    var spans: [OTLPSpan] = []
    let decode = try seconds {
        for request in requests { spans += try OTLPProtobuf.spans(request).spans }
    }
    let parse = try seconds {
        for request in requests {
            _ = try Opentelemetry_Proto_Collector_Trace_V1_ExportTraceServiceRequest(serializedBytes: request)
        }
    }
    let batch = Array(spans.prefix(100_000))
    var file: [UInt8] = []
    let encode = seconds { file = OTLPJSON.encode(batch) }
    var packed: [UInt8] = []
    let pack = seconds { packed = Gzip.compress(file) }
    var parsed: [OTLPSpan] = []
    let reread = try seconds { parsed = try OTLPJSON.spans(file, source: "batch") }
    let assemble = try seconds { _ = try OTLPTasks.assemble(parsed, lenient: true) }
    let ledger = try Ledger.create(at: folder + "/ledger.sqlite", origin: "bench.example/otlp", keyPath: folder + "/k")
    let releases = try Releases(ledger: ledger)
    let fixture = try ManifestFixture(folder: folder + "/manifest", promptBytes: 4 * 1024, tools: 20)
    _ = try fixture.recordVariants(2, in: releases) { "agent@\($0 + 1)" }
    // The batch summarizes one request of the inbox, which its entry records (the inbox follows afterwards).
    var received = ReceivedBatch()
    received.spans = batch
    received.done = [1]
    var outcome: IngestOutcome?
    var prepared: PreparedBatch?
    let prepare = seconds { prepared = Metrics.prepare(received) }
    let summarize = try seconds { outcome = try releases.metrics.summarize(prepared!) }
    // 195 requests' traces whole, and the first 40 traces of the 196th: 22,270 tasks.
    precondition(outcome?.new == 195 * load.tasks + 40 && outcome?.unattributed == 0, "the batch's tasks differ")
    func perSpan(_ time: Double, _ count: Int) -> String { "\(format(time / Double(count) * 1e6, 2)) µs/span" }
    report(
        "OTLP protobuf decode (512-span requests)", perSpan(decode, spans.count),
        target: "\(format(Double(spans.count) / decode)) spans/s on one core")
    report("  (swift-protobuf's parse alone", perSpan(parse, spans.count), target: "for comparison)")
    report(
        "OTLP make a 100,000-span batch ready", "\(format(prepare, 2)) s",
        target: "\(format(Double(batch.count) / prepare)) spans/s on one core")
    report("  of which: write the OTLP/JSON file", perSpan(encode, batch.count), target: "\(file.count >> 20) MiB")
    report(
        "  gzip it (level 1)", perSpan(pack, batch.count),
        target: "\(format(Double(packed.count) / Double(1 << 20), 1)) MiB stored")
    report("  assemble the tasks", perSpan(assemble, batch.count), target: "")
    report("  (reindex reads the file back:", perSpan(reread, batch.count), target: ")")
    report(
        "OTLP record it (the write transaction)", "\(format(summarize, 2)) s",
        target: "versions, inserts, artifact: \(perSpan(summarize, batch.count))")
}

/// Two pre-encoded `ExportTraceServiceRequest`s of 512 spans, one per version (`purser.version` agent@1, agent@2 on
/// the resource), whose trace ids `request(_:_:)` makes unique per request.
struct OTLPLoad {
    /// Trace ids start with these 2 bytes, then 6 bytes of the request's number, then 8 of the trace's.
    static let marker: [UInt8] = [0xB0, 0x19]
    let template: [[UInt8]]
    /// Where each template holds its trace ids.
    let offsets: [[Int]]
    let spans: Int
    let tasks: Int
    /// Spans per request whose trace has no `invoke_agent` span.
    let orphans: Int

    /// With `orphanEvery` n > 0, every nth trace loses its `invoke_agent` span.
    init(orphanEvery: Int) {
        var template: [[UInt8]] = []
        var offsets: [[Int]] = []
        var counts = (spans: 0, tasks: 0, orphans: 0)
        for version in 1...2 {
            var spans: [OTLPSpan] = []
            var tasks = 0
            var orphans = 0
            // 58 traces of 4 spans and 56 of 5: 512 spans, 4.5 per trace.
            for trace in 0..<114 {
                var made = OTLPLoad.trace(trace, version: version, tools: trace < 58 ? 1 : 2)
                if orphanEvery > 0 && trace % orphanEvery == 0 {
                    made.removeFirst()
                    orphans += made.count
                } else {
                    tasks += 1
                }
                spans += made
            }
            let bytes = OTLPProtobuf.request(spans)
            var found: [Int] = []
            var index = 0
            while index + 16 <= bytes.count {
                if bytes[index] == 0x0A && bytes[index + 1] == 0x10 && bytes[index + 2] == Self.marker[0]
                    && bytes[index + 3] == Self.marker[1]
                {
                    found.append(index + 2)
                    index += 18
                } else {
                    index += 1
                }
            }
            precondition(found.count == spans.count, "trace ids found \(found.count) times in \(spans.count) spans")
            template.append(bytes)
            offsets.append(found)
            counts = (spans.count, tasks, orphans)
        }
        self.template = template
        self.offsets = offsets
        spans = counts.spans
        tasks = counts.tasks
        orphans = counts.orphans
    }

    /// The body of request `number` (alternately agent@1 and agent@2): the template with `number` in its trace ids.
    func body(_ number: UInt64) -> [UInt8] {
        let which = Int(number % 2)
        var bytes = template[which]
        for offset in offsets[which] {
            for byte in 0..<6 { bytes[offset + 2 + byte] = UInt8(truncatingIfNeeded: number >> (8 * (5 - byte))) }
        }
        return bytes
    }

    /// An agent task: invoke_agent → chat → execute_tool (× `tools`) → chat, the times nested as an agent's are.
    static func trace(_ trace: Int, version: Int, tools: Int) -> [OTLPSpan] {
        let traceID = "b019000000000000" + hex(UInt64(version * 1_000 + trace))
        func spanID(_ n: Int) -> String { hex(UInt64(0x5A00_0000_0000_0000) | UInt64(version << 24 | trace << 8 | n)) }
        let resource: OTLPAttributes = [
            "service.name": .string("support-agent"), "service.version": .string("1.\(version).0"),
            "purser.version": .string("agent@\(version)"), "deployment.environment.name": .string("prod"),
            "telemetry.sdk.language": .string("python"), "telemetry.sdk.name": .string("opentelemetry"),
            "telemetry.sdk.version": .string("1.38.0"), "host.name": .string("agent-worker-\(trace % 7)"),
        ]
        let scope = OTLPScope(name: "opentelemetry.instrumentation.openai_agents", version: "0.1.0")
        let start: UInt64 = 1_796_000_000_000_000_000 + UInt64(trace) * 10_000_000_000
        let root = spanID(0)
        var spans = [
            OTLPSpan(
                line: 1, traceID: traceID, spanID: root, parentSpanID: nil, name: "invoke_agent support-agent",
                kind: 1, startNanos: start, endNanos: start + 4_200_000_000 + UInt64(trace % 13) * 97_000_000,
                attributes: [
                    "gen_ai.operation.name": .string("invoke_agent"), "gen_ai.agent.name": .string("support-agent"),
                    "gen_ai.agent.id": .string("asst_5j66UpCpwteGg4YSxUnt7lPY"),
                    "gen_ai.conversation.id": .string("conv_\(trace)"), "gen_ai.provider.name": .string("anthropic"),
                ], resource: resource, scope: scope)
        ]
        var at = start + 10_000_000
        func chat(_ n: Int, last: Bool) -> OTLPSpan {
            defer { at += 1_300_000_000 }
            return OTLPSpan(
                line: 1, traceID: traceID, spanID: spanID(n), parentSpanID: root,
                name: "chat claude-sonnet-4-5", kind: 3, startNanos: at, endNanos: at + 1_200_000_000,
                attributes: [
                    "gen_ai.operation.name": .string("chat"), "gen_ai.provider.name": .string("anthropic"),
                    "gen_ai.request.model": .string("claude-sonnet-4-5"),
                    "gen_ai.response.model": .string("claude-sonnet-4-5-20250929"),
                    "gen_ai.request.max_tokens": .int(1024), "gen_ai.request.temperature": .double(0.2),
                    "gen_ai.usage.input_tokens": .int(Int64(900 + trace * 7 % 600)),
                    "gen_ai.usage.output_tokens": .int(Int64(120 + trace * 3 % 200)),
                    "gen_ai.response.id": .string("msg_01XFDUDYJgAACzvnptvVoYEL\(n)"),
                    "gen_ai.response.finish_reasons": .array([.string(last ? "end_turn" : "tool_use")]),
                ], resource: resource, scope: scope)
        }
        spans.append(chat(1, last: false))
        for tool in 0..<tools {
            let failed = (trace + tool) % 17 == 0
            spans.append(
                OTLPSpan(
                    line: 1, traceID: traceID, spanID: spanID(2 + tool), parentSpanID: root,
                    name: "execute_tool lookup_order", kind: 1, startNanos: at, endNanos: at + 180_000_000,
                    statusCode: failed ? 2 : 0, statusMessage: failed ? "order service timed out" : "",
                    attributes: [
                        "gen_ai.operation.name": .string("execute_tool"), "gen_ai.tool.name": .string("lookup_order"),
                        "gen_ai.tool.type": .string("function"),
                        "gen_ai.tool.call.id": .string("toolu_\(trace)_\(tool)"),
                    ], resource: resource, scope: scope))
            at += 200_000_000
        }
        spans.append(chat(2 + tools, last: true))
        return spans
    }

    private static func hex(_ value: UInt64) -> String {
        let digits = String(value, radix: 16)
        return String(repeating: "0", count: 16 - digits.count) + digits
    }
}

/// `clients` POST request bodies of `load` to `server` for `seconds` (`runLoad`): one after another, or each one
/// every `period` seconds.
func driveOTLP(
    server: OTLPServer, clients: Int, seconds: Double, period: Double?, load: OTLPLoad, sample: () -> Void = {}
) throws -> LoadResult {
    let head = Array(
        ("POST /v1/traces HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer \(server.token)\r\n"
            + "Content-Type: application/x-protobuf\r\nContent-Length: \(load.template[0].count)\r\n\r\n").utf8)
    precondition(load.template[0].count == load.template[1].count)
    return try runLoad(port: server.port, clients: clients, seconds: seconds, period: period, sample: sample) {
        client, n in head + load.body(UInt64(client) << 32 | UInt64(n + 1))
    }
}

/// The release `purser serve` on a fresh ledger with agent@1 and agent@2 recorded and a writer token, on a
/// loopback port, with the receiver's default options.
final class OTLPServer: @unchecked Sendable {
    let port: UInt16
    let path: String
    /// A writer's bearer token.
    let token: String
    private let server: Process

    init(in folder: String, purser: String, arguments: [String] = []) throws {
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        path = folder + "/ledger.sqlite"
        let ledger = try Ledger.create(at: path, origin: "bench.example/otlp", keyPath: folder + "/ledger.key")
        let fixture = try ManifestFixture(folder: folder + "/manifest", promptBytes: 4 * 1024, tools: 20)
        _ = try fixture.recordVariants(2, in: try Releases(ledger: ledger)) { "agent@\($0 + 1)" }
        token = try TokenFile(path: folder + "/tokens").create(name: "agent-runtime", role: .writer, now: Date())

        server = Process()
        server.executableURL = URL(fileURLWithPath: purser)
        server.arguments =
            ["serve", "--ledger", path, "--tokens", folder + "/tokens", "--listen", "127.0.0.1:0"] + arguments
        let output = Pipe()
        server.standardOutput = output
        // What the server logs (errors only) stays beside its ledger.
        _ = FileManager.default.createFile(atPath: folder + "/server.log", contents: nil)
        server.standardError = FileHandle(forWritingAtPath: folder + "/server.log")
        var environment = ProcessInfo.processInfo.environment
        environment["LOG_LEVEL"] = "error"
        server.environment = environment
        try server.run()
        let line = String(decoding: output.fileHandleForReading.availableData, as: UTF8.self)
        guard let port = line.firstMatch(of: /listening on http:\/\/127\.0\.0\.1:([0-9]+)/).flatMap({ UInt16($0.1) })
        else {
            server.terminate()
            throw LoadError(message: "purser serve did not say where it listens: \(line)")
        }
        self.port = port
    }

    deinit {
        if server.isRunning {
            server.terminate()
            server.waitUntilExit()
        }
    }

    /// The server's resident memory (VmRSS), in KiB.
    func residentKB() -> Int {
        guard let text = try? String(contentsOfFile: "/proc/\(server.processIdentifier)/status", encoding: .utf8),
            let line = text.split(separator: "\n").first(where: { $0.hasPrefix("VmRSS:") })
        else { return 0 }
        return Int(line.split(separator: " ", omittingEmptySubsequences: true).dropFirst().first ?? "") ?? 0
    }

    /// The CPU time the server has used, user and system, in seconds.
    func cpuSeconds() -> Double {
        guard let text = try? String(contentsOfFile: "/proc/\(server.processIdentifier)/stat", encoding: .utf8),
            let close = text.lastIndex(of: ")")
        else { return 0 }
        // After the command's closing parenthesis: field 3 (state) first, so utime (14) and stime (15) are 11, 12.
        let fields = text[text.index(after: close)...].split(separator: " ")
        guard fields.count > 12, let user = Double(fields[11]), let system = Double(fields[12]) else { return 0 }
        return (user + system) / Double(sysconf(Int32(_SC_CLK_TCK)))
    }

    /// What the batches recorded once the inbox drained.
    struct Drained {
        var tasks = 0
        var unattributed = 0
        var batches = 0
        var spans = 0
        /// From the end of the load until the last task was in the table, in seconds.
        var drain = 0.0
        /// Per batch: its entry's time less when the last of its requests was received, in seconds.
        var lags: [Double] = []
        /// Looks at the ledger file that SQLite refused.
        var failedLooks = 0

        func report(sent: Int) {
            PurserBench.report(
                "  tasks summarized / sent", "\(tasks) / \(sent)",
                target: "\(verdict(tasks == sent)) (\(batches) batches, \(spans / max(batches, 1)) spans each)")
            PurserBench.report(
                "  summarizing lag", "drained \(format(drain, 1)) s after",
                target:
                    "per batch p50 \(format(percentile(lags, 0.5), 1)) / max \(format(lags.max() ?? 0, 1)) s (window 3 s)"
            )
            if failedLooks > 0 { print("  (\(failedLooks) looks at the ledger file failed and were retried)") }
        }
    }

    /// Waits (polling the ledger file, read-only) until the inbox is empty and `tasks` tasks are in the table, or
    /// 300 s pass; returns what the `metrics.summarized` entries say.
    func drain(tasks: Int) throws -> Drained {
        let start = DispatchTime.now().uptimeNanoseconds
        var drained = Drained()
        while true {
            // A connection per look; a look SQLite refuses is counted and retried. (Before the ledger kept its
            // POSIX locks while opening, these looks saw SQLITE_CORRUPT: the server wrote to a WAL deleted under it.)
            var count = 0
            var inbox: Int64 = 1
            do {
                let connection = try Connection(path: path, mode: .readOnly)
                count = Int(try connection.scalarInt("SELECT count(*) FROM main.tasks") ?? 0)
                inbox =
                    try Connection(path: Inbox.path(forLedgerAt: path), mode: .readOnly)
                    .scalarInt("SELECT count(*) FROM main.otlp_inbox") ?? 0
            } catch {
                drained.failedLooks += 1
            }
            drained.drain = Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
            if (count >= tasks && inbox == 0) || drained.drain > 300 {
                drained.tasks = count
                break
            }
            usleep(50_000)
        }
        let connection = try Connection(path: path, mode: .readOnly)
        let statement = try connection.prepare(
            """
            SELECT json_extract(CAST(entry AS TEXT), '$.body.unattributed'),
                json_extract(CAST(entry AS TEXT), '$.body.batch.spans'),
                (julianday(at) - julianday(json_extract(CAST(entry AS TEXT), '$.body.batch.received_until'))) * 86400
            FROM main.entries WHERE kind = 'metrics.summarized'
            """)
        while try statement.step() {
            drained.unattributed += Int(statement.int64(0))
            drained.spans += Int(statement.int64(1))
            drained.lags.append(statement.double(2))
            drained.batches += 1
        }
        return drained
    }

    func stop() throws {
        kill(server.processIdentifier, SIGTERM)
        server.waitUntilExit()
        guard server.terminationStatus == 0 else {
            throw LoadError(message: "purser serve exited \(server.terminationStatus) on SIGTERM")
        }
    }
}
