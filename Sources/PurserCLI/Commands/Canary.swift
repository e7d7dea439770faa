import ArgumentParser
import Foundation
import PurserCore
import PurserLedger
import PurserOperations

struct Canary: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "canary",
        abstract: "Judge a canary against its baseline with statistics.",
        subcommands: [Judge.self])

    struct Judge: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "judge",
            abstract: "Compare the canary's tasks with the baseline's, metric by metric: promote, hold or roll back.",
            discussion: reflowed(
                """
                Per metric of the canary configuration, a test of the statistic it names: rate by Fisher's exact
                test (one-sided in the bad direction, two-sided for bad: either) with Newcombe's interval of the
                difference; mean by Welch's t test and interval; p95 by the difference of the 95th percentiles
                with order-statistic standard errors; shift by the Mann-Whitney U test with the Hodges-Lehmann
                shift. A metric is a regression only when the test shows, at p < alpha, that the statistic changed
                beyond the allowed change in the bad direction: its 1 - 2 alpha interval (1 - alpha for bad:
                either) lies wholly beyond the margin.

                Each judgement of a rollout is a look: look k is 1 + the judgements of this canary in this
                environment since its latest deployment.started. With the configuration's looks plan spend (the
                default), look k tests at alpha = 0.05/(k(k+1)) (0.025, 0.0083, 0.0042, ...), so judging one rollout
                every few minutes keeps the chance of a wrong rollback below 5% however many looks; with plan fixed
                every look tests at 0.05. Nothing is random: the same tasks and configuration give the same
                judgement.

                Below its minimum sample size a metric is nodata, never a pass; a minimum too small for its test to
                ever reach significance is refused (exit 65). Any critical regression or critical nodata rolls back;
                otherwise the share of passing metrics is compared with the scoring thresholds.

                Exit codes: 0 promote, 2 hold, 1 rollback. Every judgement is recorded (canary.judged). With
                auto-rollback on and a rollback verdict, the rollback is recorded in the same transaction, and
                --on-rollback CMD then runs (with PURSER_ENV, PURSER_BASELINE and PURSER_CANARY set) to shift real
                traffic; if it fails, the command exits 70.

                --json prints:
                  {"env","baseline","canary","since","score","verdict","look","plan","alpha",
                   "seq","rollback_seq",
                   "metrics":[{"metric","statistic","critical","method",
                               "n":{"baseline","canary"},"baseline","canary","margin",
                               "estimate","interval","interval_level","baseline_interval",
                               "canary_interval","p","effect","relative_effect","label"}]}

                Examples:
                  purser canary judge --env prod --config canary.yaml
                  purser canary judge --env prod --config canary.yaml \\
                    --on-rollback ./shift-traffic.sh --json
                """))

        @OptionGroup var ledgerOptions: LedgerOptions
        @Option(help: ArgumentHelp("The environment.", valueName: "env"), transform: EnvironmentName.parse)
        var env: EnvironmentName
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
            let reply = try ledgerOptions.reply(
                JudgeCanary(env: env, baseline: baseline, canary: canary, config: InputFile.read(config), since: since))
            reply.write(json: json)
            // The hook shifts real traffic where the command runs, whether the ledger is here or on a server.
            if let onRollback, let rollbackSeq = reply.json["rollback_seq"]?.numberValue {
                let status = try RollbackHook(onRollback).run(
                    env: env.name, baseline: reply.json["baseline"]?.stringValue ?? "",
                    canary: reply.json["canary"]?.stringValue ?? "")
                guard status == 0 else {
                    throw LedgerError(
                        .internal,
                        "the rollback is recorded (seq \(UInt64(rollbackSeq))), but --on-rollback exited \(status): shift the traffic by hand"
                    )
                }
            }
            try reply.exit()
        }
    }
}
