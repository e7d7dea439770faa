public import PurserLedger

/// One agent task as `purser metrics ingest` reads it: what ran (version, environment, task type,
/// model), when, and how it went. Optional measurements are nil when the record does not carry them
/// (a missing cost is not a cost of 0).
public struct TaskRecord: Sendable, Equatable {
    public var taskID: String
    /// A version id, unique prefix or label as the file names it; resolved when ingested.
    public var version: String
    public var env: String
    public var taskType: String
    public var model: String?
    /// Ledger timestamp form.
    public var startedAt: String
    public var durationMS: Double
    public var completed: Bool
    public var error: Bool
    public var inputTokens: Double?
    public var outputTokens: Double?
    public var costUSD: Double?
    public var toolCalls: Double?
    public var toolErrors: Double?
    public var toolLatencyMS: Double?
    /// 0 to 1, from a sampled evaluation; most tasks carry none.
    public var quality: Double?

    /// The field names, as JSON Lines keys and CSV headers.
    public static let fields = [
        "task_id", "version", "env", "task_type", "model", "started_at", "duration_ms", "completed", "error",
        "input_tokens", "output_tokens", "cost_usd", "tool_calls", "tool_errors", "tool_latency_ms", "quality",
    ]
    public static let required: Set<String> = [
        "task_id", "version", "env", "started_at", "duration_ms", "completed", "error",
    ]

    /// Reads a record from named values: JSON values of a JSON Lines object, or CSV cells as strings
    /// (`csv` true: numbers and booleans are parsed from text; an empty cell is absent).
    /// - Throws: a one-line reason naming the field (the caller adds the file and line).
    public init(_ values: [String: JSONValue], csv: Bool = false) throws(LedgerError) {
        try self.init(fieldValues: Self.fields.map { values[$0] }, csv: csv)
    }

    /// The positions of the required fields in `fields`.
    private static let requiredIndices = fields.indices.filter { required.contains(fields[$0]) }

    /// Reads a record from the values of `fields`, in that order (nil: absent), as `init(_:csv:)` does:
    /// without a dictionary, for the JSON Lines fast path.
    init(fieldValues values: [JSONValue?], csv: Bool) throws(LedgerError) {
        precondition(values.count == Self.fields.count, "a value per field")
        func problem(_ field: String, _ text: String) -> LedgerError { LedgerError(.invalidInput, "\(field): \(text)") }
        // Fields by their position in `fields`: finding a name there for every value cost as much as the rest.
        func value(_ field: Int) -> JSONValue? {
            guard let raw = values[field], raw != .null else { return nil }
            if csv, case .string(let text) = raw, text.isEmpty { return nil }
            return raw
        }
        for index in Self.requiredIndices where value(index) == nil {
            throw problem(Self.fields[index], "missing (required: \(Self.required.sorted().joined(separator: ", ")))")
        }
        func text(_ field: Int) throws(LedgerError) -> String? {
            guard let raw = value(field) else { return nil }
            guard let string = raw.stringValue, !string.isEmpty, string.utf8.count <= 256 else {
                throw problem(Self.fields[field], "expected a non-empty string of at most 256 bytes")
            }
            return string
        }
        func number(_ index: Int, _ range: ClosedRange<Double>, whole: Bool = false) throws(LedgerError) -> Double? {
            guard let raw = value(index) else { return nil }
            let field = Self.fields[index]
            var number = raw.numberValue
            // A CSV cell holds a number as JSON writes one (§3.2): no 0x10, +1, .5, inf, nor 1e-400 that would be 0.
            if csv, let string = raw.stringValue {
                let padded = string.first?.isWhitespace == true || string.last?.isWhitespace == true
                number = padded ? nil : (try? JSONValue(parsing: string))?.numberValue
            }
            guard let number, number.isFinite else {
                guard csv, let string = raw.stringValue else { throw problem(field, "expected a number") }
                throw problem(
                    field, "expected a number written as in JSON (1200, 0.9, 1e3), not \"\(string.prefix(40))\"")
            }
            guard range.contains(number) else {
                throw problem(
                    field,
                    "\(CanonicalJSON.format(number)) is outside \(CanonicalJSON.format(range.lowerBound))–\(range.upperBound == .greatestFiniteMagnitude ? "∞" : CanonicalJSON.format(range.upperBound))"
                )
            }
            guard !whole || number == number.rounded() else { throw problem(field, "expected a whole number") }
            return number
        }
        func flag(_ index: Int) throws(LedgerError) -> Bool {
            let field = Self.fields[index]
            switch value(index) {
            case .bool(let flag)?: return flag
            case .string(let text)? where csv && ["true", "1"].contains(text.lowercased()): return true
            case .string(let text)? where csv && ["false", "0"].contains(text.lowercased()): return false
            default: throw problem(field, "expected true or false")
            }
        }
        // 10^15 (ms: 31,000 years; USD: a thousand trillion) is past any real task, and keeps every square and sum
        // the judge forms finite: 1e80 made Welch's degrees of freedom overflow to NaN.
        let unbounded = 0...1e15
        let counts = 0...9_007_199_254_740_992.0  // whole numbers stay exact up to 2^53
        taskID = try text(0)!
        version = try text(1)!
        env = try text(2)!
        taskType = try text(3) ?? "default"
        model = try text(4)
        let started = try text(5)!
        if let canonical = Self.canonicalUTC(started) {
            startedAt = canonical
        } else {
            guard let date = Timestamp.parse(started) else {
                throw problem("started_at", "\"\(started)\" is not an RFC 3339 time in the years 0001 to 9999")
            }
            startedAt = Timestamp.format(date)
        }
        durationMS = try number(6, unbounded)!
        completed = try flag(7)
        error = try flag(8)
        inputTokens = try number(9, counts, whole: true)
        outputTokens = try number(10, counts, whole: true)
        costUSD = try number(11, unbounded)
        toolCalls = try number(12, counts, whole: true)
        toolErrors = try number(13, counts, whole: true)
        toolLatencyMS = try number(14, unbounded)
        quality = try number(15, 0...1)
        if let toolErrors, toolErrors > (toolCalls ?? 0) {
            throw problem(
                "tool_errors",
                "\(CanonicalJSON.format(toolErrors)) is more than tool_calls (\(CanonicalJSON.format(toolCalls ?? 0)))")
        }
    }

    /// `Timestamp.format(Timestamp.parse(text)!)` for the usual form of a UTC time, `YYYY-MM-DDTHH:MM:SSZ`
    /// with or without a fraction, made from the bytes without a date: reading and formatting one cost about
    /// a microsecond a record. Nil for any other text (offsets, plain dates, years before 1000, invalid
    /// times), which goes through `Timestamp`.
    static func canonicalUTC(_ text: String) -> String? {
        var text = text
        return text.withUTF8 { bytes -> String? in
            guard bytes.count >= 20, bytes[4] == 0x2D, bytes[7] == 0x2D, bytes[10] | 0x20 == 0x74,
                bytes[13] == 0x3A, bytes[16] == 0x3A, bytes[bytes.count - 1] | 0x20 == 0x7A
            else { return nil }
            func number(_ start: Int, _ count: Int) -> Int? {
                var value = 0
                for byte in bytes[start..<start + count] {
                    guard byte >= 0x30 && byte <= 0x39 else { return nil }
                    value = value * 10 + Int(byte - 0x30)
                }
                return value
            }
            guard let year = number(0, 4), year >= 1000, let month = number(5, 2), (1...12).contains(month),
                let day = number(8, 2), day >= 1, let hour = number(11, 2), hour < 24,
                let minute = number(14, 2), minute < 60, let second = number(17, 2), second < 60
            else { return nil }
            let leap = year % 4 == 0 && (year % 100 != 0 || year % 400 == 0)
            let days = [31, leap ? 29 : 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31][month - 1]
            guard day <= days else { return nil }
            // The fraction: none, or a point and digits, of which the first three are kept.
            let fraction = bytes[19..<bytes.count - 1]
            if !fraction.isEmpty {
                guard fraction.count >= 2, fraction.first == 0x2E,
                    fraction.dropFirst().allSatisfy({ $0 >= 0x30 && $0 <= 0x39 })
                else { return nil }
            }
            return String(unsafeUninitializedCapacity: 24) { canonical in
                _ = canonical.initialize(from: bytes[0..<19])
                canonical[10] = 0x54
                canonical[19] = 0x2E
                for offset in 0..<3 {
                    canonical[20 + offset] =
                        offset + 1 < fraction.count ? fraction[fraction.startIndex + offset + 1] : 0x30
                }
                canonical[23] = 0x5A
                return 24
            }
        }
    }
}
