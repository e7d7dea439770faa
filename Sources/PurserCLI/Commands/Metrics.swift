import ArgumentParser
import Foundation
import PurserCore
import PurserLedger
import PurserServer

struct Metrics: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Ingest per-task agent metrics and report them per behavioral version.",
        subcommands: [Ingest.self, Report.self, Drift.self])

    struct Ingest: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Ingest per-task records from JSON Lines or CSV (metrics.summarized).",
            discussion: """
                Fields: task_id, version (id, prefix or label), env, started_at, duration_ms, completed, error (required);
                task_type, model, input_tokens, output_tokens, cost_usd, tool_calls, tool_errors, tool_latency_ms,
                quality (0-1) (optional). CSV has a header row naming the fields. Every line is checked and every
                version resolved first: one bad line means nothing is ingested, and the error names the line and field.
                Tasks already ingested (by task_id) are not counted again. The file is stored by digest.

                --json prints {"seq":N,"records":N,"new":N,"versions":{"<id>":N}}.

                Examples:
                  purser metrics ingest tasks-2026-11-27.jsonl
                  purser metrics ingest export.csv --json
                """)

        @OptionGroup var ledgerOptions: LedgerOptions
        @Argument(help: ArgumentHelp("The records file, or - for standard input.", valueName: "file")) var file: String
        @Option(help: ArgumentHelp("jsonl or csv (default: csv for a .csv file, else jsonl).", valueName: "format"))
        var format: String?
        @Flag(help: "Print the result as JSON.") var json = false

        func validate() throws {
            if let format, MetricsFormat(rawValue: format) == nil {
                throw ValidationError("--format must be jsonl or csv, not \(format)")
            }
        }

        func run() throws {
            let chosen =
                format.flatMap(MetricsFormat.init(rawValue:)) ?? (file.lowercased().hasSuffix(".csv") ? .csv : .jsonl)
            try ledgerOptions.perform(IngestMetrics(file: InputFile.read(file), format: chosen.rawValue), json: json)
        }
    }

    struct Report: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Report agent metrics per behavioral version; two versions side by side with the change.",
            discussion: """
                Per version: tasks, completion and error rates, duration p50/p95, tokens and cost per task, tool-call
                success rate and latency p50/p95, mean quality with a 95% confidence interval. --by groups each
                version by task type or model. With exactly two versions (and no --by), a third column gives the
                relative change of the second against the first.

                --json prints {"versions":[{"version","label","group","tasks","completion_rate","error_rate",
                "duration_ms":{"p50","p95"},"input_tokens","output_tokens","cost_usd","tool_success_rate",
                "tool_latency_ms":{"p50","p95"}|null,"quality":{"mean","low","high","n"}|null}]}; absent values are null.

                Examples:
                  purser metrics report --env prod --since 2026-11-20
                  purser metrics report --version support-agent@1.0.0 --version support-agent@1.1.0 --json
                  purser metrics report --env prod --by task-type
                """)

        @OptionGroup var ledgerOptions: LedgerOptions
        @Option(help: ArgumentHelp("Only tasks in this environment.", valueName: "env")) var env: String?
        @Option(
            name: .customLong("version"),
            help: ArgumentHelp("Only this version (repeatable; id, prefix or label).", valueName: "version"))
        var versions: [String] = []
        @Option(help: ArgumentHelp("Tasks started at or after this time.", valueName: "time")) var since: String?
        @Option(help: ArgumentHelp("Tasks started before this time.", valueName: "time")) var until: String?
        @Option(help: ArgumentHelp("Group by task-type or model.", valueName: "dimension")) var by: String?
        @Flag(help: "Print the report as JSON.") var json = false

        func validate() throws {
            if let by, MetricsDimension(rawValue: by) == nil {
                throw ValidationError("--by must be task-type or model, not \(by)")
            }
        }

        func run() throws {
            let since = try ledgerTimestamp(since, option: "--since")
            let until = try ledgerTimestamp(until, option: "--until")
            let releases = try ledgerOptions.releases()
            let ids = try versions.map { try releases.version($0).id }
            let rows = try releases.metricsReport(
                env: env, versions: ids, since: since, until: until, by: by.flatMap(MetricsDimension.init(rawValue:)))
            let labels = try releases.labels(of: rows.map(\.version))
            if json {
                Output.json(.object(["versions": .array(rows.map { Self.json($0, label: labels[$0.version]) })]))
                return
            }
            guard !rows.isEmpty else {
                Output.line("no task records match (see purser metrics ingest --help)")
                return
            }
            let columns = rows.map { row in
                "\(row.version.prefix(12))\(labels[row.version].map { " \($0)" } ?? "")\(row.group.map { " [\($0)]" } ?? "")"
            }
            let compare = rows.count == 2 && by == nil
            // A column at least two spaces wider than its heading (an id prefix and a label fill 32).
            let width = max(32, (columns.map(\.count).max() ?? 0) + 2)
            Output.line(padded("", 26) + columns.map { padded($0, width) }.joined() + (compare ? "change" : ""))
            for (name, values) in Self.lines(rows) {
                var line = padded(name, 26) + values.map { padded($0.text, width) }.joined()
                if compare, let old = values[0].number, let new = values[1].number, old != 0 {
                    line += String(format: "%+.1f%%", (new - old) / abs(old) * 100)
                }
                Output.line(line)
            }
        }

        private static func lines(_ rows: [VersionMetrics]) -> [(String, [(text: String, number: Double?)])] {
            func cell(_ value: Double?, _ format: String = "%.2f") -> (text: String, number: Double?) {
                (value.map { String(format: format, $0) } ?? "-", value)
            }
            func rate(_ value: Double?) -> (text: String, number: Double?) { cell(value.map { $0 * 100 }, "%.2f%%") }
            return [
                ("tasks", rows.map { cell(Double($0.tasks), "%.0f") }),
                ("completion rate", rows.map { rate($0.completionRate) }),
                ("error rate", rows.map { rate($0.errorRate) }),
                ("duration p50 (ms)", rows.map { cell($0.durationP50, "%.0f") }),
                ("duration p95 (ms)", rows.map { cell($0.durationP95, "%.0f") }),
                ("input tokens / task", rows.map { cell($0.inputTokens, "%.0f") }),
                ("output tokens / task", rows.map { cell($0.outputTokens, "%.0f") }),
                ("cost / task (USD)", rows.map { cell($0.cost, "%.4f") }),
                ("tool-call success", rows.map { rate($0.toolSuccessRate) }),
                ("tool latency p50 (ms)", rows.map { cell($0.toolLatencyP50, "%.0f") }),
                ("tool latency p95 (ms)", rows.map { cell($0.toolLatencyP95, "%.0f") }),
                (
                    "quality (95% CI)",
                    rows.map { row in
                        guard let mean = row.quality else { return ("-", nil) }
                        let interval =
                            row.qualityInterval.map { String(format: " [%.3f, %.3f]", $0.lowerBound, $0.upperBound) }
                            ?? ""
                        return (String(format: "%.3f", mean) + interval + " n=\(row.qualityTasks)", mean)
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

    struct Drift: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Detect a slow, steady degradation of a metric per version (exit 1 when one is found).",
            discussion: """
                Takes the metric's mean per period (a day by default) over the window (28 days by default, ending now
                or at --until) and runs a Mann-Kendall trend test with Sen's slope on those means: a 2%-a-week decline
                in quality that looks like noise day to day is flagged (p < 0.05 in the bad direction). Metrics:
                quality, error_rate, completion_rate, duration_ms, cost_usd, input_tokens, output_tokens,
                tool_latency_ms.

                --json prints {"metric","reports":[{"version","label","flagged","p","slope_per_week",
                "relative_slope_per_week","periods":[{"start","mean","tasks"}]}]}.

                Examples:
                  purser metrics drift --env prod
                  purser metrics drift --metric error_rate --window 8w --json
                """)

        @OptionGroup var ledgerOptions: LedgerOptions
        @Option(help: ArgumentHelp("The metric (default quality).", valueName: "metric")) var metric = "quality"
        @Option(help: ArgumentHelp("Only tasks in this environment.", valueName: "env")) var env: String?
        @Option(
            name: .customLong("version"), help: ArgumentHelp("Only this version (repeatable).", valueName: "version"))
        var versions: [String] = []
        @Option(help: ArgumentHelp("The span analysed (default 28d).", valueName: "duration")) var window = "28d"
        @Option(help: ArgumentHelp("The period of each mean (default 1d).", valueName: "duration")) var period = "1d"
        @Option(help: ArgumentHelp("The end of the window (default now).", valueName: "time")) var until: String?
        @Flag(help: "Print the result as JSON.") var json = false

        func run() throws {
            func duration(_ text: String, _ option: String) throws -> Double {
                do {
                    return try EvidenceSource.duration(
                        .string(text.hasSuffix("w") ? "\((Double(text.dropLast()) ?? -1) * 7)d" : text), field: option,
                        source: "the command line")
                } catch {
                    throw LedgerError(.usage, "\(option) \"\(text)\" is not a duration such as 28d, 8w or 12h")
                }
            }
            let window = try duration(window, "--window")
            let period = try duration(period, "--period")
            guard period < window else { throw LedgerError(.usage, "--period must be shorter than --window") }
            let end = try parseTime(until, option: "--until") ?? Date()
            let releases = try ledgerOptions.releases()
            let ids = try versions.map { try releases.version($0).id }
            let reports = try releases.metricsDrift(
                metric: metric, env: env, versions: ids, window: window, period: period, until: end)
            let labels = try releases.labels(of: reports.map(\.version))
            if json {
                func number(_ value: Double?) -> JSONValue { value.map(JSONValue.number) ?? .null }
                Output.json(
                    .object([
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
                    ]))
            } else {
                if reports.isEmpty { Output.line("no tasks with \(metric) in the window") }
                for report in reports {
                    let name = "\(report.version.prefix(12))\(labels[report.version].map { " (\($0))" } ?? "")"
                    guard let slope = report.relativeSlopePerWeek ?? report.slopePerWeek, let p = report.p else {
                        Output.line(
                            "\(name): \(report.periods.count) period(s) with data, too few to judge a trend (4 needed)")
                        continue
                    }
                    Output.line(
                        "\(report.flagged ? "DRIFT" : "ok   ") \(name): \(metric) \(String(format: "%+.2f%%", slope * 100)) a week over \(report.periods.count) periods, p = \(String(format: "%.3g", p))"
                    )
                }
            }
            if reports.contains(where: \.flagged) { throw ExitCode(ExitStatus.blocked) }
        }
    }
}
