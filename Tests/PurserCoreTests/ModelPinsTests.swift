import Foundation
import PurserCore
import PurserLedger
import Testing

/// The repository's root, found from this file's path (Tests/PurserCoreTests/ModelPinsTests.swift).
private let repositoryRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
    .deletingLastPathComponent().path

@Suite("Model pins: dated snapshots pass, floating aliases fail")
struct ModelPinsTests {
    static let templatePath = repositoryRoot + "/templates/model-pins.yaml"

    /// Where the rules come from: the table compiled into purser, or the template file read at run time.
    enum Table: String, CaseIterable, Sendable {
        case builtIn, templateFile

        func pins() throws -> ModelPins {
            switch self {
            case .builtIn: ModelPins.builtIn
            case .templateFile: try ModelPins.load(at: ModelPinsTests.templatePath)
            }
        }
    }

    struct Case: Sendable, CustomTestStringConvertible {
        let provider: String
        let id: String
        let extra: [String: JSONValue]
        let pinned: Bool

        init(_ provider: String, _ id: String, _ pinned: Bool) {
            self.init(provider, id, [:], pinned)
        }

        init(_ provider: String, _ id: String, _ extra: [String: JSONValue], _ pinned: Bool) {
            self.provider = provider
            self.id = id
            self.extra = extra
            self.pinned = pinned
        }

        var model: JSONValue {
            var members = extra
            members["provider"] = .string(provider)
            members["id"] = .string(id)
            return .object(members)
        }

        var testDescription: String { "\(provider)/\(id)\(extra.isEmpty ? "" : " \(extra)") → \(pinned)" }
    }

    static let digest = "sha256:" + String(repeating: "a1", count: 32)
    static let revision = String(repeating: "0f", count: 20)

    static let cases: [Case] = [
        Case("openai", "gpt-4o-2024-08-06", true),
        Case("openai", "o3-2025-04-16", true),
        Case("openai", "gpt-4-0613", true),
        Case("openai", "gpt-4-1106-preview", true),
        Case("openai", "ft:gpt-4o-mini-2024-07-18:acme::9abcDEF1", true),
        Case("OpenAI", "gpt-4o-2024-08-06", true),
        Case("openai", "gpt-4o", false),
        Case("openai", "o3", false),
        Case("openai", "chatgpt-4o-latest", false),
        Case("openai", "gpt-4-turbo", false),
        Case("openai", "gpt-4o-\u{662}\u{660}\u{662}\u{664}-\u{660}\u{668}-\u{660}\u{666}", false),
        Case("anthropic", "claude-3-5-sonnet-20241022", true),
        Case("anthropic", "claude-sonnet-4-20250514", true),
        Case("anthropic", "claude-3-5-sonnet-latest", false),
        Case("anthropic", "claude-sonnet-4-0", false),
        Case("google", "gemini-1.5-pro-002", true),
        Case("vertex-ai", "gemini-2.0-flash-001", true),
        Case("google", "gemini-1.5-pro", false),
        Case("gemini", "gemini-1.5-pro-latest", false),
        Case("azure-openai", "support-gpt4o", ["version": .string("2024-08-06"), "auto_upgrade": .bool(false)], true),
        Case("azure", "support-gpt4o", ["version": .string("2024-08-06"), "auto_upgrade": .bool(false)], true),
        Case("azure-openai", "support-gpt4o", ["version": .string("2024-08-06")], false),
        Case("azure-openai", "support-gpt4o", ["version": .string("2024-08-06"), "auto_upgrade": .bool(true)], false),
        Case("azure-openai", "support-gpt4o", ["version": .string(""), "auto_upgrade": .bool(false)], false),
        Case("azure-openai", "support-gpt4o", ["auto_upgrade": .bool(false)], false),
        Case("self-hosted", "llama-3.1-70b", ["digest": .string(digest)], true),
        Case("self-hosted", "llama-3.1-70b", ["revision": .string(revision)], true),
        Case("self-hosted", "llama-3.1-70b", ["digest": .string(String(digest.dropLast()))], false),
        Case("self-hosted", "llama-3.1-70b", ["digest": .string(String(digest.dropFirst(7)))], false),
        Case("self-hosted", "llama-3.1-70b", ["revision": .string("main")], false),
        Case("self-hosted", "llama-3.1-70b", ["revision": .string(String(revision.prefix(12)))], false),
        Case("acme-ai", "acme-large-2024-01-01", false),
    ]

    @Test("each provider's rule, in the built-in table and in the template file", arguments: Table.allCases, cases)
    func judge(_ table: Table, _ example: Case) throws {
        let verdict = try table.pins().judge(example.model)
        #expect(verdict.pinned == example.pinned, "\(verdict.reason)")
        #expect(!verdict.reason.isEmpty)
    }

    @Test("the built-in table is the template file, byte for byte")
    func builtInIsTheTemplate() throws {
        let file = Array(try Data(contentsOf: URL(fileURLWithPath: Self.templatePath)))
        let embedded = Array(ModelPins.builtInText.utf8)
        let firstDifference =
            embedded.indices.first { $0 >= file.count || embedded[$0] != file[$0] }
            ?? (embedded.count < file.count ? embedded.count : nil)
        let line = firstDifference.map { offset in file.prefix(offset).count { $0 == 0x0A } + 1 }
        #expect(
            firstDifference == nil,
            "ModelPins.builtInText differs from templates/model-pins.yaml at line \(line ?? 0): copy the file into it")
    }

    @Test("reasons name the rule that pins, or say what to write instead")
    func reasons() {
        let pins = ModelPins.builtIn
        let dated = pins.judge(Case("openai", "gpt-4o-2024-08-06", true).model)
        #expect(dated.reason == #"matches the openai rule id '.+-\d{4}-\d{2}-\d{2}'"#)
        let alias = pins.judge(Case("openai", "gpt-4o", false).model)
        #expect(alias.reason.hasPrefix("gpt-4o is not pinned: name a dated snapshot such as gpt-4o-2024-08-06"))
        let azure = pins.judge(Case("azure-openai", "support", ["version": .string("1")], false).model)
        #expect(azure.reason.contains("auto_upgrade: false"))
        let unknown = pins.judge(Case("acme-ai", "acme-large", false).model)
        #expect(unknown.reason.hasPrefix(#"unknown provider "acme-ai""#))
        #expect(pins.judge(.object(["id": .string("gpt-4o-2024-08-06")])).reason.contains("names no provider"))
        #expect(pins.judge(.string("gpt-4o-2024-08-06")).pinned == false)
    }

    @Test("each hint's example is pinned by its own provider's rule; Anthropic's is the id the agent template pins")
    func hintExamplesArePinned() throws {
        let pins = ModelPins.builtIn
        for (provider, alias) in [
            ("openai", "gpt-4o"), ("anthropic", "claude-3-5-sonnet-latest"), ("google", "gemini-1.5-pro"),
        ] {
            let reason = pins.judge(Case(provider, alias, false).model).reason
            let example = try #require(reason.firstMatch(of: /such as (\S+);/).map { String($0.1) }, "\(reason)")
            #expect(pins.judge(Case(provider, example, true).model).pinned, "\(provider): \(reason)")
        }
        let template = try String(contentsOfFile: repositoryRoot + "/templates/agent.yaml", encoding: .utf8)
        let pinned = try #require(template.firstMatch(of: /\n    id: (claude-\S+)\n/).map { String($0.1) })
        let hint = pins.judge(Case("anthropic", "claude-3-5-sonnet-latest", false).model).reason
        #expect(hint.contains("such as \(pinned);"), "\(hint)")
    }

    @Test("a model component is pinned only when the built-in table says so")
    func componentUsesTheBuiltInTable() {
        func component(_ id: String) -> Component {
            let value: JSONValue = .object(["provider": .string("openai"), "id": .string(id)])
            let bytes = CanonicalJSON.encode(value)
            return Component(
                name: "model", kind: .model, digest: Hash.sha256(bytes), size: bytes.count, source: nil,
                fileName: "model.json", value: value)
        }
        #expect(component("gpt-4o-2024-08-06").pinned)
        #expect(!component("gpt-4o").pinned)
    }

    /// A small table of one's own, as a user writes it.
    static let userTable = #"""
        providers:
          mistral:
            pinned-when:
              - id: 'mistral-[a-z]+-\d{4}'
              - id: 'open-mistral-.+'
                version: '\d+'
            hint: name a dated version such as mistral-large-2411
        allow:
          - {provider: Acme-AI, id: acme-large}

        """#

    func table(_ text: String) throws -> ModelPins {
        try ModelPins(table: try YAML.parse(text, source: "pins.yaml"), source: "pins.yaml")
    }

    @Test(
        "a user's table: a new provider, alternatives, numbers matched as JSON writes them, exceptions",
        arguments: [
            Case("mistral", "mistral-large-2411", true),
            Case("mistral", "mistral-large-latest", false),
            Case("mistral", "open-mistral-nemo", ["version": .number(2)], true),
            Case("mistral", "open-mistral-nemo", ["version": .number(2.5)], false),
            Case("mistral", "open-mistral-nemo", ["version": .string("2")], true),
            Case("mistral", "open-mistral-nemo", false),
            Case("acme-ai", "acme-large", true),
            Case("ACME-AI", "acme-large", true),
            Case("acme-ai", "acme-large-2", false),
            Case("openai", "gpt-4o-2024-08-06", false),
        ])
    func userTable(_ example: Case) throws {
        let verdict = try table(Self.userTable).judge(example.model)
        #expect(verdict.pinned == example.pinned, "\(verdict.reason)")
        if example.provider == "mistral" && !example.pinned {
            #expect(verdict.reason.hasSuffix("is not pinned: name a dated version such as mistral-large-2411"))
        }
    }

    @Test("exceptions from a policy count as pinned, for that provider and exact id only")
    func allowing() throws {
        let base = ModelPins.builtIn
        let extended = base.allowing([(provider: "acme-ai", id: "acme-large"), (provider: "OpenAI", id: "gpt-4o")])
        let acme = Case("acme-ai", "acme-large", true).model
        #expect(!base.judge(acme).pinned)
        #expect(extended.judge(acme).pinned)
        #expect(extended.judge(acme).reason == "allowed as an exception: acme-ai/acme-large")
        #expect(extended.judge(Case("openai", "gpt-4o", true).model).pinned)
        #expect(!extended.judge(Case("openai", "o3", false).model).pinned)
        #expect(!extended.judge(Case("acme-ai", "acme-small", false).model).pinned)
        #expect(!extended.judge(Case("other", "acme-large", false).model).pinned)
        #expect(!base.judge(Case("openai", "gpt-4o", false).model).pinned)
    }

    @Test("the template's allow list is a list, and entries added there count")
    func allowInTheFile() throws {
        let text = ModelPins.builtInText.replacingOccurrences(
            of: "allow: []\n", with: "allow:\n  - provider: acme-ai\n    id: acme-large-2024-01-01\n")
        try #require(text != ModelPins.builtInText)
        let pins = try table(text)
        #expect(pins.judge(Case("acme-ai", "acme-large-2024-01-01", true).model).pinned)
        #expect(!ModelPins.builtIn.judge(Case("acme-ai", "acme-large-2024-01-01", false).model).pinned)
    }

    @Test(
        "a malformed table is refused, naming the file and the field",
        arguments: [
            (
                #"- id: 'mistral-[a-z]+-\d{4}'"#, "- id: 'mistral-('",
                "providers.mistral.pinned-when[0].id: invalid regular expression"
            ),
            (
                #"- id: 'mistral-[a-z]+-\d{4}'"#, "- 'mistral-.+'",
                "providers.mistral.pinned-when[0]: expected a mapping"
            ),
            (#"- id: 'mistral-[a-z]+-\d{4}'"#, "- {}", "providers.mistral.pinned-when[0]: expected a mapping"),
            (
                #"- id: 'mistral-[a-z]+-\d{4}'"#, "- auto_upgrade: false",
                "providers.mistral.pinned-when[0].auto_upgrade: expected a regular expression"
            ),
            (
                "    version: '\\d+'", "    version: 2",
                "providers.mistral.pinned-when[1].version: expected a regular expression"
            ),
            ("    hint: name", "    note: x\n    hint: name", "providers.mistral.note: unknown field"),
            ("    hint: name a dated version such as mistral-large-2411\n", "", "providers.mistral.hint: missing"),
            (
                "  mistral:\n", "  Mistral: {pinned-when: [{id: x}], hint: y}\n  mistral:\n",
                "providers.mistral: same provider as Mistral"
            ),
            ("providers:\n", "rules: {}\nproviders:\n", "rules: unknown field"),
            ("  - {provider: Acme-AI, id: acme-large}", "  - {provider: Acme-AI}", "allow[0].id: missing"),
            ("  - {provider: Acme-AI, id: acme-large}", "  - {provider: Acme-AI, id: 7}", "allow[0].id: expected"),
            (
                "allow:\n  - {provider: Acme-AI, id: acme-large}", "allow: {provider: a, id: b}",
                "allow: expected a list"
            ),
        ])
    func malformed(_ original: String, _ replacement: String, _ expected: String) throws {
        let text = Self.userTable.replacingOccurrences(of: original, with: replacement)
        try #require(text != Self.userTable)
        let error = #expect(throws: LedgerError.self) { try table(text) }
        #expect(error?.code == .invalidInput)
        #expect(error?.message.hasPrefix("pins.yaml: " + expected) == true, "\(error?.message ?? "")")
        #expect(error?.message.contains("\n") == false)
    }

    @Test("a table with no providers, or with a pinned-when that is not a list, is refused")
    func malformedShapes() throws {
        for (text, expected) in [
            ("allow: []\n", "pins.yaml: providers: missing"),
            ("providers: [openai]\n", "pins.yaml: providers: expected a mapping"),
            ("providers: {openai: {pinned-when: {id: x}, hint: y}}\n", "pins.yaml: providers.openai.pinned-when:"),
            ("providers: {openai: {pinned-when: [], hint: y}}\n", "pins.yaml: providers.openai.pinned-when:"),
            ("- providers\n", "pins.yaml: expected a mapping"),
        ] {
            let error = #expect(throws: LedgerError.self) { try table(text) }
            #expect(error?.message.hasPrefix(expected) == true, "\(error?.message ?? "")")
        }
    }

    @Test("loading a table that does not exist says so")
    func missingFile() {
        let error = #expect(throws: LedgerError.self) {
            try ModelPins.load(at: NSTemporaryDirectory() + "no-such-" + UUID().uuidString + ".yaml")
        }
        #expect(error?.code == .notFound)
    }
}
