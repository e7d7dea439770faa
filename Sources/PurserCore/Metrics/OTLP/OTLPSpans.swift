internal import Foundation
package import PurserLedger

/// A span as OTLP carries it, with the attributes of the resource that sent it: what task assembly
/// (`OTLPTasks`) needs of OpenTelemetry's trace model (opentelemetry-proto v1.11.0, `trace.proto`).
package struct OTLPSpan {
    /// The line of the input it came on, from 1.
    let line: Int
    /// 32 lowercase hex digits.
    let traceID: String
    /// 16 lowercase hex digits.
    let spanID: String
    /// nil for a root span.
    let parentSpanID: String?
    let name: String
    let startNanos: UInt64
    let endNanos: UInt64
    /// The span's status is ERROR.
    let failed: Bool
    let attributes: [String: OTLPValue]
    let resource: [String: OTLPValue]
    let events: [OTLPEvent]

    /// The attribute `key` of the span, else of its resource.
    func attribute(_ key: String) -> OTLPValue? {
        attributes[key] ?? resource[key]
    }
}

/// A span event (`gen_ai.evaluation.result`, an exception): its name and attributes.
struct OTLPEvent {
    let name: String
    let attributes: [String: OTLPValue]
}

/// An attribute's value (`AnyValue`); arrays, key-value lists and bytes are kept as `other`, since no mapping reads
/// them.
enum OTLPValue: Equatable {
    case string(String)
    case int(Int64)
    case double(Double)
    case bool(Bool)
    case other

    var string: String? {
        if case .string(let value) = self { return value }
        return nil
    }

    /// An integer or a double as a number.
    var number: Double? {
        switch self {
        case .int(let value): Double(value)
        case .double(let value): value
        default: nil
        }
    }
}

/// Reads OTLP/JSON: the `ExportTraceServiceRequest` of the OTLP/HTTP JSON encoding, one per line as the
/// Collector's file exporter writes them (field names in lowerCamelCase; trace and span ids in hex; 64-bit
/// integers as strings or numbers; status codes as numbers or their enum names).
package enum OTLPJSON {
    /// The spans of every request in `bytes`, in the order they come.
    /// - Parameter source: how messages name the input (`traces.jsonl`).
    /// - Throws: `.invalidInput` naming the line and the field, for a line that is not such a request.
    package static func spans(_ bytes: [UInt8], source: String) throws(LedgerError) -> [OTLPSpan] {
        var spans: [OTLPSpan] = []
        var number = 0
        for line in bytes.split(separator: 0x0A, omittingEmptySubsequences: false) {
            number += 1
            let trimmed = line.last == 0x0D ? line.dropLast() : line
            guard !trimmed.allSatisfy({ $0 == 0x20 || $0 == 0x09 }) else { continue }
            do {
                let request = try JSONValue(parsing: Array(trimmed))
                try read(request, line: number, into: &spans)
            } catch let error as Problem {
                throw LedgerError(.invalidInput, "\(source) line \(number): \(error.path): \(error.reason)")
            } catch {
                throw LedgerError(.invalidInput, "\(source) line \(number): not JSON: \(error)")
            }
        }
        return spans
    }

    /// What is wrong, and where in the request.
    private struct Problem: Error {
        let path: String
        let reason: String
    }

    private static func read(_ request: JSONValue, line: Int, into spans: inout [OTLPSpan]) throws(Problem) {
        guard case .object = request else { throw Problem(path: "the line", reason: "expected an object") }
        for (r, resourceSpans) in try list(request["resourceSpans"], "resourceSpans").enumerated() {
            let at = "resourceSpans[\(r)]"
            let resource = try attributes(resourceSpans["resource"]?["attributes"], "\(at).resource.attributes")
            for (s, scopeSpans) in try list(resourceSpans["scopeSpans"], "\(at).scopeSpans").enumerated() {
                for (n, span) in try list(scopeSpans["spans"], "\(at).scopeSpans[\(s)].spans").enumerated() {
                    spans.append(
                        try read(span, resource: resource, line: line, at: "\(at).scopeSpans[\(s)].spans[\(n)]"))
                }
            }
        }
    }

    private static func read(
        _ span: JSONValue, resource: [String: OTLPValue], line: Int, at: String
    ) throws(Problem) -> OTLPSpan {
        guard case .object = span else { throw Problem(path: at, reason: "expected an object") }
        let parent = span["parentSpanId"]?.stringValue ?? ""
        var failed = false
        if let code = span["status"]?["code"] {
            switch code {
            case .number(2), .string("STATUS_CODE_ERROR"): failed = true
            case .number(0), .number(1), .string("STATUS_CODE_UNSET"), .string("STATUS_CODE_OK"): break
            default:
                let text = String(decoding: CanonicalJSON.encode(code), as: UTF8.self)
                throw Problem(path: "\(at).status.code", reason: "expected 0, 1 or 2, not \(text)")
            }
        }
        let start = try nanos(span["startTimeUnixNano"], "\(at).startTimeUnixNano")
        let end = try nanos(span["endTimeUnixNano"], "\(at).endTimeUnixNano")
        guard end >= start else {
            throw Problem(path: "\(at).endTimeUnixNano", reason: "\(end) is before startTimeUnixNano \(start)")
        }
        var events: [OTLPEvent] = []
        for (e, event) in try list(span["events"], "\(at).events").enumerated() {
            events.append(
                OTLPEvent(
                    name: event["name"]?.stringValue ?? "",
                    attributes: try attributes(event["attributes"], "\(at).events[\(e)].attributes")))
        }
        return OTLPSpan(
            line: line, traceID: try hex(span["traceId"], digits: 32, "\(at).traceId"),
            spanID: try hex(span["spanId"], digits: 16, "\(at).spanId"),
            parentSpanID: parent.isEmpty ? nil : try hex(.string(parent), digits: 16, "\(at).parentSpanId"),
            name: span["name"]?.stringValue ?? "", startNanos: start, endNanos: end, failed: failed,
            attributes: try attributes(span["attributes"], "\(at).attributes"), resource: resource, events: events)
    }

    /// An array, or none when absent.
    private static func list(_ value: JSONValue?, _ path: String) throws(Problem) -> [JSONValue] {
        guard let value, value != .null else { return [] }
        guard let items = value.arrayValue else { throw Problem(path: path, reason: "expected an array") }
        return items
    }

    private static func attributes(_ value: JSONValue?, _ path: String) throws(Problem) -> [String: OTLPValue] {
        var attributes: [String: OTLPValue] = [:]
        for (index, pair) in try list(value, path).enumerated() {
            guard let key = pair["key"]?.stringValue else {
                throw Problem(path: "\(path)[\(index)].key", reason: "expected a string")
            }
            let value = pair["value"]
            if let text = value?["stringValue"]?.stringValue {
                attributes[key] = .string(text)
            } else if case .bool(let flag) = value?["boolValue"] ?? .null {
                attributes[key] = .bool(flag)
            } else if let integer = value?["intValue"] {
                guard
                    let number = integer.stringValue.flatMap({ Int64($0) })
                        ?? integer.numberValue.flatMap(Int64.init(exactly:))
                else { throw Problem(path: "\(path)[\(index)].value.intValue", reason: "expected a 64-bit integer") }
                attributes[key] = .int(number)
            } else if let number = value?["doubleValue"]?.numberValue {
                attributes[key] = .double(number)
            } else {
                attributes[key] = .other
            }
        }
        return attributes
    }

    /// Nanoseconds since 1970: a decimal string (proto3 JSON's int64) or a number.
    private static func nanos(_ value: JSONValue?, _ path: String) throws(Problem) -> UInt64 {
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
