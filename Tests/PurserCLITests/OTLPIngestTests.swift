import Foundation
import PurserLedger
import Testing

/// `purser metrics ingest --format otlp`: agent traces as the Collector's file exporter writes them, into tasks that
/// the report, `reindex` and `verify` treat as any ingested file's.
@Suite("metrics ingest --format otlp, end to end")
struct OTLPIngestTests {
    /// An OTLP/JSON attribute.
    static func attribute(_ key: String, _ value: String) -> String {
        #"{"key":"\#(key)","value":{"stringValue":"\#(value)"}}"#
    }

    static func integer(_ key: String, _ value: Int) -> String {
        #"{"key":"\#(key)","value":{"intValue":"\#(value)"}}"#
    }

    /// The spans of one agent task of `version`: invoke_agent → chat → execute_tool (failing when `toolFails`),
    /// with `tokens` input tokens; the whole task an error when `fails`. Trace and span ids come from `n`; the task
    /// starts `n` times `step` after `base` (nanoseconds; 2026-12-07T10:00:00Z and a second by default).
    static func task(
        _ n: Int, version: String, tokens: Int, fails: Bool = false, toolFails: Bool = false,
        base: Int = 1_796_637_600_000_000_000, step: Int = 1_000_000_000
    ) -> [String] {
        let trace = String(format: "%032x", n + 1)
        let start = base + n * step
        func span(_ id: Int, parent: Int?, ms: (Int, Int), error: Bool, _ attributes: [String]) -> String {
            """
            {"traceId":"\(trace)","spanId":"\(String(format: "%016x", id))",\
            "parentSpanId":"\(parent.map { String(format: "%016x", $0) } ?? "")","name":"s",\
            "startTimeUnixNano":"\(start + ms.0 * 1_000_000)","endTimeUnixNano":"\(start + ms.1 * 1_000_000)",\
            "status":{"code":\(error ? 2 : 1)},"attributes":[\(attributes.joined(separator: ","))]}
            """
        }
        return [
            span(
                1, parent: nil, ms: (0, 2_000), error: fails,
                [
                    attribute("gen_ai.operation.name", "invoke_agent"), attribute("purser.version", version),
                ]),
            span(
                2, parent: 1, ms: (10, 900), error: false,
                [
                    attribute("gen_ai.operation.name", "chat"), attribute("gen_ai.response.model", "gpt-4o"),
                    integer("gen_ai.usage.input_tokens", tokens), integer("gen_ai.usage.output_tokens", 50),
                ]),
            span(
                3, parent: 1, ms: (1_000, 1_100), error: toolFails, [attribute("gen_ai.operation.name", "execute_tool")]
            ),
        ]
    }

    static func request(_ spans: [String]) -> String {
        let resource = attribute("deployment.environment.name", "prod")
        return
            #"{"resourceSpans":[{"resource":{"attributes":[\#(resource)]},"scopeSpans":[{"spans":[\#(spans.joined(separator: ","))]}]}]}"#
    }

    @Test("two versions' traces: the tasks, their figures, a span without a task counted; reindex and verify agree")
    func ingestReportReindex() throws {
        let workspace = Workspace()
        try workspace.recordTwoVersions()
        // agent@1: 4 tasks, 1 failing; agent@2: 2 tasks, one with a failing tool. Each task's spans split over two
        // requests, the child first; one request sent twice; one span whose parent never arrives.
        var lines: [String] = []
        for n in 0..<4 {
            let spans = Self.task(n, version: "agent@1", tokens: 1_000 + 100 * n, fails: n == 3)
            lines += [Self.request(Array(spans[1...])), Self.request([spans[0]])]
        }
        for n in 4..<6 {
            let spans = Self.task(n, version: "agent@2", tokens: 500, toolFails: n == 5)
            lines += [Self.request(spans)]
        }
        lines.append(lines[1])
        let orphan = Self.task(9, version: "agent@2", tokens: 1)[1].replacingOccurrences(
            of: #""parentSpanId":"0000000000000001""#, with: #""parentSpanId":"00000000000000ff""#)
        lines.append(Self.request([orphan]))
        workspace.write("traces.jsonl", lines.joined(separator: "\n") + "\n")

        let ingest = try workspace.run(["metrics", "ingest", "traces.jsonl", "--format", "otlp", "--json"])
        #expect(ingest.status == 0, "\(ingest.stderr)")
        let outcome = try workspace.json(ingest.stdout)
        #expect(
            outcome["records"] == .number(6) && outcome["new"] == .number(6) && outcome["unattributed"] == .number(1))
        let text = try workspace.run(["metrics", "ingest", "traces.jsonl", "--format", "otlp"])
        #expect(text.stdout.contains("ingested 6 task records (0 new, 6 already known)"), "\(text.stdout)")
        #expect(text.stdout.contains("1 span(s) belong to no task"), "\(text.stdout)")

        func report() throws -> [String: JSONValue] {
            let result = try workspace.run(["metrics", "report", "--env", "prod", "--json"])
            try #require(result.status == 0, "\(result.stderr)")
            var rows: [String: JSONValue] = [:]
            for row in try workspace.json(result.stdout)["versions"]?.arrayValue ?? [] {
                rows[row["label"]?.stringValue ?? "?"] = row
            }
            return rows
        }
        let before = try report()
        #expect(before["agent@1"]?["tasks"] == .number(4) && before["agent@1"]?["error_rate"] == .number(0.25))
        #expect(before["agent@1"]?["input_tokens"] == .number(1_150), "the mean of 1,000, 1,100, 1,200 and 1,300")
        #expect(before["agent@2"]?["tasks"] == .number(2) && before["agent@2"]?["tool_success_rate"] == .number(0.5))
        #expect(before["agent@2"]?["duration_ms"]?["p50"] == .number(2_000))

        #expect(try workspace.run(["reindex"]).status == 0)
        #expect(try report() == before, "the tasks rebuilt from the stored traces are the same")
        let verify = try workspace.run(["verify"])
        #expect(verify.status == 0, "\(verify.stdout) \(verify.stderr)")
    }

    @Test("a trace file without a task, or with a malformed span, is refused and writes nothing")
    func refusals() throws {
        let workspace = Workspace()
        try workspace.recordTwoVersions()
        let before = workspace.ledgerSnapshot()
        workspace.write("none.jsonl", Self.request([Self.task(0, version: "agent@1", tokens: 1)[1]]) + "\n")
        let none = try workspace.run(["metrics", "ingest", "none.jsonl", "--format", "otlp"])
        #expect(none.status == 65)
        #expect(none.stderr.contains("none.jsonl: no agent tasks"), "\(none.stderr)")
        workspace.write("bad.jsonl", "\n" + Self.request(["{\"traceId\":\"nothex\"}"]) + "\n")
        let bad = try workspace.run(["metrics", "ingest", "bad.jsonl", "--format", "otlp"])
        #expect(bad.status == 65)
        #expect(bad.stderr.contains("bad.jsonl line 2: resourceSpans[0].scopeSpans[0].spans[0]"), "\(bad.stderr)")
        workspace.write("unknown.jsonl", Self.request(Self.task(0, version: "agent@9", tokens: 1)) + "\n")
        let unknown = try workspace.run(["metrics", "ingest", "unknown.jsonl", "--format", "otlp"])
        #expect(unknown.status == 65)
        #expect(unknown.stderr.contains("unknown.jsonl line 1: version:"), "\(unknown.stderr)")
        #expect(workspace.ledgerSnapshot() == before)
    }
}
