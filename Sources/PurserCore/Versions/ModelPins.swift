public import PurserLedger

/// Whether a model component names an exact, immutable model, judged by a table of rules that users can
/// extend (`templates/model-pins.yaml`).
///
/// Providers move aliases such as `gpt-4o`, `claude-3-5-sonnet-latest` or `gemini-1.5-pro` to newer models;
/// a dated snapshot, a numbered stable version, a deployment without auto-upgrade or a content digest does
/// not move. The table holds, per provider, the alternatives that make a component pinned (each a mapping
/// from a field of the component to a regular expression its value must match whole) and a hint for when
/// none does; its `allow:` list names exceptions that count as pinned. An unknown provider is not pinned.
public struct ModelPins: Sendable {
    /// One provider's rules: pinned when every field of at least one alternative matches.
    struct Rule: Sendable {
        let alternatives: [[(field: String, pattern: Pattern)]]
        let hint: String
    }

    /// A regular expression with the text it was compiled from (shown in reasons).
    ///
    /// `Regex` is not declared `Sendable`, but a compiled regex is immutable: its lazily lowered program is
    /// stored once, atomically, so matching from several threads is safe.
    struct Pattern: @unchecked Sendable {
        let text: String
        let regex: Regex<AnyRegexOutput>
    }

    /// An exception: a provider (lowercased) and an exact model id.
    struct Exception: Hashable, Sendable {
        let provider: String
        let id: String
    }

    /// Rules by lowercased provider name.
    let rules: [String: Rule]
    let allowed: Set<Exception>

    /// Reads a rules table (the data of a `model-pins.yaml` file) and compiles its regular expressions.
    ///
    /// - Parameters:
    ///   - table: `{providers: {NAME: {pinned-when: [{FIELD: REGEX, …}, …], hint: TEXT}, …},
    ///     allow: [{provider: NAME, id: ID}, …]}`; `allow` is optional.
    ///   - source: How errors name the table, usually its file name.
    /// - Throws: `LedgerError` with code `.invalidInput` naming `source` and the field: a missing or
    ///   unknown field, a value of the wrong type, two providers that differ only in case, an empty
    ///   alternative, or a regular expression that does not compile.
    public init(table: JSONValue, source: String) throws(LedgerError) {
        let reader = TableReader(source: source)
        let top = try reader.mapping(table, "", allowed: ["providers", "allow"])
        guard let providers = top["providers"] else {
            throw reader.invalid("providers", "missing: a mapping from provider name to {pinned-when: […], hint: TEXT}")
        }
        var rules: [String: Rule] = [:]
        var spelled: [String: String] = [:]
        for (name, entry) in try reader.mapping(providers, "providers", allowed: nil).sorted(by: { $0.key < $1.key }) {
            let field = "providers.\(name)"
            let key = name.lowercased()
            if let other = spelled[key] {
                throw reader.invalid(field, "same provider as \(other) (provider names are compared without case)")
            }
            spelled[key] = name
            let members = try reader.mapping(entry, field, allowed: ["pinned-when", "hint"])
            let hint = try reader.text(
                members["hint"], "\(field).hint", "what to write instead when no alternative matches")
            let expected = "a non-empty list of alternatives, each a mapping from a field to a regular expression"
            guard case .array(let items) = members["pinned-when"] ?? .null, !items.isEmpty else {
                let problem = members["pinned-when"] == nil ? "missing: \(expected)" : "expected \(expected)"
                throw reader.invalid("\(field).pinned-when", problem)
            }
            var alternatives: [[(field: String, pattern: Pattern)]] = []
            for (index, item) in items.enumerated() {
                let path = "\(field).pinned-when[\(index)]"
                guard case .object(let conditions) = item, !conditions.isEmpty else {
                    throw reader.invalid(
                        path, "expected a mapping from a field to a regular expression, such as {id: '.+-\\d{8}'}")
                }
                var alternative: [(field: String, pattern: Pattern)] = []
                for (name, value) in conditions.sorted(by: { $0.key < $1.key }) {
                    guard let text = value.stringValue else {
                        throw reader.invalid(
                            "\(path).\(name)", "expected a regular expression in quotes, such as 'false' or '\\S+'")
                    }
                    do {
                        alternative.append((name, Pattern(text: text, regex: try Self.compile(text))))
                    } catch {
                        throw reader.invalid(
                            "\(path).\(name)", "invalid regular expression '\(text)': \(TableReader.oneLine(error))")
                    }
                }
                alternatives.append(alternative)
            }
            rules[key] = Rule(alternatives: alternatives, hint: hint)
        }

        var allowed: Set<Exception> = []
        switch top["allow"] ?? .null {
        case .null: break
        case .array(let items):
            for (index, item) in items.enumerated() {
                let field = "allow[\(index)]"
                let members = try reader.mapping(item, field, allowed: ["provider", "id"])
                let provider = try reader.text(members["provider"], "\(field).provider", "the provider's name")
                let id = try reader.text(members["id"], "\(field).id", "the exact model id")
                allowed.insert(Exception(provider: provider.lowercased(), id: id))
            }
        default:
            throw reader.invalid("allow", "expected a list of {provider: NAME, id: ID}")
        }
        self.rules = rules
        self.allowed = allowed
    }

    private init(rules: [String: Rule], allowed: Set<Exception>) {
        self.rules = rules
        self.allowed = allowed
    }

    /// Reads and validates the rules table in the YAML (or JSON) file at `path`.
    ///
    /// - Throws: `.notFound` if there is no such file; `.invalidInput` naming the file and the field otherwise.
    public static func load(at path: String) throws(LedgerError) -> ModelPins {
        let source = Inputs.name(path)
        return try ModelPins(table: try YAML.parse(try Inputs.read(path), source: source), source: source)
    }

    /// The table purser ships: `builtInText`, the text of `templates/model-pins.yaml`.
    public static let builtIn: ModelPins = {
        do {
            return try ModelPins(
                table: try YAML.parse(builtInText, source: "model-pins.yaml (built in)"),
                source: "model-pins.yaml (built in)")
        } catch {
            fatalError("the built-in model pins table is invalid: \(error)")
        }
    }()

    /// The verdict for a model component's data (`provider`, `id` and provider-specific fields), with a
    /// reason: the rule or exception that pins it, or what to write instead.
    public func judge(_ model: JSONValue) -> (pinned: Bool, reason: String) {
        guard case .object = model else {
            return (false, "the model component is not a mapping such as {provider: openai, id: gpt-4o-2024-08-06}")
        }
        guard let provider = model["provider"]?.stringValue, !provider.isEmpty else {
            return (false, "the model component names no provider (provider: openai, anthropic, google, …)")
        }
        let id = model["id"]?.stringValue ?? ""
        let key = provider.lowercased()
        if allowed.contains(Exception(provider: key, id: id)) {
            return (true, "allowed as an exception: \(provider)/\(id)")
        }
        guard let rule = rules[key] else {
            return (
                false,
                "unknown provider \"\(provider)\": add rules for it to the model pins table, or allow "
                    + "{provider: \(provider), id: \(id)} in the policy"
            )
        }
        let matching = rule.alternatives.first { alternative in
            alternative.allSatisfy { Self.matches(model[$0.field], $0.pattern) }
        }
        if let matching {
            let conditions = matching.map { "\($0.field) '\($0.pattern.text)'" }.joined(separator: " and ")
            return (true, "matches the \(key) rule \(conditions)")
        }
        return (false, "\(id.isEmpty ? "the model" : id) is not pinned: \(rule.hint)")
    }

    /// This table with more exceptions (from a checklist policy): each provider and exact id counts as pinned.
    public func allowing(_ exceptions: [(provider: String, id: String)]) -> ModelPins {
        var allowed = allowed
        for exception in exceptions {
            allowed.insert(Exception(provider: exception.provider.lowercased(), id: exception.id))
        }
        return ModelPins(rules: rules, allowed: allowed)
    }

    /// Compiles `pattern` with `\d`, `\w` and `\s` limited to ASCII, as model ids and digests are.
    static func compile(_ pattern: String) throws -> Regex<AnyRegexOutput> {
        try Regex(pattern).asciiOnlyDigits().asciiOnlyWordCharacters().asciiOnlyWhitespace()
    }

    /// Whether a field's value matches `pattern` whole: strings as they are, booleans as `true` or `false`,
    /// numbers as canonical JSON. A missing field, null, a list or a mapping never matches.
    static func matches(_ value: JSONValue?, _ pattern: Pattern) -> Bool {
        let text: String
        switch value {
        case .string(let string): text = string
        case .bool(let flag): text = flag ? "true" : "false"
        case .number(let number): text = String(decoding: CanonicalJSON.encode(.number(number)), as: UTF8.self)
        default: return false
        }
        return text.wholeMatch(of: pattern.regex) != nil
    }

}

/// Reads the fields of a rules table, naming the file and field in every error.
private struct TableReader {
    let source: String

    func invalid(_ field: String, _ problem: String) -> LedgerError {
        LedgerError(.invalidInput, field.isEmpty ? "\(source): \(problem)" : "\(source): \(field): \(problem)")
    }

    /// A mapping; with `allowed`, one with only those keys.
    func mapping(_ value: JSONValue, _ field: String, allowed: [String]?) throws(LedgerError) -> [String: JSONValue] {
        guard case .object(let members) = value else { throw invalid(field, "expected a mapping") }
        for key in members.keys.sorted() where allowed.map({ !$0.contains(key) }) ?? false {
            let expected = allowed?.joined(separator: ", ") ?? ""
            throw invalid(field.isEmpty ? key : "\(field).\(key)", "unknown field (expected \(expected))")
        }
        return members
    }

    /// A non-empty string.
    func text(_ value: JSONValue?, _ field: String, _ expected: String) throws(LedgerError) -> String {
        guard let text = value?.stringValue, !text.isEmpty else {
            throw invalid(field, value == nil ? "missing: \(expected)" : "expected \(expected)")
        }
        return text
    }

    /// An error's description on one line.
    static func oneLine(_ error: any Error) -> String {
        "\(error)".split(whereSeparator: \.isNewline).map { $0.drop(while: \.isWhitespace) }.joined(separator: " ")
    }
}

extension ModelPins {
    /// The text of `templates/model-pins.yaml`, byte for byte (a test keeps the two equal): the rules that
    /// `builtIn` holds, and a commented starting point for a table of one's own.
    public static let builtInText = #"""
        # Model pins: when is a model component pinned?
        #
        # A behavioral version is only reproducible if its model component names a model that cannot change
        # under you. Providers move aliases (gpt-4o, claude-3-5-sonnet-latest, gemini-1.5-pro) to newer models
        # without notice; a dated snapshot, a numbered stable version or a content digest never moves.
        # `purser check` (the components-pinned check) and `purser version show` judge every model component
        # against this table. purser has this table built in; copy this file and name it in the checklist
        # policy (checks.components-pinned.pins) to change or extend it.
        #
        # A model component is a mapping in the agent manifest, for example
        #     model: {provider: openai, id: gpt-4o-2024-08-06, parameters: {temperature: 0.2}}
        #
        # How a component is judged:
        #   1. If `allow:` (at the end) lists its provider and id, it counts as pinned.
        #   2. Otherwise its provider is looked up under `providers:` (without regard to case). An unknown
        #      provider is not pinned.
        #   3. It is pinned if it satisfies at least one alternative of `pinned-when:`. An alternative maps
        #      fields of the model component (id, version, auto_upgrade, digest, revision, or any other) to a
        #      regular expression that the field's value must match as a whole: strings as they are, booleans
        #      as true or false, numbers as JSON writes them (2, 0.5). Every field of the alternative must
        #      match; a field the component lacks does not match.
        #   4. If no alternative matches, `hint` tells the person what to write instead.
        #
        # Regular expressions are Swift's (the common Perl-like syntax: \d a digit 0-9, [0-9a-f] a lowercase
        # hex digit, {8} exactly eight times, (a|b) either; \d, \w and \s match ASCII characters only).
        # Quote every one in single quotes, so that YAML keeps backslashes and reads 'false' as text.

        providers:
          openai:
            pinned-when:
              # A dated snapshot: gpt-4o-2024-08-06, gpt-4o-mini-2024-07-18, o3-2025-04-16.
              - id: '.+-\d{4}-\d{2}-\d{2}'
              # An older snapshot dated month and day: gpt-4-0613, gpt-3.5-turbo-0125, gpt-4-1106-preview.
              - id: '.+-(0[1-9]|1[0-2])[0-3]\d(-preview)?'
              # A fine-tuned model: ft:BASE:ORGANIZATION:SUFFIX:JOB (the job id makes it unique).
              - id: 'ft:[^:]+:[^:]*:[^:]*:[^:]+'
            hint: name a dated snapshot such as gpt-4o-2024-08-06; OpenAI moves gpt-4o, o3, chatgpt-4o-latest

          anthropic:
            pinned-when:
              # A dated id: claude-3-5-sonnet-20241022, claude-sonnet-4-20250514.
              - id: 'claude-.+-20\d{6}'
            hint: name a dated id such as claude-3-5-sonnet-20241022; Anthropic moves the -latest aliases

          # `&google` names this entry so that the Vertex AI and Gemini API spellings below reuse it (`*google`).
          google: &google
            pinned-when:
              # A numbered stable version: gemini-1.5-pro-002, gemini-2.0-flash-001.
              - id: '.+-\d{3}'
            hint: name a numbered stable version such as gemini-1.5-pro-002; Google moves base names
          vertex-ai: *google
          gemini: *google

          # Azure OpenAI: the id is your deployment's name; the deployment must say which model version it runs
          # and that Azure may not upgrade it.
          azure-openai: &azure
            pinned-when:
              - version: '\S+'
                auto_upgrade: 'false'
            hint: "an Azure OpenAI deployment needs an explicit version: (such as 2024-08-06) and auto_upgrade: false"
          azure: *azure

          # A model you serve yourself: the digest of its weights or image, or the commit of its repository.
          self-hosted:
            pinned-when:
              - digest: 'sha256:[0-9a-f]{64}'
              - revision: '[0-9a-f]{40}'
            hint: "a self-hosted model needs digest: sha256:<64 hex digits> or revision: <full 40-hex commit>"

        # Models that count as pinned although no rule above says so: a provider this table does not know, or
        # an id that is immutable in a way the rules cannot see. Each entry names one provider and one exact id.
        # The checklist policy can add more (checks.components-pinned.allow).
        allow: []
        #  - provider: acme-ai
        #    id: acme-large-2024-01-01

        """#
}
