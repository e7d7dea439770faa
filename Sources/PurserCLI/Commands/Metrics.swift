import ArgumentParser
import Foundation
import PurserCore
import PurserLedger
import PurserOperations

struct Metrics: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "metrics",
        abstract: "Ingest per-task agent metrics and report them per behavioral version.",
        subcommands: [Ingest.self, Report.self, Drift.self])

    struct Ingest: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "ingest",
            abstract:
                "Ingest per-task records from JSON Lines or CSV, or agent traces from OTLP/JSON (metrics.summarized).",
            discussion: reflowed(
                """
                Fields: task_id, version (id, prefix or label), env, started_at, duration_ms, completed, error (required);
                task_type, model, input_tokens, output_tokens, cost_usd, tool_calls, tool_errors, tool_latency_ms,
                quality (0-1) (optional). CSV has a header row naming the fields. Every line is checked and every
                version resolved first: one bad line means nothing is ingested, and the error names the line and field.
                Tasks already ingested (by task_id) are not counted again. The file is stored by digest.

                --format otlp reads OpenTelemetry traces, one OTLP/JSON export request per line (the Collector's file
                exporter): each invoke_agent span is a task, with its version from purser.version (or
                gen_ai.agent.name@gen_ai.agent.version), its environment from deployment.environment.name, and tokens,
                tools and quality from the GenAI spans and events beneath it. Spans that belong to no task are counted
                and reported, never dropped silently. A task's cost is the sum of purser.cost_usd over its spans; without
                it, --prices FILE (templates/prices.yaml: US dollars per million input and output tokens, per model)
                prices its model calls' tokens, and is stored with the summary. A call whose model the table lacks
                leaves the task without a cost.

                --json prints: {"seq":N,"records":N,"new":N,"versions":{"<id>":N}}, and "unattributed":N for otlp.

                Examples:
                  purser metrics ingest tasks-2026-11-27.jsonl
                  purser metrics ingest export.csv --json
                  purser metrics ingest traces.jsonl --format otlp
                  purser metrics ingest traces.jsonl --format otlp --prices prices.yaml
                """))

        @OptionGroup var ledgerOptions: LedgerOptions
        @Argument(help: ArgumentHelp("The records file, or - for standard input.", valueName: "file")) var file: String
        @Option(
            help: ArgumentHelp(
                "The file's format: jsonl, csv or otlp (default: csv for a .csv file, else jsonl).", valueName: "format"
            ))
        var format: MetricsFormat?
        @Option(
            help: ArgumentHelp(
                "With --format otlp: model prices for tasks whose spans carry no cost (YAML).", valueName: "file"))
        var prices: String?
        @Option(
            help: ArgumentHelp(
                "With --format otlp: which spans are tasks, invoke_agent (default) or root (each trace's root span).",
                valueName: "spans"))
        var tasks: TaskSpans?
        @Flag(help: "Print the result as JSON.") var json = false

        func run() throws {
            let chosen = format ?? (file.lowercased().hasSuffix(".csv") ? .csv : .jsonl)
            let input = try InputFile.read(file, limit: MetricsFile.maximumSize)
            let table = try prices.map { (path) throws(LedgerError) in try InputFile.read(path, limit: 1 << 20) }
            try ledgerOptions.perform(
                IngestMetrics(file: input, format: chosen, prices: table, tasks: tasks), json: json)
        }
    }

    struct Report: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "report",
            abstract: "Report agent metrics per behavioral version; two versions side by side with the change.",
            discussion: reflowed(
                """
                Per version: tasks, completion and error rates, duration p50/p95, tokens and cost per task, tool-call
                success rate and latency p50/p95, mean quality with a 95% confidence interval. --by groups each
                version by task type or model. With exactly two versions (and no --by), a third column gives the
                relative change of the second against the first.

                --json prints (absent values are null):
                  {"versions":[{"version","label","group","tasks","completion_rate",
                                "error_rate","duration_ms":{"p50","p95"},"input_tokens",
                                "output_tokens","cost_usd","tool_success_rate",
                                "tool_latency_ms":{"p50","p95"}|null,
                                "quality":{"mean","low","high","n"}|null}]}

                Examples:
                  purser metrics report --env prod --since 2026-11-20
                  purser metrics report --version support-agent@1.0.0 \\
                    --version support-agent@1.1.0 --json
                  purser metrics report --env prod --by task-type
                """))

        @OptionGroup var ledgerOptions: LedgerOptions
        @Option(
            help: ArgumentHelp("Only tasks in this environment.", valueName: "env"), transform: EnvironmentName.parse)
        var env: EnvironmentName?
        @Option(
            name: .customLong("version"),
            help: ArgumentHelp("Only this version (repeatable; id, prefix or label).", valueName: "version"))
        var versions: [String] = []
        @Option(help: ArgumentHelp("Tasks started at or after this time.", valueName: "time")) var since: String?
        @Option(help: ArgumentHelp("Tasks started before this time.", valueName: "time")) var until: String?
        @Option(help: ArgumentHelp("Group each version's tasks.", valueName: "dimension")) var by: MetricsDimension?
        @Flag(help: "Print the report as JSON.") var json = false

        func run() throws {
            try ledgerOptions.perform(
                MetricsReportQuery(env: env, versions: versions, since: since, until: until, by: by), json: json)
        }
    }

    struct Drift: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "drift",
            abstract: "Detect a slow, steady degradation of a metric per version (exit 1 when one is found).",
            discussion: reflowed(
                """
                Takes the metric's mean per period (a day by default) over the window (28 days by default, ending now
                or at --until) and runs a Mann-Kendall trend test with Sen's slope on those means; a trend with
                p < 0.05 in the bad direction is flagged. The slope is per week of calendar time: periods without
                tasks (weekends) are gaps, not steps. Metrics: quality, error_rate, completion_rate, duration_ms,
                cost_usd, input_tokens, output_tokens, tool_latency_ms.

                How long a window must be: with daily means whose noise is 3% of the mean, a 2%-a-week decline is
                flagged by a 28-day window in 95% of simulated series (false alarms on a flat metric: 1.7%), by a
                14-day window in 24%, and by a 7-day window in 5%, no better than chance (purser-bench --only
                drift, 2,000 series each). Use 4 weeks or more for slow declines.

                --json prints:
                  {"metric",
                   "reports":[{"version","label","flagged","p","slope_per_week",
                               "relative_slope_per_week",
                               "periods":[{"start","mean","tasks"}]}]}

                Examples:
                  purser metrics drift --env prod --window 28d
                  purser metrics drift --metric error_rate --window 8w --json
                """))

        @OptionGroup var ledgerOptions: LedgerOptions
        @Option(help: ArgumentHelp("The metric.", valueName: "metric")) var metric = "quality"
        @Option(
            help: ArgumentHelp("Only tasks in this environment.", valueName: "env"), transform: EnvironmentName.parse)
        var env: EnvironmentName?
        @Option(
            name: .customLong("version"), help: ArgumentHelp("Only this version (repeatable).", valueName: "version"))
        var versions: [String] = []
        @Option(help: ArgumentHelp("The span analysed.", valueName: "duration")) var window = "28d"
        @Option(help: ArgumentHelp("The period of each mean.", valueName: "duration")) var period = "1d"
        @Option(help: ArgumentHelp("The end of the window (default now).", valueName: "time")) var until: String?
        @Flag(help: "Print the result as JSON.") var json = false

        func run() throws {
            try ledgerOptions.perform(
                MetricsDriftQuery(
                    metric: metric, env: env, versions: versions, window: window, period: period, until: until),
                json: json)
        }
    }
}
