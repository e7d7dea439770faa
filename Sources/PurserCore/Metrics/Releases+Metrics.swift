internal import Foundation
public import PurserLedger
internal import PurserStatistics

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
public enum MetricsDimension: String, NamedChoice {
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
    /// before anything is committed; the file is stored as an artifact, and records whose task id is already
    /// known are not counted again (re-ingesting a file adds nothing but the entry saying so).
    /// - Throws: `.invalidInput` naming the first bad line and field, or an unknown version.
    public func ingestMetrics(path: String, format: MetricsFormat) throws(LedgerError) -> IngestOutcome {
        try ingestMetrics(InputFile.read(path, limit: MetricsFile.maximumSize), format: format)
    }

    /// Ingests a metrics file already read.
    public func ingestMetrics(_ file: InputFile, format: MetricsFormat) throws(LedgerError) -> IngestOutcome {
        let source = file.source
        // As `record` does, but the task rows are inserted before the entry is appended, as rows of the seq it
        // will get, so that inserting them counts the new ones for its body; applying it then inserts nothing.
        // They are inserted a piece of the file at a time while the next is read; a bad line or an unknown
        // version anywhere undoes the transaction.
        return try ledger.write { transaction in
            let projection = Projection(ledger, transaction.tables)
            try projection.catchUp(skippingUnreplayable: true)
            let seq = try ledger.size()
            var resolved: [String: String] = [:]
            var records = 0
            var groups = Set<TaskGroup>()
            try MetricsFile.forEachPiece(file.bytes, format: format, source: source) { piece in
                for (line, record) in piece where resolved[record.version] == nil {
                    do throws(LedgerError) {
                        resolved[record.version] = try version(record.version).id
                    } catch {
                        let code: LedgerError.Code =
                            error.code == .notFound || error.code == .usage ? .invalidInput : error.code
                        throw LedgerError(
                            code, "\(source) line \(line): version: \(error.message); nothing was ingested")
                    }
                }
                groups.formUnion(
                    try projection.tables.insertTasks(piece.map(\.record), seq: seq, from: records, versions: resolved))
                records += piece.count
            }
            let perVersion = try projection.tables.countTasks(seq: seq, in: groups)
            projection.insertedTasks = seq
            let digest = try transaction.storeArtifact(file.bytes)
            let body: JSONValue = .object([
                "file": .string(file.fileName),
                "digest": .string(digest.hex), "format": .string(format.rawValue),
                "records": .number(Double(records)),
                "new": .number(Double(perVersion.values.reduce(0, +))),
                "versions": .object(resolved.mapValues(JSONValue.string)),
            ])
            let entries = try transaction.append([try Event(kind: "metrics.summarized", body: body)])
            guard entries[0].seq == seq else {
                throw LedgerError(.internal, "metrics.summarized was appended as seq \(entries[0].seq), not \(seq)")
            }
            try projection.catchUp()
            return IngestOutcome(seq: seq, records: records, new: perVersion.values.reduce(0, +), versions: perVersion)
        }
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
            let ids = versions.indices.map { "?\($0 + 4)" }.joined(separator: ", ")
            conditions.append("version IN (SELECT seq FROM main.versions WHERE id IN (\(ids)))")
        }
        let group = dimension.map { "coalesce(\($0.column), '')" } ?? "NULL"
        return try ledger.read { connection in
            let select = try connection.prepare(
                """
                SELECT version, \(group), duration_ms, completed, error, input_tokens, output_tokens, cost_usd,
                    tool_calls, tool_errors, tool_latency_ms, quality
                FROM main.tasks WHERE \(conditions.joined(separator: " AND "))
                """)
            if let env { try select.bind(1, env) }
            if let since { try select.bind(2, since) }
            if let until { try select.bind(3, until) }
            for (index, version) in versions.enumerated() { try select.bind(Int32(index + 4), version) }
            var groups = MetricsGroups()
            while try select.step() {
                groups.add(select)
            }
            // Versions in the order they were recorded (their keys are the seqs of their entries), then groups
            // by name.
            let recorded = try connection.prepare("SELECT id FROM main.versions WHERE seq = ?")
            return try groups.accumulators.sorted {
                ($0.version, $0.group ?? "") < ($1.version, $1.group ?? "")
            }.map { accumulator in
                try recorded.bind(1, accumulator.version)
                guard try recorded.step() else {
                    throw LedgerError(
                        .integrity,
                        "tasks name the version recorded at seq \(accumulator.version), which the versions table lacks; run `purser verify`"
                    )
                }
                defer { recorded.reset() }
                return accumulator.metrics(version: recorded.string(0))
            }
        }
    }
}

/// The accumulators of a report, found by a row's version key and group (columns 0 and 1). The rows come
/// in the table's order, a version's (and a group's) one after another, so the previous row's accumulator
/// is tried first; making a string of every one of a million rows' groups cost more than the rest.
private struct MetricsGroups {
    private(set) var accumulators: [MetricsAccumulator] = []
    private var positions: [Key: Int] = [:]
    /// The accumulator of the previous row.
    private var last = 0

    private struct Key: Hashable {
        let version: Int64
        let group: [UInt8]?
    }

    /// Adds the row to the accumulator of its version and group, made at their first row.
    mutating func add(_ row: Statement) {
        let version = row.int64(0)
        let sameAsLast =
            !accumulators.isEmpty && accumulators[last].version == version
            && row.withBlob(1) { group in
                guard let known = accumulators[last].groupBytes else { return row.isNull(1) }
                return known.count == group.count && known.withUnsafeBytes { $0.elementsEqual(group) }
            }
        if !sameAsLast {
            let key = Key(version: version, group: row.isNull(1) ? nil : row.bytes(1))
            if let found = positions[key] {
                last = found
            } else {
                accumulators.append(MetricsAccumulator(version: version, groupBytes: key.group))
                last = accumulators.count - 1
                positions[key] = last
            }
        }
        accumulators[last].add(row)
    }
}

/// Sums and samples of one (version, group) while a report reads the tasks.
private struct MetricsAccumulator {
    /// The version's key (the seq of its entry), and the group's bytes.
    let version: Int64
    let groupBytes: [UInt8]?
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

    init(version: Int64, groupBytes: [UInt8]?) {
        self.version = version
        self.groupBytes = groupBytes
    }

    var group: String? { groupBytes.map { String(decoding: $0, as: UTF8.self) } }

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

    func metrics(version id: String) -> VersionMetrics {
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
            version: id, group: group, tasks: tasks, completionRate: Double(completed) / Double(tasks),
            errorRate: Double(errors) / Double(tasks), durationP50: percentile(sortedDurations, 0.5),
            durationP95: percentile(sortedDurations, 0.95), inputTokens: mean(inputTokens),
            outputTokens: mean(outputTokens), cost: mean(cost),
            toolSuccessRate: toolCalls > 0 ? (toolCalls - toolErrors) / toolCalls : nil,
            toolLatencyP50: sortedLatencies.isEmpty ? nil : percentile(sortedLatencies, 0.5),
            toolLatencyP95: sortedLatencies.isEmpty ? nil : percentile(sortedLatencies, 0.95), quality: qualityMean,
            qualityInterval: interval, qualityTasks: quality.count)
    }
}
