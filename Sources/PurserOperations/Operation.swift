public import Foundation
public import PurserCore
public import PurserLedger

/// One thing a command asks of the ledger, as a value: the CLI performs it on a local ledger, or sends it to
/// `purser serve` (`POST /v1/<name>`), which performs it on its own. Either way the command prints the same
/// reply and exits with the same code. Everything read from files is read before the operation is made (the
/// server never opens a path a client names).
public protocol LedgerOperation: Codable, Sendable {
    /// The route under `/v1/`.
    static var name: String { get }
    /// One line for the OpenAPI document.
    static var summary: String { get }
    /// The least role that may perform it: `.writer` for everything that appends.
    static var role: Role { get }
    /// True for a read that takes a fraction of a millisecond, which the server runs on the request's own
    /// thread (default false: on a reader's thread).
    static var isQuick: Bool { get }
    /// The operation with what it carries parsed and checked, before it reaches the ledger: the server runs this
    /// on a worker thread before a write joins the writer's queue, so that one large or hostile file cannot stall
    /// every other append while it is read. `perform` parses what was not prepared itself. Default: itself.
    func prepared() throws(LedgerError) -> Self
    func perform(on releases: Releases) throws(LedgerError) -> Reply
}

/// An operation that signs with the ledger's key (the checkpoint an audit report carries): the server passes its
/// own key, a local command the one beside the ledger, if any.
public protocol SigningLedgerOperation: LedgerOperation {
    func perform(on releases: Releases, signingKey: SigningKey?) throws(LedgerError) -> Reply
}

extension LedgerOperation {
    public static var isQuick: Bool { false }
    public func prepared() throws(LedgerError) -> Self { self }
}

extension SigningLedgerOperation {
    public func perform(on releases: Releases) throws(LedgerError) -> Reply {
        try perform(on: releases, signingKey: nil)
    }
}

/// What a command prints: the JSON document of `--json`, or lines of text, and the verdict that decides its exit
/// code.
public struct Reply: Sendable, Equatable {
    public enum Status: String, Sendable {
        /// Done, allowed, promote: exit 0.
        case done
        /// A negative verdict (release blocked, canary rollback): exit 1.
        case blocked
        /// Canary hold: exit 2.
        case inconclusive
        /// Verification found a fault: exit 3.
        case integrity
    }

    public var json: JSONValue
    public var text: [String]
    public var status: Status

    public init(json: JSONValue, text: [String] = [], status: Status = .done) {
        self.json = json
        self.text = text
        self.status = status
    }

    /// The reply as the server sends it.
    public var wire: JSONValue {
        .object(["status": .string(status.rawValue), "json": json, "text": .array(text.map(JSONValue.string))])
    }

    /// Reads a reply the server sent.
    public init(wire: JSONValue) throws(LedgerError) {
        guard let status = wire["status"]?.stringValue.flatMap(Status.init(rawValue:)), let json = wire["json"],
            case .array(let lines) = wire["text"] ?? .null
        else {
            throw LedgerError(.internal, "the server's reply lacks status, json or text")
        }
        self.init(json: json, text: lines.compactMap(\.stringValue), status: status)
    }
}

/// Parses a time option (`--effective-at`, `--since`) given as RFC 3339 or a date.
public func parseTime(_ text: String?, parameter: String) throws(LedgerError) -> Date? {
    guard let text else { return nil }
    guard let date = Timestamp.parse(text) else {
        throw LedgerError(
            .usage,
            naming:
                "\(parameter: parameter) \"\(text)\" is not an RFC 3339 time (e.g. 2026-11-27T14:03:00Z) or a date (2026-11-27) in the years 0001 to 9999"
        )
    }
    return date
}

/// Parses a `--since`/`--until` value into the ledger's timestamp form.
public func ledgerTimestamp(_ text: String?, parameter: String) throws(LedgerError) -> String? {
    try parseTime(text, parameter: parameter).map(Timestamp.format)
}

/// `text` followed by spaces up to `width` characters (never cut).
public func padded(_ text: String, _ width: Int) -> String {
    text.count >= width ? text : text + String(repeating: " ", count: width - text.count)
}

extension JSONValue {
    public static func int(_ value: UInt64) -> JSONValue { .number(Double(value)) }
    public static func hashes(_ values: [Hash]) -> JSONValue { .array(values.map { .string($0.hex) }) }
}
