internal import Foundation
public import PurserLedger
internal import PurserStatistics

/// What `Metrics.ingest` recorded.
public struct IngestOutcome: Sendable {
    public let seq: UInt64
    public let records: Int
    /// Records whose task id was not known before (the others are not counted again).
    public let new: Int
    /// New records per version id.
    public let versions: [String: Int]
    /// For OTLP: the spans no task took (no agent invocation above them, or one without a version or an
    /// environment).
    public let unattributed: Int
}

extension Metrics {
    /// Stores the price table a summary used, for the entry's `prices` member; nil without one.
    static func store(_ prices: PriceFile?, in transaction: Ledger.WriteTransaction) throws -> JSONValue? {
        guard let prices else { return nil }
        let digest = try transaction.storeArtifact(prices.file.bytes)
        return .object(["file": .string(prices.file.fileName), "digest": .string(digest.hex)])
    }
}

/// A grouping of `Metrics.report` beyond the version.
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

/// Agent metrics: ingesting per-task records, reporting them per behavioral version, and following a metric's
/// drift over time (`Metrics+Drift.swift`). Reaches only the tasks table; asks `Versions` to resolve versions.
public struct Metrics {
    let ledger: Ledger

    init(_ ledger: Ledger) { self.ledger = ledger }

    /// Ingests per-task records (`metrics.summarized`): every line is checked and every version resolved
    /// before anything is committed; the file is stored as an artifact, and records whose task id is already
    /// known are not counted again (re-ingesting a file adds nothing but the entry saying so).
    /// - Throws: `.invalidInput` naming the first bad line and field, or an unknown version.
    public func ingest(path: String, format: MetricsFormat) throws(LedgerError) -> IngestOutcome {
        try ingest(InputFile.read(path, limit: MetricsFile.maximumSize), format: format)
    }

    /// Ingests a metrics file already read; for OTLP, with the prices that give the cost of tasks whose spans
    /// carry none, stored with the summary.
    public func ingest(
        _ file: InputFile, format: MetricsFormat, prices: PriceFile? = nil, tasks marker: TaskSpans = .invokeAgent
    ) throws(LedgerError) -> IngestOutcome {
        if prices != nil && format != .otlp {
            throw LedgerError(
                .usage, naming: "\(parameter: "prices") applies to --format otlp: other files carry their cost")
        }
        if marker != .invokeAgent && format != .otlp {
            throw LedgerError(.usage, naming: "\(parameter: "tasks") applies to --format otlp: other files hold tasks")
        }
        let source = file.source
        let versions = Versions(ledger)
        // The task rows are inserted before the entry is appended, as rows of the seq it will get (the size of
        // the ledger in this transaction), so that inserting them counts the new ones for its body; applying it
        // then inserts nothing. They are inserted a piece of the file at a time while the next is read; a bad
        // line or an unknown version anywhere undoes the transaction.
        return try ledger.record { transaction, projection in
            let seq = try ledger.size()
            var resolved: [String: String] = [:]
            var records = 0
            var groups = Set<TaskGroup>()
            let unattributed = try MetricsFile.forEachPiece(
                file.bytes, format: format, source: source, prices: prices?.table, tasks: marker
            ) { piece in
                for (line, record) in piece where resolved[record.version] == nil {
                    do throws(LedgerError) {
                        resolved[record.version] = try versions.find(record.version).id
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
            var body: [String: JSONValue] = [
                "file": .string(file.fileName),
                "digest": .string(digest.hex), "format": .string(format.rawValue),
                "records": .number(Double(records)),
                "new": .number(Double(perVersion.values.reduce(0, +))),
                "versions": .object(resolved.mapValues(JSONValue.string)),
            ]
            if format == .otlp { body["unattributed"] = .number(Double(unattributed)) }
            body["prices"] = try Self.store(prices, in: transaction)
            if marker != .invokeAgent { body["tasks"] = .string(marker.rawValue) }
            return (
                [try Event(kind: "metrics.summarized", body: .object(body))],
                IngestOutcome(
                    seq: seq, records: records, new: perVersion.values.reduce(0, +), versions: perVersion,
                    unattributed: unattributed)
            )
        }.result
    }

    /// The agent metrics per behavioral version (and `dimension`), over the tasks that match: an
    /// environment, versions (ids), and a window of `started_at` (`since` inclusive, `until` exclusive).
    public func report(
        env: EnvironmentName? = nil, versions: [String] = [], since: String? = nil, until: String? = nil,
        by dimension: MetricsDimension? = nil
    ) throws(LedgerError) -> [VersionMetrics] {
        let filter = TaskFilter(env: env?.name, versions: versions, since: since, until: until)
        return try ledger.readTables { (tables: any TaskTables) in
            var groups = MetricsGroups()
            let names = try tables.forEachMeasuredTask(filter, groupedBy: dimension?.column) { version, group, task in
                groups.add(task, version: version, group: group)
            }
            // Versions in the order they were recorded (their keys are the seqs of their entries), then groups
            // by name.
            let ids = try tables.versionIDs(keys: Array(Set(groups.accumulators.map(\.version))))
            func name(_ accumulator: MetricsAccumulator) -> String? {
                dimension == nil ? nil : names[accumulator.group]
            }
            return try groups.accumulators.sorted {
                ($0.version, name($0) ?? "") < ($1.version, name($1) ?? "")
            }.map { accumulator in
                guard let id = ids[accumulator.version] else {
                    throw LedgerError(
                        .integrity,
                        "tasks name the version recorded at seq \(accumulator.version), which the versions table lacks; run `purser verify`"
                    )
                }
                return accumulator.metrics(version: id, group: name(accumulator))
            }
        }
    }
}

/// The accumulators of a report, found by a task's version key and group number. The tasks come mostly a
/// version's (and a group's) one after another, so the previous task's accumulator is tried first.
private struct MetricsGroups {
    private(set) var accumulators: [MetricsAccumulator] = []
    private var positions: [Key: Int] = [:]
    /// The accumulator of the previous task.
    private var last = 0

    private struct Key: Hashable {
        let version: Int64
        let group: Int
    }

    /// Adds the task to the accumulator of its version and group, made at their first task.
    mutating func add(_ task: TaskMeasures, version: Int64, group: Int) {
        let sameAsLast =
            !accumulators.isEmpty && accumulators[last].version == version && accumulators[last].group == group
        if !sameAsLast {
            let key = Key(version: version, group: group)
            if let found = positions[key] {
                last = found
            } else {
                accumulators.append(MetricsAccumulator(version: version, group: group))
                last = accumulators.count - 1
                positions[key] = last
            }
        }
        accumulators[last].add(task)
    }
}

/// Sums and samples of one (version, group) while a report reads the tasks.
private struct MetricsAccumulator {
    /// The version's key (the seq of its entry), and the group's number.
    let version: Int64
    let group: Int
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

    init(version: Int64, group: Int) {
        self.version = version
        self.group = group
    }

    mutating func add(_ task: TaskMeasures) {
        tasks += 1
        durations.append(task.durationMS)
        if task.completed { completed += 1 }
        if task.error { errors += 1 }
        if let value = task.inputTokens { inputTokens = (inputTokens.sum + value, inputTokens.count + 1) }
        if let value = task.outputTokens { outputTokens = (outputTokens.sum + value, outputTokens.count + 1) }
        if let value = task.costUSD { cost = (cost.sum + value, cost.count + 1) }
        if let value = task.toolCalls { toolCalls += value }
        if let value = task.toolErrors { toolErrors += value }
        if let value = task.toolLatencyMS { toolLatencies.append(value) }
        if let value = task.quality {
            quality = (quality.sum + value, quality.squares + value * value, quality.count + 1)
        }
    }

    func metrics(version id: String, group: String?) -> VersionMetrics {
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
