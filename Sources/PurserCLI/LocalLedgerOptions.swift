import ArgumentParser
import PurserLedger
import PurserOperations

/// The ledger option of commands that work on a local file only and refuse a server (`init`, `demo`): `--server`
/// is parsed, so that they can refuse it by name, but not listed in their help, which offers nothing they refuse.
struct LocalLedgerOptions: ParsableArguments {
    @Option(
        name: .long,
        help: ArgumentHelp("The ledger file (env PURSER_LEDGER).", valueName: "path"))
    var ledger: String = environmentValue("PURSER_LEDGER") ?? Ledger.defaultPath

    @Option(name: .long, help: .hidden) var server: String?

    /// The server named, if any: --server, else $PURSER_SERVER (empty is unset).
    var serverURL: String? { server ?? environmentValue("PURSER_SERVER") }

    /// How a refusal names the server: "--server is URL" or "PURSER_SERVER is URL"; nil without one.
    var namedServer: String? { refusedServer(option: server) }
}

/// How a command that refuses a server names it: "--server is URL" or "PURSER_SERVER is URL"; nil without one.
func refusedServer(option: String?) -> String? {
    if let option { return "--server is \(option)" }
    return environmentValue("PURSER_SERVER").map { "PURSER_SERVER is \($0)" }
}
