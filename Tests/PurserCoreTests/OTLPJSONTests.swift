import Foundation
import PurserLedger
import Testing

@testable import PurserCore

/// OTLP/JSON spans kept faithfully: every attribute type, kinds, scopes, statuses and event times, written again by
/// `OTLPJSON.encode` so that reading the file again gives the same spans.
@Suite("OTLP/JSON writer and faithful spans")
struct OTLPJSONTests {
    static let trace = "4bf92f3577b34da6a3ce929d0e0e4736"

    /// Values of every `AnyValue` type, nested arrays and key-value lists among them.
    static let values: OTLPAttributes = [
        "s": .string("tab\t\"quoted\" é"), "i": .int(-9_223_372_036_854_775_808), "big": .int(9_007_199_254_740_993),
        "d": .double(0.1), "whole": .double(3), "b": .bool(false), "bytes": .bytes([0, 1, 254, 255]),
        "empty": .empty, "none": .array([]), "emptyList": .kvlist([]),
        "list": .array([.string("a"), .int(2), .double(2.5), .bool(true), .array([.bytes([7])]), .empty]),
        "map": .kvlist([("z", .int(1)), ("a", .kvlist([("inner", .string("x"))])), ("z", .array([.double(-1)]))]),
    ]

    /// Spans on two lines, from two resources and three scopes, the runs interleaved.
    static let spans: [OTLPSpan] = {
        let resourceA: OTLPAttributes = ["service.name": .string("support"), "r": .array([.int(1)])]
        let resourceB: OTLPAttributes = [:]
        let agent = OTLPScope(name: "agent", version: "1.2.0")
        func span(
            _ line: Int, _ id: String, parent: String? = nil, kind: Int32 = 0, status: Int32 = 0, message: String = "",
            resource: OTLPAttributes, scope: OTLPScope, events: [OTLPEvent] = []
        ) -> OTLPSpan {
            OTLPSpan(
                line: line, traceID: trace, spanID: id, parentSpanID: parent, name: "span \(id)", kind: kind,
                startNanos: 1_796_637_600_000_000_001, endNanos: 1_796_637_600_123_456_789, statusCode: status,
                statusMessage: message, attributes: values, resource: resource, scope: scope, events: events)
        }
        return [
            span(
                1, "00f067aa0ba902b7", kind: 2, resource: resourceA, scope: agent,
                events: [
                    OTLPEvent(
                        timeNanos: 1_796_637_600_000_000_002, name: "gen_ai.evaluation.result", attributes: values),
                    OTLPEvent(name: "", attributes: [:]),
                ]),
            span(1, "00f067aa0ba902b8", parent: "00f067aa0ba902b7", kind: 3, resource: resourceA, scope: agent),
            span(
                1, "00f067aa0ba902b9", parent: "00f067aa0ba902b7", kind: 9, status: 2, message: "tool failed",
                resource: resourceA, scope: OTLPScope(name: "tools")),
            span(1, "00f067aa0ba902ba", status: 1, resource: resourceB, scope: OTLPScope()),
            span(1, "00f067aa0ba902bb", resource: resourceA, scope: agent),
            span(2, "00f067aa0ba902bc", resource: resourceA, scope: agent),
        ]
    }()

    /// Spans at the edges of what a writer must spell: NaN and the infinities, a negative kind, a scope with only a
    /// version, an event with only a name, control characters and non-ASCII in strings and keys, no attributes.
    static let oddities: [OTLPSpan] = {
        let values: OTLPAttributes = [
            "nan": .double(.nan), "inf": .double(.infinity), "-inf": .double(-.infinity),
            "tiny": .double(.leastNonzeroMagnitude),
            "huge": .double(1e21), "neg0": .double(-0.0), "ctl": .string("\u{0}\u{1f}\\\n\r\u{8}\u{c}"),
            "é": .string("ü"), "Z": .int(0), "\u{1F600}": .bool(true), "ｅ": .string(""),
        ]
        return [
            OTLPSpan(
                line: 3, traceID: trace, spanID: "0000000000000001", parentSpanID: nil, name: "",
                kind: -5, startNanos: 0, endNanos: UInt64.max, statusCode: 0, statusMessage: "m\"",
                attributes: values, resource: ["é": .string("\t")], scope: OTLPScope(version: "v"),
                events: [
                    OTLPEvent(name: "only a name", attributes: [:]),
                    OTLPEvent(timeNanos: 1, name: "", attributes: values),
                ]),
            OTLPSpan(
                line: 3, traceID: trace, spanID: "0000000000000002", parentSpanID: "0000000000000001", name: "x",
                startNanos: 5, endNanos: 5, statusCode: 2, attributes: [:], resource: ["é": .string("\t")],
                scope: OTLPScope(name: "n")),
            OTLPSpan(
                line: 7, traceID: trace, spanID: "0000000000000003", parentSpanID: nil, name: "y", kind: 1,
                startNanos: 1, endNanos: 2, statusCode: 1, statusMessage: "ok", attributes: [:], resource: [:]),
        ]
    }()

    @Test("parse(encode(spans)) == spans, over every value type, kind, scope, status and event time")
    func roundTrip() throws {
        let bytes = OTLPJSON.encode(Self.spans)
        #expect(bytes.split(separator: 0x0A).count == 2, "a line for each run of the same line")
        let read = try OTLPJSON.spans(bytes, source: "batch.jsonl")
        #expect(read.count == Self.spans.count)
        for (got, expected) in zip(read, Self.spans) { #expect(got == expected) }
        #expect(OTLPJSON.encode(read) == bytes, "encode(parse(encode(x))) == encode(x)")
    }

    @Test("each line written is its own canonical JSON, and the bytes are those the tree-built writer made")
    func canonicalBytes() throws {
        // SHA-256 of what `encode` wrote when it built a `JSONValue` tree and encoded it canonically (before the
        // byte-by-byte writer): a batch file's bytes, and so its digest, did not change with the writer.
        for (spans, digest) in [
            (Self.spans, "bc29b16415d842f93dcbfdf42f27086becd5c06427bbb3cd2e5fdd1c09c69202"),
            (Self.oddities, "b9d90eea2842bb95d5b7015e3cadf3a0a997c17ac82e5c385e2d700309471eba"),
        ] {
            let bytes = OTLPJSON.encode(spans)
            #expect(Hash.sha256(bytes).hex == digest, "\(String(decoding: bytes, as: UTF8.self))")
            for line in bytes.split(separator: 0x0A) {
                #expect(CanonicalJSON.encode(try JSONValue(parsing: Array(line))) == Array(line))
            }
            // Read back and written again, the same bytes (spans holding NaN are not == themselves).
            let read = try OTLPJSON.spans(bytes, source: "batch.jsonl")
            #expect(read.count == spans.count && OTLPJSON.encode(read) == bytes)
        }
    }

    @Test("attributes: each key once, the last given of a key, in the order of the keys, found by key")
    func attributes() {
        let given: [(key: String, value: OTLPValue)] = [
            ("b", .int(1)), ("a", .string("first")), ("é", .bool(true)), ("a", .string("last")), ("", .empty),
            ("b", .int(2)), ("a.b", .double(1)),
        ]
        let attributes = OTLPAttributes(given)
        #expect(attributes.pairs.map(\.key) == ["", "a", "a.b", "b", "é"])
        #expect(attributes["a"] == .string("last") && attributes["b"] == .int(2) && attributes[""] == .empty)
        #expect(attributes["é"] == .bool(true) && attributes["a.b"] == .double(1))
        #expect(attributes["c"] == nil && attributes["0"] == nil && attributes["f"] == nil)
        #expect(OTLPAttributes(given.reversed()) != attributes, "the last given of a key is another")
        #expect(OTLPAttributes([]).isEmpty && OTLPAttributes([])["a"] == nil)
        // Canonically equivalent keys are one key, spelled as given last; either spelling finds it.
        let accents = OTLPAttributes([(key: "\u{E9}", value: .int(1)), (key: "e\u{301}", value: .int(2))])
        #expect(accents.pairs.count == 1 && Array(accents.pairs[0].key.utf8) == [0x65, 0xCC, 0x81])
        #expect(accents["\u{E9}"] == .int(2) && accents["e\u{301}"] == .int(2))
        // A sender may repeat one key a hundred thousand times: kept once, the last.
        let repeated = OTLPAttributes((0..<100_000).map { (key: "k", value: .int(Int64($0))) })
        #expect(repeated.pairs.count == 1 && repeated["k"] == .int(99_999))
    }

    @Test("the same spans give the same bytes, however their attributes were inserted; the format is OTLP/JSON")
    func deterministic() throws {
        let reordered = OTLPAttributes(Self.values.pairs.reversed())
        #expect(reordered == Self.values && reordered.pairs.map(\.key) == Self.values.pairs.map(\.key))
        let first = Self.spans[3]
        let copy = OTLPSpan(
            line: first.line, traceID: first.traceID, spanID: first.spanID, parentSpanID: nil, name: first.name,
            kind: first.kind, startNanos: first.startNanos, endNanos: first.endNanos, statusCode: first.statusCode,
            attributes: reordered, resource: first.resource, scope: first.scope)
        #expect(OTLPJSON.encode([copy]) == OTLPJSON.encode([first]))
        let text = String(decoding: OTLPJSON.encode([first]), as: UTF8.self)
        #expect(text.hasSuffix("\n"))
        #expect(text.contains(#""startTimeUnixNano":"1796637600000000001""#), "uint64 as a decimal string")
        #expect(text.contains(#"{"key":"i","value":{"intValue":"-9223372036854775808"}}"#), "int64 as a string")
        #expect(text.contains(#"{"key":"bytes","value":{"bytesValue":"AAH+/w=="}}"#), "bytes as base64")
        #expect(text.contains(#""traceId":"4bf92f3577b34da6a3ce929d0e0e4736""#), "ids in lowercase hex")
        #expect(text.contains(#""status":{"code":1}"#), "status code as a number")
    }

    @Test("a Collector's file keeps arrays, key-value lists, bytes and the empty value, and reads enum names")
    func otherValues() throws {
        let line = """
            {"resourceSpans":[{"resource":{"attributes":[{"key":"tags","value":{"arrayValue":{"values":[\
            {"stringValue":"a"},{"intValue":5},{"doubleValue":"Infinity"}]}}}]},"scopeSpans":[{"scope":\
            {"name":"lib","version":"0.1"},"spans":[{"traceId":"4BF92F3577B34DA6A3CE929D0E0E4736","spanId":\
            "00F067AA0BA902B7","name":"x","kind":"SPAN_KIND_CLIENT","startTimeUnixNano":1,"endTimeUnixNano":"2",\
            "status":{"code":"STATUS_CODE_ERROR","message":"no"},"attributes":[{"key":"kv","value":{"kvlistValue":\
            {"values":[{"key":"k","value":{"boolValue":true}}]}}},{"key":"raw","value":{"bytesValue":"AAH+/w=="}},\
            {"key":"nothing","value":{}},{"key":"absent"}],"events":[{"timeUnixNano":"7","name":"e"}]}]}]}]}
            """
        _ = line
        let fixed = line.replacingOccurrences(of: #""AAH+/w==""#, with: #""AAH+/w==""#)
        let spans = try OTLPJSON.spans(Array(fixed.utf8), source: "t.json")
        try #require(spans.count == 1)
        let span = spans[0]
        #expect(span.resource["tags"] == .array([.string("a"), .int(5), .double(.infinity)]))
        #expect(span.traceID == Self.trace && span.spanID == "00f067aa0ba902b7")
        #expect(span.kind == 3 && span.statusCode == 2 && span.failed && span.statusMessage == "no")
        #expect(span.scope == OTLPScope(name: "lib", version: "0.1"))
        #expect(span.attributes["kv"] == .kvlist([("k", .bool(true))]))
        #expect(span.attributes["raw"] == .bytes([0, 1, 254, 255]))
        #expect(span.attributes["nothing"] == .empty && span.attributes["absent"] == .empty)
        #expect(span.events == [OTLPEvent(timeNanos: 7, name: "e", attributes: [:])])
        #expect(try OTLPJSON.spans(OTLPJSON.encode(spans), source: "again") == spans)
    }

    @Test("a receiver's request rejects unusable spans one by one and keeps the rest; a file refuses them whole")
    func rejecting() throws {
        func span(_ trace: String, _ id: String, start: Int = 1, end: Int = 2, status: String = "0") -> String {
            #"{"traceId":"\#(trace)","spanId":"\#(id)","startTimeUnixNano":"\#(start)","endTimeUnixNano":"\#(end)","status":{"code":\#(status)}}"#
        }
        let body = """
            {"resourceSpans":[{"scopeSpans":[{"spans":[
              \(span(Self.trace, "0000000000000001")),
              \(span("abc", "0000000000000002")),
              \(span(Self.trace, "0000000000000003", start: 5, end: 2)),
              \(span(Self.trace, "0000000000000004", status: "7")),
              \(span(Self.trace, "0000000000000000"))
            ]}]}]}
            """
        let (spans, rejected, problems) = try OTLPJSON.request(Array(body.utf8))
        #expect(spans.map(\.spanID) == ["0000000000000001"])
        #expect(rejected == 4)
        #expect(
            problems == [
                "resourceSpans[0].scopeSpans[0].spans[1].traceId: expected 32 hex digits, not all zero",
                "resourceSpans[0].scopeSpans[0].spans[2].endTimeUnixNano: 2 is before startTimeUnixNano 5",
                "resourceSpans[0].scopeSpans[0].spans[3].status.code: expected 0, 1 or 2, not 7",
                "resourceSpans[0].scopeSpans[0].spans[4].spanId: expected 16 hex digits, not all zero",
            ])
        #expect(throws: LedgerError.self) {
            _ = try OTLPJSON.spans(Array(body.replacingOccurrences(of: "\n", with: "").utf8), source: "t.json")
        }
        #expect {
            _ = try OTLPJSON.request(Array(#"{"resourceSpans":{}}"#.utf8))
        } throws: { error in
            (error as? LedgerError)?.message == "the OTLP/JSON request: resourceSpans: expected an array"
        }
    }
}
