import Foundation
import OTLPProto
import PurserCore
import PurserLedger
import SwiftProtobuf
import Testing

@testable import PurserServer

/// The receiver's own protobuf reading (`TraceWireReader`, behind `OTLPProtobuf.spans`) against swift-protobuf's
/// generated code (`OTLPProtobuf.referenceSpans`), on requests written byte by byte where protobuf's rules bite:
/// merges, unknown fields, groups, wire types, limits.
@Suite("OTLP protobuf: the receiver's wire reader reads what swift-protobuf reads")
struct TraceWireReaderTests {
    /// Protobuf's wire format, written by hand.
    enum Wire {
        static func varint(_ value: UInt64) -> [UInt8] {
            var value = value
            var bytes: [UInt8] = []
            while value >= 0x80 {
                bytes.append(UInt8(value & 0x7F) | 0x80)
                value >>= 7
            }
            return bytes + [UInt8(value)]
        }
        static func tag(_ field: Int, _ wire: Int) -> [UInt8] { varint(UInt64(field << 3 | wire)) }
        static func message(_ field: Int, _ body: [UInt8]) -> [UInt8] {
            tag(field, 2) + varint(UInt64(body.count)) + body
        }
        static func string(_ field: Int, _ text: String) -> [UInt8] { message(field, Array(text.utf8)) }
        static func number(_ field: Int, _ value: UInt64) -> [UInt8] { tag(field, 0) + varint(value) }
        static func fixed64(_ field: Int, _ value: UInt64) -> [UInt8] {
            tag(field, 1) + (0..<8).map { UInt8(truncatingIfNeeded: value >> (8 * $0)) }
        }
        static func hex(_ field: Int, _ hex: String) -> [UInt8] {
            message(field, Array(OTLPProtobufTests.data(hex)))
        }
        /// A request of one resource (`resource`: its fields) and one scope (`scope`: its fields) holding `spans`.
        static func request(resource: [UInt8] = [], scope: [UInt8] = [], spans: [[UInt8]]) -> [UInt8] {
            let scopeSpans = message(1, scope) + spans.flatMap { message(2, $0) }
            return message(1, message(1, resource) + message(2, scopeSpans))
        }
        /// A usable span `id` of the one trace, with `extra` fields after its own.
        static func span(_ id: String, _ extra: [UInt8] = []) -> [UInt8] {
            hex(1, OTLPProtobufTests.trace) + hex(2, id) + string(5, "span \(id)") + fixed64(7, 1) + fixed64(8, 2)
                + extra
        }
        /// An attribute `key` whose `AnyValue` is written as `value`.
        static func attribute(_ key: String, _ value: [UInt8]) -> [UInt8] {
            message(9, string(1, key) + message(2, value))
        }
        /// Unknown fields of every wire type, a group holding another among them.
        static let unknown: [UInt8] =
            number(900, 7) + fixed64(901, 9) + message(902, [1, 2, 3]) + tag(903, 5) + [1, 2, 3, 4]
            + tag(904, 3) + number(1, 5) + tag(905, 3) + tag(905, 4) + tag(904, 4)
    }

    /// Both readings of `bytes`: equal, as OTLP/JSON lines (NaN is not == itself), rejections and problems.
    func agree(_ bytes: [UInt8], _ what: Comment, sourceLocation: SourceLocation = #_sourceLocation) throws {
        let reference = try OTLPProtobuf.referenceSpans(bytes)
        let read = try OTLPProtobuf.spans(bytes)
        #expect(
            OTLPJSON.encode(read.spans) == OTLPJSON.encode(reference.spans) && read.spans.count > 0,
            "\(what): \(String(decoding: OTLPJSON.encode(read.spans), as: UTF8.self))", sourceLocation: sourceLocation)
        #expect(read.rejected == reference.rejected && read.problems == reference.problems, what)
    }

    @Test("a request the generated code wrote, and the same with unknown fields of every wire type at every level")
    func generatedAndUnknown() throws {
        let generated = try OTLPProtobufTests.request(
            [OTLPProtobufTests.richSpan()], resource: [OTLPProtobufTests.pair("service.name") { $0.stringValue = "s" }],
            scope: ("lib", "1.0"))
        try agree(generated, "as generated")
        let unknown = Wire.unknown
        let request =
            Wire.message(
                1,
                Wire.message(1, Wire.attribute("a", Wire.string(1, "x")) + unknown) + unknown
                    + Wire.message(
                        2,
                        Wire.message(1, Wire.string(1, "lib") + unknown) + unknown
                            + Wire.message(2, Wire.span("00f067aa0ba902b7", unknown + Wire.attribute("k", unknown)))))
            + unknown
        try agree(request, "unknown fields everywhere")
    }

    @Test("a singular message given twice is merged, a scalar given twice replaced, a repeated one appended")
    func merges() throws {
        let resource = Wire.message(1, Wire.message(1, Wire.string(1, "a") + Wire.message(2, Wire.string(1, "first"))))
        let resourceAgain = Wire.message(1, Wire.message(1, Wire.string(1, "b") + Wire.message(2, Wire.number(3, 7))))
        let status = Wire.message(15, Wire.number(3, 2)) + Wire.message(15, Wire.string(2, "late message"))
        let array = { (value: String) in Wire.message(5, Wire.message(1, Wire.string(1, value))) }
        let kvlist = { (key: String) in Wire.message(6, Wire.message(1, Wire.string(1, key))) }
        let span = Wire.span(
            "00000000000000aa",
            Wire.hex(2, "00000000000000bb") + status + Wire.string(5, "renamed")
                + Wire.attribute("arrays", array("x") + array("y"))
                + Wire.attribute("array then string", array("x") + Wire.string(1, "s"))
                + Wire.attribute("string then array", Wire.string(1, "s") + array("x"))
                + Wire.attribute("lists", kvlist("k1") + kvlist("k2"))
                + Wire.attribute("string then strindex", Wire.string(1, "s") + Wire.number(8, 3))
                + Wire.message(9, Wire.string(1, "twice") + Wire.message(2, Wire.number(3, 1)) + Wire.string(1, "key"))
                + Wire.attribute("key", Wire.number(2, 1)))
        // The resource and the scope after the spans, each given twice.
        let scopeSpans =
            Wire.message(2, span) + Wire.message(1, Wire.string(1, "lib")) + Wire.message(1, Wire.string(2, "2.0"))
        let request = Wire.message(1, Wire.message(2, scopeSpans) + resource + resourceAgain)
        try agree(request, "merged")
        let read = try OTLPProtobuf.spans(request).spans[0]
        #expect(read.spanID == "00000000000000bb" && read.name == "renamed")
        #expect(read.statusCode == 2 && read.statusMessage == "late message")
        #expect(read.attributes["arrays"] == .array([.string("x"), .string("y")]))
        #expect(read.attributes["string then strindex"] == .empty && read.attributes["key"] == .bool(true))
        #expect(read.resource["a"] == .string("first") && read.resource["b"] == .int(7))
        #expect(read.scope == OTLPScope(name: "lib", version: "2.0"))
    }

    @Test("an array given in many pieces is one array of all their values, read in one pass")
    func arrayInPieces() throws {
        // Each piece is `arrayValue {values {}}`: one more empty value. Had each piece copied the values before it,
        // 100,000 pieces would take minutes; swift-protobuf itself does, so it reads only a few of them here.
        let piece = Wire.message(5, Wire.message(1, []))
        func request(_ pieces: Int) -> [UInt8] {
            let value = Array((0..<pieces).map { _ in piece }.joined())
            return Wire.request(spans: [Wire.span("00000000000000aa", Wire.attribute("pieces", value))])
        }
        try agree(request(300), "300 pieces")
        let read = try OTLPProtobuf.spans(request(100_000)).spans[0]
        #expect(read.attributes["pieces"] == .array(Array(repeating: .empty, count: 100_000)))
    }

    @Test("a known field with another wire type than its declaration is skipped as an unknown one")
    func wrongWireTypes() throws {
        let span = Wire.span(
            "00000000000000aa",
            Wire.number(5, 1) + Wire.string(6, "client") + Wire.number(7, 99) + Wire.fixed64(1, 5)
                + Wire.attribute("n", Wire.fixed64(1, 0) + Wire.number(4, 1) + Wire.string(3, "x")))
        try agree(Wire.request(spans: [span]), "wrong wire types")
        let read = try OTLPProtobuf.spans(Wire.request(spans: [span])).spans[0]
        #expect(read.name == "span 00000000000000aa" && read.startNanos == 1 && read.attributes["n"] == .empty)
    }

    @Test("arrays nested to 100 messages are read, to 102 refused, by both")
    func depth() throws {
        func nested(_ levels: Int) -> [UInt8] {
            var value = Wire.string(1, "deep")
            for _ in 0..<levels { value = Wire.message(5, Wire.message(1, value)) }
            return Wire.request(spans: [Wire.span("00000000000000aa", Wire.attribute("deep", value))])
        }
        // request, resource spans, scope spans, span, key-value, any-value: 6, and 2 per array.
        try agree(nested(47), "100 deep")
        #expect(throws: LedgerError.self) { try OTLPProtobuf.referenceSpans(nested(48)) }
        #expect(throws: LedgerError.self) { try OTLPProtobuf.spans(nested(48)) }
    }

    @Test(
        "malformed bytes are refused by both",
        arguments: [
            ("a truncated length", Wire.tag(1, 2) + Wire.varint(40) + [1, 2]),
            (
                "a span name that is not UTF-8",
                Wire.request(spans: [Wire.span("00000000000000aa", Wire.tag(5, 2) + [2, 0xC3, 0x28])])
            ),
            ("field number 0", Wire.tag(0, 0) + [1]),
            ("wire type 7", [0x0F, 1]),
            ("an end-group tag at the top", Wire.tag(1, 4)),
            ("a group never ended", Wire.tag(7, 3) + Wire.number(1, 1)),
            ("a group ended by another's tag", Wire.tag(7, 3) + Wire.tag(8, 4)),
            ("a varint of 11 bytes", Wire.tag(9, 0) + Array(repeating: 0xFF, count: 10) + [1]),
            ("a tag of 6 bytes", [0x88, 0x80, 0x80, 0x80, 0x80, 0x00]),
            ("a fixed64 cut short", Wire.tag(9, 1) + [1, 2, 3]),
            (
                "an attribute's key not UTF-8",
                Wire.request(spans: [Wire.span("00000000000000aa", Wire.message(9, Wire.tag(1, 2) + [1, 0xFF]))])
            ),
            (
                "a message whose field runs past its end",
                Wire.message(1, Wire.tag(2, 2) + Wire.varint(5)) + [1, 2, 3, 4, 5]
            ),
        ] as [(String, [UInt8])])
    func refused(_ what: String, _ bytes: [UInt8]) {
        #expect(throws: LedgerError.self, "swift-protobuf: \(what)") { try OTLPProtobuf.referenceSpans(bytes) }
        #expect(throws: LedgerError.self, "the wire reader: \(what)") { try OTLPProtobuf.spans(bytes) }
    }

    @Test("a field purser does not keep is skipped unread: a trace_state that is not UTF-8 does not refuse the span")
    func skippedUnread() throws {
        let request = Wire.request(spans: [Wire.span("00000000000000aa", Wire.tag(3, 2) + [1, 0xFF])])
        #expect(throws: LedgerError.self) { try OTLPProtobuf.referenceSpans(request) }
        #expect(try OTLPProtobuf.spans(request).spans.map(\.spanID) == ["00000000000000aa"])
    }
}
