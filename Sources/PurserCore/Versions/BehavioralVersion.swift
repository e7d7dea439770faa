public import PurserLedger

/// Everything an agent's behaviour depends on, pinned: its components with their exact contents, and
/// the id that hashes them all.
///
/// The id is the SHA-256 of the canonical JSON (RFC 8785) of the object that maps each component's
/// name to its digest in hex. A component's digest is the SHA-256 of its content bytes: a text file's
/// raw bytes, or the canonical JSON of structured data (tool definitions, a model and its parameters,
/// a commit, a configuration), so that key order and whitespace do not change the id.
public struct BehavioralVersion: Sendable {
    public let agent: String
    /// Sorted by name.
    public let components: [Component]
    /// The exact bytes of each component, by name: raw text, or canonical JSON.
    public let contents: [String: [UInt8]]

    public init(agent: String, components: [(Component, bytes: [UInt8])]) {
        self.agent = agent
        self.components = components.map(\.0).sorted { $0.name < $1.name }
        self.contents = Dictionary(components.map { ($0.0.name, $0.bytes) }) { first, _ in first }
    }

    /// The behavioral version id: SHA-256 of the canonical JSON of `{name: digest hex}`.
    public var id: String {
        BehavioralVersion.id(digests: components.map { ($0.name, $0.digest) })
    }

    /// Computes a version id from component names and digests, as an auditor would.
    public static func id(digests: [(name: String, digest: Hash)]) -> String {
        let members = Dictionary(digests.map { ($0.name, JSONValue.string($0.digest.hex)) }) { first, _ in first }
        return Hash.sha256(CanonicalJSON.encode(.object(members))).hex
    }
}

/// One part of a behavioral version, as its `version.recorded` entry describes it; the bytes are
/// stored as an artifact under `digest`.
public struct Component: Sendable, Equatable {
    public let name: String
    public let kind: Kind
    /// SHA-256 of the content bytes.
    public let digest: Hash
    public let size: Int
    /// Where the content came from, as the manifest names it (a file path), if anywhere.
    public let source: String?
    /// The file name `materialize` writes it to.
    public let fileName: String
    /// The data of a model or commit component, shown in entries and judged by `ModelPins`.
    public let value: JSONValue?

    /// How a component's content is read and hashed.
    public enum Kind: String, Sendable, CaseIterable {
        /// A text file, hashed byte for byte (a system prompt).
        case text
        /// Structured data from a JSON or YAML file or inline: canonical JSON (tool definitions, memory).
        case data
        /// A model: provider, exact id, parameters; canonical JSON.
        case model
        /// A source revision: a full 40-hex git commit; canonical JSON.
        case commit
    }

    public init(
        name: String, kind: Kind, digest: Hash, size: Int, source: String?, fileName: String, value: JSONValue?
    ) {
        self.name = name
        self.kind = kind
        self.digest = digest
        self.size = size
        self.source = source
        self.fileName = fileName
        self.value = value
    }

    /// Whether the component names an exact, immutable version of what it is: contents are hashed and
    /// commits are full; a model must name a pinned snapshot (`ModelPins`).
    public var pinned: Bool {
        switch kind {
        case .text, .data, .commit: true
        case .model: value.map { ModelPins.builtIn.judge($0).pinned } ?? false
        }
    }

    /// The component as a `version.recorded` entry holds it.
    var json: JSONValue {
        var members: [String: JSONValue] = [
            "name": .string(name), "kind": .string(kind.rawValue), "digest": .string(digest.hex),
            "file": .string(fileName), "size": .number(Double(size)),
        ]
        if let source { members["source"] = .string(source) }
        if let value { members["value"] = value }
        return .object(members)
    }

    /// Reads a component back from a `version.recorded` entry.
    init?(json: JSONValue) {
        guard let name = json["name"]?.stringValue, let kind = json["kind"]?.stringValue.flatMap(Kind.init),
            let digest = json["digest"]?.stringValue.flatMap({ Hash(hex: $0) }),
            let size = json["size"]?.numberValue.flatMap({ Int(exactly: $0) }), size >= 0,
            let fileName = json["file"]?.stringValue, Component.isSafeFileName(fileName, for: name)
        else { return nil }
        self.init(
            name: name, kind: kind, digest: digest, size: size, source: json["source"]?.stringValue,
            fileName: fileName, value: json["value"])
    }

    /// Whether `fileName` is one `materialize` may write: the component's name and an extension, one plain
    /// path component (an entry written by other means must not send files outside the output folder).
    static func isSafeFileName(_ fileName: String, for name: String) -> Bool {
        fileName.hasPrefix(name + ".") && fileName.wholeMatch(of: /[a-z0-9][a-z0-9_-]*\.[A-Za-z0-9]{1,16}/) != nil
            && fileName != "version.json"
    }
}
