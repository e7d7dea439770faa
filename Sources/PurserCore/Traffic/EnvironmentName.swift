public import PurserLedger

/// The name of an environment (`prod`, `eu-west.staging`): 1 to 64 lowercase letters, digits, '.', '_' or '-',
/// starting with a letter or digit. A value of this type holds a name that follows the rule: it is checked once,
/// where the name enters (a command's `--env`, a request's `env` field). On the wire it is a plain string, and a
/// malformed one is refused at the field that holds it: the server answers `env: must be …, not "Prod"`.
public struct EnvironmentName: Hashable, Codable, Sendable, CustomStringConvertible {
    /// The rule, as the errors state it.
    public static let rule = "1 to 64 lowercase letters, digits, '.', '_' or '-', starting with a letter or digit"

    public let name: String

    /// - Throws: `LedgerError.usage` naming the rule when `name` does not follow it.
    public init(_ name: String) throws(LedgerError) {
        guard Self.follows(name) else {
            throw LedgerError(.usage, "environment \"\(name)\" must be \(Self.rule) (e.g. prod)")
        }
        self.name = name
    }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.singleValueContainer()
        let name = try container.decode(String.self)
        guard Self.follows(name) else {
            throw DecodingError.dataCorruptedError(in: container, debugDescription: Self.refusal(of: name))
        }
        self.name = name
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(name)
    }

    public var description: String { name }

    /// Why `name` is refused, for the field or parameter that holds it: `must be 1 to 64 …, not "Prod"`.
    public static func refusal(of name: String) -> String {
        "must be \(rule) (e.g. prod), not \"\(name)\""
    }

    /// The rule as a JSON Schema `pattern`, for the OpenAPI document; `follows` matches the same names.
    public static let pattern = "^[a-z0-9][a-z0-9._-]{0,63}$"

    /// Whether `name` follows the rule.
    static func follows(_ name: String) -> Bool {
        name.wholeMatch(of: /[a-z0-9][a-z0-9._-]{0,63}/) != nil
    }
}
