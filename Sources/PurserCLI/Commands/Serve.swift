import ArgumentParser
import Foundation
import PurserCore
import PurserLedger
import PurserServer

struct Serve: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Serve the ledger over HTTP/JSON to a team's CI runners and workers.",
        discussion: """
            Every request needs a bearer token (`purser token create`) whose role allows it: reader (queries,
            proofs, checkpoints), writer (also everything that appends), admin. Without one: 401; with the wrong
            role: 403; nothing is written either way. Each entry written records the token's name (recorded_by).
            Concurrent writes share transactions (group commit); a 2xx answer means the entry is on disk.

            Other commands act on the server with --server URL (or PURSER_SERVER) and PURSER_TOKEN, and print what
            they print locally, with the same exit codes. GET /healthz, /metrics (Prometheus) and /openapi.json
            need no token; --public-audit also opens /v1/checkpoint, /v1/entries and /v1/proofs/… to auditors.

            SIGTERM or SIGINT: stop accepting connections, finish the requests in flight, exit 0.

            Examples:
              purser token create --role writer --name ci-runner
              purser serve --listen 127.0.0.1:8080
              PURSER_SERVER=http://127.0.0.1:8080 PURSER_TOKEN=purser_… purser status
              curl -H "Authorization: Bearer $PURSER_TOKEN" 'http://127.0.0.1:8080/v1/at?time=2026-11-24T14:03:00Z&env=prod'
            """)

    @OptionGroup var ledgerOptions: LedgerOptions
    @OptionGroup var keyOptions: KeyOptions
    @Option(help: ArgumentHelp("The address to listen on (port 0 picks a free one).", valueName: "host:port"))
    var listen = "127.0.0.1:8080"
    @Option(help: ArgumentHelp("The token file (default: beside the ledger, extension .tokens).", valueName: "file"))
    var tokens: String?
    @Flag(help: "Let /v1/checkpoint, /v1/entries and /v1/proofs/… answer without a token.") var publicAudit = false
    @Option(help: ArgumentHelp("Refuse request bodies over this many bytes (413).", valueName: "bytes"))
    var maxBody = 10 << 20

    func run() throws {
        guard let colon = listen.lastIndex(of: ":"), let port = Int(listen[listen.index(after: colon)...]),
            (0...65535).contains(port), colon != listen.startIndex
        else {
            throw ValidationError("--listen must be HOST:PORT (e.g. 127.0.0.1:8080), not \(listen)")
        }
        guard maxBody > 0 else { throw ValidationError("--max-body must be a positive number of bytes") }
        // Opening here first: a missing or bad ledger fails before anything listens.
        _ = try Releases(ledger: Ledger(openingAt: ledgerOptions.ledger))
        var configuration = Server.Configuration(
            ledgerPath: ledgerOptions.ledger,
            tokensPath: tokens ?? TokenFile.defaultPath(forLedgerAt: ledgerOptions.ledger),
            keyPath: keyOptions.path(forLedgerAt: ledgerOptions.ledger))
        configuration.host = String(listen[..<colon])
        configuration.port = port
        configuration.publicAuditEndpoints = publicAudit
        configuration.maximumBody = maxBody
        let tokenCount = try TokenFile(path: configuration.tokensPath).tokens().filter { $0.revokedAt == nil }.count
        if tokenCount == 0 {
            ExitStatus.printError(
                "warning: \(configuration.tokensPath) has no tokens, so every request but /healthz, /metrics and /openapi.json gets 401; create one with purser token create"
            )
        }
        Server.runTasksOnEventLoops()
        let failure = ErrorBox()
        let stopped = DispatchSemaphore(value: 0)
        Task { [configuration] in
            do {
                try await Server(configuration).run { address in
                    Output.line(
                        "purser serve: listening on \(address) (ledger \(configuration.ledgerPath), \(tokenCount) tokens)"
                    )
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

struct Token: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Create, list and revoke the tokens of `purser serve`.",
        discussion: """
            The token file (default: beside the ledger, extension .tokens; mode 0600) holds each token's name, role
            and SHA-256, never the token itself: `create` prints it once. The server reads the file again when it
            changes (checking every 10 ms), so a revocation applies within 10 ms.

            Examples:
              purser token create --role writer --name ci-runner
              purser token list --json
              purser token revoke --name ci-runner
            """,
        subcommands: [Create.self, List.self, Revoke.self])

    struct FileOptions: ParsableArguments {
        @Option(
            help: ArgumentHelp("The ledger the server serves (env PURSER_LEDGER).", valueName: "path"))
        var ledger: String = ProcessInfo.processInfo.environment["PURSER_LEDGER"] ?? Ledger.defaultPath
        @Option(help: ArgumentHelp("The token file (default: beside the ledger).", valueName: "file"))
        var tokens: String?

        var file: TokenFile { TokenFile(path: tokens ?? TokenFile.defaultPath(forLedgerAt: ledger)) }
    }

    struct Create: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Create a token and print it (once).",
            discussion: """
                --json prints {"name","role","token"}.

                Examples:
                  purser token create --role reader --name auditor
                """)

        @OptionGroup var options: FileOptions
        @Option(help: ArgumentHelp("reader, writer or admin.", valueName: "role")) var role: String
        @Option(help: ArgumentHelp("A name for whoever holds it (recorded with each write).", valueName: "name"))
        var name: String
        @Flag(help: "Print the result as JSON.") var json = false

        func run() throws {
            guard let role = Role(rawValue: role) else {
                throw ValidationError("--role must be reader, writer or admin, not \(role)")
            }
            let token = try options.file.create(name: name, role: role)
            if json {
                Output.json(.object(["name": .string(name), "role": .string(role.rawValue), "token": .string(token)]))
            } else {
                Output.line(token)
                ExitStatus.printError(
                    "note: this is the only time the token is shown; \(options.file.path) keeps only its SHA-256")
            }
        }
    }

    struct List: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "List the tokens' names, roles and dates (never the tokens).",
            discussion: """
                --json prints {"tokens":[{"name","role","created_at","revoked_at"|null}]}.
                """)

        @OptionGroup var options: FileOptions
        @Flag(help: "Print the result as JSON.") var json = false

        func run() throws {
            let tokens = try options.file.tokens()
            if json {
                Output.json(
                    .object([
                        "tokens": .array(
                            tokens.map {
                                .object([
                                    "name": .string($0.name), "role": .string($0.role.rawValue),
                                    "created_at": .string($0.createdAt),
                                    "revoked_at": $0.revokedAt.map(JSONValue.string) ?? .null,
                                ])
                            })
                    ]))
                return
            }
            if tokens.isEmpty { Output.line("no tokens in \(options.file.path)") }
            for token in tokens {
                Output.line(
                    "\(padded(token.name, 24)) \(padded(token.role.rawValue, 7)) created \(token.createdAt)\(token.revokedAt.map { ", revoked \($0)" } ?? "")"
                )
            }
        }
    }

    struct Revoke: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Revoke a token: the server refuses it within 10 ms.",
            discussion: """
                Examples:
                  purser token revoke --name ci-runner
                """)

        @OptionGroup var options: FileOptions
        @Option(help: ArgumentHelp("The token's name.", valueName: "name")) var name: String

        func run() throws {
            try options.file.revoke(name: name)
            Output.line("revoked \(name)")
        }
    }
}
