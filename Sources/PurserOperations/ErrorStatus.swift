public import PurserLedger

extension LedgerError.Code {
    /// No valid token came with a request to the server.
    public static let unauthorized = LedgerError.Code(name: "unauthorized")
    /// The token's role does not allow the request.
    public static let forbidden = LedgerError.Code(name: "forbidden")
    /// The server refused a request's body or content type (`http` for other protocol errors).
    public static let unsupportedMediaType = LedgerError.Code(name: "unsupported-media-type")
    /// A request the server refused as HTTP (a malformed request, an unknown path); the server answers these with
    /// the status that fits each, not this code's.
    public static let http = LedgerError.Code(name: "http")
    /// The server holds as much as it can and refuses more for now (429, with Retry-After): retry later.
    public static let overloaded = LedgerError.Code(name: "overloaded")

    /// What this code means to each transport (`ErrorStatus.table`).
    public var status: ErrorStatus { ErrorStatus.table[self] ?? .unlisted }
}

/// What an error means to each way out: the exit status of a command that fails with it (the CLI and
/// `purser-server`, and the CLI again when the server reports the error through `--server`) and the HTTP status
/// `purser serve` answers it with. The HTTP status is a number so that this module needs no HTTP types.
public struct ErrorStatus: Sendable, Hashable, CustomStringConvertible {
    public let exit: Int32
    public let http: Int

    public init(exit: Int32, http: Int) {
        self.exit = exit
        self.http = http
    }

    public var description: String { "exit \(exit), HTTP \(http)" }

    /// Every code there is, and what it means: the one place that maps a code to an exit status and an HTTP status
    /// (README, "Exit codes"). A new code goes here; ErrorStatusTests lists every code and fails until it does.
    public static let table: [LedgerError.Code: ErrorStatus] = [
        .usage: ErrorStatus(exit: ExitCodes.usage, http: 400),
        .unauthorized: ErrorStatus(exit: ExitCodes.usage, http: 401),
        .forbidden: ErrorStatus(exit: ExitCodes.usage, http: 403),
        .unsupportedMediaType: ErrorStatus(exit: ExitCodes.usage, http: 415),
        .http: ErrorStatus(exit: ExitCodes.usage, http: 400),
        .overloaded: ErrorStatus(exit: ExitCodes.internal, http: 429),
        .invalidInput: ErrorStatus(exit: ExitCodes.badInput, http: 422),
        .alreadyExists: ErrorStatus(exit: ExitCodes.badInput, http: 409),
        .tooLarge: ErrorStatus(exit: ExitCodes.badInput, http: 413),
        // The server's own ledger is bad: the server's fault, not the request's.
        .notALedger: ErrorStatus(exit: ExitCodes.badInput, http: 500),
        .notFound: ErrorStatus(exit: ExitCodes.notFound, http: 404),
        .blocked: ErrorStatus(exit: ExitCodes.blocked, http: 409),
        .integrity: ErrorStatus(exit: ExitCodes.integrity, http: 500),
        .internal: ErrorStatus(exit: ExitCodes.internal, http: 500),
    ]

    /// A code the table does not list: one a newer server reports to this CLI, which it cannot know. Internal,
    /// like any failure purser cannot explain.
    public static let unlisted = ErrorStatus(exit: ExitCodes.internal, http: 500)
}

/// The exit codes of every purser command (README, "Exit codes"), for the CLI and `purser-server` alike.
public enum ExitCodes {
    public static let success: Int32 = 0
    public static let blocked: Int32 = 1
    public static let inconclusive: Int32 = 2
    public static let integrity: Int32 = 3
    public static let usage: Int32 = 64
    public static let badInput: Int32 = 65
    public static let notFound: Int32 = 66
    public static let `internal`: Int32 = 70

    /// The exit code of a `LedgerError` (`ErrorStatus.table`).
    public static func code(for error: LedgerError) -> Int32 {
        error.code.status.exit
    }
}
