import ArgumentParser
import Foundation
import PurserCore
import PurserLedger
import PurserOperations

struct Deploy: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "deploy",
        abstract: "Record deployments: start, shift, promote, drained, abort.",
        discussion: reflowed(
            """
            Each environment has at every instant a traffic split over behavioral versions (percent, summing to
            100), versions still draining in-flight tasks, and at most one rollout in progress. Every command checks
            the change against the current traffic and refuses an invalid one without writing anything.

            --effective-at T records when a change took effect, when that differs from now (importing history): it
            may not precede the environment's previous change nor lie in the future. Queries use effective time.

            Every subcommand's --json prints:
              {"seq":N,"kind":"…","env":"…","effective_at":"…",
               "traffic":[{"version","label","weight","state"}],"rollout":{…}|null}

            Examples:
              purser deploy start support-agent@1.4.0 --env prod --strategy blue-green
              purser deploy start support-agent@1.5.0 --env prod --strategy canary
              purser deploy shift --env prod --weight 25
              purser deploy promote --env prod
              purser deploy drained --env prod --version support-agent@1.4.0
              purser deploy start 9b07d2aa --env prod --strategy shadow
              purser deploy abort --env prod
            """),
        subcommands: [Start.self, Shift.self, Promote.self, Drained.self, Abort.self])

    struct Common: ParsableArguments {
        @OptionGroup var ledgerOptions: LedgerOptions
        @Option(
            help: ArgumentHelp("The environment (prod, staging, …).", valueName: "env"),
            transform: EnvironmentName.parse)
        var env: EnvironmentName
        @Option(help: ArgumentHelp("When the change took effect, if not now (RFC 3339).", valueName: "time"))
        var effectiveAt: String?
        @Flag(help: "Print the result as JSON.") var json = false

        /// Performs a change of this environment's rollout, here or on the server.
        func perform(
            _ change: LifecycleChange.Change, weight: Int? = nil, version: String? = nil, reason: String? = nil
        )
            throws
        {
            try ledgerOptions.perform(
                LifecycleChange(
                    change, env: env, effectiveAt: effectiveAt, weight: weight, version: version, reason: reason),
                json: json)
        }
    }

    struct Start: ParsableCommand, RenamesParameters {
        /// The override's reason goes with --break-glass.
        static let flags = ["breakGlassReason": "--break-glass --reason"]
        static let configuration = CommandConfiguration(
            commandName: "start",
            abstract: "Start deploying a recorded version (deployment.started).",
            discussion: reflowed(
                """
                - blue-green: the version takes every new task at once; the previous one drains.
                - canary: the version takes --weight percent beside the serving one (default: the first step of
                --canary-config FILE, else 5).
                - shadow: the version receives a copy of the traffic and serves none.

                Blue-green and canary deployments are gated: the latest `purser check` run for this version and
                environment must be allowed and younger than its policy's max-age, or the command exits 1 and
                records nothing. --break-glass --reason TEXT --approver NAME deploys anyway and records who and
                why (audits list every override). A shadow serves no traffic and is not gated.

                --canary-config FILE (canary only; exit 64 with another strategy) is checked as the checklist's
                canary-configured check checks it (exit 65 on a problem), stored in the ledger, and named by
                deployment.started (canary_config: file and digest). When it sets judge-every, `purser serve`
                judges the rollout on its own that often, and with auto-rollback rolls it back.

                Examples:
                  purser deploy start support-agent@1.4.0 --env prod --strategy blue-green
                  purser deploy start 9b07d2aa --env prod --strategy canary --weight 10
                  purser deploy start support-agent@1.5.0 --env prod --strategy canary \\
                    --canary-config canary.yaml
                  purser deploy start 9b07d2aa --env prod --strategy blue-green --break-glass \\
                    --reason "hotfix for incident 42" --approver "dana@example.com"
                """))

        @OptionGroup var common: Common
        @Argument(help: ArgumentHelp("A version id, unique prefix (8+ hex) or label.", valueName: "version"))
        var version: String
        @Option(help: ArgumentHelp("How the version takes traffic.", valueName: "strategy")) var strategy: Strategy
        @Option(
            help: ArgumentHelp(
                "The canary's first share in percent (default: the first step of --canary-config, else 5).",
                valueName: "n"))
        var weight: Int?
        @Option(
            help: ArgumentHelp(
                "The canary configuration (YAML), stored with the deployment: with judge-every, purser serve judges the rollout on its own; its first step is the default weight.",
                valueName: "file"))
        var canaryConfig: String?
        @Flag(help: "Deploy without an allowing checklist run; needs --reason and --approver, and is recorded.")
        var breakGlass = false
        @Option(help: ArgumentHelp("Why the checklist is overridden (with --break-glass).", valueName: "text"))
        var reason: String?
        @Option(help: ArgumentHelp("Who approved the override (with --break-glass).", valueName: "name"))
        var approver: String?

        func validate() throws {
            guard breakGlass == (reason != nil || approver != nil), !breakGlass || (reason != nil && approver != nil)
            else {
                throw ValidationError(
                    "--break-glass goes with both --reason TEXT and --approver NAME, and they with it")
            }
        }

        func run() throws {
            let config = try canaryConfig.map { (path) throws(LedgerError) in try InputFile.read(path) }
            let weight =
                try weight
                ?? (strategy == .canary
                    ? config.map { try CanaryConfig(bytes: $0.bytes, source: $0.source).steps.first ?? 5 } : nil)
            try common.ledgerOptions.perform(
                DeployStart(
                    version: version, env: common.env, strategy: strategy, weight: weight,
                    effectiveAt: common.effectiveAt, breakGlassReason: reason, breakGlassApprover: approver,
                    canaryConfig: config),
                json: common.json)
        }
    }

    struct Shift: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "shift",
            abstract: "Move the canary in progress to a new share (traffic.shifted).",
            discussion: reflowed(
                """
                Examples:
                  purser deploy shift --env prod --weight 25
                """))

        @OptionGroup var common: Common
        @Option(help: ArgumentHelp("The canary's share in percent, 0 to 100.", valueName: "n")) var weight: Int

        func run() throws {
            try common.perform(.shift, weight: weight)
        }
    }

    struct Promote: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "promote",
            abstract: "Give the canary all traffic; the old version starts draining (deployment.promoted).",
            discussion: reflowed(
                """
                Examples:
                  purser deploy promote --env prod
                """))

        @OptionGroup var common: Common

        func run() throws {
            try common.perform(.promote)
        }
    }

    struct Drained: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "drained",
            abstract: "Record that a draining version finished its in-flight tasks (deployment.drained).",
            discussion: reflowed(
                """
                Examples:
                  purser deploy drained --env prod --version support-agent@1.4.0
                """))

        @OptionGroup var common: Common
        @Option(help: ArgumentHelp("The draining version.", valueName: "version")) var version: String

        func run() throws {
            try common.perform(.drained, version: version)
        }
    }

    struct Abort: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "abort",
            abstract: "End the rollout in progress: the baseline takes all traffic back (deployment.aborted).",
            discussion: reflowed(
                """
                A canary's version starts draining; a shadow simply stops.

                Examples:
                  purser deploy abort --env prod
                """))

        @OptionGroup var common: Common

        func run() throws {
            try common.perform(.abort)
        }
    }
}

struct Rollback: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "rollback",
        abstract: "Roll an environment back to a whole behavioral version, or record a rollback drill.",
        discussion: reflowed(
            """
            The whole behavioral version, not just code: prompt, tools, model and memory go back together. Without
            --to, the target is the version that last had all traffic before the current rollout.

            Examples:
              purser rollback --env prod --reason "tool-call errors doubled"
              purser rollback --env prod --to 3f2a9c1e --reason "bad prompt" --json
              purser rollback drill --env staging --from support-agent@1.5.0 \\
                --to support-agent@1.4.0 --result passed
            """),
        subcommands: [Perform.self, Drill.self],
        defaultSubcommand: Perform.self)

    struct Perform: ParsableCommand, RenamesParameters {
        static let flags = ["version": "--to"]
        static let configuration = CommandConfiguration(
            commandName: "perform",
            abstract: "Roll an environment back (rollback.performed); `purser rollback` does this by default.",
            discussion: reflowed(
                """
                Examples:
                  purser rollback --env prod --reason "tool-call errors doubled"
                  purser rollback perform --env prod --to 3f2a9c1e --reason "bad prompt"
                """))

        @OptionGroup var common: Deploy.Common
        @Option(
            help: ArgumentHelp(
                "The version to go back to (default: the canary's baseline, or the version before the one serving now).",
                valueName: "version"))
        var to: String?
        @Option(help: ArgumentHelp("Why: recorded for whoever reads the ledger later.", valueName: "text"))
        var reason: String

        func run() throws {
            try common.perform(.rollback, version: to, reason: reason)
        }
    }

    struct Drill: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "drill",
            abstract: "Record a rehearsal of rolling back from one version to another (rollback.drilled).",
            discussion: reflowed(
                """
                The release checklist accepts a release only if a passed drill covers rolling back from the
                candidate to the version serving the environment. --evidence stores a file (a log, a report) as an
                artifact in the ledger.

                --json prints: {"seq":N,"env","from","to","result"}.

                Examples:
                  purser rollback drill --env staging --from support-agent@1.5.0 \\
                    --to support-agent@1.4.0 --result passed --evidence drill.log --duration 312
                """))

        @OptionGroup var ledgerOptions: LedgerOptions
        @Option(
            help: ArgumentHelp("The environment the drill ran in.", valueName: "env"), transform: EnvironmentName.parse)
        var env: EnvironmentName
        @Option(help: ArgumentHelp("The version rolled back from.", valueName: "version")) var from: String
        @Option(help: ArgumentHelp("The version rolled back to.", valueName: "version")) var to: String
        @Option(help: ArgumentHelp("How the drill went.", valueName: "result")) var result: DrillResult
        @Option(help: ArgumentHelp("A file of evidence, stored in the ledger.", valueName: "file")) var evidence:
            String?
        @Option(help: ArgumentHelp("How long the rollback took, in seconds.", valueName: "s")) var duration: Double?
        @Flag(help: "Print the result as JSON.") var json = false

        func run() throws {
            try ledgerOptions.perform(
                RecordDrill(
                    env: env, from: from, to: to, result: result,
                    evidence: evidence.map { (path) throws(LedgerError) in try InputFile.read(path) },
                    duration: duration),
                json: json)
        }
    }
}
