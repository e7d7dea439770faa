import ArgumentParser
import Foundation
import PurserCore
import PurserLedger
import PurserOperations

struct Status: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "status",
        abstract: "Show each environment's current traffic, rollout in progress and draining versions.",
        discussion: reflowed(
            """
            --json prints:
              {"environments":[{"env","effective_at","seq",
                                "traffic":[{"version","label","weight","state"}],
                                "rollout":{"strategy","candidate","baseline"}|null}]}

            Examples:
              purser status
              purser status --env prod --json
            """))

    @OptionGroup var ledgerOptions: LedgerOptions
    @Option(help: ArgumentHelp("Only this environment.", valueName: "env"), transform: EnvironmentName.parse)
    var env: EnvironmentName?
    @Flag(help: "Print the result as JSON.") var json = false

    func run() throws {
        try ledgerOptions.perform(StatusQuery(env: env), json: json)
    }
}

struct At: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "at",
        abstract: "Show what ran when: the traffic in force at a time, by effective time.",
        discussion: reflowed(
            """
            The split in force at TIME in each environment (or --env), with draining and shadow versions. A change
            that took effect exactly at TIME is included.

            --json prints:
              {"at":"…",
               "environments":[{"env","effective_at","seq",
                                "traffic":[{"version","label","weight",
                                            "state":"serving|draining|shadow"}],
                                "rollout":{…}|null}]}

            Examples:
              purser at 2026-11-24T14:03:00Z --env prod
              purser at now --json
            """))

    @OptionGroup var ledgerOptions: LedgerOptions
    @Argument(help: ArgumentHelp("An RFC 3339 time, a date, or now.", valueName: "time")) var time: String
    @Option(help: ArgumentHelp("Only this environment.", valueName: "env"), transform: EnvironmentName.parse)
    var env: EnvironmentName?
    @Flag(help: "Print the result as JSON.") var json = false

    func run() throws {
        try ledgerOptions.perform(AtQuery(time: time, env: env), json: json)
    }
}

struct History: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "history",
        abstract: "Show the timeline of traffic changes, oldest first.",
        discussion: reflowed(
            """
            Filters: --env, --version (changes where the version took part before or after), and a window of effective
            time (--since inclusive, --until exclusive).

            --json prints, with the traffic after each change:
              {"events":[{"seq","at","effective_at","env","kind","body":{…},
                          "traffic":[{"version","label","weight","state"}]}]}

            Examples:
              purser history --env prod
              purser history --version support-agent@1.5.0 --since 2026-11-01 --json
            """))

    @OptionGroup var ledgerOptions: LedgerOptions
    @Option(help: ArgumentHelp("Only this environment.", valueName: "env"), transform: EnvironmentName.parse)
    var env: EnvironmentName?
    @Option(help: ArgumentHelp("Only changes this version took part in.", valueName: "version")) var version: String?
    @Option(help: ArgumentHelp("Changes effective at or after this time.", valueName: "time")) var since: String?
    @Option(help: ArgumentHelp("Changes effective before this time.", valueName: "time")) var until: String?
    @Flag(help: "Print the result as JSON.") var json = false

    func run() throws {
        try ledgerOptions.perform(HistoryQuery(env: env, version: version, since: since, until: until), json: json)
    }
}

struct Reindex: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "reindex",
        abstract: "Rebuild the query tables (versions, traffic timeline, drills) from the entries.",
        discussion: reflowed(
            """
            The entries are the truth; every other table is derived from them. `purser verify` says when they
            disagree; this rebuilds them in one transaction.

            Examples:
              purser reindex
            """))

    @OptionGroup var ledgerOptions: LedgerOptions
    @Flag(help: "Print the result as JSON.") var json = false

    func run() throws {
        if ledgerOptions.serverURL != nil {
            try ledgerOptions.perform(ReindexLedger(), json: json)
            return
        }
        // Here, with progress.
        let ledger = try ledgerOptions.open()
        // Elapsed time on the machine's own clock: a measurement for the operator, not a time the ledger judges by.
        let started = Date()
        let size = try Releases.reindex(ledger) { seq in Output.progress("reindexed \(seq) entries") }
        Output.endProgress()
        try ledgerOptions.print(reindexReply(entries: size, seconds: Date().timeIntervalSince(started)), json: json)
    }
}
