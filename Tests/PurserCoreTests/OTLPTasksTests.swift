import Foundation
import PurserLedger
import Testing

@testable import PurserCore

/// OTLP/JSON spans of agents instrumented with the GenAI semantic conventions, assembled into task records.
@Suite("OTLP spans into agent tasks")
struct OTLPTasksTests {
    static let trace = "4bf92f3577b34da6a3ce929d0e0e4736"

    /// An OTLP/JSON attribute.
    static func attribute(_ key: String, _ value: Any) -> String {
        switch value {
        case let text as String: #"{"key":"\#(key)","value":{"stringValue":"\#(text)"}}"#
        case let number as Int: #"{"key":"\#(key)","value":{"intValue":"\#(number)"}}"#
        case let number as Double: #"{"key":"\#(key)","value":{"doubleValue":\#(number)}}"#
        default: fatalError("\(value)")
        }
    }

    /// A span of `trace` starting `start` ms and ending `end` ms after 2026-12-07T10:00:00Z.
    static func span(
        _ id: String, parent: String? = nil, name: String, start: Int, end: Int, error: Bool = false,
        attributes: [String] = [], events: String = "[]", trace: String = trace
    ) -> String {
        let base = 1_796_637_600_000  // 2026-12-07T10:00:00Z in ms
        return """
            {"traceId":"\(trace)","spanId":"\(id)","parentSpanId":"\(parent ?? "")","name":"\(name)",\
            "startTimeUnixNano":"\(base + start)000000","endTimeUnixNano":"\(base + end)000000",\
            "status":{"code":\(error ? 2 : 0)},"attributes":[\(attributes.joined(separator: ","))],"events":\(events)}
            """
    }

    /// One `ExportTraceServiceRequest` line: `spans` from a resource with `resource` attributes.
    static func request(_ spans: [String], resource: [String]) -> String {
        #"{"resourceSpans":[{"resource":{"attributes":[\#(resource.joined(separator: ","))]},"scopeSpans":[{"scope":{"name":"agent"},"spans":[\#(spans.joined(separator: ","))]}]}]}"#
    }

    static let resource = [attribute("service.name", "support"), attribute("deployment.environment.name", "prod")]

    @Test("invoke_agent → chat → execute_tool (failed) → chat: tokens, model, tools, quality; children first, retried")
    func oneTask() throws {
        let invoke = Self.span(
            "00f067aa0ba902b7", name: "invoke_agent support", start: 0, end: 4_000,
            attributes: [
                Self.attribute("gen_ai.operation.name", "invoke_agent"), Self.attribute("gen_ai.agent.name", "support"),
                Self.attribute("purser.version", "support-agent@1.4.0"),
            ],
            events:
                #"[{"name":"gen_ai.evaluation.result","attributes":[\#(Self.attribute("gen_ai.evaluation.name", "helpful")),\#(Self.attribute("gen_ai.evaluation.score.value", 0.75))]}]"#
        )
        let chat1 = Self.span(
            "00f067aa0ba902b8", parent: "00f067aa0ba902b7", name: "chat gpt-4o", start: 100, end: 1_100,
            attributes: [
                Self.attribute("gen_ai.operation.name", "chat"), Self.attribute("gen_ai.request.model", "gpt-4o"),
                Self.attribute("gen_ai.response.model", "gpt-4o-2024-08-06"),
                Self.attribute("gen_ai.usage.input_tokens", 1_200), Self.attribute("gen_ai.usage.output_tokens", 80),
            ])
        let tool = Self.span(
            "00f067aa0ba902b9", parent: "00f067aa0ba902b7", name: "execute_tool lookup", start: 1_200, end: 1_500,
            error: true, attributes: [Self.attribute("gen_ai.operation.name", "execute_tool")])
        let chat2 = Self.span(
            "00f067aa0ba902ba", parent: "00f067aa0ba902b7", name: "chat gpt-4o", start: 1_600, end: 3_900,
            attributes: [
                Self.attribute("gen_ai.operation.name", "chat"), Self.attribute("gen_ai.usage.input_tokens", 1_500),
                Self.attribute("gen_ai.usage.output_tokens", 220), Self.attribute("purser.cost_usd", 0.012),
            ])
        // The children arrive in a request before their parent's, and the second request is sent twice.
        let file = [
            Self.request([chat2, tool], resource: Self.resource),
            Self.request([chat1, invoke], resource: Self.resource),
            Self.request([chat1, invoke], resource: Self.resource),
        ].joined(separator: "\n")
        let spans = try OTLPJSON.spans(Array(file.utf8), source: "traces.jsonl")
        #expect(spans.count == 6)
        let (tasks, unattributed) = try OTLPTasks.assemble(spans)
        #expect(unattributed == 0)
        try #require(tasks.count == 1)
        #expect(tasks[0].line == 2, "the line of the invocation span")
        let task = tasks[0].record
        #expect(task.taskID == "\(Self.trace)/00f067aa0ba902b7")
        #expect(task.version == "support-agent@1.4.0" && task.env == "prod" && task.taskType == "support")
        #expect(task.startedAt == "2026-12-07T10:00:00.000Z" && task.durationMS == 4_000)
        #expect(task.completed && !task.error)
        #expect(task.model == "gpt-4o-2024-08-06")
        #expect(task.inputTokens == 2_700 && task.outputTokens == 300 && task.costUSD == 0.012)
        #expect(task.toolCalls == 1 && task.toolErrors == 1 && task.toolLatencyMS == 300)
        #expect(task.quality == 0.75)
    }

    @Test("a sub-agent is a task of its own; the agent's version as a label; spans nothing owns are counted")
    func attribution() throws {
        let resource = Self.resource + [Self.attribute("gen_ai.agent.version", "2.0.0")]
        let outer = Self.span(
            "0000000000000001", name: "invoke_agent planner", start: 0, end: 900, error: true,
            attributes: [
                Self.attribute("gen_ai.operation.name", "invoke_agent"), Self.attribute("gen_ai.agent.name", "planner"),
            ])
        let inner = Self.span(
            "0000000000000002", parent: "0000000000000001", name: "invoke_agent coder", start: 10, end: 500,
            attributes: [
                Self.attribute("gen_ai.operation.name", "invoke_agent"), Self.attribute("gen_ai.agent.name", "coder"),
                Self.attribute("error.type", "timeout"),
            ])
        let innerChat = Self.span(
            "0000000000000003", parent: "0000000000000002", name: "chat", start: 20, end: 400,
            attributes: [
                Self.attribute("gen_ai.operation.name", "chat"), Self.attribute("gen_ai.usage.input_tokens", 7),
            ])
        // A parent that never arrived, and a task whose resource names no environment.
        let orphan = Self.span(
            "0000000000000004", parent: "00000000000000ff", name: "chat", start: 0, end: 1,
            attributes: [Self.attribute("gen_ai.operation.name", "chat")])
        let homeless = Self.span(
            "0000000000000005", name: "invoke_agent x", start: 0, end: 1,
            attributes: [Self.attribute("gen_ai.operation.name", "invoke_agent")],
            trace: String(repeating: "a", count: 32))
        let file =
            [
                Self.request([outer, inner, innerChat, orphan], resource: resource),
                Self.request([homeless], resource: [Self.attribute("purser.version", "x@1")]),
            ].joined(separator: "\r\n") + "\n\n"
        let (assembled, unattributed) = try OTLPTasks.assemble(try OTLPJSON.spans(Array(file.utf8), source: "t.json"))
        let tasks = assembled.map(\.record)
        #expect(unattributed == 2)
        #expect(tasks.map(\.taskType) == ["planner", "coder"])
        #expect(tasks.map(\.version) == ["planner@2.0.0", "coder@2.0.0"])
        #expect(tasks.map(\.error) == [true, true] && tasks.map(\.completed) == [false, false])
        #expect(tasks[0].inputTokens == nil && tasks[1].inputTokens == 7, "a sub-agent's calls are its own")
        #expect(tasks[0].toolCalls == 0 && tasks[0].toolLatencyMS == nil && tasks[0].quality == nil)
    }

    @Test(
        "a malformed request names its line and field",
        arguments: [
            (#"{"resourceSpans":{}}"#, "t.json line 1: resourceSpans: expected an array"),
            (
                #"{"resourceSpans":[{"scopeSpans":[{"spans":[{"traceId":"xyz","spanId":"0000000000000001","startTimeUnixNano":"1","endTimeUnixNano":"2"}]}]}]}"#,
                "t.json line 1: resourceSpans[0].scopeSpans[0].spans[0].traceId: expected 32 hex digits, not all zero"
            ),
            (
                #"{"resourceSpans":[{"scopeSpans":[{"spans":[{"traceId":"4bf92f3577b34da6a3ce929d0e0e4736","spanId":"0000000000000001","startTimeUnixNano":"5","endTimeUnixNano":"2"}]}]}]}"#,
                "t.json line 1: resourceSpans[0].scopeSpans[0].spans[0].endTimeUnixNano: 2 is before startTimeUnixNano 5"
            ),
            (
                #"{"resourceSpans":[{"resource":{"attributes":[{"key":"n","value":{"intValue":"1.5"}}]}}]}"#,
                "t.json line 1: resourceSpans[0].resource.attributes[0].value.intValue: expected a 64-bit integer"
            ),
            ("not json", "t.json line 1: not JSON"),
        ])
    func malformed(_ line: String, _ message: String) {
        #expect {
            _ = try OTLPJSON.spans(Array(("\n" + line).utf8).dropFirst().map { $0 }, source: "t.json")
        } throws: { error in
            (error as? LedgerError)?.message.hasPrefix(message) == true
        }
    }

    @Test("a chain of 20,000 spans under one invocation, and a loop of parents, end without exhausting the stack")
    func deepChain() throws {
        func id(_ n: Int) -> String {
            String(String(n + 1, radix: 16).reversed()).padding(toLength: 16, withPad: "0", startingAt: 0)
        }
        var spans = [
            Self.span(
                id(0), name: "invoke_agent", start: 0, end: 9,
                attributes: [
                    Self.attribute("gen_ai.operation.name", "invoke_agent"), Self.attribute("purser.version", "a@1"),
                ])
        ]
        for n in 1...20_000 {
            spans.append(Self.span(id(n), parent: id(n - 1), name: "step", start: 1, end: 2))
        }
        // Two spans of another trace, each the other's parent.
        let other = String(repeating: "b", count: 32)
        spans.append(Self.span(id(1), parent: id(2), name: "loop", start: 0, end: 1, trace: other))
        spans.append(Self.span(id(2), parent: id(1), name: "loop", start: 0, end: 1, trace: other))
        let read = try OTLPJSON.spans(Array(Self.request(spans, resource: Self.resource).utf8), source: "t.json")
        let (tasks, unattributed) = try OTLPTasks.assemble(read)
        #expect(tasks.count == 1 && unattributed == 2)
    }

    @Test("a task whose values no task record may hold is refused, naming the task; a batch keeps it without them")
    func invalidTask() throws {
        let span = Self.span(
            "0000000000000001", name: "invoke_agent", start: 0, end: 1, error: true,
            attributes: [
                Self.attribute("gen_ai.operation.name", "invoke_agent"), Self.attribute("purser.version", "a@1"),
            ],
            events:
                #"[{"name":"gen_ai.evaluation.result","attributes":[\#(Self.attribute("gen_ai.evaluation.score.value", 4.5))]}]"#
        )
        let spans = try OTLPJSON.spans(Array(Self.request([span], resource: Self.resource).utf8), source: "t.json")
        #expect {
            _ = try OTLPTasks.assemble(spans)
        } throws: { error in
            (error as? LedgerError)?.message.hasPrefix("task \(Self.trace)/0000000000000001: quality") == true
        }
        // The receiver's batches keep the failing task, without the score out of range.
        let (tasks, unattributed) = try OTLPTasks.assemble(spans, lenient: true)
        #expect(unattributed == 0)
        #expect(tasks.map(\.record.error) == [true] && tasks.first?.record.quality == nil)
    }
}
