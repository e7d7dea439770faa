/// The baseline's and the canary's counts for the proportions and values for the continuous metrics, of
/// only the columns the judged metrics need.
struct CanarySamples {
    struct Arm {
        var tasks = 0
        var errors = 0
        var completed = 0
        var toolCalls = 0.0
        var toolSuccesses = 0.0
        /// Per continuous column, in `continuousColumns` order (empty for columns not read).
        var values: [[Double]] = Array(repeating: [], count: CanarySamples.continuousColumns.count)
    }

    static let continuousColumns = [
        "quality", "duration_ms", "cost_usd", "input_tokens", "output_tokens", "tool_calls", "tool_latency_ms",
    ]
    /// The baseline's arm, then the canary's.
    var arms = [Arm(), Arm()]
    /// The columns to select.
    private(set) var columns: [String] = []
    /// Positions in `columns` of what the proportions need, when a metric needs it.
    private var error: Int?
    private var completed: Int?
    private var tools: (calls: Int, errors: Int)?
    /// Per continuous column read: its index in `continuousColumns` and its position in `columns`.
    private var continuous: [(index: Int, column: Int)] = []

    init(metrics: [CanaryConfig.Metric]) {
        func position(_ column: String) -> Int {
            if let found = columns.firstIndex(of: column) { return Int(found) }
            columns.append(column)
            return Int(columns.count - 1)
        }
        let names = Set(metrics.map(\.name))
        if names.contains("error_rate") { error = position("error") }
        if names.contains("completion_rate") { completed = position("completed") }
        if names.contains("tool_success_rate") { tools = (position("tool_calls"), position("tool_errors")) }
        for (index, name) in Self.continuousColumns.enumerated() where names.contains(name) {
            continuous.append((index, position(name)))
        }
    }

    /// Adds a task row of the arm `arm` (0 baseline, 1 canary), in place: a copy of the arm per row would
    /// copy its growing arrays every time.
    mutating func add(_ row: any TaskRow, arm: Int) {
        arms[arm].tasks += 1
        if let error, row.number(error) ?? 0 != 0 { arms[arm].errors += 1 }
        if let completed, row.number(completed) ?? 0 != 0 { arms[arm].completed += 1 }
        if let tools {
            let calls = row.number(tools.calls) ?? 0
            arms[arm].toolCalls += calls
            arms[arm].toolSuccesses += calls - (row.number(tools.errors) ?? 0)
        }
        for (index, column) in continuous {
            if let value = row.number(column) { arms[arm].values[index].append(value) }
        }
    }

    /// A sum of counts as an Int, clamped far below overflow.
    private func count(_ sum: Double) -> Int { Int(min(sum, 1e18)) }

    func metric(_ metric: CanaryConfig.Metric) -> MetricSamples {
        let (b, c) = (arms[0], arms[1])
        switch metric.name {
        case "error_rate":
            return .proportion(baseline: (b.errors, b.tasks), canary: (c.errors, c.tasks))
        case "completion_rate":
            return .proportion(baseline: (b.completed, b.tasks), canary: (c.completed, c.tasks))
        case "tool_success_rate":
            return .proportion(
                baseline: (count(b.toolSuccesses), count(b.toolCalls)),
                canary: (count(c.toolSuccesses), count(c.toolCalls)))
        default:
            guard let index = Self.continuousColumns.firstIndex(of: metric.name) else {
                return .continuous(baseline: [], canary: [])
            }
            return .continuous(baseline: b.values[index], canary: c.values[index])
        }
    }
}

extension CanarySamples {
    /// The samples of the baseline and the canary (`versions`, ids, in that order) in `env`: the tasks started at
    /// or after `since` in `tasks` (the stored ones, or the rebuild `verify` makes), and with `before` only those of
    /// ingestions before that seq (what the ledger held when a judgement was made). Read one version at a time,
    /// as the means are summed.
    static func read(
        _ tasks: some TaskTables, env: String, versions: [String], since: String, before seq: UInt64? = nil,
        metrics: [CanaryConfig.Metric]
    ) throws -> CanarySamples {
        var samples = CanarySamples(metrics: metrics)
        for (arm, version) in versions.prefix(2).enumerated() {
            try tasks.forEachTask(
                version: version, env: env, since: since, before: seq ?? UInt64(Int64.max), columns: samples.columns
            ) { row in samples.add(row, arm: arm) }
        }
        return samples
    }

    /// The judgement of these samples under `config` at level `alpha` (the level of the look, §15.7): what
    /// `canary judge` records, and what `verify` recomputes from the entries to compare with it.
    func judge(
        _ config: CanaryConfig, alpha: Double
    ) -> (metrics: [MetricJudgement], score: Double, verdict: CanaryVerdict) {
        let judgements = config.metrics.map { CanaryJudge.judge($0, metric($0), alpha: alpha) }
        let (score, verdict) = CanaryJudge.verdict(judgements, config: config)
        return (judgements, score, verdict)
    }
}
