internal import Foundation
public import PurserLedger

/// What `ingestMetrics` recorded.
public struct IngestOutcome: Sendable {
    public let seq: UInt64
    public let records: Int
    /// Records whose task id was not known before (the others are not counted again).
    public let new: Int
    /// New records per version id.
    public let versions: [String: Int]
}

/// A grouping of `metricsReport` beyond the version.
public enum MetricsDimension: String, Sendable, CaseIterable {
    case taskType = "task-type"
    case model

    var column: String { self == .taskType ? "task_type" : "model" }
}

/// The agent metrics of one behavioral version (and group, if the report is grouped).
public struct VersionMetrics: Sendable {
    public let version: String
    public let group: String?
    public let tasks: Int
    public let completionRate: Double
    public let errorRate: Double
    public let durationP50: Double
    public let durationP95: Double
    /// Per task, over the tasks that report them.
    public let inputTokens: Double?
    public let outputTokens: Double?
    public let cost: Double?
    /// Successful tool calls / tool calls, over all tasks; nil without tool calls.
    public let toolSuccessRate: Double?
    public let toolLatencyP50: Double?
    public let toolLatencyP95: Double?
    /// Mean quality of the tasks that carry one, with its 95% confidence interval (normal approximation).
    public let quality: Double?
    public let qualityInterval: ClosedRange<Double>?
    public let qualityTasks: Int
}

extension Releases {
    /// Ingests per-task records (`metrics.summarized`): every line is checked and every version resolved
    /// before anything is written; the file is stored as an artifact, and records whose task id is already
    /// known are not counted again (re-ingesting a file adds nothing but the entry saying so).
    /// - Throws: `.invalidInput` naming the first bad line and field, or an unknown version.
    public func ingestMetrics(path: String, format: MetricsFormat) throws(LedgerError) -> IngestOutcome {
        try ingestMetrics(InputFile.read(path), format: format)
    }

    /// Ingests a metrics file already read.
    public func ingestMetrics(_ file: InputFile, format: MetricsFormat) throws(LedgerError) -> IngestOutcome {
        let bytes = file.bytes
        let source = file.source
        let parsed = try MetricsFile.parse(bytes, format: format, source: source)
        var resolved: [String: String] = [:]
        for (line, record) in parsed where resolved[record.version] == nil {
            do {
                resolved[record.version] = try version(record.version).id
            } catch {
                let code: LedgerError.Code =
                    error.code == .notFound || error.code == .usage ? .invalidInput : error.code
                throw LedgerError(code, "\(source) line \(line): version: \(error.message); nothing was ingested")
            }
        }
        // As `record` does, but the task rows are inserted before the entry is appended, as rows of the seq it
        // will get, so that inserting them counts the new ones for its body; applying it then inserts nothing.
        let (perVersion, entry) = try ledger.write { transaction in
            let projection = Projection(transaction.connection)
            try projection.catchUp(ledger)
            let seq = UInt64(
                try transaction.connection.scalarInt("SELECT coalesce(max(seq) + 1, 0) FROM main.entries")!)
            let perVersion = try projection.insertTasks(parsed.lazy.map(\.record), seq: seq, versions: resolved)
            projection.insertedTasks = seq
            let digest = try transaction.storeArtifact(bytes)
            let body: JSONValue = .object([
                "file": .string(file.fileName),
                "digest": .string(digest.hex), "format": .string(format.rawValue),
                "records": .number(Double(parsed.count)),
                "new": .number(Double(perVersion.values.reduce(0, +))),
                "versions": .object(resolved.mapValues(JSONValue.string)),
            ])
            let entries = try transaction.append([try Event(kind: "metrics.summarized", body: body)])
            guard entries[0].seq == seq else {
                throw LedgerError(.internal, "metrics.summarized was appended as seq \(entries[0].seq), not \(seq)")
            }
            try projection.catchUp(ledger)
            return (perVersion, entries[0])
        }
        return IngestOutcome(
            seq: entry.seq, records: parsed.count, new: perVersion.values.reduce(0, +), versions: perVersion)
    }

    /// The agent metrics per behavioral version (and `dimension`), over the tasks that match: an
    /// environment, versions (ids), and a window of `started_at` (`since` inclusive, `until` exclusive).
    public func metricsReport(
        env: String? = nil, versions: [String] = [], since: String? = nil, until: String? = nil,
        by dimension: MetricsDimension? = nil
    ) throws(LedgerError) -> [VersionMetrics] {
        var conditions = [
            "(?1 IS NULL OR env = ?1)", "(?2 IS NULL OR started_at >= ?2)", "(?3 IS NULL OR started_at < ?3)",
        ]
        if !versions.isEmpty {
            conditions.append("version IN (\(versions.indices.map { "?\($0 + 4)" }.joined(separator: ", ")))")
        }
        let group = dimension.map { "coalesce(\($0.column), '')" } ?? "NULL"
        // Without versions, the rows in table order: the covering index would be read instead, in another
        // order, and sums of the same values in another order can differ in the last digit.
        let source = versions.isEmpty ? "main.tasks NOT INDEXED" : "main.tasks"
        return try ledger.read { connection in
            let select = try connection.prepare(
                """
                SELECT version, \(group), duration_ms, completed, error, input_tokens, output_tokens, cost_usd,
                    tool_calls, tool_errors, tool_latency_ms, quality
                FROM \(source) WHERE \(conditions.joined(separator: " AND "))
                """)
            if let env { try select.bind(1, env) }
            if let since { try select.bind(2, since) }
            if let until { try select.bind(3, until) }
            for (index, version) in versions.enumerated() { try select.bind(Int32(index + 4), version) }
            var groups = MetricsGroups()
            while try select.step() {
                groups.add(select)
            }
            // Versions in the order they were recorded, then groups by name.
            let recorded = try connection.prepare("SELECT seq FROM main.versions WHERE id = ?")
            var seqs: [String: Int64] = [:]
            for accumulator in groups.accumulators where seqs[accumulator.version] == nil {
                try recorded.bind(1, accumulator.version)
                seqs[accumulator.version] = try recorded.step() ? recorded.int64(0) : Int64.max
                recorded.reset()
            }
            return groups.accumulators.sorted {
                (seqs[$0.version]!, $0.version, $0.group ?? "") < (seqs[$1.version]!, $1.version, $1.group ?? "")
            }.map(\.metrics)
        }
    }
}

/// The accumulators of a report, found by the bytes of a row's version and group (columns 0 and 1): making
/// strings of them and hashing those for every one of a million rows cost more than the rest of the report.
private struct MetricsGroups {
    private(set) var accumulators: [MetricsAccumulator] = []
    /// Per accumulator, its version's bytes, a 0 and its group's bytes.
    private var keys: [[UInt8]] = []
    /// The accumulators by key, looked in when there are more than a few.
    private var positions: [[UInt8]: Int] = [:]
    /// The accumulator of the previous row.
    private var last = 0

    /// Adds the row to the accumulator of its version and group, made at their first row.
    mutating func add(_ row: Statement) {
        let found = row.withBlob(0) { version in row.withBlob(1) { group in find(version, group) } }
        if let found {
            last = found
        } else {
            let version = row.string(0)
            let group = row.isNull(1) ? nil : row.string(1)
            let key = Array(version.utf8) + [0] + Array((group ?? "").utf8)
            accumulators.append(MetricsAccumulator(version: version, group: group))
            keys.append(key)
            last = keys.count - 1
            positions[key] = last
        }
        accumulators[last].add(row)
    }

    /// The accumulator whose key is `version`, 0, `group`, each up to its first 0 byte as `Statement.string`
    /// reads them.
    private func find(_ version: UnsafeRawBufferPointer, _ group: UnsafeRawBufferPointer) -> Int? {
        func length(_ bytes: UnsafeRawBufferPointer) -> Int {
            guard let start = bytes.baseAddress, let zero = memchr(start, 0, bytes.count) else { return bytes.count }
            return start.distance(to: UnsafeRawPointer(zero))
        }
        let (versionCount, groupCount) = (length(version), length(group))
        func matches(_ key: [UInt8]) -> Bool {
            guard key.count == versionCount + 1 + groupCount else { return false }
            return key.withUnsafeBytes { key in
                (versionCount == 0 || memcmp(key.baseAddress!, version.baseAddress!, versionCount) == 0)
                    && (groupCount == 0
                        || memcmp(key.baseAddress! + versionCount + 1, group.baseAddress!, groupCount) == 0)
            }
        }
        if !keys.isEmpty && matches(keys[last]) { return last }
        if keys.count <= 16 { return keys.indices.first { matches(keys[$0]) } }
        return positions[Array(version.prefix(versionCount)) + [0] + Array(group.prefix(groupCount))]
    }
}

/// Sums and samples of one (version, group) while a report reads the tasks.
private struct MetricsAccumulator {
    let version: String
    let group: String?
    var tasks = 0
    var completed = 0
    var errors = 0
    var durations: [Double] = []
    var inputTokens = (sum: 0.0, count: 0)
    var outputTokens = (sum: 0.0, count: 0)
    var cost = (sum: 0.0, count: 0)
    var toolCalls = 0.0
    var toolErrors = 0.0
    var toolLatencies: [Double] = []
    var quality = (sum: 0.0, squares: 0.0, count: 0)

    init(version: String, group: String?) {
        self.version = version
        self.group = group
    }

    mutating func add(_ row: Statement) {
        tasks += 1
        durations.append(row.double(2))
        if row.int64(3) != 0 { completed += 1 }
        if row.int64(4) != 0 { errors += 1 }
        if !row.isNull(5) { inputTokens = (inputTokens.sum + row.double(5), inputTokens.count + 1) }
        if !row.isNull(6) { outputTokens = (outputTokens.sum + row.double(6), outputTokens.count + 1) }
        if !row.isNull(7) { cost = (cost.sum + row.double(7), cost.count + 1) }
        if !row.isNull(8) { toolCalls += row.double(8) }
        if !row.isNull(9) { toolErrors += row.double(9) }
        if !row.isNull(10) { toolLatencies.append(row.double(10)) }
        if !row.isNull(11) {
            let value = row.double(11)
            quality = (quality.sum + value, quality.squares + value * value, quality.count + 1)
        }
    }

    var metrics: VersionMetrics {
        func mean(_ pair: (sum: Double, count: Int)) -> Double? {
            pair.count == 0 ? nil : pair.sum / Double(pair.count)
        }
        let sortedDurations = TwoSamples.sorted(durations)
        let sortedLatencies = TwoSamples.sorted(toolLatencies)
        var qualityMean: Double?
        var interval: ClosedRange<Double>?
        if quality.count > 0 {
            let n = Double(quality.count)
            let average = quality.sum / n
            qualityMean = average
            if quality.count > 1 {
                let variance = max(0, (quality.squares - n * average * average) / (n - 1))
                let half = 1.959963984540054 * (variance / n).squareRoot()
                interval = max(0, average - half)...min(1, average + half)
            }
        }
        return VersionMetrics(
            version: version, group: group, tasks: tasks, completionRate: Double(completed) / Double(tasks),
            errorRate: Double(errors) / Double(tasks), durationP50: percentile(sortedDurations, 0.5),
            durationP95: percentile(sortedDurations, 0.95), inputTokens: mean(inputTokens),
            outputTokens: mean(outputTokens), cost: mean(cost),
            toolSuccessRate: toolCalls > 0 ? (toolCalls - toolErrors) / toolCalls : nil,
            toolLatencyP50: sortedLatencies.isEmpty ? nil : percentile(sortedLatencies, 0.5),
            toolLatencyP95: sortedLatencies.isEmpty ? nil : percentile(sortedLatencies, 0.95), quality: qualityMean,
            qualityInterval: interval, qualityTasks: quality.count)
    }
}

/// The `fraction` quantile of sorted `values` with linear interpolation between ranks (as numpy's default).
func percentile(_ sorted: [Double], _ fraction: Double) -> Double {
    guard !sorted.isEmpty else { return .nan }
    let position = fraction * Double(sorted.count - 1)
    let lower = Int(position.rounded(.down))
    let upper = min(lower + 1, sorted.count - 1)
    return sorted[lower] + (sorted[upper] - sorted[lower]) * (position - Double(lower))
}
