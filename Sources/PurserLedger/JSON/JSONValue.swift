/// A JSON value as the ledger stores it: I-JSON (RFC 7493), so numbers are IEEE doubles that are
/// exactly representable, object keys are unique, and strings are valid Unicode.
public enum JSONValue: Equatable, Sendable {
    case null
    case bool(Bool)
    case number(Double)
    case string(String)
    case array([JSONValue])
    case object([String: JSONValue])

    /// The value for `key` if this is an object.
    public subscript(key: String) -> JSONValue? {
        if case .object(let members) = self { return members[key] }
        return nil
    }

    public var stringValue: String? {
        if case .string(let value) = self { return value }
        return nil
    }

    public var numberValue: Double? {
        if case .number(let value) = self { return value }
        return nil
    }

    public var arrayValue: [JSONValue]? {
        if case .array(let items) = self { return items }
        return nil
    }
}

/// A JSON text that could not be read, with where and why.
public struct JSONError: Error, CustomStringConvertible, Sendable {
    /// Byte offset (0-based) into the input where the problem was found.
    public let offset: Int
    public let reason: String

    /// Says the position 1-based, as editors count columns.
    public var description: String { "\(reason) at byte \(offset + 1)" }
}
