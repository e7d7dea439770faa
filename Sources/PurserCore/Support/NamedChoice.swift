/// A value chosen from a fixed list of names (a deployment strategy, a file format, a drill's result). It is
/// decoded from its name, and a name not in the list is refused with the allowed ones, at the field that holds
/// it: the server answers `strategy: must be blue-green, canary or shadow, not "big-bang"`, and its OpenAPI
/// document lists the names as the field's `enum`.
public protocol NamedChoice: RawRepresentable<String>, CaseIterable, Codable, Sendable {}

extension NamedChoice {
    /// The allowed names as a sentence lists them: "blue-green, canary or shadow".
    public static var allowedNames: String {
        let names = allCases.map(\.rawValue)
        guard let last = names.last, names.count > 1 else { return names.first ?? "" }
        return names.dropLast().joined(separator: ", ") + " or " + last
    }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.singleValueContainer()
        let name = try container.decode(String.self)
        guard let value = Self(rawValue: name) else {
            throw DecodingError.dataCorruptedError(
                in: container, debugDescription: "must be \(Self.allowedNames), not \"\(name)\"")
        }
        self = value
    }
}
