import ArgumentParser
import Foundation
import PurserCore
import PurserLedger
import PurserOperations

struct Shadow: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "shadow",
        abstract: "Compare a shadow version with the primary one on the same requests.",
        subcommands: [Compare.self])

    struct Compare: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "compare",
            abstract:
                "Paired tests per metric: better, equivalent, worse or inconclusive (shadow.compared); exit 1 if any is worse.",
            discussion: reflowed(
                """
                The pairs file is JSON Lines, one request handled by both versions per line (every member of a side
                optional):
                  {"request_id":"r1",
                   "primary":{"quality":0.9,"passed":true,"cost_usd":0.012,"duration_ms":1800},
                   "shadow":{"quality":0.93,"passed":true,"cost_usd":0.010,"duration_ms":1650}}

                Per metric, over the pairs where both sides report it:
                - better: the two-sided test of a difference gives p < 0.05, in the good direction;
                - otherwise equivalent: shown with 95% confidence to differ by less than the metric's margin either
                way, by two one-sided tests (TOST) at 0.05; margins (--margin NAME=VALUE, a number in the metric's
                unit or a percentage of the primary's mean): quality 0.02, passed 0.05, cost_usd and duration_ms 10%;
                - otherwise worse when the test of a difference gives p < 0.05;
                - otherwise inconclusive (too few pairs or too much noise for the margin).

                quality, cost_usd and duration_ms: Wilcoxon signed-rank tests of d = shadow - primary (zero
                differences dropped, ties averaged, continuity correction of 1/2; exact when n <= 50 without ties or
                zeros, or n <= 13, counting zeros; else the normal approximation); the TOST tests d + margin > 0
                and d - margin < 0 one-sided. When every difference is 0, the difference test gives p = 1 and the
                TOST is exact over the shifted differences (all ±margin): equivalent from 5 pairs on.

                passed: McNemar's exact test; the TOST uses Agresti and Min's interval (a half added to each cell).

                Exit 1 if any metric is worse, else 2 if any metric with pairs is inconclusive, else 0. The pairs
                file is stored by digest with the result.

                --json prints:
                  {"env","primary","shadow","pairs":N,"seq":N,
                   "metrics":[{"metric","method","pairs","mean_difference","margin","p",
                               "equivalence_p",
                               "verdict":"better|equivalent|worse|inconclusive"}]}

                Examples:
                  purser shadow compare --env prod --primary support-agent@1.4.0 \\
                    --shadow support-agent@1.5.0 --pairs pairs.jsonl
                  purser shadow compare --env prod --primary A --shadow B --pairs pairs.jsonl \\
                    --margin duration_ms=5%
                """))

        @OptionGroup var ledgerOptions: LedgerOptions
        @Option(help: ArgumentHelp("The environment.", valueName: "env"), transform: EnvironmentName.parse)
        var env: EnvironmentName
        @Option(help: ArgumentHelp("The version serving the requests.", valueName: "version")) var primary: String
        @Option(help: ArgumentHelp("The version shadowing them.", valueName: "version")) var shadow: String
        @Option(help: ArgumentHelp("The pairs file (JSON Lines), or -.", valueName: "file")) var pairs: String
        @Option(
            name: .customLong("margin"),
            help: ArgumentHelp(
                "An equivalence margin, NAME=NUMBER or NAME=PERCENT% (repeatable).", valueName: "metric=margin"))
        var margins: [String] = []
        @Flag(help: "Print the result as JSON.") var json = false

        func run() throws {
            try ledgerOptions.perform(
                CompareShadow(
                    env: env, primary: primary, shadow: shadow, pairs: InputFile.read(pairs), margins: margins),
                json: json)
        }
    }
}
