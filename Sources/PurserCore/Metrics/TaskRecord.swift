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
        func value(_ field: String) -> JSONValue? {
            guard let raw = values[Self.fields.firstIndex(of: field)!], raw != .null else { return nil }
            if csv, case .string(let text) = raw, text.isEmpty { return nil }
            return raw
        }
        for index in Self.requiredIndices where value(Self.fields[index]) == nil {
            throw problem(Self.fields[index], "missing (required: \(Self.required.sorted().joined(separator: ", ")))")
        }
        func text(_ field: String) throws(LedgerError) -> String? {
            guard let raw = value(field) else { return nil }
            guard let string = raw.stringValue, !string.isEmpty, string.utf8.count <= 256 else {
                throw problem(field, "expected a non-empty string of at most 256 bytes")
            }
            return string
        }
        func number(_ field: String, _ range: ClosedRange<Double>, whole: Bool = false) throws(LedgerError) -> Double? {
            guard let raw = value(field) else { return nil }
            var number = raw.numberValue
            if csv, let string = raw.stringValue { number = Double(string) }
            guard let number, number.isFinite else { throw problem(field, "expected a number") }
            guard range.contains(number) else {
                throw problem(
                    field,
                    "\(CanonicalJSON.format(number)) is outside \(CanonicalJSON.format(range.lowerBound))–\(range.upperBound == .greatestFiniteMagnitude ? "∞" : CanonicalJSON.format(range.upperBound))"
                )
            }
            guard !whole || number == number.rounded() else { throw problem(field, "expected a whole number") }
            return number
        }
        func flag(_ field: String) throws(LedgerError) -> Bool {
            switch value(field) {
            case .bool(let flag)?: return flag
            case .string(let text)? where csv && ["true", "1"].contains(text.lowercased()): return true
            case .string(let text)? where csv && ["false", "0"].contains(text.lowercased()): return false
            default: throw problem(field, "expected true or false")
            }
        }
        let unbounded = 0...Double.greatestFiniteMagnitude
        let counts = 0...9_007_199_254_740_992.0  // whole numbers stay exact up to 2^53
        taskID = try text("task_id")!
        version = try text("version")!
        env = try text("env")!
        taskType = try text("task_type") ?? "default"
        model = try text("model")
        let started = try text("started_at")!
        guard let date = Timestamp.parse(started) else {
            throw problem("started_at", "\"\(started)\" is not an RFC 3339 time")
        }
        startedAt = Timestamp.format(date)
        durationMS = try number("duration_ms", unbounded)!
        completed = try flag("completed")
        error = try flag("error")
        inputTokens = try number("input_tokens", counts, whole: true)
        outputTokens = try number("output_tokens", counts, whole: true)
        costUSD = try number("cost_usd", unbounded)
        toolCalls = try number("tool_calls", counts, whole: true)
        toolErrors = try number("tool_errors", counts, whole: true)
        toolLatencyMS = try number("tool_latency_ms", unbounded)
        quality = try number("quality", 0...1)
        if let toolErrors, toolErrors > (toolCalls ?? 0) {
            throw problem(
                "tool_errors",
                "\(CanonicalJSON.format(toolErrors)) is more than tool_calls (\(CanonicalJSON.format(toolCalls ?? 0)))")
        }
    }
}
