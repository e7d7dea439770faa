// purser-server: `purser serve` execs this, so that the CLI's own start-up does not load the HTTP server's code.
import ArgumentParser
import Foundation
import PurserCore
import PurserLedger
import PurserOperations
import PurserServer

struct ServeCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "purser serve",
        abstract: "Serve the ledger over HTTP/JSON to a team's CI runners and workers.",
        discussion: reflowed(
            """
            Every request needs a bearer token (`purser token create`) whose role allows it: reader (queries,
            proofs, checkpoints), writer (also everything that appends), admin. Without one: 401; with the wrong
            role: 403; nothing is written either way. Each entry written records the token's name (recorded_by).
            Concurrent writes share transactions (group commit); a 2xx answer means the entry is on disk.

            Other commands act on the server with --server URL (or PURSER_SERVER) and PURSER_TOKEN, and print what
            they print locally, with the same exit codes. GET /healthz, /metrics (Prometheus) and /openapi.json
            need no token; --public-audit also opens /v1/checkpoint, /v1/entries and /v1/proofs/… to auditors.

            Canary rollouts started with `purser deploy start --strategy canary --canary-config FILE` whose FILE
            sets judge-every are judged by the server itself: once judge-every has passed since the rollout started
            or was last judged, it records canary.judged (recorded_by "purser serve (judge-every)"), and with
            auto-rollback and a rollback verdict the rollback too. --on-rollback CMD then runs CMD with sh -c, with
            PURSER_ENV, PURSER_BASELINE and PURSER_CANARY set, to move the real traffic; if it fails the rollback
            stays recorded, the failure is logged and counted (purser_failed_rollback_hooks_total in /metrics).
            --no-judge leaves every judgement to `purser canary judge`.

            OpenTelemetry: POST /v1/traces takes OTLP/HTTP from a Collector's otlphttp exporter or an SDK's OTLP
            exporter (protobuf or JSON, gzip or not), and POST /v1/logs the gen_ai.evaluation.result events among
            logs, with a writer token. A 200 means the request is on disk. Each agent trace is summarized
            into a metrics.summarized entry once no span of it has arrived for --otlp-window seconds, every
            --otlp-batch-interval seconds: canary judge and metrics report see it then. Over --otlp-max-pending
            waiting spans: 429 with Retry-After.

            SIGTERM or SIGINT: stop accepting connections, finish the requests in flight, exit 0.

            Examples:
              purser token create --role writer --name ci-runner
              purser serve --listen 127.0.0.1:8080
              purser serve --listen 0.0.0.0:8080 --on-rollback ./shift-traffic.sh
              PURSER_SERVER=http://127.0.0.1:8080 PURSER_TOKEN=purser_… purser status
              curl -H "Authorization: Bearer $PURSER_TOKEN" \\
                'http://127.0.0.1:8080/v1/at?time=2026-11-24T14:03:00Z&env=prod'
            """))

    @Option(help: ArgumentHelp("The ledger file (env PURSER_LEDGER).", valueName: "path"))
    var ledger: String = environmentValue("PURSER_LEDGER") ?? Ledger.defaultPath
    @Option(
        help: ArgumentHelp(
            "The checkpoint signing key (env PURSER_KEY; default: beside the ledger).", valueName: "path"))
    var key: String?
    @Option(help: ArgumentHelp("The address to listen on (port 0 picks a free one).", valueName: "host:port"))
    var listen = "127.0.0.1:8080"
    @Option(help: ArgumentHelp("The token file (default: beside the ledger, extension .tokens).", valueName: "file"))
    var tokens: String?
    @Flag(help: "Let /v1/checkpoint, /v1/entries and /v1/proofs/… answer without a token.") var publicAudit = false
    @Option(help: ArgumentHelp("Refuse request bodies over this many bytes (413).", valueName: "bytes"))
    var maxBody = 10 << 20
    @Flag(help: "Do not judge canary rollouts on a schedule (judge-every).") var noJudge = false
    @Option(
        help: ArgumentHelp(
            "A shell command to run after a scheduled judgement rolls a canary back.", valueName: "command"))
    var onRollback: String?

    @Option(
        help: ArgumentHelp(
            "OTLP: seconds a trace waits for late spans after its last one arrived.", valueName: "seconds"))
    var otlpWindow = 3.0
    @Option(help: ArgumentHelp("OTLP: seconds between batches of summarized traces.", valueName: "seconds"))
    var otlpBatchInterval = 1.0
    @Option(help: ArgumentHelp("OTLP: the most spans waiting at once; more get 429.", valueName: "spans"))
    var otlpMaxPending = 500_000
    @Option(
        help: ArgumentHelp(
            "OTLP: model prices for tasks whose spans carry no cost (templates/prices.yaml).", valueName: "file"))
    var otlpPrices: String?
    @Option(
        help: ArgumentHelp(
            "OTLP: which spans are tasks, invoke_agent (default) or root (each trace's root span).",
            valueName: "spans"))
    var otlpTasks: String = TaskSpans.invokeAgent.rawValue

    func run() throws {
        guard let colon = listen.lastIndex(of: ":"), let port = Int(listen[listen.index(after: colon)...]),
            (0...65535).contains(port), colon != listen.startIndex
        else {
            throw LedgerError(.usage, "--listen must be HOST:PORT (e.g. 127.0.0.1:8080), not \(listen)")
        }
        guard maxBody > 0 else { throw LedgerError(.usage, "--max-body must be a positive number of bytes") }
        for (flag, seconds) in [("--otlp-window", otlpWindow), ("--otlp-batch-interval", otlpBatchInterval)]
        where !(seconds > 0 && seconds <= 3600) {
            throw LedgerError(.usage, "\(flag) must be a number of seconds above 0 and at most 3600, not \(seconds)")
        }
        guard otlpMaxPending > 0 else {
            throw LedgerError(.usage, "--otlp-max-pending must be a positive number of spans")
        }
        // Opening here first: a missing or bad ledger fails before anything listens.
        _ = try Releases(ledger: Ledger(openingAt: ledger))
        var configuration = Server.Configuration(
            ledgerPath: ledger, tokensPath: tokens ?? TokenFile.defaultPath(forLedgerAt: ledger),
            keyPath: key ?? environmentValue("PURSER_KEY") ?? Ledger.defaultKeyPath(forLedgerAt: ledger))
        configuration.host = String(listen[..<colon])
        configuration.port = port
        configuration.publicAuditEndpoints = publicAudit
        configuration.maximumBody = maxBody
        configuration.otlpWindow = otlpWindow
        configuration.otlpBatchInterval = otlpBatchInterval
        configuration.otlpMaximumPending = otlpMaxPending
        configuration.otlpPricesPath = otlpPrices
        guard let tasks = TaskSpans(rawValue: otlpTasks) else {
            throw LedgerError(.usage, "--otlp-tasks must be \(TaskSpans.allowedNames), not \(otlpTasks)")
        }
        configuration.otlpTasks = tasks
        configuration.judgeCanaries = !noJudge
        configuration.onRollback = onRollback
        let tokenCount = try TokenFile(path: configuration.tokensPath).tokens().filter { $0.revokedAt == nil }.count
        if tokenCount == 0 {
            Diagnostics.printWarning(
                "\(configuration.tokensPath) has no tokens, so every request but /healthz, /metrics and /openapi.json gets 401; create one with purser token create"
            )
        }
        Server.runTasksOnEventLoops()
        let failure = ErrorBox()
        let stopped = DispatchSemaphore(value: 0)
        Task { [configuration] in
            do {
                try await Server(configuration).run { address in
                    FileHandle.standardOutput.write(
                        Data(
                            "purser serve: listening on \(address) (ledger \(configuration.ledgerPath), \(tokenCount) token\(tokenCount == 1 ? "" : "s"))\n"
                                .utf8))
                }
            } catch {
                failure.error = error
            }
            stopped.signal()
        }
        stopped.wait()
        if let error = failure.error { throw error }
    }

    private final class ErrorBox: @unchecked Sendable {
        var error: (any Error)?
    }
}

clampHelpColumns()
do {
    var command = try ServeCommand.parseAsRoot()
    try command.run()
} catch let error as LedgerError {
    Diagnostics.printError(error)
    exit(ExitCodes.code(for: error))
} catch {
    let code = ServeCommand.exitCode(for: error).rawValue
    if code == 0 { ServeCommand.exit(withError: error) }
    let message = ServeCommand.message(for: error).split(whereSeparator: \.isNewline).joined(separator: "; ")
    Diagnostics.printError(
        code == ExitCodes.usage ? "\(message) (see purser serve --help)" : "internal error: \(message)")
    exit(code == ExitCodes.usage ? code : ExitCodes.internal)
}
