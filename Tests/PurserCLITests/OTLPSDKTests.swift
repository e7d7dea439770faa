import Foundation
import PurserLedger
import Testing

/// The Python interpreter with the pinned OpenTelemetry SDK (Tests/OTel/requirements.txt): `PURSER_OTEL_PYTHON`,
/// which .ci/run sets from scripts/otel-venv, else that script's .build/otel-venv; nil when neither is there.
let otelPython: String? = {
    let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent()
    let candidates: [String?] = [
        ProcessInfo.processInfo.environment["PURSER_OTEL_PYTHON"],
        root.appendingPathComponent(".build/otel-venv/bin/python").path,
    ]
    return candidates.compactMap { $0 }.first { FileManager.default.isExecutableFile(atPath: $0) }
}()

/// One agent process of Tests/OTel/otel_agent.py's plan, and the figures purser should make of its tasks, computed
/// here from the rules that script documents.
struct AgentPlan {
    let version: String?
    let tasks: Int
    let errorEvery: Int
    let toolErrorEvery: Int
    let inputTokens: Int
    let quality: Double

    var json: String {
        let name = version.map { "\"\($0)\"" } ?? "null"
        return
            #"{"version":\#(name),"tasks":\#(tasks),"error_every":\#(errorEvery),"tool_error_every":\#(toolErrorEvery),"input_tokens":\#(inputTokens),"quality":\#(quality)}"#
    }

    private var indices: [Int] { Array(0..<tasks) }
    private func every(_ k: Int, _ i: Int) -> Bool { k > 0 && (i + 1) % k == 0 }
    private func mean(_ values: [Double]) -> Double { values.reduce(0, +) / Double(values.count) }

    var spans: Int { 4 * tasks }
    var errors: Int { indices.filter { every(errorEvery, $0) }.count }
    var errorRate: Double { Double(errors) / Double(tasks) }
    var toolSuccessRate: Double { Double(tasks - indices.filter { every(toolErrorEvery, $0) }.count) / Double(tasks) }
    /// Two model calls per task: input_tokens + i, then input_tokens + i + 200.
    var meanInputTokens: Double { mean(indices.map { Double(2 * (inputTokens + $0) + 200) }) }
    var meanOutputTokens: Double { mean(indices.map { Double(40 + $0 % 3 + 60) }) }
    /// An evaluation on every even task.
    var qualities: [Double] { indices.filter { $0 % 2 == 0 }.map { quality + 0.02 * Double($0 % 5) } }
    var durationP50: Double { percentile(indices.map { Double(2_000 + 10 * ($0 % 7)) }, 0.5) }
    var toolLatencyP95: Double { percentile(indices.map { Double(100 + 5 * ($0 % 4)) }, 0.95) }
}

/// A real OpenTelemetry SDK (Python's, with its OTLP/HTTP protobuf exporter) sends agent traces to `purser serve`;
/// the report and the canary judge give the figures the test computes from what it told the agent to send.
@Suite(
    "OpenTelemetry SDK into purser serve",
    .enabled(if: otelPython != nil, "no OpenTelemetry SDK: run scripts/otel-venv, or set PURSER_OTEL_PYTHON"))
struct OTLPSDKTests {
    static let emitter = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("OTel/otel_agent.py").path

    /// Runs the emitter with `plans` against `receiver`; fails the test unless every export succeeded.
    func emit(_ plans: [AgentPlan], to receiver: TraceReceiver, arguments: [String] = []) throws {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: try #require(otelPython))
        process.arguments =
            [
                Self.emitter, "--endpoint", receiver.endpoint, "--token", receiver.writer, "--env", "prod",
                "--plan", "[" + plans.map(\.json).joined(separator: ",") + "]",
            ] + arguments
        let errors = Pipe()
        process.standardError = errors
        process.standardOutput = FileHandle.nullDevice
        try process.run()
        let stderr = String(decoding: errors.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        #expect(process.terminationStatus == 0, "otel_agent.py: \(stderr)")
    }

    @Test("two versions' agents: report and canary judge agree with the figures of what was sent; no version counted")
    func sdkTracesReportAndJudge() throws {
        let baseline = AgentPlan(
            version: "agent@1", tasks: 60, errorEvery: 20, toolErrorEvery: 10, inputTokens: 1_000, quality: 0.8)
        let canary = AgentPlan(
            version: "agent@2", tasks: 60, errorEvery: 2, toolErrorEvery: 3, inputTokens: 1_500, quality: 0.6)
        let nameless = AgentPlan(
            version: nil, tasks: 2, errorEvery: 0, toolErrorEvery: 0, inputTokens: 10, quality: 0.5)
        let since = Timestamp.format(Date().addingTimeInterval(-3_600))
        let receiver = try TraceReceiver(canary: true, options: TraceReceiver.patient)
        try emit([baseline, canary, nameless], to: receiver, arguments: ["--gzip", "--seed", "19"])

        try receiver.wait("120 tasks and \(nameless.spans) unattributed spans") {
            try receiver.taskCount() == 120 && receiver.summed("unattributed") == Double(nameless.spans)
        }
        let report = try receiver.report()
        for plan in [baseline, canary] {
            let row = try #require(report[plan.version!], "\(plan.version!) in \(report.keys.sorted())")
            #expect(row["tasks"] == .number(Double(plan.tasks)))
            #expect(close(row["error_rate"], plan.errorRate) && close(row["completion_rate"], 1 - plan.errorRate))
            #expect(close(row["input_tokens"], plan.meanInputTokens), "\(row["input_tokens"] as Any)")
            #expect(close(row["output_tokens"], plan.meanOutputTokens), "\(row["output_tokens"] as Any)")
            #expect(close(row["tool_success_rate"], plan.toolSuccessRate))
            #expect(close(row["quality"]?["mean"], plan.qualities.reduce(0, +) / Double(plan.qualities.count)))
            #expect(row["quality"]?["n"] == .number(Double(plan.qualities.count)))
            #expect(close(row["duration_ms"]?["p50"], plan.durationP50))
            #expect(close(row["tool_latency_ms"]?["p95"], plan.toolLatencyP95))
        }

        receiver.workspace.write(
            "canary.yaml",
            """
            steps: [10, 50, 100]
            min-sample-size: 40
            metrics:
              - {name: error_rate, statistic: rate, bad: increase, max-absolute-change: 0.01, critical: true}
              - {name: quality, statistic: mean, bad: decrease, max-relative-change: 0.05, min-sample-size: 20}
              - {name: tool_success_rate, statistic: rate, bad: decrease, max-absolute-change: 0.02}
              - {name: input_tokens, statistic: mean, bad: increase, max-relative-change: 0.1}
            scoring: {pass: 0.9, marginal: 0.5}
            auto-rollback: true
            """)
        let judged = try receiver.purser([
            "canary", "judge", "--env", "prod", "--config", "canary.yaml", "--since", since, "--json",
        ])
        #expect(judged.status == 1, "a canary with ten times the errors is rolled back: \(judged.stderr)")
        let verdict = try receiver.workspace.json(judged.stdout)
        #expect(verdict["verdict"] == .string("rollback") && verdict["rollback_seq"]?.numberValue != nil)
        let metrics = Dictionary(
            (verdict["metrics"]?.arrayValue ?? []).map { ($0["metric"]?.stringValue ?? "?", $0) }
        ) { first, _ in first }
        let expected: [(String, Double, Double, Double)] = [
            ("error_rate", baseline.errorRate, canary.errorRate, 60),
            ("quality", mean(baseline.qualities), mean(canary.qualities), 30),
            ("tool_success_rate", baseline.toolSuccessRate, canary.toolSuccessRate, 60),
            ("input_tokens", baseline.meanInputTokens, canary.meanInputTokens, 60),
        ]
        for (name, baselineValue, canaryValue, n) in expected {
            let metric = try #require(metrics[name], "\(name) judged")
            #expect(close(metric["baseline"], baselineValue) && close(metric["canary"], canaryValue), "\(name)")
            #expect(metric["n"]?["baseline"] == .number(n) && metric["n"]?["canary"] == .number(n), "\(name)")
            #expect(metric["label"] == .string("regression"), "\(name): \(metric)")
        }
        _ = receiver.server.stop()
        let verify = try receiver.workspace.run(["verify"])
        #expect(verify.status == 0, "\(verify.stdout)\(verify.stderr)")
    }

    private func mean(_ values: [Double]) -> Double { values.reduce(0, +) / Double(values.count) }
}

/// Whether `value` is a number within 1e-9 of `expected` (relative to its size): sums in another order differ in
/// the last bits.
func close(_ value: JSONValue?, _ expected: Double) -> Bool {
    guard let number = value?.numberValue else { return false }
    return abs(number - expected) <= 1e-9 * max(1, abs(expected))
}
