internal import Foundation
internal import OTLPProto
package import PurserCore
package import PurserLedger
internal import SwiftProtobuf

/// OTLP/HTTP's protobuf encoding (`application/x-protobuf`, opentelemetry-proto v1.11.0): requests into the spans and
/// evaluations that the OTLP/JSON reader makes of the same content, and the answers.
package enum OTLPProtobuf {
    private typealias TraceRequest = Opentelemetry_Proto_Collector_Trace_V1_ExportTraceServiceRequest
    private typealias LogsRequest = Opentelemetry_Proto_Collector_Logs_V1_ExportLogsServiceRequest
    private typealias AnyValue = Opentelemetry_Proto_Common_V1_AnyValue
    private typealias KeyValue = Opentelemetry_Proto_Common_V1_KeyValue

    /// The spans of an `ExportTraceServiceRequest`, as `OTLPJSON.request` reads the same request in JSON: each on
    /// line 1. A span that is unusable (a trace id that is not 16 bytes, a span id or a parent that is not 8, an id
    /// of zeros, an end before its start, an unknown status code) is not kept: it is counted in `rejected`, and
    /// `problems` says why for the first few, naming the field as OTLP/JSON does.
    /// - Throws: `.invalidInput` for bytes that are not such a request.
    package static func spans(
        _ bytes: [UInt8]
    ) throws(LedgerError) -> (spans: [OTLPSpan], rejected: Int, problems: [String]) {
        var reader = TraceWireReader(bytes)
        do {
            return spans(of: try reader.request())
        } catch {
            throw LedgerError(
                .invalidInput,
                "the body is not a protobuf ExportTraceServiceRequest (opentelemetry-proto): \(error.reason) at byte \(error.offset)"
            )
        }
    }

    /// `spans(_:)` read through swift-protobuf's generated messages instead of `TraceWireReader`: the reading the
    /// `otlp-protobuf` fuzz target and the tests check the receiver's against.
    package static func referenceSpans(
        _ bytes: [UInt8]
    ) throws(LedgerError) -> (spans: [OTLPSpan], rejected: Int, problems: [String]) {
        let request: TraceRequest
        do {
            request = try TraceRequest(serializedBytes: bytes)
        } catch {
            throw LedgerError(
                .invalidInput, "the body is not a protobuf ExportTraceServiceRequest (opentelemetry-proto): \(error)")
        }
        return spans(
            of: request.resourceSpans.map { resourceSpans in
                TraceWireReader.ResourceFields(
                    resource: TraceWireReader.SpanFields.attributes(resourceSpans.resource.attributes.map(pair)),
                    scopes: resourceSpans.scopeSpans.map { scopeSpans in
                        (
                            scopeSpans.scope.name, scopeSpans.scope.version,
                            scopeSpans.spans.map { span in
                                TraceWireReader.SpanFields(
                                    traceID: ArraySlice(span.traceID), spanID: ArraySlice(span.spanID),
                                    parentSpanID: ArraySlice(span.parentSpanID), name: span.name,
                                    kind: Int32(truncatingIfNeeded: span.kind.rawValue),
                                    startNanos: span.startTimeUnixNano, endNanos: span.endTimeUnixNano,
                                    statusCode: Int32(truncatingIfNeeded: span.status.code.rawValue),
                                    statusMessage: span.status.message,
                                    attributes: TraceWireReader.SpanFields.attributes(span.attributes.map(pair)),
                                    events: span.events.map {
                                        OTLPEvent(
                                            timeNanos: $0.timeUnixNano, name: $0.name,
                                            attributes: TraceWireReader.SpanFields.attributes(
                                                $0.attributes.map(pair)))
                                    })
                            }
                        )
                    })
            })
    }

    /// The spans of a request as read, each checked.
    private static func spans(
        of resources: [TraceWireReader.ResourceFields]
    ) -> (spans: [OTLPSpan], rejected: Int, problems: [String]) {
        var spans: [OTLPSpan] = []
        var rejected = 0
        var problems: [String] = []
        for (r, resourceSpans) in resources.enumerated() {
            let resource = resourceSpans.resource
            for (s, scopeSpans) in resourceSpans.scopes.enumerated() {
                let scope = OTLPScope(name: scopeSpans.name, version: scopeSpans.version)
                for (n, span) in scopeSpans.spans.enumerated() {
                    do {
                        spans.append(try self.span(span, resource: resource, scope: scope))
                    } catch {
                        rejected += 1
                        if problems.count < OTLPJSON.problemsNamed {
                            problems.append(
                                "resourceSpans[\(r)].scopeSpans[\(s)].spans[\(n)].\(error.field): \(error.reason)")
                        }
                    }
                }
            }
        }
        return (spans, rejected, problems)
    }

    /// The `gen_ai.evaluation.result` events of an `ExportLogsServiceRequest`: its log records whose `event_name`,
    /// else whose attribute `event.name`, is that, with the span they evaluate (`trace_id`, `span_id`) and the
    /// record's attributes `gen_ai.evaluation.name` and `gen_ai.evaluation.score.value`. Other records are skipped;
    /// an evaluation without a usable trace and span id is counted in `rejected`, with the first few `problems`.
    /// - Throws: `.invalidInput` for bytes that are not such a request.
    package static func evaluations(
        _ bytes: [UInt8]
    ) throws(LedgerError) -> (evaluations: [OTLPEvaluation], rejected: Int, problems: [String]) {
        let request: LogsRequest
        do {
            request = try LogsRequest(serializedBytes: bytes)
        } catch {
            throw LedgerError(
                .invalidInput, "the body is not a protobuf ExportLogsServiceRequest (opentelemetry-proto): \(error)")
        }
        var evaluations: [OTLPEvaluation] = []
        var rejected = 0
        var problems: [String] = []
        for (r, resourceLogs) in request.resourceLogs.enumerated() {
            for (s, scopeLogs) in resourceLogs.scopeLogs.enumerated() {
                for (n, record) in scopeLogs.logRecords.enumerated() {
                    let values = TraceWireReader.SpanFields.attributes(record.attributes.map(pair))
                    let event = record.eventName.isEmpty ? values["event.name"]?.string : record.eventName
                    guard event == "gen_ai.evaluation.result" else { continue }
                    do {
                        evaluations.append(
                            OTLPEvaluation(
                                traceID: try id(record.traceID, bytes: 16, "traceId"),
                                spanID: try id(record.spanID, bytes: 8, "spanId"),
                                name: values["gen_ai.evaluation.name"]?.string,
                                score: values["gen_ai.evaluation.score.value"]?.number,
                                timeNanos: record.timeUnixNano != 0 ? record.timeUnixNano : record.observedTimeUnixNano
                            ))
                    } catch {
                        rejected += 1
                        if problems.count < OTLPJSON.problemsNamed {
                            problems.append(
                                "resourceLogs[\(r)].scopeLogs[\(s)].logRecords[\(n)].\(error.field): \(error.reason)")
                        }
                    }
                }
            }
        }
        return (evaluations, rejected, problems)
    }

    /// An `ExportTraceServiceResponse`: empty when every span was accepted, else with `partial_success`.
    package static func response(rejected: Int, message: String) -> [UInt8] {
        var response = Opentelemetry_Proto_Collector_Trace_V1_ExportTraceServiceResponse()
        if rejected > 0 || !message.isEmpty {
            response.partialSuccess.rejectedSpans = Int64(rejected)
            response.partialSuccess.errorMessage = message
        }
        // Serializing a message with only set fields of known types cannot fail.
        let bytes: [UInt8]? = try? response.serializedBytes()
        return bytes ?? []
    }

    /// The same answer in OTLP/JSON: `{}`, or `{"partialSuccess":{"rejectedSpans":"N","errorMessage":"…"}}`.
    package static func jsonResponse(rejected: Int, message: String) -> [UInt8] {
        guard rejected > 0 || !message.isEmpty else { return Array("{}".utf8) }
        var partial: [String: JSONValue] = [:]
        if rejected > 0 { partial["rejectedSpans"] = .string(String(rejected)) }
        if !message.isEmpty { partial["errorMessage"] = .string(message) }
        return CanonicalJSON.encode(.object(["partialSuccess": .object(partial)]))
    }

    /// `spans` as one `ExportTraceServiceRequest`, grouped as `OTLPJSON.encode` groups a line: what an OTLP
    /// exporter sends (for tests and the benchmark).
    package static func request(_ spans: [OTLPSpan]) -> [UInt8] {
        var request = TraceRequest()
        var start = spans.startIndex
        while start < spans.endIndex {
            let resource = spans[start].resource
            var end = start
            while end < spans.endIndex && spans[end].resource == resource { end += 1 }
            var resourceSpans = Opentelemetry_Proto_Trace_V1_ResourceSpans()
            if !resource.isEmpty { resourceSpans.resource.attributes = keyValues(resource) }
            var first = start
            while first < end {
                let scope = spans[first].scope
                var last = first
                while last < end && spans[last].scope == scope { last += 1 }
                var scopeSpans = Opentelemetry_Proto_Trace_V1_ScopeSpans()
                if scope != OTLPScope() {
                    scopeSpans.scope.name = scope.name
                    scopeSpans.scope.version = scope.version
                }
                scopeSpans.spans = spans[first..<last].map(message)
                resourceSpans.scopeSpans.append(scopeSpans)
                first = last
            }
            request.resourceSpans.append(resourceSpans)
            start = end
        }
        let bytes: [UInt8]? = try? request.serializedBytes()
        return bytes ?? []
    }

    /// Why a span (or an evaluation) is unusable, and in which of its fields (OTLP/JSON's name).
    private struct Unusable: Error {
        let field: String
        let reason: String
    }

    private static func span(
        _ span: TraceWireReader.SpanFields, resource: OTLPAttributes, scope: OTLPScope
    ) throws(Unusable) -> OTLPSpan {
        let traceID = try id(span.traceID, bytes: 16, "traceId")
        let spanID = try id(span.spanID, bytes: 8, "spanId")
        let parent = span.parentSpanID.isEmpty ? nil : try id(span.parentSpanID, bytes: 8, "parentSpanId")
        guard (0...2).contains(span.statusCode) else {
            throw Unusable(field: "status.code", reason: "expected 0, 1 or 2, not \(span.statusCode)")
        }
        guard span.endNanos >= span.startNanos else {
            throw Unusable(
                field: "endTimeUnixNano", reason: "\(span.endNanos) is before startTimeUnixNano \(span.startNanos)")
        }
        return OTLPSpan(
            line: 1, traceID: traceID, spanID: spanID, parentSpanID: parent, name: span.name, kind: span.kind,
            startNanos: span.startNanos, endNanos: span.endNanos, statusCode: span.statusCode,
            statusMessage: span.statusMessage, attributes: span.attributes, resource: resource, scope: scope,
            events: span.events)
    }

    private static let hexDigits = Array("0123456789abcdef".utf8)

    /// `data` as lowercase hex, when it is `bytes` long and not all zero.
    private static func id(_ data: some Collection<UInt8>, bytes: Int, _ field: String) throws(Unusable) -> String {
        guard data.count == bytes, data.contains(where: { $0 != 0 }) else {
            throw Unusable(field: field, reason: "expected \(bytes) bytes, not all zero; got \(data.count)")
        }
        return String(unsafeUninitializedCapacity: bytes * 2) { text in
            var index = 0
            for byte in data {
                text[index] = hexDigits[Int(byte >> 4)]
                text[index + 1] = hexDigits[Int(byte & 0x0F)]
                index += 2
            }
            return index
        }
    }

    /// A `KeyValue` as the wire reader gives it.
    private static func pair(_ pair: KeyValue) -> (String, TraceWireReader.Value) {
        (pair.key, value(pair.value))
    }

    private static func value(_ value: AnyValue) -> TraceWireReader.Value {
        switch value.value {
        case .stringValue(let text): .string(text)
        case .boolValue(let flag): .bool(flag)
        case .intValue(let number): .int(number)
        case .doubleValue(let number): .double(number)
        case .bytesValue(let data): .bytes(ArraySlice(data))
        case .arrayValue(let array): .array(array.values.map(self.value))
        case .kvlistValue(let list): .kvlist(list.values.map(pair))
        // An index into a profile's string table, which traces do not have.
        case .stringValueStrindex, nil: .empty
        }
    }

    private static func message(_ span: OTLPSpan) -> Opentelemetry_Proto_Trace_V1_Span {
        var message = Opentelemetry_Proto_Trace_V1_Span()
        message.traceID = data(hex: span.traceID)
        message.spanID = data(hex: span.spanID)
        if let parent = span.parentSpanID { message.parentSpanID = data(hex: parent) }
        message.name = span.name
        message.kind = .init(rawValue: Int(span.kind)) ?? .unspecified
        message.startTimeUnixNano = span.startNanos
        message.endTimeUnixNano = span.endNanos
        message.attributes = keyValues(span.attributes)
        message.events = span.events.map { event in
            var message = Opentelemetry_Proto_Trace_V1_Span.Event()
            message.timeUnixNano = event.timeNanos
            message.name = event.name
            message.attributes = keyValues(event.attributes)
            return message
        }
        if span.statusCode != 0 || !span.statusMessage.isEmpty {
            message.status.code = .init(rawValue: Int(span.statusCode)) ?? .unset
            message.status.message = span.statusMessage
        }
        return message
    }

    private static func keyValues(_ attributes: OTLPAttributes) -> [KeyValue] {
        attributes.pairs.map { pair in
            var keyValue = KeyValue()
            keyValue.key = pair.key
            keyValue.value = anyValue(pair.value.json)
            return keyValue
        }
    }

    /// An `AnyValue` from its OTLP/JSON form (`OTLPValue.json`).
    private static func anyValue(_ json: JSONValue) -> AnyValue {
        var value = AnyValue()
        if let text = json["stringValue"]?.stringValue {
            value.stringValue = text
        } else if case .bool(let flag)? = json["boolValue"] {
            value.boolValue = flag
        } else if let text = json["intValue"]?.stringValue, let number = Int64(text) {
            value.intValue = number
        } else if let number = json["doubleValue"] {
            switch number {
            case .string("NaN"): value.doubleValue = .nan
            case .string("Infinity"): value.doubleValue = .infinity
            case .string("-Infinity"): value.doubleValue = -.infinity
            default: value.doubleValue = number.numberValue ?? 0
            }
        } else if let text = json["bytesValue"]?.stringValue {
            value.bytesValue = Data(base64Encoded: text) ?? Data()
        } else if let array = json["arrayValue"] {
            var message = Opentelemetry_Proto_Common_V1_ArrayValue()
            message.values = (array["values"]?.arrayValue ?? []).map(anyValue)
            value.arrayValue = message
        } else if let list = json["kvlistValue"] {
            var message = Opentelemetry_Proto_Common_V1_KeyValueList()
            message.values = (list["values"]?.arrayValue ?? []).map { pair in
                var keyValue = KeyValue()
                keyValue.key = pair["key"]?.stringValue ?? ""
                keyValue.value = anyValue(pair["value"] ?? .object([:]))
                return keyValue
            }
            value.kvlistValue = message
        }
        return value
    }

    private static func data(hex: String) -> Data {
        var bytes: [UInt8] = []
        var high: UInt8?
        for digit in hex.utf8 {
            let nibble = digit <= 0x39 ? digit - 0x30 : (digit | 0x20) - 0x61 + 10
            if let first = high {
                bytes.append(first << 4 | nibble)
                high = nil
            } else {
                high = nibble
            }
        }
        return Data(bytes)
    }
}
