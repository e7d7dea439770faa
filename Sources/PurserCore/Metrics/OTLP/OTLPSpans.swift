internal import Foundation
package import PurserLedger

/// A span as OTLP carries it, with the resource and the instrumentation scope that sent it: what task assembly
/// (`OTLPTasks`) needs of OpenTelemetry's trace model (opentelemetry-proto v1.11.0, `trace.proto`), and what
/// `OTLPJSON.encode` needs to write it again. Links, `trace_state`, `flags`, schema URLs, scope attributes and
/// dropped counts are not kept.
///
/// A class, its fields constants: a batch passes the same span through many arrays, and a copy of a struct of
/// eleven counted fields cost eleven reference counts where this costs one.
package final class OTLPSpan: Equatable, Sendable {
    /// The line of the input it came on, from 1 (one request: 1). `OTLPJSON.encode` starts a new line where it
    /// changes.
    package let line: Int
    /// 32 lowercase hex digits.
    package let traceID: String
    /// 16 lowercase hex digits.
    package let spanID: String
    /// nil for a root span.
    package let parentSpanID: String?
    package let name: String
    /// `SpanKind`: 0 unspecified, 1 internal, 2 server, 3 client, 4 producer, 5 consumer.
    package let kind: Int32
    package let startNanos: UInt64
    package let endNanos: UInt64
    /// `Status.code`: 0 unset, 1 ok, 2 error.
    package let statusCode: Int32
    package let statusMessage: String
    package let attributes: OTLPAttributes
    package let resource: OTLPAttributes
    package let scope: OTLPScope
    package let events: [OTLPEvent]

    package init(
        line: Int, traceID: String, spanID: String, parentSpanID: String?, name: String, kind: Int32 = 0,
        startNanos: UInt64, endNanos: UInt64, statusCode: Int32 = 0, statusMessage: String = "",
        attributes: OTLPAttributes, resource: OTLPAttributes, scope: OTLPScope = OTLPScope(),
        events: [OTLPEvent] = []
    ) {
        self.line = line
        self.traceID = traceID
        self.spanID = spanID
        self.parentSpanID = parentSpanID
        self.name = name
        self.kind = kind
        self.startNanos = startNanos
        self.endNanos = endNanos
        self.statusCode = statusCode
        self.statusMessage = statusMessage
        self.attributes = attributes
        self.resource = resource
        self.scope = scope
        self.events = events
    }

    /// The same span: every field equal.
    package static func == (left: OTLPSpan, right: OTLPSpan) -> Bool {
        left === right
            || (left.line == right.line && left.traceID == right.traceID && left.spanID == right.spanID
                && left.parentSpanID == right.parentSpanID && left.name == right.name && left.kind == right.kind
                && left.startNanos == right.startNanos && left.endNanos == right.endNanos
                && left.statusCode == right.statusCode && left.statusMessage == right.statusMessage
                && left.attributes == right.attributes && left.resource == right.resource && left.scope == right.scope
                && left.events == right.events)
    }

    /// The span's status is ERROR.
    package var failed: Bool { statusCode == 2 }

    /// The attribute `key` of the span, else of its resource.
    func attribute(_ key: String) -> OTLPValue? {
        attributes[key] ?? resource[key]
    }
}

/// The attributes (`KeyValue`s) of a span, an event or a resource: each key once, the last given of a key, kept in
/// the order of the keys (`String`'s `<`), which is the order `OTLPJSON.encode` writes them in.
///
/// Not a dictionary: a span's dozen attributes are made, read and written more cheaply as one sorted array. As a
/// dictionary, hashing and rehashing their keys took over a quarter of the instructions of decoding a request, and
/// sorting them an eighth of writing a batch's file.
package struct OTLPAttributes: Equatable, Sendable, ExpressibleByDictionaryLiteral {
    /// In the order of their keys, each key once.
    package let pairs: [(key: String, value: OTLPValue)]

    /// `pairs` in any order; of a key given twice, the last.
    package init(_ pairs: some Sequence<(key: String, value: OTLPValue)>) {
        // Swift's sort is stable: of equal keys, the last given ends its run.
        let sorted = pairs.sorted { $0.key < $1.key }
        guard zip(sorted, sorted.dropFirst()).contains(where: { $0.key == $1.key }) else {
            self.pairs = sorted
            return
        }
        var unique: [(key: String, value: OTLPValue)] = []
        for pair in sorted {
            if unique.last?.key == pair.key { unique[unique.count - 1] = pair } else { unique.append(pair) }
        }
        self.pairs = unique
    }

    package init(dictionaryLiteral elements: (String, OTLPValue)...) {
        self.init(elements.map { (key: $0.0, value: $0.1) })
    }

    package var isEmpty: Bool { pairs.isEmpty }

    /// The value of `key`, if given.
    package subscript(key: String) -> OTLPValue? {
        var (low, high) = (0, pairs.count)
        while low < high {
            let middle = (low + high) / 2
            if pairs[middle].key < key { low = middle + 1 } else { high = middle }
        }
        return low < pairs.count && pairs[low].key == key ? pairs[low].value : nil
    }

    package static func == (left: OTLPAttributes, right: OTLPAttributes) -> Bool {
        // The spans of one resource share its attributes: the same storage is the same attributes.
        let same = left.pairs.withUnsafeBufferPointer { left in
            right.pairs.withUnsafeBufferPointer { left.baseAddress == $0.baseAddress && left.count == $0.count }
        }
        return same
            || left.pairs.count == right.pairs.count
                && zip(left.pairs, right.pairs).allSatisfy { $0.key == $1.key && $0.value == $1.value }
    }
}

/// The instrumentation scope (library) that made a span.
package struct OTLPScope: Equatable, Sendable {
    package let name: String
    package let version: String

    package init(name: String = "", version: String = "") {
        self.name = name
        self.version = version
    }
}

/// A span event (`gen_ai.evaluation.result`, an exception): its time, name and attributes.
package struct OTLPEvent: Equatable, Sendable {
    package let timeNanos: UInt64
    package let name: String
    package let attributes: OTLPAttributes

    package init(timeNanos: UInt64 = 0, name: String, attributes: OTLPAttributes) {
        self.timeNanos = timeNanos
        self.name = name
        self.attributes = attributes
    }
}

/// A `gen_ai.evaluation.result` event sent as an OTLP log record (`/v1/logs`): the evaluation of the span it names.
package struct OTLPEvaluation: Equatable, Sendable {
    /// 32 lowercase hex digits.
    package let traceID: String
    /// 16 lowercase hex digits.
    package let spanID: String
    /// `gen_ai.evaluation.name`.
    package let name: String?
    /// `gen_ai.evaluation.score.value`.
    package let score: Double?
    /// The record's `time_unix_nano`, else its `observed_time_unix_nano`.
    package let timeNanos: UInt64

    package init(traceID: String, spanID: String, name: String?, score: Double?, timeNanos: UInt64) {
        self.traceID = traceID
        self.spanID = spanID
        self.name = name
        self.score = score
        self.timeNanos = timeNanos
    }
}

/// An attribute's value (`AnyValue`). Arrays, key-value lists, bytes and the empty value are kept as `other`, in
/// their OTLP/JSON form as `OTLPValue.array`, `.kvlist`, `.bytes` and `.empty` make it, since no mapping reads them
/// but a faithful copy must write them again.
package enum OTLPValue: Equatable, Sendable {
    case string(String)
    case int(Int64)
    case double(Double)
    case bool(Bool)
    /// The OTLP/JSON `AnyValue` object: `{"arrayValue":{"values":[…]}}`, `{"kvlistValue":{"values":[…]}}`,
    /// `{"bytesValue":"<base64>"}` or `{}`.
    case other(JSONValue)

    package var string: String? {
        if case .string(let value) = self { return value }
        return nil
    }

    /// An integer or a double as a number.
    package var number: Double? {
        switch self {
        case .int(let value): Double(value)
        case .double(let value): value
        default: nil
        }
    }

    /// An `ArrayValue`.
    package static func array(_ values: [OTLPValue]) -> OTLPValue {
        .other(.object(["arrayValue": .object(values.isEmpty ? [:] : ["values": .array(values.map(\.json))])]))
    }

    /// A `KeyValueList`, its pairs in their order.
    package static func kvlist(_ pairs: [(key: String, value: OTLPValue)]) -> OTLPValue {
        let values = pairs.map { JSONValue.object(["key": .string($0.key), "value": $0.value.json]) }
        return .other(.object(["kvlistValue": .object(values.isEmpty ? [:] : ["values": .array(values)])]))
    }

    /// Bytes, as base64 (proto3 JSON).
    package static func bytes(_ bytes: [UInt8]) -> OTLPValue {
        .other(.object(["bytesValue": .string(Data(bytes).base64EncodedString())]))
    }

    /// An `AnyValue` with no value set.
    package static let empty = OTLPValue.other(.object([:]))

    /// The OTLP/JSON `AnyValue` object: 64-bit integers as decimal strings, NaN and the infinities as the strings
    /// `NaN`, `Infinity`, `-Infinity` (proto3 JSON).
    package var json: JSONValue {
        switch self {
        case .string(let value): .object(["stringValue": .string(value)])
        case .int(let value): .object(["intValue": .string(String(value))])
        case .bool(let value): .object(["boolValue": .bool(value)])
        case .double(let value) where value.isNaN: .object(["doubleValue": .string("NaN")])
        case .double(let value) where value.isInfinite:
            .object(["doubleValue": .string(value < 0 ? "-Infinity" : "Infinity")])
        case .double(let value): .object(["doubleValue": .number(value)])
        case .other(let value): value
        }
    }
}

/// Reads and writes OTLP/JSON: the `ExportTraceServiceRequest` of the OTLP/HTTP JSON encoding, one per line as the
/// Collector's file exporter writes them (field names in lowerCamelCase; trace and span ids in hex; 64-bit
/// integers as strings or numbers; enums as numbers or their names).
package enum OTLPJSON {
    /// The spans of every request in `bytes`, in the order they come.
    /// - Parameter source: how messages name the input (`traces.jsonl`).
    /// - Throws: `.invalidInput` naming the line and the field, for a line that is not such a request, or a span
    ///   that is unusable (ids, times, status).
    package static func spans(_ bytes: [UInt8], source: String) throws(LedgerError) -> [OTLPSpan] {
        var reader = Reader(rejecting: false)
        var number = 0
        for line in bytes.split(separator: 0x0A, omittingEmptySubsequences: false) {
            number += 1
            let trimmed = line.last == 0x0D ? line.dropLast() : line
            guard !trimmed.allSatisfy({ $0 == 0x20 || $0 == 0x09 }) else { continue }
            do {
                let request = try JSONValue(parsing: Array(trimmed))
                try reader.read(request, line: number)
            } catch let error as Problem {
                throw LedgerError(.invalidInput, "\(source) line \(number): \(error.path): \(error.reason)")
            } catch {
                throw LedgerError(.invalidInput, "\(source) line \(number): not JSON: \(error)")
            }
        }
        return reader.spans
    }

    /// The spans of one request as the OTLP/HTTP receiver takes it (`Content-Type: application/json`, a JSON object
    /// over any number of lines). A span that is unusable (a trace id that is not 32 hex digits, a span id that is
    /// not 16, an end before its start, an unknown status code, a malformed attribute) is not kept: it is counted in
    /// `rejected`, and `problems` says why for the first few.
    /// - Throws: `.invalidInput` naming the field, for a body that is not such a request.
    package static func request(
        _ bytes: [UInt8]
    ) throws(LedgerError) -> (spans: [OTLPSpan], rejected: Int, problems: [String]) {
        var reader = Reader(rejecting: true)
        do {
            try reader.read(try JSONValue(parsing: bytes), line: 1)
        } catch let error as Problem {
            throw LedgerError(.invalidInput, "the OTLP/JSON request: \(error.path): \(error.reason)")
        } catch {
            throw LedgerError(.invalidInput, "the OTLP/JSON request is not JSON: \(error)")
        }
        return (reader.spans, reader.rejected, reader.problems)
    }

    /// How many problems a receiver's answer names; the rest are counted only.
    package static let problemsNamed = 10

    /// What is wrong, and where in the request.
    private struct Problem: Error {
        let path: String
        let reason: String
    }

    /// Collects the spans of requests; when `rejecting`, a problem within a span rejects that span alone.
    private struct Reader {
        let rejecting: Bool
        var spans: [OTLPSpan] = []
        var rejected = 0
        var problems: [String] = []

        mutating func read(_ request: JSONValue, line: Int) throws(Problem) {
            guard case .object = request else { throw Problem(path: "the line", reason: "expected an object") }
            for (r, resourceSpans) in try list(request["resourceSpans"], "resourceSpans").enumerated() {
                let at = "resourceSpans[\(r)]"
                let resource = try attributes(resourceSpans["resource"]?["attributes"], "\(at).resource.attributes")
                for (s, scopeSpans) in try list(resourceSpans["scopeSpans"], "\(at).scopeSpans").enumerated() {
                    let scope = try OTLPJSON.scope(scopeSpans["scope"], "\(at).scopeSpans[\(s)].scope")
                    for (n, span) in try list(scopeSpans["spans"], "\(at).scopeSpans[\(s)].spans").enumerated() {
                        do {
                            spans.append(
                                try OTLPJSON.span(
                                    span, resource: resource, scope: scope, line: line,
                                    at: "\(at).scopeSpans[\(s)].spans[\(n)]"))
                        } catch {
                            guard rejecting else { throw error }
                            rejected += 1
                            if problems.count < problemsNamed { problems.append("\(error.path): \(error.reason)") }
                        }
                    }
                }
            }
        }
    }

    private static func scope(_ value: JSONValue?, _ path: String) throws(Problem) -> OTLPScope {
        guard let value, value != .null else { return OTLPScope() }
        guard case .object = value else { throw Problem(path: path, reason: "expected an object") }
        return OTLPScope(
            name: try string(value["name"], "\(path).name"), version: try string(value["version"], "\(path).version"))
    }

    private static func span(
        _ span: JSONValue, resource: OTLPAttributes, scope: OTLPScope, line: Int, at: String
    ) throws(Problem) -> OTLPSpan {
        guard case .object = span else { throw Problem(path: at, reason: "expected an object") }
        let parent = span["parentSpanId"]?.stringValue ?? ""
        let statusCode = try enumeration(
            span["status"]?["code"], "\(at).status.code",
            names: ["STATUS_CODE_UNSET", "STATUS_CODE_OK", "STATUS_CODE_ERROR"], others: nil)
        let start = try nanos(span["startTimeUnixNano"], "\(at).startTimeUnixNano")
        let end = try nanos(span["endTimeUnixNano"], "\(at).endTimeUnixNano")
        guard end >= start else {
            throw Problem(path: "\(at).endTimeUnixNano", reason: "\(end) is before startTimeUnixNano \(start)")
        }
        var events: [OTLPEvent] = []
        for (e, event) in try list(span["events"], "\(at).events").enumerated() {
            events.append(
                OTLPEvent(
                    timeNanos: try nanos(event["timeUnixNano"], "\(at).events[\(e)].timeUnixNano", absent: 0),
                    name: try string(event["name"], "\(at).events[\(e)].name"),
                    attributes: try attributes(event["attributes"], "\(at).events[\(e)].attributes")))
        }
        return OTLPSpan(
            line: line, traceID: try hex(span["traceId"], digits: 32, "\(at).traceId"),
            spanID: try hex(span["spanId"], digits: 16, "\(at).spanId"),
            parentSpanID: parent.isEmpty ? nil : try hex(.string(parent), digits: 16, "\(at).parentSpanId"),
            name: try string(span["name"], "\(at).name"),
            kind: try enumeration(
                span["kind"], "\(at).kind",
                names: [
                    "SPAN_KIND_UNSPECIFIED", "SPAN_KIND_INTERNAL", "SPAN_KIND_SERVER", "SPAN_KIND_CLIENT",
                    "SPAN_KIND_PRODUCER", "SPAN_KIND_CONSUMER",
                ], others: "a 32-bit integer"),
            startNanos: start, endNanos: end, statusCode: statusCode,
            statusMessage: try string(span["status"]?["message"], "\(at).status.message"),
            attributes: try attributes(span["attributes"], "\(at).attributes"), resource: resource, scope: scope,
            events: events)
    }

    /// An array, or none when absent.
    private static func list(_ value: JSONValue?, _ path: String) throws(Problem) -> [JSONValue] {
        guard let value, value != .null else { return [] }
        guard let items = value.arrayValue else { throw Problem(path: path, reason: "expected an array") }
        return items
    }

    /// A string, or "" when absent (proto3's default).
    private static func string(_ value: JSONValue?, _ path: String) throws(Problem) -> String {
        guard let value, value != .null else { return "" }
        guard let text = value.stringValue else { throw Problem(path: path, reason: "expected a string") }
        return text
    }

    /// An enum as its number or its name (`names[n]` is n); 0 when absent. A number without a name is kept when
    /// `others` describes the numbers allowed (proto3 keeps unknown enum values).
    private static func enumeration(
        _ value: JSONValue?, _ path: String, names: [String], others: String?
    ) throws(Problem) -> Int32 {
        guard let value, value != .null else { return 0 }
        if let name = value.stringValue, let number = names.firstIndex(of: name) { return Int32(number) }
        if let number = value.numberValue.flatMap(Int32.init(exactly:)),
            others != nil || names.indices.contains(Int(number))
        {
            return number
        }
        let text = String(decoding: CanonicalJSON.encode(value), as: UTF8.self)
        let numbers = names.indices.map(String.init)
        let expected = others ?? numbers.dropLast().joined(separator: ", ") + " or " + numbers[numbers.count - 1]
        throw Problem(path: path, reason: "expected \(expected), not \(text)")
    }

    private static func attributes(_ value: JSONValue?, _ path: String) throws(Problem) -> OTLPAttributes {
        var attributes: [(key: String, value: OTLPValue)] = []
        for (index, pair) in try list(value, path).enumerated() {
            guard let key = pair["key"]?.stringValue else {
                throw Problem(path: "\(path)[\(index)].key", reason: "expected a string")
            }
            attributes.append((key, try anyValue(pair["value"], "\(path)[\(index)].value")))
        }
        return OTLPAttributes(attributes)
    }

    /// An `AnyValue`; absent, or with no field this reader knows, is the empty value.
    private static func anyValue(_ value: JSONValue?, _ path: String) throws(Problem) -> OTLPValue {
        guard let value, value != .null else { return .empty }
        guard case .object = value else { throw Problem(path: path, reason: "expected an object") }
        if let text = value["stringValue"], text != .null {
            guard let text = text.stringValue else {
                throw Problem(path: "\(path).stringValue", reason: "expected a string")
            }
            return .string(text)
        }
        if let flag = value["boolValue"], flag != .null {
            guard case .bool(let flag) = flag else {
                throw Problem(path: "\(path).boolValue", reason: "expected true or false")
            }
            return .bool(flag)
        }
        if let integer = value["intValue"], integer != .null {
            guard
                let number = integer.stringValue.flatMap({ Int64($0) })
                    ?? integer.numberValue.flatMap(Int64.init(exactly:))
            else { throw Problem(path: "\(path).intValue", reason: "expected a 64-bit integer") }
            return .int(number)
        }
        if let double = value["doubleValue"], double != .null {
            if let number = double.numberValue { return .double(number) }
            switch double.stringValue {
            case "NaN": return .double(.nan)
            case "Infinity": return .double(.infinity)
            case "-Infinity": return .double(-.infinity)
            case let text?: if let number = Double(text), number.isFinite { return .double(number) }
            case nil: break
            }
            throw Problem(path: "\(path).doubleValue", reason: "expected a number")
        }
        if let bytes = value["bytesValue"], bytes != .null {
            guard let text = bytes.stringValue, let data = Data(base64Encoded: text) else {
                throw Problem(path: "\(path).bytesValue", reason: "expected base64")
            }
            return .bytes(Array(data))
        }
        if let array = value["arrayValue"], array != .null {
            guard case .object = array else { throw Problem(path: "\(path).arrayValue", reason: "expected an object") }
            var values: [OTLPValue] = []
            for (index, item) in try list(array["values"], "\(path).arrayValue.values").enumerated() {
                values.append(try anyValue(item, "\(path).arrayValue.values[\(index)]"))
            }
            return .array(values)
        }
        if let kvlist = value["kvlistValue"], kvlist != .null {
            guard case .object = kvlist else {
                throw Problem(path: "\(path).kvlistValue", reason: "expected an object")
            }
            var pairs: [(key: String, value: OTLPValue)] = []
            for (index, pair) in try list(kvlist["values"], "\(path).kvlistValue.values").enumerated() {
                let at = "\(path).kvlistValue.values[\(index)]"
                guard let key = pair["key"]?.stringValue else {
                    throw Problem(path: "\(at).key", reason: "expected a string")
                }
                pairs.append((key, try anyValue(pair["value"], "\(at).value")))
            }
            return .kvlist(pairs)
        }
        return .empty
    }

    /// Nanoseconds since 1970: a decimal string (proto3 JSON's int64) or a number; `absent` when absent, if given.
    private static func nanos(_ value: JSONValue?, _ path: String, absent: UInt64? = nil) throws(Problem) -> UInt64 {
        if let absent, value == nil || value == .null { return absent }
        if let text = value?.stringValue, let nanos = UInt64(text) { return nanos }
        if let number = value?.numberValue, let nanos = UInt64(exactly: number) { return nanos }
        throw Problem(path: path, reason: "expected nanoseconds since 1970 as a decimal string")
    }

    private static func hex(_ value: JSONValue?, digits: Int, _ path: String) throws(Problem) -> String {
        guard let text = value?.stringValue, text.utf8.count == digits,
            text.utf8.allSatisfy({
                (0x30...0x39).contains($0) || (0x61...0x66).contains($0) || (0x41...0x46).contains($0)
            }),
            text.utf8.contains(where: { $0 != 0x30 })
        else { throw Problem(path: path, reason: "expected \(digits) hex digits, not all zero") }
        return text.lowercased()
    }
}

extension OTLPJSON {
    /// `spans` as OTLP/JSON lines that `spans(_:source:)` reads back into the same spans: a line (one
    /// `ExportTraceServiceRequest`) for each run of spans with the same `line`, a `resourceSpans` for each run of
    /// the same resource in it, a `scopeSpans` for each run of the same scope in that; the spans in their order.
    /// Ids in lowercase hex, 64-bit integers as decimal strings, enums as numbers, fields with proto3's default
    /// value left out, members in canonical (RFC 8785) order, attributes in the order of their keys: the same spans
    /// give the same bytes.
    ///
    /// Written byte by byte, not through a `JSONValue` tree (a batch of 100,000 spans is 84 MiB of it): the members
    /// of each object are written in the order `CanonicalJSON` sorts them into, so every line is its own canonical
    /// form, which the tests and the `otlp` fuzz targets check.
    package static func encode(_ spans: [OTLPSpan]) -> [UInt8] {
        var output = Writer()
        output.bytes.reserveCapacity(spans.count * 1_024)
        for request in runs(spans[...], by: { $0.line == $1.line }) {
            output.raw(#"{"resourceSpans":["#)
            for (r, byResource) in runs(request, by: { $0.resource == $1.resource }).enumerated() {
                output.raw(r == 0 ? "{" : ",{")
                let resource = byResource[byResource.startIndex].resource
                if !resource.isEmpty {
                    output.raw(#""resource":{"attributes":"#)
                    output.attributes(resource)
                    output.raw("},")
                }
                output.raw(#""scopeSpans":["#)
                for (s, byScope) in runs(byResource, by: { $0.scope == $1.scope }).enumerated() {
                    output.raw(s == 0 ? "{" : ",{")
                    let scope = byScope[byScope.startIndex].scope
                    if !scope.name.isEmpty || !scope.version.isEmpty {
                        output.raw(#""scope":{"#)
                        var members = Members()
                        members.string("name", scope.name, &output)
                        members.string("version", scope.version, &output)
                        output.raw("},")
                    }
                    output.raw(#""spans":["#)
                    for (n, span) in byScope.enumerated() {
                        if n > 0 { output.raw(",") }
                        output.span(span)
                    }
                    output.raw("]}")
                }
                output.raw("]}")
            }
            output.raw("]}\n")
        }
        return output.bytes
    }

    /// The maximal runs of neighbours that `same` holds for.
    private static func runs(
        _ items: ArraySlice<OTLPSpan>, by same: (OTLPSpan, OTLPSpan) -> Bool
    ) -> [ArraySlice<OTLPSpan>] {
        var runs: [ArraySlice<OTLPSpan>] = []
        var start = items.startIndex
        for index in items.indices.dropFirst() where !same(items[index - 1], items[index]) {
            runs.append(items[start..<index])
            start = index
        }
        if start < items.endIndex { runs.append(items[start...]) }
        return runs
    }

    /// Canonical OTLP/JSON, appended to `bytes`.
    private struct Writer {
        var bytes: [UInt8] = []

        mutating func raw(_ text: StaticString) {
            text.withUTF8Buffer { bytes.append(contentsOf: $0) }
        }

        mutating func string(_ text: String) {
            CanonicalJSON.writeString(text, into: &bytes)
        }

        /// Digit by digit: through `String`, the numbers took a twentieth of writing a batch's file.
        mutating func decimal(_ number: some BinaryInteger) {
            if number < 0 { bytes.append(UInt8(ascii: "-")) }
            var rest = UInt64(number.magnitude)
            withUnsafeTemporaryAllocation(of: UInt8.self, capacity: 20) { digits in
                var first = digits.count
                repeat {
                    first -= 1
                    digits[first] = UInt8(ascii: "0") + UInt8(rest % 10)
                    rest /= 10
                } while rest > 0
                bytes.append(contentsOf: digits[first...])
            }
        }

        /// A 64-bit integer as proto3 JSON writes it: a decimal string.
        mutating func quoted(_ number: UInt64) {
            raw("\"")
            decimal(number)
            raw("\"")
        }

        /// A span's members in canonical order: attributes, endTimeUnixNano, events, kind, name, parentSpanId,
        /// spanId, startTimeUnixNano, status, traceId.
        mutating func span(_ span: OTLPSpan) {
            raw("{")
            var members = Members()
            if !span.attributes.isEmpty {
                members.name("attributes", &self)
                attributes(span.attributes)
            }
            members.name("endTimeUnixNano", &self)
            quoted(span.endNanos)
            if !span.events.isEmpty {
                members.name("events", &self)
                raw("[")
                for (e, event) in span.events.enumerated() {
                    raw(e == 0 ? "{" : ",{")
                    var fields = Members()
                    if !event.attributes.isEmpty {
                        fields.name("attributes", &self)
                        attributes(event.attributes)
                    }
                    fields.string("name", event.name, &self)
                    if event.timeNanos != 0 {
                        fields.name("timeUnixNano", &self)
                        quoted(event.timeNanos)
                    }
                    raw("}")
                }
                raw("]")
            }
            if span.kind != 0 {
                members.name("kind", &self)
                decimal(span.kind)
            }
            members.string("name", span.name, &self)
            if let parent = span.parentSpanID {
                members.name("parentSpanId", &self)
                string(parent)
            }
            members.name("spanId", &self)
            string(span.spanID)
            members.name("startTimeUnixNano", &self)
            quoted(span.startNanos)
            if span.statusCode != 0 || !span.statusMessage.isEmpty {
                members.name("status", &self)
                raw("{")
                var status = Members()
                if span.statusCode != 0 {
                    status.name("code", &self)
                    decimal(span.statusCode)
                }
                status.string("message", span.statusMessage, &self)
                raw("}")
            }
            members.name("traceId", &self)
            string(span.traceID)
            raw("}")
        }

        /// Attributes as `KeyValue` objects, in the order of their keys.
        mutating func attributes(_ attributes: OTLPAttributes) {
            raw("[")
            for (n, pair) in attributes.pairs.enumerated() {
                raw(n == 0 ? #"{"key":"# : #",{"key":"#)
                string(pair.key)
                raw(#","value":"#)
                value(pair.value)
                raw("}")
            }
            raw("]")
        }

        /// An `AnyValue` as `OTLPValue.json` makes it.
        mutating func value(_ value: OTLPValue) {
            switch value {
            case .string(let text):
                raw(#"{"stringValue":"#)
                string(text)
            case .int(let number):
                raw(#"{"intValue":""#)
                decimal(number)
                raw("\"")
            case .bool(let flag): raw(flag ? #"{"boolValue":true"# : #"{"boolValue":false"#)
            case .double(let number) where number.isNaN: raw(#"{"doubleValue":"NaN""#)
            case .double(let number) where number.isInfinite:
                raw(number < 0 ? #"{"doubleValue":"-Infinity""# : #"{"doubleValue":"Infinity""#)
            case .double(let number):
                raw(#"{"doubleValue":"#)
                bytes.append(contentsOf: CanonicalJSON.format(number).utf8)
            case .other(let json):
                CanonicalJSON.write(json, into: &bytes)
                return
            }
            raw("}")
        }
    }

    /// The commas between an object's members, which are written in the canonical order of their names.
    private struct Members {
        private var any = false

        /// Starts the member `name`; its value follows.
        mutating func name(_ name: StaticString, _ writer: inout Writer) {
            writer.raw(any ? #",""# : #"""#)
            writer.raw(name)
            writer.raw(#"":"#)
            any = true
        }

        /// The member `name` with a string value, left out when the value is empty (proto3's default).
        mutating func string(_ name: StaticString, _ value: String, _ writer: inout Writer) {
            guard !value.isEmpty else { return }
            self.name(name, &writer)
            writer.string(value)
        }
    }
}

extension OTLPJSON {
    /// The `gen_ai.evaluation.result` events of an `ExportLogsServiceRequest` in OTLP/JSON, read as
    /// `OTLPProtobuf.evaluations` reads protobuf: the log records whose `eventName`, else whose attribute
    /// `event.name`, is that, with the span they evaluate (`traceId`, `spanId`) and their attributes
    /// `gen_ai.evaluation.name` and `gen_ai.evaluation.score.value`. Other records are skipped; an evaluation without
    /// a usable trace and span id (or with an unreadable time) is counted in `rejected`, with the first few `problems`.
    /// - Throws: `.invalidInput` naming the field, for a body that is not such a request.
    package static func evaluations(
        _ bytes: [UInt8]
    ) throws(LedgerError) -> (evaluations: [OTLPEvaluation], rejected: Int, problems: [String]) {
        var evaluations: [OTLPEvaluation] = []
        var rejected = 0
        var problems: [String] = []
        do {
            let request = try JSONValue(parsing: bytes)
            guard case .object = request else { throw Problem(path: "the request", reason: "expected an object") }
            for (r, resourceLogs) in try list(request["resourceLogs"], "resourceLogs").enumerated() {
                let at = "resourceLogs[\(r)].scopeLogs"
                for (s, scopeLogs) in try list(resourceLogs["scopeLogs"], at).enumerated() {
                    for (n, record) in try list(scopeLogs["logRecords"], "\(at)[\(s)].logRecords").enumerated() {
                        let at = "\(at)[\(s)].logRecords[\(n)]"
                        guard case .object = record else { throw Problem(path: at, reason: "expected an object") }
                        let values = try attributes(record["attributes"], "\(at).attributes")
                        let name = try string(record["eventName"], "\(at).eventName")
                        guard (name.isEmpty ? values["event.name"]?.string : name) == "gen_ai.evaluation.result" else {
                            continue
                        }
                        do {
                            let time = try nanos(record["timeUnixNano"], "\(at).timeUnixNano", absent: 0)
                            let observed = try nanos(
                                record["observedTimeUnixNano"], "\(at).observedTimeUnixNano", absent: 0)
                            evaluations.append(
                                OTLPEvaluation(
                                    traceID: try hex(record["traceId"], digits: 32, "\(at).traceId"),
                                    spanID: try hex(record["spanId"], digits: 16, "\(at).spanId"),
                                    name: values["gen_ai.evaluation.name"]?.string,
                                    score: values["gen_ai.evaluation.score.value"]?.number,
                                    timeNanos: time != 0 ? time : observed))
                        } catch {
                            rejected += 1
                            if problems.count < problemsNamed { problems.append("\(error.path): \(error.reason)") }
                        }
                    }
                }
            }
        } catch let error as Problem {
            throw LedgerError(.invalidInput, "the OTLP/JSON logs request: \(error.path): \(error.reason)")
        } catch {
            throw LedgerError(.invalidInput, "the OTLP/JSON logs request is not JSON: \(error)")
        }
        return (evaluations, rejected, problems)
    }
}
