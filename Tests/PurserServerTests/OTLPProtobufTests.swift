import Foundation
import OTLPProto
import PurserCore
import PurserLedger
import PurserOperations
import SwiftProtobuf
import Testing

@testable import PurserServer

/// OTLP/HTTP's protobuf encoding read into the same spans as the OTLP/JSON reader makes of the same request.
@Suite("OTLP protobuf requests and answers")
struct OTLPProtobufTests {
    typealias AnyValue = Opentelemetry_Proto_Common_V1_AnyValue
    typealias KeyValue = Opentelemetry_Proto_Common_V1_KeyValue
    typealias Span = Opentelemetry_Proto_Trace_V1_Span

    static let trace = "4bf92f3577b34da6a3ce929d0e0e4736"

    static func pair(_ key: String, _ build: (inout AnyValue) -> Void) -> KeyValue {
        var pair = KeyValue()
        pair.key = key
        build(&pair.value)
        return pair
    }

    static func value(_ build: (inout AnyValue) -> Void) -> AnyValue {
        var value = AnyValue()
        build(&value)
        return value
    }

    static func data(_ hex: String) -> Data {
        var bytes: [UInt8] = []
        var index = hex.startIndex
        while index < hex.endIndex {
            let next = hex.index(index, offsetBy: 2)
            bytes.append(UInt8(hex[index..<next], radix: 16)!)
            index = next
        }
        return Data(bytes)
    }

    /// An `ExportTraceServiceRequest` of `spans` from one resource and scope.
    static func request(
        _ spans: [Span], resource: [KeyValue] = [], scope: (name: String, version: String) = ("", "")
    ) throws -> [UInt8] {
        var scopeSpans = Opentelemetry_Proto_Trace_V1_ScopeSpans()
        scopeSpans.scope.name = scope.name
        scopeSpans.scope.version = scope.version
        scopeSpans.spans = spans
        var resourceSpans = Opentelemetry_Proto_Trace_V1_ResourceSpans()
        resourceSpans.resource.attributes = resource
        resourceSpans.scopeSpans = [scopeSpans]
        var request = Opentelemetry_Proto_Collector_Trace_V1_ExportTraceServiceRequest()
        request.resourceSpans = [resourceSpans]
        return try request.serializedBytes()
    }

    /// A span written by hand with the generated types, with every value type, a kind, a status and an event.
    static func richSpan() -> Span {
        var span = Span()
        span.traceID = data(trace)
        span.spanID = data("00f067aa0ba902b7")
        span.parentSpanID = data("00f067aa0ba902b6")
        span.name = "chat gpt-4o"
        span.kind = .client
        span.startTimeUnixNano = 1_796_637_600_000_000_001
        span.endTimeUnixNano = 1_796_637_601_000_000_000
        span.status.code = .error
        span.status.message = "rate limited"
        var list = Opentelemetry_Proto_Common_V1_ArrayValue()
        list.values = [value { $0.stringValue = "a" }, value { $0.intValue = -3 }]
        var map = Opentelemetry_Proto_Common_V1_KeyValueList()
        map.values = [pair("k") { $0.boolValue = true }, pair("k2") { $0.doubleValue = 0.5 }]
        span.attributes = [
            pair("gen_ai.operation.name") { $0.stringValue = "chat" },
            pair("gen_ai.usage.input_tokens") { $0.intValue = 9_007_199_254_740_993 },
            pair("ratio") { $0.doubleValue = 0.25 }, pair("cached") { $0.boolValue = false },
            pair("blob") { $0.bytesValue = Data([0, 255]) }, pair("list") { $0.arrayValue = list },
            pair("map") { $0.kvlistValue = map }, pair("unset") { _ in },
        ]
        var event = Span.Event()
        event.timeUnixNano = 1_796_637_600_500_000_000
        event.name = "gen_ai.evaluation.result"
        event.attributes = [pair("gen_ai.evaluation.score.value") { $0.doubleValue = 0.75 }]
        span.events = [event]
        return span
    }

    /// The same request as `richSpan` makes, written by hand in OTLP/JSON as a Collector writes it.
    static let richJSON = """
        {"resourceSpans":[{"resource":{"attributes":[{"key":"service.name","value":{"stringValue":"support"}}]},
        "scopeSpans":[{"scope":{"name":"openai-instrumentation","version":"0.9.1"},"spans":[{
        "traceId":"4bf92f3577b34da6a3ce929d0e0e4736","spanId":"00f067aa0ba902b7","parentSpanId":"00f067aa0ba902b6",
        "name":"chat gpt-4o","kind":3,"startTimeUnixNano":"1796637600000000001",
        "endTimeUnixNano":"1796637601000000000","status":{"code":2,"message":"rate limited"},"attributes":[
        {"key":"gen_ai.operation.name","value":{"stringValue":"chat"}},
        {"key":"gen_ai.usage.input_tokens","value":{"intValue":"9007199254740993"}},
        {"key":"ratio","value":{"doubleValue":0.25}},{"key":"cached","value":{"boolValue":false}},
        {"key":"blob","value":{"bytesValue":"AP8="}},
        {"key":"list","value":{"arrayValue":{"values":[{"stringValue":"a"},{"intValue":"-3"}]}}},
        {"key":"map","value":{"kvlistValue":{"values":[{"key":"k","value":{"boolValue":true}},
        {"key":"k2","value":{"doubleValue":0.5}}]}}},{"key":"unset","value":{}}],
        "events":[{"timeUnixNano":"1796637600500000000","name":"gen_ai.evaluation.result","attributes":[
        {"key":"gen_ai.evaluation.score.value","value":{"doubleValue":0.75}}]}]}]}]}]}
        """

    @Test("one request, in protobuf and in OTLP/JSON, reads into the same spans")
    func sameSpansBothWays() throws {
        let protobuf = try Self.request(
            [Self.richSpan()], resource: [Self.pair("service.name") { $0.stringValue = "support" }],
            scope: ("openai-instrumentation", "0.9.1"))
        let fromProtobuf = try OTLPProtobuf.spans(protobuf)
        let fromJSON = try OTLPJSON.request(Array(Self.richJSON.utf8))
        #expect(fromProtobuf.rejected == 0 && fromJSON.rejected == 0)
        try #require(fromProtobuf.spans.count == 1)
        #expect(fromProtobuf.spans == fromJSON.spans)
        let span = fromProtobuf.spans[0]
        #expect(span.kind == 3 && span.statusCode == 2 && span.failed && span.statusMessage == "rate limited")
        #expect(span.attributes["gen_ai.usage.input_tokens"] == .int(9_007_199_254_740_993))
        #expect(span.attributes["list"] == .array([.string("a"), .int(-3)]))
        #expect(span.attributes["blob"] == .bytes([0, 255]) && span.attributes["unset"] == .empty)
        #expect(span.events.first?.timeNanos == 1_796_637_600_500_000_000)
        #expect(span.scope == OTLPScope(name: "openai-instrumentation", version: "0.9.1"))
        // The receiver keeps spans as OTLP/JSON lines; they read back the same.
        #expect(try OTLPJSON.spans(OTLPJSON.encode(fromProtobuf.spans), source: "batch") == fromProtobuf.spans)
        // And written as protobuf again, they read back the same too.
        #expect(try OTLPProtobuf.spans(OTLPProtobuf.request(fromProtobuf.spans)).spans == fromProtobuf.spans)
    }

    @Test("unusable spans are rejected one by one, as the OTLP/JSON reader rejects them, and the rest kept")
    func rejectsUnusableSpans() throws {
        func span(
            _ trace: String, _ id: String, parent: String = "", start: UInt64 = 1, end: UInt64 = 2, code: Int = 0
        )
            -> Span
        {
            var span = Span()
            span.traceID = Self.data(trace)
            span.spanID = Self.data(id)
            span.parentSpanID = Self.data(parent)
            span.startTimeUnixNano = start
            span.endTimeUnixNano = end
            span.status.code = .init(rawValue: code)!
            return span
        }
        let trace = Self.trace
        let zeros = String(repeating: "0", count: 32)
        let request = try Self.request([
            span(trace, "0000000000000001"), span("4bf92f35", "0000000000000002"),
            span(trace, "0000000000000003", start: 5, end: 2), span(trace, "0000000000000004", code: 7),
            span(trace, "0000000000000000"), span(trace, "0000000000000006", parent: "00"),
            span(zeros, "0000000000000007"),
        ])
        let (spans, rejected, problems) = try OTLPProtobuf.spans(request)
        #expect(spans.map(\.spanID) == ["0000000000000001"])
        #expect(rejected == 6)
        let at = "resourceSpans[0].scopeSpans[0].spans"
        #expect(
            problems == [
                "\(at)[1].traceId: expected 16 bytes, not all zero; got 4",
                "\(at)[2].endTimeUnixNano: 2 is before startTimeUnixNano 5",
                "\(at)[3].status.code: expected 0, 1 or 2, not 7",
                "\(at)[4].spanId: expected 8 bytes, not all zero; got 8",
                "\(at)[5].parentSpanId: expected 8 bytes, not all zero; got 1",
                "\(at)[6].traceId: expected 16 bytes, not all zero; got 16",
            ])
        // The JSON reader of the receiver rejects the same spans of the same request.
        func json(
            _ trace: String, _ id: String, parent: String = "", start: Int = 1, end: Int = 2, code: Int = 0
        )
            -> String
        {
            #"{"traceId":"\#(trace)","spanId":"\#(id)","parentSpanId":"\#(parent)","startTimeUnixNano":"\#(start)","#
                + #""endTimeUnixNano":"\#(end)","status":{"code":\#(code)}}"#
        }
        let sent = [
            json(trace, "0000000000000001"), json("4bf92f35", "0000000000000002"),
            json(trace, "0000000000000003", start: 5, end: 2), json(trace, "0000000000000004", code: 7),
            json(trace, "0000000000000000"), json(trace, "0000000000000006", parent: "00"),
            json(zeros, "0000000000000007"),
        ]
        let text = #"{"resourceSpans":[{"scopeSpans":[{"spans":["# + sent.joined(separator: ",") + "]}]}]}"
        let fromJSON = try OTLPJSON.request(Array(text.utf8))
        #expect(fromJSON.spans == spans && fromJSON.rejected == rejected)
    }

    @Test(
        "bytes that are not an ExportTraceServiceRequest are refused as invalid input",
        arguments: [[0xFF, 0xFF, 0xFF], [0x0A, 0x05, 0x01], Array("{\"resourceSpans\":[]}".utf8)] as [[UInt8]])
    func refusesGarbage(_ bytes: [UInt8]) {
        #expect {
            _ = try OTLPProtobuf.spans(bytes)
        } throws: { error in
            let error = error as? LedgerError
            return error?.code == .invalidInput
                && error?.message.hasPrefix("the body is not a protobuf ExportTraceServiceRequest") == true
        }
    }

    @Test("the answer: empty when all were accepted, else partial_success, in protobuf and in JSON")
    func answers() throws {
        typealias Response = Opentelemetry_Proto_Collector_Trace_V1_ExportTraceServiceResponse
        #expect(OTLPProtobuf.response(rejected: 0, message: "").isEmpty)
        let partial = try Response(serializedBytes: OTLPProtobuf.response(rejected: 3, message: "ids"))
        #expect(partial.partialSuccess.rejectedSpans == 3 && partial.partialSuccess.errorMessage == "ids")
        #expect(String(decoding: OTLPProtobuf.jsonResponse(rejected: 0, message: ""), as: UTF8.self) == "{}")
        #expect(
            String(decoding: OTLPProtobuf.jsonResponse(rejected: 3, message: "ids \"x\""), as: UTF8.self)
                == #"{"partialSuccess":{"errorMessage":"ids \"x\"","rejectedSpans":"3"}}"#)
    }

    @Test("log records of gen_ai.evaluation.result events become evaluations of their spans; others are skipped")
    func evaluations() throws {
        func record(
            event: String?, attribute: String? = nil, span: String, score: Double? = nil
        )
            -> Opentelemetry_Proto_Logs_V1_LogRecord
        {
            var record = Opentelemetry_Proto_Logs_V1_LogRecord()
            if let event { record.eventName = event }
            if let attribute { record.attributes.append(Self.pair("event.name") { $0.stringValue = attribute }) }
            record.traceID = Self.data(Self.trace)
            record.spanID = Self.data(span)
            record.observedTimeUnixNano = 42
            record.attributes.append(Self.pair("gen_ai.evaluation.name") { $0.stringValue = "helpful" })
            if let score {
                record.attributes.append(Self.pair("gen_ai.evaluation.score.value") { $0.doubleValue = score })
            }
            return record
        }
        var scopeLogs = Opentelemetry_Proto_Logs_V1_ScopeLogs()
        scopeLogs.logRecords = [
            record(event: "gen_ai.evaluation.result", span: "00f067aa0ba902b7", score: 0.5),
            record(event: nil, attribute: "gen_ai.evaluation.result", span: "00f067aa0ba902b8"),
            record(event: "app.started", span: "00f067aa0ba902b9", score: 1),
            record(event: nil, span: "00f067aa0ba902ba", score: 1),
            record(event: "gen_ai.evaluation.result", span: "", score: 1),
        ]
        var resourceLogs = Opentelemetry_Proto_Logs_V1_ResourceLogs()
        resourceLogs.scopeLogs = [scopeLogs]
        var request = Opentelemetry_Proto_Collector_Logs_V1_ExportLogsServiceRequest()
        request.resourceLogs = [resourceLogs]
        let (evaluations, rejected, problems) = try OTLPProtobuf.evaluations(try request.serializedBytes())
        #expect(
            evaluations == [
                OTLPEvaluation(
                    traceID: Self.trace, spanID: "00f067aa0ba902b7", name: "helpful", score: 0.5, timeNanos: 42),
                OTLPEvaluation(
                    traceID: Self.trace, spanID: "00f067aa0ba902b8", name: "helpful", score: nil, timeNanos: 42),
            ])
        #expect(rejected == 1)
        #expect(
            problems == ["resourceLogs[0].scopeLogs[0].logRecords[4].spanId: expected 8 bytes, not all zero; got 0"])
        #expect(throws: LedgerError.self) { _ = try OTLPProtobuf.evaluations([0xFF]) }
    }

    @Test("the same log records in OTLP/JSON give the same evaluations")
    func evaluationsInJSON() throws {
        func record(_ event: String, span: String, score: String = "") -> String {
            #"{"eventName":"\#(event)","traceId":"\#(Self.trace)","spanId":"\#(span)","observedTimeUnixNano":"42","#
                + #""attributes":[{"key":"gen_ai.evaluation.name","value":{"stringValue":"helpful"}}\#(score)]}"#
        }
        let score = #",{"key":"gen_ai.evaluation.score.value","value":{"doubleValue":0.5}}"#
        let records = [
            record("gen_ai.evaluation.result", span: "00f067aa0ba902b7", score: score),
            record("app.started", span: "00f067aa0ba902b9", score: score),
            record("gen_ai.evaluation.result", span: "", score: score),
        ]
        let body = #"{"resourceLogs":[{"scopeLogs":[{"logRecords":["# + records.joined(separator: ",") + "]}]}]}"
        let (evaluations, rejected, problems) = try OTLPJSON.evaluations(Array(body.utf8))
        #expect(
            evaluations == [
                OTLPEvaluation(
                    traceID: Self.trace, spanID: "00f067aa0ba902b7", name: "helpful", score: 0.5, timeNanos: 42)
            ])
        #expect(rejected == 1)
        #expect(
            problems == [
                "resourceLogs[0].scopeLogs[0].logRecords[2].spanId: expected 16 hex digits, not all zero"
            ])
        var protobuf = Opentelemetry_Proto_Collector_Logs_V1_ExportLogsServiceRequest()
        protobuf.resourceLogs = [.init()]
        protobuf.resourceLogs[0].scopeLogs = [.init()]
        for (span, event) in [("00f067aa0ba902b7", "gen_ai.evaluation.result"), ("00f067aa0ba902b9", "app.started")] {
            var record = Opentelemetry_Proto_Logs_V1_LogRecord()
            record.eventName = event
            record.traceID = Self.data(Self.trace)
            record.spanID = Self.data(span)
            record.observedTimeUnixNano = 42
            record.attributes = [
                Self.pair("gen_ai.evaluation.name") { $0.stringValue = "helpful" },
                Self.pair("gen_ai.evaluation.score.value") { $0.doubleValue = 0.5 },
            ]
            protobuf.resourceLogs[0].scopeLogs[0].logRecords.append(record)
        }
        #expect(try OTLPProtobuf.evaluations(try protobuf.serializedBytes()).evaluations == evaluations)
        #expect {
            _ = try OTLPJSON.evaluations(Array(#"{"resourceLogs":{}}"#.utf8))
        } throws: { error in
            (error as? LedgerError)?.message == "the OTLP/JSON logs request: resourceLogs: expected an array"
        }
    }
}
