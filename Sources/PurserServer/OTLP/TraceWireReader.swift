internal import PurserCore
internal import PurserLedger

/// Reads an `ExportTraceServiceRequest` (opentelemetry-proto v1.11.0) from protobuf's wire format straight into the
/// spans purser keeps: the receiver's reading of `application/x-protobuf` traces (`OTLPProtobuf.spans`).
///
/// It reads what swift-protobuf's generated code reads, the same way, without building the generated messages
/// first (a third of the receiver's time per span went to them): the fields purser keeps; unknown fields and a
/// field with another wire type than its declaration skipped, groups among them; repeated fields appended; a
/// singular message given twice merged, a scalar replaced; strings valid UTF-8; 100 levels of messages at most.
/// Fields purser does not keep (`trace_state`, links, flags, dropped counts, schema URLs, scope attributes, entity
/// references) are skipped as unknown fields are, their content unread: a request swift-protobuf refuses only for
/// them is read. Otherwise both accept and refuse the same requests and give the same spans, which the
/// `otlp-protobuf` fuzz target checks against `OTLPProtobuf.referenceSpans`.
struct TraceWireReader {
    /// What is wrong with the bytes, and where.
    struct Malformed: Error {
        let reason: String
        let offset: Int
    }

    private let bytes: [UInt8]
    /// The attributes of the resource, span and event being read, in that order (a stack): each is made from the
    /// end of it and then removed, so that a span's attributes take one allocation, not one per doubling.
    private var attributes: [(key: String, value: OTLPValue)] = []
    /// Where the message being read ends: nothing past it is read.
    private var end: Int
    /// How deep in messages (and groups) the reader is; swift-protobuf's default limit is 100.
    private var depth = 0
    private static let depthLimit = 100

    init(_ bytes: [UInt8]) {
        self.bytes = bytes
        end = bytes.count
        attributes.reserveCapacity(64)
    }

    /// An attribute's value as read, merged as protobuf merges an `AnyValue` given twice. Not `indirect`: the
    /// arrays hold the nested values, and a boxed case cost an allocation per attribute.
    enum Value: Sendable {
        case empty
        case string(String)
        case bool(Bool)
        case int(Int64)
        case double(Double)
        case bytes(ArraySlice<UInt8>)
        case array([Value])
        case kvlist([(String, Value)])

        var otlp: OTLPValue {
            switch self {
            case .empty: .empty
            case .string(let text): .string(text)
            case .bool(let flag): .bool(flag)
            case .int(let number): .int(number)
            case .double(let number): .double(number)
            case .bytes(let bytes): .bytes(Array(bytes))
            case .array(let values): .array(values.map(\.otlp))
            case .kvlist(let pairs): .kvlist(pairs.map { ($0.0, $0.1.otlp) })
            }
        }
    }

    /// A span's fields as read; checked and made an `OTLPSpan` once its resource and scope are known.
    struct SpanFields {
        var traceID: ArraySlice<UInt8> = []
        var spanID: ArraySlice<UInt8> = []
        var parentSpanID: ArraySlice<UInt8> = []
        var name = ""
        var kind: Int32 = 0
        var startNanos: UInt64 = 0
        var endNanos: UInt64 = 0
        var statusCode: Int32 = 0
        var statusMessage = ""
        var attributes: OTLPAttributes = [:]
        var events: [OTLPEvent] = []

        /// The attributes of `KeyValue`s as read; of a key given twice, the last (as the JSON reader does).
        static func attributes(_ pairs: [(String, Value)]) -> OTLPAttributes {
            OTLPAttributes(pairs.map { (key: $0.0, value: $0.1.otlp) })
        }
    }

    /// One `ResourceSpans`: its resource's attributes, and per `ScopeSpans` its scope and spans.
    struct ResourceFields {
        var resource: OTLPAttributes = [:]
        var scopes: [(name: String, version: String, spans: [SpanFields])] = []
    }

    /// The request's `ResourceSpans`, in order.
    mutating func request() throws(Malformed) -> [ResourceFields] {
        var resources: [ResourceFields] = []
        try message(0..<bytes.count) { (reader, field, wire, at) throws(Malformed) in
            guard field == 1, wire == 2 else { return false }
            var resource = ResourceFields()
            let first = reader.attributes.count
            try reader.message(try reader.delimited(&at)) { (reader, field, wire, at) throws(Malformed) in
                switch (field, wire) {
                case (1, 2):
                    try reader.message(try reader.delimited(&at)) { (reader, field, wire, at) throws(Malformed) in
                        guard field == 1, wire == 2 else { return false }
                        try reader.attribute(try reader.delimited(&at))
                        return true
                    }
                case (2, 2): resource.scopes.append(try reader.scopeSpans(try reader.delimited(&at)))
                default: return false
                }
                return true
            }
            resource.resource = reader.attributes(from: first)
            resources.append(resource)
            return true
        }
        return resources
    }

    private mutating func scopeSpans(
        _ range: Range<Int>
    ) throws(Malformed) -> (name: String, version: String, spans: [SpanFields]) {
        var scope = (name: "", version: "", spans: [SpanFields]())
        try message(range) { (reader, field, wire, at) throws(Malformed) in
            switch (field, wire) {
            case (1, 2):
                try reader.message(try reader.delimited(&at)) { (reader, field, wire, at) throws(Malformed) in
                    switch (field, wire) {
                    case (1, 2): scope.name = try reader.string(&at)
                    case (2, 2): scope.version = try reader.string(&at)
                    default: return false
                    }
                    return true
                }
            case (2, 2): scope.spans.append(try reader.span(try reader.delimited(&at)))
            default: return false
            }
            return true
        }
        return scope
    }

    private mutating func span(_ range: Range<Int>) throws(Malformed) -> SpanFields {
        var span = SpanFields()
        let first = attributes.count
        try message(range) { (reader, field, wire, at) throws(Malformed) in
            switch (field, wire) {
            case (1, 2): span.traceID = reader.bytes[try reader.delimited(&at)]
            case (2, 2): span.spanID = reader.bytes[try reader.delimited(&at)]
            case (4, 2): span.parentSpanID = reader.bytes[try reader.delimited(&at)]
            case (5, 2): span.name = try reader.string(&at)
            case (6, 0): span.kind = Int32(truncatingIfNeeded: try reader.varint(&at))
            case (7, 1): span.startNanos = try reader.fixed64(&at)
            case (8, 1): span.endNanos = try reader.fixed64(&at)
            case (9, 2): try reader.attribute(try reader.delimited(&at))
            case (11, 2):
                var (timeNanos, name) = (UInt64(0), "")
                let firstOfEvent = reader.attributes.count
                try reader.message(try reader.delimited(&at)) { (reader, field, wire, at) throws(Malformed) in
                    switch (field, wire) {
                    case (1, 1): timeNanos = try reader.fixed64(&at)
                    case (2, 2): name = try reader.string(&at)
                    case (3, 2): try reader.attribute(try reader.delimited(&at))
                    default: return false
                    }
                    return true
                }
                span.events.append(
                    OTLPEvent(timeNanos: timeNanos, name: name, attributes: reader.attributes(from: firstOfEvent)))
            case (15, 2):
                try reader.message(try reader.delimited(&at)) { (reader, field, wire, at) throws(Malformed) in
                    switch (field, wire) {
                    case (2, 2): span.statusMessage = try reader.string(&at)
                    case (3, 0): span.statusCode = Int32(truncatingIfNeeded: try reader.varint(&at))
                    default: return false
                    }
                    return true
                }
            default: return false
            }
            return true
        }
        span.attributes = attributes(from: first)
        return span
    }

    /// Reads a span's, an event's or a resource's `KeyValue` onto `attributes`.
    private mutating func attribute(_ range: Range<Int>) throws(Malformed) {
        let (key, value) = try keyValue(range)
        attributes.append((key, value.otlp))
    }

    /// The attributes read from `first` on, taken off `attributes`.
    private mutating func attributes(from first: Int) -> OTLPAttributes {
        defer { attributes.removeSubrange(first...) }
        return OTLPAttributes(attributes[first...])
    }

    private mutating func keyValue(_ range: Range<Int>) throws(Malformed) -> (String, Value) {
        var pair = ("", Value.empty)
        try message(range) { (reader, field, wire, at) throws(Malformed) in
            switch (field, wire) {
            case (1, 2): pair.0 = try reader.string(&at)
            case (2, 2): try reader.anyValue(try reader.delimited(&at), into: &pair.1)
            default: return false
            }
            return true
        }
        return pair
    }

    /// Reads an `AnyValue` into `value`: a field of its `oneof` replaces what `value` holds, except an array or a
    /// key-value list given where one is held already, which is merged into it (appended).
    private mutating func anyValue(_ range: Range<Int>, into value: inout Value) throws(Malformed) {
        try message(range) { (reader, field, wire, at) throws(Malformed) in
            switch (field, wire) {
            case (1, 2): value = .string(try reader.string(&at))
            case (2, 0): value = .bool(try reader.varint(&at) != 0)
            case (3, 0): value = .int(Int64(bitPattern: try reader.varint(&at)))
            case (4, 1): value = .double(Double(bitPattern: try reader.fixed64(&at)))
            case (5, 2):
                // Taken out of `value`, so that appending does not copy what it holds (a sender may give the
                // same array in a million pieces).
                var values: [Value] = []
                if case .array(let held) = value {
                    values = held
                    value = .empty
                }
                try reader.message(try reader.delimited(&at)) { (reader, field, wire, at) throws(Malformed) in
                    guard field == 1, wire == 2 else { return false }
                    var item = Value.empty
                    try reader.anyValue(try reader.delimited(&at), into: &item)
                    values.append(item)
                    return true
                }
                value = .array(values)
            case (6, 2):
                var pairs: [(String, Value)] = []
                if case .kvlist(let held) = value {
                    pairs = held
                    value = .empty
                }
                try reader.message(try reader.delimited(&at)) { (reader, field, wire, at) throws(Malformed) in
                    guard field == 1, wire == 2 else { return false }
                    pairs.append(try reader.keyValue(try reader.delimited(&at)))
                    return true
                }
                value = .kvlist(pairs)
            case (7, 2): value = .bytes(reader.bytes[try reader.delimited(&at)])
            // `string_value_strindex`: an index into a profile's string table, which traces do not have.
            case (8, 0):
                _ = try reader.varint(&at)
                value = .empty
            default: return false
            }
            return true
        }
    }

    // MARK: The wire format

    /// Reads the fields of the message in `range` one by one: `field` is given the reader, the field number, the
    /// wire type and the position after the tag, which it moves past the field's value; it returns false for a
    /// field it does not read, which is then skipped.
    private mutating func message(
        _ range: Range<Int>,
        _ field: (inout TraceWireReader, Int, UInt8, inout Int) throws(Malformed) -> Bool
    ) throws(Malformed) {
        let outer = end
        depth += 1
        end = range.upperBound
        defer {
            depth -= 1
            end = outer
        }
        guard depth <= Self.depthLimit else {
            throw Malformed(reason: "messages nested deeper than \(Self.depthLimit)", offset: range.lowerBound)
        }
        var at = range.lowerBound
        while at < end {
            let start = at
            let (number, wire) = try tag(&at)
            guard wire != 4 else { throw Malformed(reason: "an end-group tag outside a group", offset: start) }
            var after = at
            if try field(&self, number, wire, &after) {
                at = after
            } else {
                try skip(number: number, wire: wire, at: &at)
            }
        }
    }

    /// A field's tag as swift-protobuf reads it at the start of a field: at most 5 bytes, a wire type 0–5, a field
    /// number above 0 that fits 29 bits.
    private func tag(_ at: inout Int) throws(Malformed) -> (number: Int, wire: UInt8) {
        let start = at
        var number = 0
        var shift = 0
        for index in 0..<5 {
            guard at < end else { throw Malformed(reason: "a truncated tag", offset: start) }
            let byte = bytes[at]
            at += 1
            if index == 4 && byte > 15 { throw Malformed(reason: "a tag longer than 32 bits", offset: start) }
            number |= Int(byte & 0x7F) << shift
            shift += 7
            if byte & 0x80 == 0 || index == 4 { break }
        }
        let wire = bytes[start] & 7
        guard wire <= 5 else { throw Malformed(reason: "wire type \(wire)", offset: start) }
        guard number >> 3 != 0 else { throw Malformed(reason: "field number 0", offset: start) }
        return (number >> 3, wire)
    }

    /// Moves `at` past the value of a field that is not read, checking only that it is whole; a group's fields are
    /// skipped up to its end-group tag.
    private mutating func skip(number: Int, wire: UInt8, at: inout Int) throws(Malformed) {
        switch wire {
        case 0: _ = try varint(&at)
        case 1: at = try advance(at, by: 8)
        case 2: at = try delimited(&at).upperBound
        case 5: at = try advance(at, by: 4)
        case 3:
            depth += 1
            defer { depth -= 1 }
            guard depth <= Self.depthLimit else {
                throw Malformed(reason: "groups nested deeper than \(Self.depthLimit)", offset: at)
            }
            while true {
                let start = at
                // Within a group, swift-protobuf reads a tag as any varint below 2^32.
                let raw = try varint(&at)
                guard raw < UInt64(UInt32.max), raw >> 3 != 0, raw & 7 <= 5 else {
                    throw Malformed(reason: "an invalid tag in a group", offset: start)
                }
                let (inner, innerWire) = (Int(raw >> 3), UInt8(raw & 7))
                if innerWire == 4 {
                    guard inner == number else {
                        throw Malformed(reason: "an end-group tag for another group", offset: start)
                    }
                    return
                }
                try skip(number: inner, wire: innerWire, at: &at)
            }
        default: throw Malformed(reason: "an end-group tag outside a group", offset: at)
        }
    }

    private func advance(_ at: Int, by count: Int) throws(Malformed) -> Int {
        guard end - at >= count else { throw Malformed(reason: "a truncated field", offset: at) }
        return at + count
    }

    /// A varint of at most 10 bytes, its bits past 64 dropped (as swift-protobuf reads one).
    private func varint(_ at: inout Int) throws(Malformed) -> UInt64 {
        let start = at
        var value: UInt64 = 0
        var shift: UInt64 = 0
        while true {
            guard at < end, shift <= 63 else {
                throw Malformed(reason: "a truncated or overlong varint", offset: start)
            }
            let byte = bytes[at]
            at += 1
            value |= UInt64(byte & 0x7F) &<< shift
            if byte & 0x80 == 0 { return value }
            shift += 7
        }
    }

    private func fixed64(_ at: inout Int) throws(Malformed) -> UInt64 {
        let start = at
        at = try advance(at, by: 8)
        var value: UInt64 = 0
        for index in (start..<at).reversed() { value = value << 8 | UInt64(bytes[index]) }
        return value
    }

    /// The range of a length-delimited field's value; `at` moves past it.
    private func delimited(_ at: inout Int) throws(Malformed) -> Range<Int> {
        let start = at
        let length = try varint(&at)
        guard length <= UInt64(end - at) else { throw Malformed(reason: "a truncated field", offset: start) }
        let range = at..<at + Int(length)
        at = range.upperBound
        return range
    }

    private func string(_ at: inout Int) throws(Malformed) -> String {
        let start = at
        let range = try delimited(&at)
        let text = bytes.withUnsafeBufferPointer { buffer in
            let utf8 = UnsafeBufferPointer(rebasing: buffer[range])
            // ASCII, as nearly every key and value is, is valid UTF-8 as it stands. The standard library's validation
            // of a buffer took 38% of decoding's instructions; checking for ASCII first took a quarter off them.
            return utf8.allSatisfy { $0 < 0x80 }
                ? String(decoding: utf8, as: UTF8.self) : String(validating: utf8, as: UTF8.self)
        }
        guard let text else { throw Malformed(reason: "a string that is not UTF-8", offset: start) }
        return text
    }
}
