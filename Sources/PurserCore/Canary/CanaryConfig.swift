public import PurserLedger

/// The canary configuration (`templates/canary.yaml`): the rollout's traffic steps, the metrics the canary
/// judge compares between baseline and canary, the scores that promote or hold, and whether a rollback
/// verdict is acted on at once.
///
/// Reading a file checks its shape (`init(json:source:)`); `problems()` says what else the release
/// checklist's `canary-configured` check requires of it.
public struct CanaryConfig: Sendable {
    /// How a metric is summarised per arm.
    public enum Statistic: String, Sendable, CaseIterable {
        /// The mean of a per-task value.
        case mean
        /// A share of tasks (or tool calls).
        case rate
        /// The 95th percentile of a per-task value.
        case p95
        /// A shift of a per-task value's whole distribution (the Hodges–Lehmann shift, tested by Mann–Whitney);
        /// each arm is summarised by its median.
        case shift
    }

    /// The direction of change that counts against the canary.
    public enum Direction: String, Sendable, CaseIterable {
        case increase, decrease, either
    }

    /// How the judgements of one rollout share the error rate α (`looks.plan`).
    public enum LookPlan: String, Sendable, CaseIterable {
        /// Look k of a rollout tests at α/(k(k + 1)): α/2, α/6, α/12, … Their sum stays below α however many
        /// looks there are, so the chance that any look of a rollout shows a regression that is not there
        /// stays below α.
        case spend
        /// Every look tests at α: for a rollout judged once. Judged again and again, the chance of a wrong
        /// rollback grows with every look.
        case fixed

        /// The level of look `look` (1, 2, …) of a rollout under this plan, for the overall level `alpha`.
        public func alpha(look: Int, of alpha: Double = CanaryJudge.alpha) -> Double {
            switch self {
            case .spend:
                let k = Double(max(look, 1))
                return alpha / (k * (k + 1))
            case .fixed: return alpha
            }
        }
    }

    /// Whether a metric is a share of successes (statistic `rate`) or a per-task value (`mean`, `p95` or
    /// `shift`).
    public enum Kind: Sendable {
        case proportion, continuous
    }

    /// The metric names the canary judge computes from per-task records (`purser metrics ingest`):
    /// - `error_rate`: the share of tasks with `error: true`;
    /// - `completion_rate`: the share of tasks with `completed: true`;
    /// - `tool_success_rate`: `sum(tool_calls - tool_errors) / sum(tool_calls)`;
    /// - `quality`, `duration_ms`, `cost_usd`, `input_tokens`, `output_tokens`, `tool_calls`,
    ///   `tool_latency_ms`: the record field of that name (`quality` only where a record has one).
    public static let knownMetrics: [String: Kind] = [
        "error_rate": .proportion, "completion_rate": .proportion, "tool_success_rate": .proportion,
        "quality": .continuous, "duration_ms": .continuous, "cost_usd": .continuous, "input_tokens": .continuous,
        "output_tokens": .continuous, "tool_calls": .continuous, "tool_latency_ms": .continuous,
    ]

    /// One metric the judge compares.
    public struct Metric: Sendable, Equatable {
        /// One of `knownMetrics`.
        public let name: String
        /// `.rate` for a proportion; `.mean`, `.p95` or `.shift` for a per-task value.
        public let statistic: Statistic
        public let bad: Direction
        /// The change allowed, as a fraction of the baseline's value.
        public let maxRelativeChange: Double?
        /// The change allowed, in the metric's unit. With both limits, a change must exceed both to count.
        public let maxAbsoluteChange: Double?
        /// A regression of this metric, or too few tasks to judge it, rolls the canary back.
        public let critical: Bool
        /// Tasks each arm needs before the metric is judged.
        public let minSampleSize: Int

        public init(
            name: String, statistic: Statistic, bad: Direction, maxRelativeChange: Double? = nil,
            maxAbsoluteChange: Double? = nil, critical: Bool = false, minSampleSize: Int
        ) {
            self.name = name
            self.statistic = statistic
            self.bad = bad
            self.maxRelativeChange = maxRelativeChange
            self.maxAbsoluteChange = maxAbsoluteChange
            self.critical = critical
            self.minSampleSize = minSampleSize
        }

        /// Whether the judge treats the metric as a proportion or a per-task value.
        public var kind: Kind { CanaryConfig.knownMetrics[name] ?? .continuous }
    }

    /// The canary's traffic weight at each step of a rollout, in percent.
    public let steps: [Int]
    /// Tasks each arm needs before a metric is judged, for metrics that do not set their own.
    public let minSampleSize: Int
    public let metrics: [Metric]
    /// A score (share of passing metrics) at or above this promotes the canary.
    public let pass: Double
    /// A score at or above this (and below `pass`) holds the canary; below it, the canary is rolled back.
    public let marginal: Double
    /// Whether a rollback verdict rolls the canary back at once.
    public let autoRollback: Bool
    /// How repeated judgements of one rollout spend α (`looks: {plan: …}`; `spend` when not given).
    public let looks: LookPlan
    /// How often `purser serve` judges a rollout deployed with this configuration, in seconds (`judge-every`);
    /// nil when the server leaves the judging to `purser canary judge`, which ignores it.
    public let judgeEvery: Double?

    /// The shortest `judge-every`: one second, the interval at which the server looks at its environments.
    public static let shortestJudgeInterval = 1.0

    public init(
        steps: [Int], minSampleSize: Int, metrics: [Metric], pass: Double, marginal: Double, autoRollback: Bool,
        looks: LookPlan = .spend, judgeEvery: Double? = nil
    ) {
        self.steps = steps
        self.minSampleSize = minSampleSize
        self.metrics = metrics
        self.pass = pass
        self.marginal = marginal
        self.autoRollback = autoRollback
        self.looks = looks
        self.judgeEvery = judgeEvery
    }

    /// Reads a canary configuration from its data (a parsed `canary.yaml`).
    ///
    /// - Parameters:
    ///   - json: `{steps: [INT…], min-sample-size: INT, metrics: [{name, statistic, bad, max-relative-change?,
    ///     max-absolute-change?, critical?, min-sample-size?}…], scoring: {pass, marginal}, auto-rollback: BOOL,
    ///     looks?: {plan: spend|fixed}, judge-every?: DURATION}`.
    ///   - source: How errors name the configuration, usually its file name.
    /// - Throws: `LedgerError` with code `.invalidInput` naming `source` and the field: a missing or unknown
    ///   field, a value of the wrong type, an unknown metric name, a statistic that does not suit the metric,
    ///   a negative allowed change, a metric listed twice with the same statistic, or a `judge-every` that is not
    ///   a duration of at least 1 s. Values that are well
    ///   formed but unwise (steps out of order, pass below marginal) are left to `problems()`.
    public init(json: JSONValue, source: String) throws(LedgerError) {
        let reader = Reader(source: source)
        let top = try reader.mapping(
            json, "",
            allowed: ["steps", "min-sample-size", "metrics", "scoring", "auto-rollback", "looks", "judge-every"])

        guard case .array(let steps) = try reader.required(top["steps"], "steps", "a list of percentages") else {
            throw reader.invalid("steps", "expected a list of percentages, such as [5, 25, 50, 100]")
        }
        var weights: [Int] = []
        for (index, step) in steps.enumerated() {
            weights.append(try reader.whole(step, "steps[\(index)]", "a whole number of percent"))
        }
        let minSampleSize = try reader.whole(
            try reader.required(top["min-sample-size"], "min-sample-size", "tasks per arm"), "min-sample-size",
            "a whole number of tasks per arm")

        guard case .array(let items) = try reader.required(top["metrics"], "metrics", "a list of metrics") else {
            throw reader.invalid("metrics", "expected a list of {name, statistic, bad, …}")
        }
        var metrics: [Metric] = []
        for (index, item) in items.enumerated() {
            let metric = try reader.metric(item, "metrics[\(index)]", minSampleSize: minSampleSize)
            if let other = metrics.firstIndex(where: { $0.name == metric.name && $0.statistic == metric.statistic }) {
                throw reader.invalid(
                    "metrics[\(index)]",
                    "\(metric.name) \(metric.statistic.rawValue) is already metrics[\(other)]; list each once")
            }
            metrics.append(metric)
        }

        let scoring = try reader.mapping(
            try reader.required(top["scoring"], "scoring", "{pass: 0.9, marginal: 0.6}"), "scoring",
            allowed: ["pass", "marginal"])
        let pass = try reader.number(
            try reader.required(scoring["pass"], "scoring.pass", "the lowest score that promotes"), "scoring.pass")
        let marginal = try reader.number(
            try reader.required(scoring["marginal"], "scoring.marginal", "the lowest score that holds"),
            "scoring.marginal")
        guard
            case .bool(let autoRollback) = try reader.required(
                top["auto-rollback"], "auto-rollback", "true or false")
        else {
            throw reader.invalid("auto-rollback", "expected true or false")
        }
        var looks = LookPlan.spend
        if let value = top["looks"] {
            let members = try reader.mapping(value, "looks", allowed: ["plan"])
            let plans = LookPlan.allCases.map(\.rawValue).joined(separator: " or ")
            guard
                let plan = try reader.required(members["plan"], "looks.plan", plans).stringValue.flatMap(
                    LookPlan.init(rawValue:))
            else { throw reader.invalid("looks.plan", "expected \(plans)") }
            looks = plan
        }
        var judgeEvery: Double?
        if let value = top["judge-every"] {
            let seconds = try PolicyDuration.parse(value, field: "judge-every", source: source)
            guard seconds >= Self.shortestJudgeInterval else {
                throw reader.invalid(
                    "judge-every", "expected at least 1s (the server looks at its rollouts once a second)")
            }
            judgeEvery = seconds
        }
        self.init(
            steps: weights, minSampleSize: minSampleSize, metrics: metrics, pass: pass, marginal: marginal,
            autoRollback: autoRollback, looks: looks, judgeEvery: judgeEvery)
    }

    /// Reads and checks the shape of the canary configuration in the YAML (or JSON) file at `path`.
    ///
    /// - Throws: `.notFound` if there is no such file; `.invalidInput` naming the file and the field otherwise.
    public static func load(at path: String) throws(LedgerError) -> CanaryConfig {
        try CanaryConfig(bytes: try Inputs.read(path), source: Inputs.name(path))
    }

    /// Reads a configuration from a file's bytes, so that a caller that records their digest parses the very
    /// bytes it records.
    public init(bytes: [UInt8], source: String) throws(LedgerError) {
        try self.init(json: try YAML.parse(bytes, source: source), source: source)
    }

    /// What the release checklist's `canary-configured` check requires beyond a well-formed file: each problem
    /// as a sentence a person can act on; empty when sane.
    ///
    /// Steps must increase strictly within (0, 100]; every minimum sample size must be at least 1 and large
    /// enough for the metric's test to reach significance at the first look's level (`CanaryJudge.smallestSampleSize`
    /// at `looks.alpha(look: 1)`); a critical
    /// `error_rate` metric must guard against increases; a `quality` metric must guard against decreases with
    /// a maximum change; `pass` must be above `marginal`, both within [0, 1]; `auto-rollback` must be on.
    public func problems() -> [String] {
        var problems: [String] = []
        if steps.isEmpty {
            problems.append("steps is empty: list the canary's traffic weights in percent, such as [5, 25, 50, 100].")
        }
        for step in steps where !(1...100).contains(step) {
            problems.append(
                "step \(step) is outside (0, 100]: each step is the canary's share of traffic in percent, above 0 "
                    + "and at most 100.")
        }
        if zip(steps, steps.dropFirst()).contains(where: { $0 >= $1 }) {
            let list = steps.map(String.init).joined(separator: ", ")
            problems.append(
                "steps [\(list)] do not increase strictly: list each weight once, smallest first, such as "
                    + "[5, 25, 50, 100].")
        }
        if minSampleSize < 1 {
            problems.append(
                "min-sample-size is \(minSampleSize): each arm needs at least 1 task before a metric is judged "
                    + "(a few hundred for rates).")
        }
        for metric in metrics where metric.minSampleSize < 1 && metric.minSampleSize != minSampleSize {
            problems.append(
                "metric \(metric.name) has min-sample-size \(metric.minSampleSize): each arm needs at least 1 task "
                    + "before it is judged.")
        }
        for metric in metrics where metric.minSampleSize >= 1 {
            let smallest = CanaryJudge.smallestSampleSize(metric, alpha: looks.alpha(look: 1))
            if metric.minSampleSize < smallest {
                let unit = metric.name == "tool_success_rate" ? "tool calls" : "tasks"
                problems.append(
                    "metric \(metric.name) (\(metric.statistic.rawValue), bad: \(metric.bad.rawValue)) has "
                        + "min-sample-size \(metric.minSampleSize): with so few \(unit) per arm its test can never "
                        + "reach significance at α = \(Self.format(looks.alpha(look: 1))) (its first look), so it "
                        + "would always pass; set min-sample-size to at least \(smallest).")
            }
        }
        let guardsErrors = metrics.contains {
            $0.name == "error_rate" && $0.statistic == .rate && $0.critical && $0.bad != .decrease
        }
        if !guardsErrors {
            problems.append(
                "no critical error-rate metric: add {name: error_rate, statistic: rate, bad: increase, critical: true} "
                    + "so that a canary that fails more often is rolled back.")
        }
        let guardsQuality = metrics.contains {
            $0.name == "quality" && $0.bad != .increase && ($0.maxRelativeChange != nil || $0.maxAbsoluteChange != nil)
        }
        if !guardsQuality {
            problems.append(
                "no quality metric with a threshold: add {name: quality, statistic: mean, bad: decrease, "
                    + "max-relative-change: 0.05} (or a max-absolute-change) so that a drop in quality beyond it "
                    + "counts against the canary.")
        }
        for (field, score) in [("pass", pass), ("marginal", marginal)] where !(0...1).contains(score) {
            problems.append(
                "scoring.\(field) \(Self.format(score)) is outside [0, 1]: the score is the share of metrics that pass."
            )
        }
        if pass <= marginal {
            problems.append(
                "scoring.pass \(Self.format(pass)) is not above scoring.marginal \(Self.format(marginal)): a canary "
                    + "scoring between them is held, so pass must be the higher.")
        }
        if !autoRollback {
            problems.append(
                "auto-rollback is off: a canary judged to roll back keeps its traffic until someone acts; set "
                    + "auto-rollback: true.")
        }
        return problems
    }

    /// A number as it would be written in the file: `1` rather than `1.0`.
    static func format(_ number: Double) -> String {
        String(decoding: CanonicalJSON.encode(.number(number)), as: UTF8.self)
    }
}

/// Reads the fields of a canary configuration, naming the file and field in every error.
private struct Reader {
    let source: String

    func invalid(_ field: String, _ problem: String) -> LedgerError {
        LedgerError(.invalidInput, field.isEmpty ? "\(source): \(problem)" : "\(source): \(field): \(problem)")
    }

    func required(_ value: JSONValue?, _ field: String, _ expected: String) throws(LedgerError) -> JSONValue {
        guard let value else { throw invalid(field, "missing: \(expected)") }
        return value
    }

    /// A mapping with only `allowed` keys.
    func mapping(_ value: JSONValue, _ field: String, allowed: [String]) throws(LedgerError) -> [String: JSONValue] {
        guard case .object(let members) = value else { throw invalid(field, "expected a mapping") }
        for key in members.keys.sorted() where !allowed.contains(key) {
            throw invalid(
                field.isEmpty ? key : "\(field).\(key)", "unknown field (expected \(allowed.joined(separator: ", ")))")
        }
        return members
    }

    func number(_ value: JSONValue, _ field: String) throws(LedgerError) -> Double {
        guard let number = value.numberValue else { throw invalid(field, "expected a number") }
        return number
    }

    func whole(_ value: JSONValue, _ field: String, _ expected: String) throws(LedgerError) -> Int {
        guard let number = value.numberValue, let whole = Int(exactly: number) else {
            throw invalid(field, "expected \(expected)")
        }
        return whole
    }

    func metric(_ value: JSONValue, _ field: String, minSampleSize: Int) throws(LedgerError) -> CanaryConfig.Metric {
        let members = try mapping(
            value, field,
            allowed: [
                "name", "statistic", "bad", "max-relative-change", "max-absolute-change", "critical", "min-sample-size",
            ])
        let known = CanaryConfig.knownMetrics.keys.sorted().joined(separator: ", ")
        guard let name = try required(members["name"], "\(field).name", "one of \(known)").stringValue,
            let kind = CanaryConfig.knownMetrics[name]
        else {
            throw invalid("\(field).name", "expected one of \(known)")
        }
        let statisticValue = try required(members["statistic"], "\(field).statistic", "rate, mean, p95 or shift")
        guard let statistic = statisticValue.stringValue.flatMap(CanaryConfig.Statistic.init(rawValue:)) else {
            throw invalid("\(field).statistic", "expected rate, mean, p95 or shift")
        }
        switch (kind, statistic) {
        case (.proportion, .mean), (.proportion, .p95), (.proportion, .shift):
            throw invalid("\(field).statistic", "\(name) is a share of tasks: expected rate")
        case (.continuous, .rate):
            throw invalid("\(field).statistic", "\(name) is a value per task: expected mean, p95 or shift")
        default: break
        }
        let badValue = try required(members["bad"], "\(field).bad", "increase, decrease or either")
        guard let bad = badValue.stringValue.flatMap(CanaryConfig.Direction.init(rawValue:)) else {
            throw invalid("\(field).bad", "expected increase, decrease or either")
        }
        func change(_ key: String) throws(LedgerError) -> Double? {
            guard let value = members[key] else { return nil }
            guard let number = value.numberValue, number >= 0 else {
                throw invalid("\(field).\(key)", "expected a number ≥ 0")
            }
            return number
        }
        var critical = false
        if let value = members["critical"] {
            guard case .bool(let flag) = value else { throw invalid("\(field).critical", "expected true or false") }
            critical = flag
        }
        var sampleSize = minSampleSize
        if let value = members["min-sample-size"] {
            sampleSize = try whole(value, "\(field).min-sample-size", "a whole number of tasks per arm")
        }
        return CanaryConfig.Metric(
            name: name, statistic: statistic, bad: bad, maxRelativeChange: try change("max-relative-change"),
            maxAbsoluteChange: try change("max-absolute-change"), critical: critical, minSampleSize: sampleSize)
    }
}
