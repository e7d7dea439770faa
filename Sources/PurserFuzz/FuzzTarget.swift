import Foundation
import PurserCore
import PurserLedger
import PurserServer

/// The hand-written parsers purser runs on input it does not control, each as a fuzz target: it takes any
/// bytes, and crashes (a trap) when the parser crashes or breaks one of its own promises (a value it accepts
/// must round-trip; the JSON Lines fast path must agree with the general parser). Refusing input is fine.
enum FuzzTarget: String, CaseIterable {
    /// `JSONValue(parsing:)`; what it accepts, written as canonical JSON, reads back to the same canonical JSON.
    case json
    /// `Timestamp.parse`; a time it accepts is in `Timestamp.range` and its ledger form reads back unchanged; a
    /// task record's `started_at`, read through its fast path for UTC times, is that same ledger form.
    case timestamp
    /// A policy's durations (`90s`, `1.5h`, `500ms`): more than zero and finite when accepted.
    case duration
    /// `purser eval record --format junit`: the XML reader.
    case junit
    /// `purser eval record --format promptfoo`.
    case promptfoo
    /// `purser eval record --format json`.
    case results
    /// `purser metrics ingest` of a CSV file.
    case csv
    /// `purser metrics ingest` of JSON Lines; every line's record is the same through the fast path and the
    /// general parser.
    case jsonl
    /// The HTTP client's response parser, fed each input as the answer of a server on loopback.
    case http
    /// `TerminalText`, which makes a ledger's or a server's text safe to print: escaped text holds no control or
    /// format character but the joiners, and a cut keeps within its columns (one byte of the input chooses them)
    /// and is a prefix of the text.
    case terminal
    /// `LedgerError.Message(template:)`, which reads the `template` of a server's error: a template it accepts is
    /// the template of what it read, and names the same text.
    case template
    /// `OTLPJSON.spans` and `OTLPTasks.assemble`: OTLP/JSON traces into agent tasks. Every task is unique by its id,
    /// and no more spans go unattributed than were read. And `OTLPJSON.request`, the receiver's reading: the spans it
    /// takes read back from their batch file as the same spans, and assemble leniently without an error.
    case otlp
    /// `OTLPProtobuf.spans` and `.evaluations`: protobuf OTLP requests as the receiver takes them. Its hand-written
    /// wire reader reads every request swift-protobuf's generated code reads, into the same spans. The spans it
    /// accepts are written as OTLP/JSON lines (the receiver's batch files, canonical JSON) and as protobuf again, and
    /// both read back to the same spans (compared through their OTLP/JSON bytes, since NaN is no value's equal).
    case otlpProtobuf = "otlp-protobuf"
    /// `Gzip.decompress` of a request body: never more bytes than the limit (the first two bytes of the input
    /// choose it); what it inflates to, it inflates to with a limit of exactly that size, and not one byte less.
    case gzip

    /// The target the first argument names; a static, for the fuzzer's callback, which can capture nothing.
    static let chosen = CommandLine.arguments.count > 1 ? FuzzTarget(rawValue: CommandLine.arguments[1]) : nil

    func run(_ bytes: [UInt8]) {
        switch self {
        case .json: Self.json(bytes)
        case .timestamp: Self.timestamp(bytes)
        case .duration: Self.duration(bytes)
        case .junit: _ = try? EvaluationResults.parse(bytes, format: .junit, source: "fuzz.xml")
        case .promptfoo: _ = try? EvaluationResults.parse(bytes, format: .promptfoo, source: "fuzz.json")
        case .results: _ = try? EvaluationResults.parse(bytes, format: .json, source: "fuzz.json")
        case .csv: _ = try? MetricsFile.parse(bytes, format: .csv, source: "fuzz.csv")
        case .jsonl: Self.jsonLines(bytes)
        case .http: LoopbackAnswer.shared.fetch(answering: bytes)
        case .terminal: Self.terminal(bytes)
        case .template: Self.template(bytes)
        case .otlp: Self.otlp(bytes)
        case .otlpProtobuf: Self.otlpProtobuf(bytes)
        case .gzip: Self.gzip(bytes)
        }
    }

    private static func otlp(_ bytes: [UInt8]) {
        // What the receiver takes of a JSON request is written as its batch file: `reindex` must read that file back
        // as the same spans, and assemble it without refusing it.
        if let (taken, _, _) = try? OTLPJSON.request(bytes) {
            let lines = OTLPJSON.encode(taken)
            Self.canonical(lines)
            guard let read = try? OTLPJSON.spans(lines, source: "batch.jsonl"), OTLPJSON.encode(read) == lines else {
                fatalError(
                    "a batch file the receiver would write does not read back: \(String(decoding: lines, as: UTF8.self))"
                )
            }
            guard (try? OTLPTasks.assemble(read, lenient: true)) != nil else { fatalError("a batch refused") }
        }
        guard let spans = try? OTLPJSON.spans(bytes, source: "fuzz.json"),
            let (tasks, unattributed) = try? OTLPTasks.assemble(spans)
        else { return }
        precondition(Set(tasks.map(\.record.taskID)).count == tasks.count, "two tasks with one id")
        precondition(unattributed >= 0 && unattributed + tasks.count <= spans.count, "more spans counted than read")
    }

    private static func otlpProtobuf(_ bytes: [UInt8]) {
        _ = try? OTLPProtobuf.evaluations(bytes)
        // The receiver's wire reader against swift-protobuf's generated code: what the one reads, the other reads
        // the same (the wire reader may read more: fields it skips unread).
        let reference = try? OTLPProtobuf.referenceSpans(bytes)
        guard let (spans, rejected, problems) = try? OTLPProtobuf.spans(bytes) else {
            precondition(reference == nil, "the wire reader refuses a request swift-protobuf reads")
            return
        }
        if let reference {
            precondition(
                OTLPJSON.encode(reference.spans) == OTLPJSON.encode(spans) && reference.rejected == rejected
                    && reference.problems == problems, "the wire reader reads a request otherwise than swift-protobuf")
        }
        precondition(
            problems.count <= min(rejected, OTLPJSON.problemsNamed), "\(problems.count) problems of \(rejected)")
        let lines = OTLPJSON.encode(spans)
        Self.canonical(lines)
        guard let read = try? OTLPJSON.spans(lines, source: "batch.jsonl") else {
            fatalError("accepted spans written as OTLP/JSON are refused: \(String(decoding: lines, as: UTF8.self))")
        }
        precondition(OTLPJSON.encode(read) == lines, "OTLP/JSON lines read back differently")
        guard let again = try? OTLPProtobuf.spans(OTLPProtobuf.request(spans)), again.rejected == 0 else {
            fatalError("accepted spans written as protobuf are refused")
        }
        precondition(OTLPJSON.encode(again.spans) == lines, "protobuf written again reads back differently")
    }

    /// `OTLPJSON.encode` writes each line byte by byte in canonical JSON's member order: each must be its own
    /// canonical form.
    private static func canonical(_ lines: [UInt8]) {
        for line in lines.split(separator: 0x0A) {
            guard let value = try? JSONValue(parsing: Array(line)), CanonicalJSON.encode(value) == Array(line) else {
                fatalError("an OTLP/JSON line is not canonical JSON: \(String(decoding: line, as: UTF8.self))")
            }
        }
    }

    private static func gzip(_ bytes: [UInt8]) {
        let limit = Int(bytes.first ?? 0) << 8 | Int(bytes.dropFirst().first ?? 0)
        let body = Array(bytes.dropFirst(2))
        guard let inflated = try? Gzip.decompress(body, limit: limit) else { return }
        precondition(inflated.count <= limit, "\(inflated.count) bytes inflated past the limit \(limit)")
        precondition(
            (try? Gzip.decompress(body, limit: inflated.count)) == inflated, "refused at a limit of its own size")
        if !inflated.isEmpty {
            precondition(
                (try? Gzip.decompress(body, limit: inflated.count - 1)) == nil, "accepted past a limit one byte less")
        }
    }

    private static func template(_ bytes: [UInt8]) {
        let text = String(decoding: bytes, as: UTF8.self)
        guard let message = LedgerError.Message(template: text) else { return }
        precondition(
            message.template == text, "the template \(text.debugDescription) reads back as \(message.template)")
        let again = LedgerError.Message(template: message.template)
        precondition(again?.rendered({ "<\($0)>" }) == message.rendered({ "<\($0)>" }), "\(text.debugDescription)")
    }

    private static func terminal(_ bytes: [UInt8]) {
        let columns = Int(bytes.first ?? 0) % 160
        let text = String(decoding: bytes.dropFirst(), as: UTF8.self)
        let escaped = TerminalText.escaped(text)
        for scalar in escaped.unicodeScalars {
            let category = scalar.properties.generalCategory
            let unsafe =
                category == .control || category == .lineSeparator || category == .paragraphSeparator
                || (category == .format && scalar != "\u{200D}" && scalar != "\u{200C}")
            precondition(
                !unsafe, "escaped text holds U+\(String(scalar.value, radix: 16)): \(escaped.debugDescription)")
        }
        let cut = TerminalText.truncated(escaped, to: columns)
        precondition(
            cut.count <= columns, "cut to \(columns) columns, \(cut.count) characters: \(cut.debugDescription)")
        let kept = cut.hasSuffix("…") && cut != escaped ? String(cut.dropLast()) : cut
        precondition(escaped.hasPrefix(kept), "the cut \(cut.debugDescription) is no prefix of the text")
    }

    private static func json(_ bytes: [UInt8]) {
        guard let value = try? JSONValue(parsing: bytes) else { return }
        let canonical = CanonicalJSON.encode(value)
        guard let again = try? JSONValue(parsing: canonical) else {
            fatalError("canonical JSON of an accepted value is refused: \(String(decoding: canonical, as: UTF8.self))")
        }
        guard CanonicalJSON.encode(again) == canonical else {
            fatalError("canonical JSON changes when read again: \(String(decoding: canonical, as: UTF8.self))")
        }
    }

    private static func timestamp(_ bytes: [UInt8]) {
        guard let text = String(validating: bytes, as: UTF8.self) else { return }
        if !text.isEmpty && text.utf8.count <= 256 {
            let record = try? TaskRecord([
                "task_id": .string("t"), "version": .string("v"), "env": .string("e"), "started_at": .string(text),
                "duration_ms": .number(1), "completed": .bool(true), "error": .bool(false),
            ])
            let expected = Timestamp.parse(text).map(Timestamp.format)
            precondition(
                record?.startedAt == expected,
                "started_at \(text) reads as \(String(describing: record?.startedAt)), Timestamp as "
                    + String(describing: expected))
        }
        guard let date = Timestamp.parse(text) else { return }
        precondition(Timestamp.range.contains(date), "\(text) parses to \(date), outside Timestamp.range")
        let ledgerForm = Timestamp.format(date)
        guard let again = Timestamp.parse(ledgerForm), Timestamp.format(again) == ledgerForm,
            Timestamp.isCanonical(ledgerForm)
        else { fatalError("\(text) is written as \(ledgerForm), which does not read back unchanged") }
    }

    private static func duration(_ bytes: [UInt8]) {
        let text = String(decoding: bytes, as: UTF8.self)
        guard let seconds = try? PolicyDuration.parse(.string(text), field: "timeout", source: "fuzz") else {
            return
        }
        precondition(seconds > 0 && seconds.isFinite, "\(text) is accepted as \(seconds) s")
    }

    /// The whole file, then each line alone both ways: `MetricsFile` (which takes the fast path when it can)
    /// and `JSONValue` then `TaskRecord` (the general path) accept the same lines and read the same records.
    private static func jsonLines(_ bytes: [UInt8]) {
        _ = try? MetricsFile.parse(bytes, format: .jsonl, source: "fuzz.jsonl")
        for line in bytes.split(separator: 0x0A) where !line.allSatisfy({ [0x20, 0x09, 0x0D].contains($0) }) {
            let viaFile = try? MetricsFile.parse(Array(line), format: .jsonl, source: "fuzz.jsonl").first?.record
            var general: TaskRecord?
            if case .object(let members)? = try? JSONValue(parsing: line) {
                general = try? TaskRecord(members)
            }
            precondition(
                viaFile == general,
                "the line \(String(decoding: line, as: UTF8.self)) reads as \(String(describing: viaFile)) in a file, "
                    + "\(String(describing: general)) alone")
        }
    }
}
