import Foundation
import PurserCore
import PurserLedger

/// An agent manifest folder like a real agent's: a system prompt of a given size, a tools.json of tool
/// definitions with JSON-schema inputs, a pinned model, a full commit and a memory configuration.
///
/// `writePrompt(variant:)` changes one byte of the prompt per variant, so that each variant is a new
/// behavioral version while every other component stays the same.
struct ManifestFixture {
    let folder: String
    let prompt: [UInt8]

    var manifestPath: String { folder + "/agent.yaml" }

    init(folder: String, promptBytes: Int, tools: Int) throws {
        self.folder = folder
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        prompt = ManifestFixture.promptText(bytes: promptBytes)
        let toolDefinitions = JSONValue.array((0..<tools).map(ManifestFixture.tool))
        try ManifestFixture.write(CanonicalJSON.encode(toolDefinitions), to: folder + "/tools.json")
        let manifest = """
            agent: support-agent
            components:
              prompt:
                file: system-prompt.md
              tools:
                file: tools.json
              model:
                provider: anthropic
                id: claude-3-5-sonnet-20241022
                parameters:
                  temperature: 0.2
                  max_tokens: 1024
              code:
                commit: 9fceb02d0ae598e95dc970b74767f19372d61af8
                repository: https://github.com/example/support-agent
              memory:
                config:
                  type: conversation-window
                  max_turns: 20
                  summarize_after: 12

            """
        try ManifestFixture.write(Array(manifest.utf8), to: manifestPath)
        try writePrompt(variant: 0)
    }

    /// Records `count` variants (0, 1, …) in `releases`, labelled by `label`; returns their ids.
    func recordVariants(
        _ count: Int, in releases: Releases, label: (Int) -> String?
    ) throws -> [String] {
        try (0..<count).map { variant in
            try writePrompt(variant: variant)
            return try releases.versions.record(Manifest.load(at: manifestPath), label: label(variant)).id
        }
    }

    /// Writes the prompt with the byte at a position of its own changed for `variant` (0 to
    /// `prompt.count - 1001`), so that no two variants are equal.
    func writePrompt(variant: Int) throws {
        var bytes = prompt
        let position = 1_000 + variant
        bytes[position] = bytes[position] == UInt8(ascii: "*") ? UInt8(ascii: "+") : UInt8(ascii: "*")
        try ManifestFixture.write(bytes, to: folder + "/system-prompt.md")
    }

    private static func write(_ bytes: [UInt8], to path: String) throws {
        try Data(bytes).write(to: URL(fileURLWithPath: path))
    }

    /// Numbered sections of support-agent instructions, cut to exactly `bytes` (ASCII).
    static func promptText(bytes: Int) -> [UInt8] {
        let rules = [
            "Greet the customer by name when it is known, and state in one sentence what you can help with.",
            "Before issuing a refund, look up the order and confirm that it was delivered or lost in transit.",
            "Never reveal another customer's personal data, even when the requester claims to be an employee.",
            "Refunds above 500 USD need a supervisor: open an escalation ticket and say when to expect an answer.",
            "Quote prices and policies only from the tools; if a tool fails, say so and offer to follow up by email.",
            "Keep answers under 120 words unless the customer asks for detail, and use plain language without jargon.",
            "When the customer is upset, acknowledge the problem first, then propose one concrete next step.",
            "Record a short internal note after each resolved conversation, naming the order and the action taken.",
        ]
        var text = "# Support agent: system prompt\n\nYou are the customer support agent of Example Outfitters.\n"
        var section = 1
        while text.utf8.count < bytes {
            text += "\n## \(section). Policy area \(section)\n\n"
            for (index, rule) in rules.enumerated() {
                text += "\(section).\(index + 1) \(rule)\n"
            }
            section += 1
        }
        return Array(text.utf8.prefix(bytes))
    }

    /// Tool `n` of 200 distinct ones (ten verbs on twenty subjects), with three to five input properties.
    static func tool(_ n: Int) -> JSONValue {
        let verbs = [
            "get", "list", "search", "create", "update", "cancel", "refund", "escalate", "summarize", "validate",
        ]
        let subjects = [
            "order", "customer", "invoice", "subscription", "shipment", "ticket", "payment", "address", "product",
            "coupon", "return", "warranty", "account", "note", "policy", "inventory", "appointment", "message",
            "review", "loyalty_points",
        ]
        let verb = verbs[n % verbs.count]
        let subject = subjects[(n / verbs.count) % subjects.count]
        let suffix = n < verbs.count * subjects.count ? "" : "_\(n / (verbs.count * subjects.count))"
        var properties: [String: JSONValue] = [
            "\(subject)_id": .object([
                "type": .string("string"), "pattern": .string("^[A-Z]{2}-[0-9]{6,10}$"),
                "description": .string(
                    "The \(subject.replacingOccurrences(of: "_", with: " ")) identifier, e.g. OR-0012345."),
            ]),
            "reason": .object([
                "type": .string("string"),
                "enum": .array(["customer_request", "damaged", "late", "duplicate", "other"].map(JSONValue.string)),
                "description": .string("Why the agent is calling this tool; logged for audit."),
            ]),
            "limit": .object([
                "type": .string("integer"), "minimum": .number(1), "maximum": .number(100),
                "default": .number(20), "description": .string("The most results to return."),
            ]),
        ]
        if n % 2 == 0 {
            properties["include_history"] = .object([
                "type": .string("boolean"), "default": .bool(false),
                "description": .string("Also return past changes, newest first."),
            ])
        }
        if n % 3 == 0 {
            properties["locale"] = .object([
                "type": .string("string"), "description": .string("BCP 47 language tag for texts, e.g. en-US."),
            ])
        }
        let readable = subject.replacingOccurrences(of: "_", with: " ")
        return .object([
            "name": .string("\(verb)_\(subject)\(suffix)"),
            "description": .string(
                "\(verb.prefix(1).uppercased() + verb.dropFirst()) the \(readable) named by its id. Use only after "
                    + "confirming the customer's identity; the result is shown to the customer, so never pass "
                    + "internal notes through it."),
            "input_schema": .object([
                "type": .string("object"), "properties": .object(properties),
                "required": .array([.string("\(subject)_id")]), "additionalProperties": .bool(false),
            ]),
        ])
    }
}
