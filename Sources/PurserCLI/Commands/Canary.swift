import ArgumentParser
import Foundation
import PurserCore
import PurserLedger
import PurserServer

struct Canary: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Judge a canary against its baseline with statistics.",
        subcommands: [Judge.self])

    struct Judge: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Compare the canary's tasks with the baseline's, metric by metric: promote, hold or roll back.",
            discussion: """
                Per metric of the canary configuration: continuous values by a two-sided Mann-Whitney U test with the
                Hodges-Lehmann shift and its 95% interval; proportions by a one-sided Fisher exact test with Wilson
                intervals. A metric is a regression only when the test is significant (p < 0.05) and the change
                exceeds what the configuration allows in the bad direction; below its minimum sample size it is
                nodata, never a pass. Any critical regression or critical nodata rolls back; otherwise the share of
                passing metrics is compared with the scoring thresholds.

                Exit codes: 0 promote, 2 hold, 1 rollback. Every judgement is recorded (canary.judged). With
                auto-rollback on and a rollback verdict, the rollback is recorded in the same transaction, and
                --on-rollback CMD then runs (with PURSER_ENV, PURSER_BASELINE and PURSER_CANARY set) to shift real
                traffic; if it fails, the command exits 70.

                --json prints {"env","baseline","canary","since","score","verdict","seq","rollback_seq",
                "metrics":[{"metric","statistic","critical","n":{"baseline","canary"},"baseline","canary","estimate",
                "interval","baseline_interval","canary_interval","p","effect","relative_effect","label"}]}.

                Examples:
                  purser canary judge --env prod --config canary.yaml
                  purser canary judge --env prod --config canary.yaml --on-rollback ./shift-traffic.sh --json
                """)

        @OptionGroup var ledgerOptions: LedgerOptions
        @Option(help: ArgumentHelp("The environment.", valueName: "env")) var env: String
        @Option(help: ArgumentHelp("The baseline version (default: the rollout's).", valueName: "version"))
        var baseline: String?
        @Option(help: ArgumentHelp("The canary version (default: the rollout's).", valueName: "version"))
        var canary: String?
        @Option(help: ArgumentHelp("The canary configuration (YAML).", valueName: "file")) var config = "canary.yaml"
        @Option(
            help: ArgumentHelp(
                "Only tasks started at or after this time (default: the rollout's start).", valueName: "time"))
        var since: String?
        @Option(help: ArgumentHelp("A shell command to run after an automatic rollback.", valueName: "command"))
        var onRollback: String?
        @Flag(help: "Print the judgement as JSON.") var json = false

        func run() throws {
            let since = try ledgerTimestamp(since, option: "--since")
            let bytes = try Inputs.read(config)
            let configuration = try CanaryConfig(bytes: bytes, source: Inputs.name(config))
            let releases = try ledgerOptions.releases()
            let judgement = try releases.judgeCanary(
                env: env, baseline: baseline, canary: canary, config: configuration, configBytes: bytes,
                configSource: URL(fileURLWithPath: config).lastPathComponent, since: since)
            let labels = try releases.labels(of: [judgement.baseline, judgement.canary])
            if json {
                Output.json(
                    .object([
                        "env": .string(judgement.env), "baseline": .string(judgement.baseline),
                        "canary": .string(judgement.canary), "since": .string(judgement.since),
                        "score": .number(judgement.score), "verdict": .string(judgement.verdict.rawValue),
                        "seq": .int(judgement.seq), "rollback_seq": judgement.rollbackSeq.map(JSONValue.int) ?? .null,
                        "metrics": .array(judgement.metrics.map(\.json)),
                    ]))
            } else {
                func name(_ id: String) -> String { "\(id.prefix(12))\(labels[id].map { " (\($0))" } ?? "")" }
                Output.line(
                    "canary \(name(judgement.canary)) against \(name(judgement.baseline)) in \(env), tasks since \(judgement.since)"
                )
                for metric in judgement.metrics {
                    let values =
                        metric.label == .nodata
                        ? "n = \(metric.baselineCount) / \(metric.canaryCount), below the minimum sample size"
                        : String(
                            format: "%.4g -> %.4g (%+.1f%%), p = %.3g, n = %d / %d", metric.baseline ?? .nan,
                            metric.canary ?? .nan, (metric.relativeEffect ?? 0) * 100, metric.pValue ?? .nan,
                            metric.baselineCount, metric.canaryCount)
                    Output.line(
                        "  \(padded(metric.label.rawValue.uppercased(), 10)) \(padded(metric.metric + (metric.critical ? "*" : ""), 18)) \(values)"
                    )
                }
                Output.line(
                    "\(judgement.verdict.rawValue.uppercased()): score \(String(format: "%.2f", judgement.score)) (recorded as seq \(judgement.seq))"
                        + (judgement.rollbackSeq.map { "; rolled back to \(name(judgement.baseline)) as seq \($0)" }
                            ?? ""))
            }
            if judgement.rollbackSeq != nil, let onRollback {
                let process = Process()
                process.executableURL = URL(fileURLWithPath: "/bin/sh")
                process.arguments = ["-c", onRollback]
                var environment = ProcessInfo.processInfo.environment
                environment["PURSER_ENV"] = env
                environment["PURSER_BASELINE"] = judgement.baseline
                environment["PURSER_CANARY"] = judgement.canary
                process.environment = environment
                try process.run()
                process.waitUntilExit()
                guard process.terminationStatus == 0 else {
                    throw LedgerError(
                        .internal,
                        "the rollback is recorded (seq \(judgement.rollbackSeq!)), but --on-rollback exited \(process.terminationStatus): shift the traffic by hand"
                    )
                }
            }
            switch judgement.verdict {
            case .promote: return
            case .hold: throw ExitCode(ExitStatus.inconclusive)
            case .rollback: throw ExitCode(ExitStatus.blocked)
            }
        }
    }
}
