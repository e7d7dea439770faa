import ArgumentParser
import Foundation
import PurserCore
import PurserLedger
import PurserOperations

struct Serve: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "serve",
        abstract: "Serve the ledger over HTTP/JSON to a team's CI runners and workers (runs purser-server).",
        discussion: "purser serve --help shows the server's options and examples.")

    @Argument(
        parsing: .captureForPassthrough,
        help: ArgumentHelp("The server's options (see above).", valueName: "option"))
    var options: [String] = []

    /// Replaces this process with `purser-server`, so that the commands every CI job runs do not carry the HTTP
    /// server's code (Hummingbird, SwiftNIO) into their start-up.
    func run() throws {
        let executable = (Bundle.main.executableURL ?? URL(fileURLWithPath: CommandLine.arguments[0]))
            .resolvingSymlinksInPath().deletingLastPathComponent().appendingPathComponent("purser-server").path
        guard FileManager.default.isExecutableFile(atPath: executable) else {
            throw LedgerError(
                .notFound, "\(executable) not found: build it beside purser (swift build builds both)")
        }
        let argv = ([executable] + options).map { strdup($0) } + [nil]
        execv(executable, argv)
        throw LedgerError(.internal, "cannot start \(executable): \(String(cString: strerror(errno)))")
    }
}

struct Token: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "token",
        abstract: "Create, list and revoke the tokens of `purser serve`.",
        discussion: reflowed(
            """
            The token file (default: beside the ledger, extension .tokens; mode 0600) holds each token's name, role
            and SHA-256, never the token itself: `create` prints it once. The server reads the file again when it
            changes (checking every 10 ms), so a revocation applies within 10 ms. `create` and `revoke` lock the file
            <tokens>.lock beside it while they change it, so commands run at once all land.

            token acts on the token file on the server's machine: run it there. With --server or PURSER_SERVER set it
            refuses (exit 64) and changes nothing.

            Examples:
              purser token create --role writer --name ci-runner
              purser token list --json
              purser token revoke --name ci-runner
            """),
        subcommands: [Create.self, List.self, Revoke.self])

    struct FileOptions: ParsableArguments {
        @Option(
            help: ArgumentHelp("The ledger the server serves (env PURSER_LEDGER).", valueName: "path"))
        var ledger: String = environmentValue("PURSER_LEDGER") ?? Ledger.defaultPath
        @Option(help: ArgumentHelp("The token file (default: beside the ledger).", valueName: "file"))
        var tokens: String?
        @Option(name: .long, help: .hidden) var server: String?

        var file: TokenFile { TokenFile(path: tokens ?? TokenFile.defaultPath(forLedgerAt: ledger)) }

        /// The token file, refused with exit 64 when a server is named (the file is on the server's machine) and
        /// with 66 when its folder does not exist.
        func localFile(_ command: String) throws -> TokenFile {
            if let named = refusedServer(option: server) {
                throw LedgerError(
                    .usage,
                    "purser token \(command) works on a local token file and does not act on a server (\(named)); run it on the server's machine, where the server's token file is, or unset PURSER_SERVER (drop --server) to use a local token file"
                )
            }
            let file = file
            let folder = (file.path as NSString).deletingLastPathComponent
            if !folder.isEmpty, !FileManager.default.fileExists(atPath: folder) {
                throw LedgerError(
                    .notFound,
                    tokens == nil
                        ? "the ledger folder \(quoted(folder)) does not exist (create the ledger with `purser init` first)"
                        : "the folder \(quoted(folder)) of the token file does not exist")
            }
            return file
        }
    }

    struct Create: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "create",
            abstract: "Create a token and print it (once).",
            discussion: reflowed(
                """
                Acts on the token file on the server's machine; refuses --server and PURSER_SERVER (exit 64).

                --json prints: {"name","role","token"}.

                Examples:
                  purser token create --role reader --name auditor
                """))

        @OptionGroup var options: FileOptions
        @Option(help: ArgumentHelp("What the token may do.", valueName: "role")) var role: Role
        @Option(help: ArgumentHelp("A name for whoever holds it (recorded with each write).", valueName: "name"))
        var name: String
        @Flag(help: "Print the result as JSON.") var json = false

        func run() throws {
            let file = try options.localFile("create")
            let token = try file.create(name: name, role: role, now: CommandClock.now())
            if json {
                Output.json(.object(["name": .string(name), "role": .string(role.rawValue), "token": .string(token)]))
            } else {
                Output.line(token)
                Diagnostics.printNote(
                    "this is the only time the token is shown; \(file.path) keeps only its SHA-256")
            }
        }
    }

    struct List: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "list",
            abstract: "List the tokens' names, roles and dates (never the tokens).",
            discussion: reflowed(
                """
                Acts on the token file on the server's machine; refuses --server and PURSER_SERVER (exit 64).

                --json prints: {"tokens":[{"name","role","created_at","revoked_at"|null}]}.
                """))

        @OptionGroup var options: FileOptions
        @Flag(help: "Print the result as JSON.") var json = false

        func run() throws {
            let file = try options.localFile("list")
            let tokens = try file.tokens()
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
            if tokens.isEmpty { Output.line("no tokens in \(file.path)") }
            for token in tokens {
                Output.line(
                    "\(padded(token.name, 24)) \(padded(token.role.rawValue, 7)) created \(token.createdAt)\(token.revokedAt.map { ", revoked \($0)" } ?? "")"
                )
            }
        }
    }

    struct Revoke: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "revoke",
            abstract: "Revoke a token: the server refuses it within 10 ms.",
            discussion: reflowed(
                """
                Acts on the token file on the server's machine; refuses --server and PURSER_SERVER (exit 64).

                Examples:
                  purser token revoke --name ci-runner
                """))

        @OptionGroup var options: FileOptions
        @Option(help: ArgumentHelp("The token's name.", valueName: "name")) var name: String

        func run() throws {
            try options.localFile("revoke").revoke(name: name, now: CommandClock.now())
            Output.line("revoked \(name)")
        }
    }
}
