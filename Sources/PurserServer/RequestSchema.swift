import PurserCore
import PurserLedger

/// The JSON Schema of a request body, learned from the operation's own `Decodable` conformance: its type is
/// decoded from a probe that answers every question with a placeholder and writes down each key asked for,
/// the type asked for, and whether it was asked with `decodeIfPresent` (an optional member). The document then
/// follows the operations as they change, with no second description to keep in step.
enum RequestSchema {
    static func of<T: Decodable>(_ type: T.Type) -> JSONValue {
        let probe = Probe()
        _ = try? probe.decode(type)
        // An operation without members asks for nothing: its body is an empty object.
        if probe.schema == .object([:]) {
            return .object(["type": .string("object"), "properties": .object([:]), "required": .array([])])
        }
        return probe.schema
    }
}

/// Stands in for a JSON document while a type decodes itself from it.
private final class Probe: Decoder {
    var codingPath: [any CodingKey] = []
    var userInfo: [CodingUserInfoKey: Any] = [:]
    /// What the type asked for; any value until it asks.
    var schema: JSONValue = .object([:])

    /// A placeholder of `type`, recording its schema.
    func decode<T: Decodable>(_ type: T.Type) throws -> T {
        if let value = Self.placeholder(of: type) {
            schema = value.schema
            return value.value as! T
        }
        if let cases = type as? any (CaseIterable & RawRepresentable).Type, let value = Self.firstCase(of: cases) {
            schema = .object(["type": .string("string"), "enum": .array(Self.rawValues(of: cases))])
            return value as! T
        }
        return try T(from: self)
    }

    func container<Key: CodingKey>(keyedBy type: Key.Type) throws -> KeyedDecodingContainer<Key> {
        schema = .object(["type": .string("object"), "properties": .object([:]), "required": .array([])])
        return KeyedDecodingContainer(ObjectProbe<Key>(self))
    }

    func unkeyedContainer() throws -> any UnkeyedDecodingContainer {
        schema = .object(["type": .string("array")])
        return ArrayProbe(self)
    }

    func singleValueContainer() throws -> any SingleValueDecodingContainer { ValueProbe(self) }

    /// A placeholder value of the JSON types, with its schema: every type that decodes itself from a single
    /// value of its own type is here (else it would ask the probe for itself again).
    private static func placeholder<T>(of type: T.Type) -> (value: Any, schema: JSONValue)? {
        func schema(_ type: String, minimum: Double? = nil, maximum: Double? = nil) -> JSONValue {
            var members: [String: JSONValue] = ["type": .string(type)]
            if let minimum { members["minimum"] = .number(minimum) }
            if let maximum { members["maximum"] = .number(maximum) }
            return .object(members)
        }
        return switch type {
        case is String.Type: ("", schema("string"))
        case is Bool.Type: (false, schema("boolean"))
        case is Double.Type: (0.0, schema("number"))
        case is Float.Type: (Float(0), schema("number"))
        case is Int.Type: (0, schema("integer"))
        case is Int64.Type: (Int64(0), schema("integer"))
        case is Int32.Type: (Int32(0), schema("integer"))
        case is Int16.Type: (Int16(0), schema("integer"))
        case is Int8.Type: (Int8(0), schema("integer"))
        case is UInt64.Type: (UInt64(0), schema("integer", minimum: 0))
        case is UInt32.Type: (UInt32(0), schema("integer", minimum: 0))
        case is UInt.Type: (UInt(0), schema("integer", minimum: 0))
        case is UInt16.Type: (UInt16(0), schema("integer", minimum: 0))
        case is UInt8.Type: (UInt8(0), schema("integer", minimum: 0, maximum: 255))
        // A string that follows a rule: the placeholder follows it, the schema states it.
        case is EnvironmentName.Type:
            (
                try! EnvironmentName("prod"),
                .object(["type": .string("string"), "pattern": .string(EnvironmentName.pattern)])
            )
        default: nil
        }
    }

    private static func firstCase<C: CaseIterable & RawRepresentable>(of type: C.Type) -> C? { C.allCases.first }

    private static func rawValues<C: CaseIterable & RawRepresentable>(of type: C.Type) -> [JSONValue] {
        C.allCases.map { .string("\($0.rawValue)") }
    }
}

/// An object: each member asked for becomes a property, required unless asked with `decodeIfPresent`. A type
/// that asks for all keys (a dictionary) gets its values' schema as `additionalProperties`.
private struct ObjectProbe<Key: CodingKey>: KeyedDecodingContainerProtocol {
    let probe: Probe
    var codingPath: [any CodingKey] { probe.codingPath }

    init(_ probe: Probe) { self.probe = probe }

    var allKeys: [Key] {
        probe.schema = .object(["type": .string("object")])
        return Key(stringValue: "").map { [$0] } ?? []
    }

    func contains(_ key: Key) -> Bool { true }

    func decodeNil(forKey key: Key) throws -> Bool { false }

    func decode<T: Decodable>(_ type: T.Type, forKey key: Key) throws -> T { try member(type, key, required: true) }

    func decodeIfPresent<T: Decodable>(_ type: T.Type, forKey key: Key) throws -> T? {
        try member(type, key, required: false)
    }

    // The JSON types, each as any other member.
    func decode(_ type: String.Type, forKey key: Key) throws -> String { try member(type, key, required: true) }
    func decode(_ type: Bool.Type, forKey key: Key) throws -> Bool { try member(type, key, required: true) }
    func decode(_ type: Double.Type, forKey key: Key) throws -> Double { try member(type, key, required: true) }
    func decode(_ type: Float.Type, forKey key: Key) throws -> Float { try member(type, key, required: true) }
    func decode(_ type: Int.Type, forKey key: Key) throws -> Int { try member(type, key, required: true) }
    func decode(_ type: Int8.Type, forKey key: Key) throws -> Int8 { try member(type, key, required: true) }
    func decode(_ type: Int16.Type, forKey key: Key) throws -> Int16 { try member(type, key, required: true) }
    func decode(_ type: Int32.Type, forKey key: Key) throws -> Int32 { try member(type, key, required: true) }
    func decode(_ type: Int64.Type, forKey key: Key) throws -> Int64 { try member(type, key, required: true) }
    func decode(_ type: UInt.Type, forKey key: Key) throws -> UInt { try member(type, key, required: true) }
    func decode(_ type: UInt8.Type, forKey key: Key) throws -> UInt8 { try member(type, key, required: true) }
    func decode(_ type: UInt16.Type, forKey key: Key) throws -> UInt16 { try member(type, key, required: true) }
    func decode(_ type: UInt32.Type, forKey key: Key) throws -> UInt32 { try member(type, key, required: true) }
    func decode(_ type: UInt64.Type, forKey key: Key) throws -> UInt64 { try member(type, key, required: true) }
    func decodeIfPresent(_ type: String.Type, forKey key: Key) throws -> String? {
        try member(type, key, required: false)
    }
    func decodeIfPresent(_ type: Bool.Type, forKey key: Key) throws -> Bool? { try member(type, key, required: false) }
    func decodeIfPresent(_ type: Double.Type, forKey key: Key) throws -> Double? {
        try member(type, key, required: false)
    }
    func decodeIfPresent(_ type: Int.Type, forKey key: Key) throws -> Int? { try member(type, key, required: false) }
    func decodeIfPresent(_ type: Int64.Type, forKey key: Key) throws -> Int64? {
        try member(type, key, required: false)
    }
    func decodeIfPresent(_ type: UInt64.Type, forKey key: Key) throws -> UInt64? {
        try member(type, key, required: false)
    }

    func nestedContainer<NestedKey: CodingKey>(
        keyedBy type: NestedKey.Type, forKey key: Key
    ) throws -> KeyedDecodingContainer<NestedKey> {
        let child = Probe()
        defer { record(key, child.schema, required: true) }
        return try child.container(keyedBy: type)
    }

    func nestedUnkeyedContainer(forKey key: Key) throws -> any UnkeyedDecodingContainer {
        let child = Probe()
        defer { record(key, child.schema, required: true) }
        return try child.unkeyedContainer()
    }

    func superDecoder() throws -> any Decoder { Probe() }
    func superDecoder(forKey key: Key) throws -> any Decoder { Probe() }

    /// A placeholder for the member `key`, whose schema is written down.
    private func member<T: Decodable>(_ type: T.Type, _ key: Key, required: Bool) throws -> T {
        let child = Probe()
        child.codingPath = codingPath + [key]
        let value = try child.decode(type)
        record(key, child.schema, required: required)
        return value
    }

    private func record(_ key: Key, _ schema: JSONValue, required: Bool) {
        guard case .object(var object) = probe.schema else { return }
        if object["properties"] == nil {
            object["additionalProperties"] = schema
        } else if case .object(var properties)? = object["properties"] {
            properties[key.stringValue] = schema
            object["properties"] = .object(properties)
            if required, case .array(let names)? = object["required"] {
                object["required"] = .array(names + [.string(key.stringValue)])
            }
        }
        probe.schema = .object(object)
    }
}

/// An array: its first element is asked for, and its schema becomes `items`.
private final class ArrayProbe: UnkeyedDecodingContainer {
    let probe: Probe
    var codingPath: [any CodingKey] { probe.codingPath }
    var count: Int? { nil }
    var currentIndex = 0
    var isAtEnd: Bool { currentIndex > 0 }

    init(_ probe: Probe) { self.probe = probe }

    func decodeNil() throws -> Bool { false }

    func decode<T: Decodable>(_ type: T.Type) throws -> T {
        let child = Probe()
        let value = try child.decode(type)
        probe.schema = .object(["type": .string("array"), "items": child.schema])
        currentIndex += 1
        return value
    }

    func nestedContainer<NestedKey: CodingKey>(keyedBy type: NestedKey.Type) throws -> KeyedDecodingContainer<NestedKey>
    {
        currentIndex += 1
        return try Probe().container(keyedBy: type)
    }

    func nestedUnkeyedContainer() throws -> any UnkeyedDecodingContainer {
        currentIndex += 1
        return try Probe().unkeyedContainer()
    }

    func superDecoder() throws -> any Decoder { Probe() }
}

/// A single value: a placeholder of the type asked for.
private struct ValueProbe: SingleValueDecodingContainer {
    let probe: Probe
    var codingPath: [any CodingKey] { probe.codingPath }

    init(_ probe: Probe) { self.probe = probe }

    func decodeNil() -> Bool { false }

    func decode<T: Decodable>(_ type: T.Type) throws -> T { try probe.decode(type) }
}
