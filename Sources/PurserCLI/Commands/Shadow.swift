import ArgumentParser
import Foundation
import PurserCore
import PurserLedger
import PurserOperations

struct Shadow: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Compare a shadow version with the primary one on the same requests.",
        subcommands: [Compare.self])

    struct Compare: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Paired tests per metric: better, equivalent or worse (shadow.compared); exit 1 if any is worse.",
            discussion: """
                The pairs file is JSON Lines, one request handled by both versions per line:
                {"request_id":"r1","primary":{"quality":0.9,"passed":true,"cost_usd":0.012,"duration_ms":1800},
                 "shadow":{"quality":0.93,"passed":true,"cost_usd":0.010,"duration_ms":1650}}
                (every member of a side optional). quality, cost_usd and duration_ms are compared by a Wilcoxon
                signed-rank test, passed by McNemar's exact test; a metric is better or worse only when p < 0.05.
                The pairs file is stored by digest with the result.

                --json prints {"env","primary","shadow","pairs":N,"seq":N,"metrics":[{"metric","pairs",
                "mean_difference","p","verdict":"better|equivalent|worse"}]}.

                Examples:
                  purser shadow compare --env prod --primary support-agent@1.4.0 --shadow support-agent@1.5.0 --pairs pairs.jsonl
                """)

        @OptionGroup var ledgerOptions: LedgerOptions
        @Option(help: ArgumentHelp("The environment.", valueName: "env")) var env: String
        @Option(help: ArgumentHelp("The version serving the requests.", valueName: "version")) var primary: String
        @Option(help: ArgumentHelp("The version shadowing them.", valueName: "version")) var shadow: String
        @Option(help: ArgumentHelp("The pairs file (JSON Lines), or -.", valueName: "file")) var pairs: String
        @Flag(help: "Print the result as JSON.") var json = false

        func run() throws {
            try ledgerOptions.perform(
                CompareShadow(env: env, primary: primary, shadow: shadow, pairs: InputFile.read(pairs)), json: json)
        }
    }
}
