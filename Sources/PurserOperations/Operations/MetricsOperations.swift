import Foundation
public import PurserCore
public import PurserLedger

// Reading the agent metrics per version: reports and drift.

/// `purser metrics report`.
public struct MetricsReportQuery: LedgerOperation {
    public static let name = "metrics/report"
    public static let summary =
        "Agent metrics per behavioral version (and task type or model); two versions side by side with the change."
    public static let role = Role.reader

    public var env: EnvironmentName?
    /// Ids, prefixes or labels; none: every version with tasks.
    public var versions: [String]
    public var since: String?
    public var until: String?
    public var by: MetricsDimension?

    public init(env: EnvironmentName?, versions: [String], since: String?, until: String?, by: MetricsDimension?) {
        self.env = env
        self.versions = versions
        self.since = since
        self.until = until
        self.by = by
    }

    public func perform(on releases: Releases) throws(LedgerError) -> Reply {
        let since = try ledgerTimestamp(since, parameter: "since")
        let until = try ledgerTimestamp(until, parameter: "until")
        var ids: [String] = []
        for version in versions { ids.append(try releases.versions.find(version).id) }
        let rows = try releases.metrics.report(env: env, versions: ids, since: since, until: until, by: by)
        let labels = try releases.versions.labels(of: rows.map(\.version))
        let unaccounted = try releases.metrics.unaccounted(since: since, until: until)
        var members: [String: JSONValue] = [
            "versions": .array(rows.map { Self.json($0, label: labels[$0.version]) })
        ]
        var notes: [String] = []
        if unaccounted.summaries > 0 {
            members["unaccounted"] = .object([
                "spans": .number(Double(unaccounted.spans)),
                "unresolved": .object(unaccounted.unresolved.mapValues { .number(Double($0)) }),
                "evaluations": .number(Double(unaccounted.evaluations)),
            ])
            let unresolved = unaccounted.unresolved.values.reduce(0, +)
            if unaccounted.spans + unresolved + unaccounted.evaluations > 0 {
                let references = unaccounted.unresolved.keys.sorted().prefix(3).map { "\"\($0)\"" }
                notes.append(
                    "not in these figures, from OpenTelemetry: \(unaccounted.spans) span(s) of no task, \(unresolved) task(s) of versions not recorded\(references.isEmpty ? "" : " (\(references.joined(separator: ", ")))"), \(unaccounted.evaluations) evaluation(s) of spans never received (purser log --kind metrics.summarized --json)"
                )
            }
        }
        let json: JSONValue = .object(members)
        guard !rows.isEmpty else {
            return Reply(json: json, text: ["no task records match (see purser metrics ingest --help)"] + notes)
        }
        // Tasks that carry no model form a group of their own, named so rather than an empty `[]`.
        let columns = rows.map { row in
            let group = row.group.map { " [\($0.isEmpty ? "no \(by?.rawValue ?? "value")" : $0)]" } ?? ""
            return "\(row.version.prefix(12))\(labels[row.version].map { " \($0)" } ?? "")\(group)"
        }
        let compare = rows.count == 2 && by == nil
        // A column at least two spaces wider than its heading (an id prefix and a label fill 32).
        let width = max(32, (columns.map(\.count).max() ?? 0) + 2)
        var text = [padded("", 26) + columns.map { padded($0, width) }.joined() + (compare ? "change" : "")]
        for (name, values) in Self.lines(rows) {
            var line = padded(name, 26) + values.map { padded($0.text, width) }.joined()
            if compare, let old = values[0].number, let new = values[1].number, old != 0 {
                line += Figure.percent((new - old) / abs(old), signed: true)
            }
            text.append(line)
        }
        return Reply(json: json, text: text + notes)
    }

    private static func lines(_ rows: [VersionMetrics]) -> [(String, [(text: String, number: Double?)])] {
        func cell(_ value: Double?) -> (text: String, number: Double?) { (Figure.value(value), value) }
        func rate(_ value: Double?) -> (text: String, number: Double?) { (Figure.percent(value), value) }
        return [
            ("tasks", rows.map { cell(Double($0.tasks)) }),
            ("completion rate", rows.map { rate($0.completionRate) }),
            ("error rate", rows.map { rate($0.errorRate) }),
            ("duration p50 (ms)", rows.map { cell($0.durationP50) }),
            ("duration p95 (ms)", rows.map { cell($0.durationP95) }),
            ("input tokens / task", rows.map { cell($0.inputTokens) }),
            ("output tokens / task", rows.map { cell($0.outputTokens) }),
            ("cost / task (USD)", rows.map { cell($0.cost) }),
            ("tool-call success", rows.map { rate($0.toolSuccessRate) }),
            ("tool latency p50 (ms)", rows.map { cell($0.toolLatencyP50) }),
            ("tool latency p95 (ms)", rows.map { cell($0.toolLatencyP95) }),
            (
                "quality (95% CI)",
                rows.map { row in
                    guard let mean = row.quality else { return ("-", nil) }
                    let interval =
                        row.qualityInterval.map { " [\(Figure.value($0.lowerBound)), \(Figure.value($0.upperBound))]" }
                        ?? ""
                    return (Figure.value(mean) + interval + " n=\(row.qualityTasks)", mean)
                }
            ),
        ]
    }

    private static func json(_ row: VersionMetrics, label: String?) -> JSONValue {
        func number(_ value: Double?) -> JSONValue { value.map(JSONValue.number) ?? .null }
        return .object([
            "version": .string(row.version), "label": label.map(JSONValue.string) ?? .null,
            "group": row.group.map(JSONValue.string) ?? .null, "tasks": .number(Double(row.tasks)),
            "completion_rate": .number(row.completionRate), "error_rate": .number(row.errorRate),
            "duration_ms": .object(["p50": .number(row.durationP50), "p95": .number(row.durationP95)]),
            "input_tokens": number(row.inputTokens), "output_tokens": number(row.outputTokens),
            "cost_usd": number(row.cost), "tool_success_rate": number(row.toolSuccessRate),
            "tool_latency_ms": row.toolLatencyP50 == nil
                ? .null : .object(["p50": number(row.toolLatencyP50), "p95": number(row.toolLatencyP95)]),
            "quality": row.quality.map { mean in
                .object([
                    "mean": .number(mean), "low": number(row.qualityInterval?.lowerBound),
                    "high": number(row.qualityInterval?.upperBound), "n": .number(Double(row.qualityTasks)),
                ])
            } ?? .null,
        ])
    }
}

/// `purser metrics drift`: blocked (exit 1) when a version's metric drifts the bad way.
public struct MetricsDriftQuery: LedgerOperation {
    public static let name = "metrics/drift"
    public static let summary =
        "A metric's trend per version over a window (Mann-Kendall, Sen's slope); blocked when one degrades."
    public static let role = Role.reader

    public var metric: String
    public var env: EnvironmentName?
    public var versions: [String]
    /// Durations such as `28d`, `8w` or `12h`.
    public var window: String
    public var period: String
    /// The end of the window; nil: now, by the clock of the side that performs it.
    public var until: String?

    public init(
        metric: String, env: EnvironmentName?, versions: [String], window: String, period: String, until: String?
    ) {
        self.metric = metric
        self.env = env
        self.versions = versions
        self.window = window
        self.period = period
        self.until = until
    }

    public func perform(on releases: Releases) throws(LedgerError) -> Reply {
        func duration(_ text: String, _ parameter: String) throws(LedgerError) -> Double {
            do {
                return try PolicyDuration.parse(
                    .string(text.hasSuffix("w") ? "\((Double(text.dropLast()) ?? -1) * 7)d" : text), field: parameter,
                    source: "the command line")
            } catch {
                throw LedgerError(
                    .usage, naming: "\(parameter: parameter) \"\(text)\" is not a duration such as 28d, 8w or 12h")
            }
        }
        let window = try duration(window, "window")
        let period = try duration(period, "period")
        guard period < window else {
            throw LedgerError(.usage, naming: "\(parameter: "period") must be shorter than \(parameter: "window")")
        }
        let end = try parseTime(until, parameter: "until") ?? releases.now
        var ids: [String] = []
        for version in versions { ids.append(try releases.versions.find(version).id) }
        let reports = try releases.metrics.drift(
            metric: metric, env: env, versions: ids, window: window, period: period, until: end)
        let labels = try releases.versions.labels(of: reports.map(\.version))
        func number(_ value: Double?) -> JSONValue { value.map(JSONValue.number) ?? .null }
        let json: JSONValue = .object([
            "metric": .string(metric),
            "reports": .array(
                reports.map { report in
                    .object([
                        "version": .string(report.version),
                        "label": labels[report.version].map(JSONValue.string) ?? .null,
                        "flagged": .bool(report.flagged), "p": number(report.p),
                        "slope_per_week": number(report.slopePerWeek),
                        "relative_slope_per_week": number(report.relativeSlopePerWeek),
                        "periods": .array(
                            report.periods.map {
                                .object([
                                    "start": .string($0.start), "mean": .number($0.mean),
                                    "tasks": .number(Double($0.tasks)),
                                ])
                            }),
                    ])
                }),
        ])
        var text = reports.isEmpty ? ["no tasks with \(metric) in the window"] : []
        for report in reports {
            let name = "\(report.version.prefix(12))\(labels[report.version].map { " (\($0))" } ?? "")"
            // A slope relative to the metric's level is a percentage; without a level to relate it to, in its unit.
            let slope =
                report.relativeSlopePerWeek.map { Figure.percent($0, signed: true) }
                ?? report.slopePerWeek.map { Figure.value($0, signed: true) }
            guard let slope, let p = report.p else {
                text.append("\(name): \(report.periods.count) period(s) with data, too few to judge a trend (4 needed)")
                continue
            }
            text.append(
                "\(report.flagged ? "DRIFT" : "ok   ") \(name): \(metric) \(slope) a week over \(report.periods.count) periods, \(Figure.p(p))"
            )
        }
        return Reply(json: json, text: text, status: reports.contains(where: \.flagged) ? .blocked : .done)
    }
}
