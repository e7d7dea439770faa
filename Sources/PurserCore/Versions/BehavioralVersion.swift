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

    /// Checks that this version is one `Manifest.load` could have made, so that every recorded version is one
    /// replay and `verify` accept and every command can read: a named agent; prompt, tools, model, code and memory
    /// present; names of lowercase letters, digits, '-' and '_'; each well-known component of its kind; the file
    /// name `materialize` writes; each digest and size those of its bytes; structured data as canonical JSON; a
    /// model with a provider and an id; a commit of 40 hex digits. The `versions/record` operation runs it, for
    /// the CLI and the server alike.
    /// - Throws: `.invalidInput` naming the component and what was expected.
    public func validate() throws(LedgerError) {
        try checkRecordable()
        guard !agent.isEmpty else {
            throw LedgerError(.invalidInput, "agent: missing: the agent's name, e.g. support-agent")
        }
        if let problem = Self.textProblem(agent, limit: Self.maximumAgentLength) {
            throw LedgerError(.invalidInput, "agent: \(problem)")
        }
        let names = components.map(\.name)
        for name in Manifest.requiredComponents where !names.contains(name) {
            throw LedgerError(
                .invalidInput,
                "components.\(name): missing (a version has \(Manifest.requiredComponents.joined(separator: ", ")))")
        }
        for component in components {
            if let problem = component.problem(contents[component.name]) {
                throw LedgerError(.invalidInput, "components.\(component.name): \(problem)")
            }
        }
    }

    /// Checks what replay, `verify` and every reader need of a recorded version, whoever records it: unique
    /// component names of lowercase letters, digits, '-' and '_', file names `materialize` may write, and each
    /// component's digest and size those of its bytes. `Versions.record` runs it.
    /// - Throws: `.invalidInput` naming the component.
    public func checkRecordable() throws(LedgerError) {
        let names = components.map(\.name)
        guard Set(names).count == names.count else {
            throw LedgerError(.invalidInput, "components: each component name may appear once")
        }
        for component in components {
            let field = "components.\(component.name)"
            if let problem = Component.nameProblem(component.name) {
                throw LedgerError(.invalidInput, "\(field): \(problem)")
            }
            guard Component(json: component.json) == component else {
                throw LedgerError(
                    .invalidInput, "\(field): file name \(component.fileName) is not \(component.name).EXT")
            }
            guard let bytes = contents[component.name], Hash.sha256(bytes) == component.digest,
                component.size == bytes.count
            else {
                throw LedgerError(.invalidInput, "\(field): its digest and size are not those of its contents")
            }
        }
    }

    /// The longest agent name, in UTF-8 bytes.
    public static let maximumAgentLength = 128

    /// Why `text`, a name or a path that commands print on one line, cannot be recorded: a control character
    /// (a line break, ESC, …) or more than `limit` UTF-8 bytes; nil if it can.
    static func textProblem(_ text: String, limit: Int) -> String? {
        if let control = text.unicodeScalars.first(where: { $0.properties.generalCategory == .control }) {
            let code = String(control.value, radix: 16, uppercase: true)
            return "it holds the control character U+\(String(repeating: "0", count: max(0, 4 - code.count)) + code)"
        }
        if text.utf8.count > limit { return "it is \(text.utf8.count) bytes long, more than \(limit)" }
        return nil
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

    /// Why `name` cannot name a component, or nil.
    public static func nameProblem(_ name: String) -> String? {
        guard name.wholeMatch(of: /[a-z0-9][a-z0-9_-]{0,63}/) != nil else {
            return "component names are lowercase letters, digits, '-' and '_' (at most 64)"
        }
        guard name != "version" else {
            return "\"version\" is reserved (materialize writes version.json); choose another name"
        }
        return nil
    }

    /// The kind each well-known component must have, and what to write instead.
    public static let requiredKinds: [String: (kind: Kind, expected: String)] = [
        "prompt": (.text, "the prompt is a text file: {file: PATH}"),
        "tools": (.data, "tool definitions are JSON or YAML data: {file: tools.json} or {config: [...]}"),
        "model": (.model, "expected {provider: NAME, id: EXACT-MODEL-ID, parameters: {...}}"),
        "code": (.commit, "expected {commit: <full 40-hex git commit>}"),
    ]

    /// The file `materialize` writes a component to: a text file keeps its extension if it is 1 to 16 lowercase
    /// letters and digits (else `.txt`); everything else is canonical JSON, `.json`.
    public static func fileName(for name: String, kind: Kind, extension suffix: String) -> String {
        guard kind == .text else { return "\(name).json" }
        return suffix.wholeMatch(of: /[a-z0-9]{1,16}/) == nil ? "\(name).txt" : "\(name).\(suffix)"
    }

    /// Why a model's data is not `{provider: NAME, id: EXACT-MODEL-ID, parameters: {...}}`, with the member at
    /// fault, or nil.
    public static func modelProblem(_ value: JSONValue) -> (member: String, problem: String)? {
        guard case .object(let members) = value else { return ("", "expected a mapping {provider:, id:}") }
        for key in ["provider", "id"] where (members[key]?.stringValue ?? "").isEmpty {
            return (key, key == "id" ? "missing: the exact model id" : "missing: e.g. openai")
        }
        if let parameters = members["parameters"] {
            guard case .object = parameters else {
                return ("parameters", "expected a mapping such as {temperature: 0.2}")
            }
        }
        return nil
    }

    /// Why a commit's data is not `{commit: <40 hex>, repository: …}`, with the member at fault, or nil.
    public static func commitProblem(_ value: JSONValue) -> (member: String, problem: String)? {
        guard case .object(let members) = value else { return ("", "expected a mapping {commit:}") }
        for key in members.keys.sorted() where key != "commit" && key != "repository" {
            return (key, "unknown field here (expected only commit, repository)")
        }
        guard let hex = members["commit"]?.stringValue, hex.wholeMatch(of: /[0-9a-f]{40}/) != nil else {
            let got = members["commit"]?.stringValue.map { "\"\($0)\"" } ?? "a non-string"
            return ("commit", "expected a full 40-character lowercase hex git commit, got \(got)")
        }
        return nil
    }

    /// The longest source path, in UTF-8 bytes (PATH_MAX).
    public static let maximumSourceLength = 4096

    /// Why this component, with content `bytes`, is not one a manifest makes, or nil.
    func problem(_ bytes: [UInt8]?) -> String? {
        if let problem = Component.nameProblem(name) { return problem }
        if let (kind, expected) = Component.requiredKinds[name], kind != self.kind { return expected }
        guard let bytes else { return "its contents are missing" }
        guard Hash.sha256(bytes) == digest, size == bytes.count else {
            return "its digest and size are not those of its contents"
        }
        let suffix = fileName.split(separator: ".", maxSplits: 1).dropFirst().first.map(String.init) ?? ""
        let expectedFile = Component.fileName(for: name, kind: kind, extension: suffix)
        guard fileName == expectedFile else { return "its file name is \(fileName), expected \(expectedFile)" }
        if let source, let problem = BehavioralVersion.textProblem(source, limit: Component.maximumSourceLength) {
            return "its source path: \(problem)"
        }
        switch kind {
        case .text:
            guard value == nil, let source, !source.isEmpty else {
                return "a text component is a file: it has a source path and no value"
            }
            guard !bytes.starts(with: Array("PRIVATE+KEY+".utf8)) else {
                return "its contents are a private signing key; a version never records one"
            }
            return nil
        case .data, .model, .commit:
            guard let parsed = try? JSONValue(parsing: bytes), CanonicalJSON.encode(parsed) == bytes else {
                return "its contents are not canonical JSON"
            }
            if kind == .data {
                guard value == nil else { return "a data component has no value" }
                if let source, source.isEmpty { return "its source path is empty" }
                return nil
            }
            guard source == nil, value == parsed else {
                return "a \(kind.rawValue) component's value is its contents, and it has no source"
            }
            let found = kind == .model ? Component.modelProblem(parsed) : Component.commitProblem(parsed)
            return found.map { $0.member.isEmpty ? $0.problem : "\($0.member): \($0.problem)" }
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
