import PurserCore
import PurserLedger
import Testing

@Suite("Model pins: dated snapshots pass, floating aliases fail")
struct ModelPinsTests {
    static let cases: [(provider: String, id: String, extra: [String: JSONValue], pinned: Bool)] = [
        ("openai", "gpt-4o-2024-08-06", [:], true),
        ("openai", "gpt-4o", [:], false),
        ("openai", "o3", [:], false),
        ("openai", "chatgpt-4o-latest", [:], false),
        ("anthropic", "claude-3-5-sonnet-20241022", [:], true),
        ("anthropic", "claude-sonnet-4-20250514", [:], true),
        ("anthropic", "claude-3-5-sonnet-latest", [:], false),
        ("google", "gemini-1.5-pro-002", [:], true),
        ("google", "gemini-1.5-pro", [:], false),
        ("azure-openai", "support-gpt4o", ["version": .string("2024-08-06"), "auto_upgrade": .bool(false)], true),
        ("azure-openai", "support-gpt4o", ["version": .string("2024-08-06")], false),
        ("azure-openai", "support-gpt4o", ["auto_upgrade": .bool(false)], false),
        ("self-hosted", "llama-3.1-70b", ["digest": .string("sha256:" + String(repeating: "a1", count: 32))], true),
        ("self-hosted", "llama-3.1-70b", ["revision": .string(String(repeating: "0f", count: 20))], true),
        ("self-hosted", "llama-3.1-70b", ["revision": .string("main")], false),
        ("acme-ai", "acme-large-2024-01-01", [:], false),
    ]

    @Test("each provider's rule", arguments: cases)
    func judge(_ provider: String, _ id: String, _ extra: [String: JSONValue], _ pinned: Bool) {
        var members = extra
        members["provider"] = .string(provider)
        members["id"] = .string(id)
        let verdict = ModelPins.judge(.object(members))
        #expect(verdict.pinned == pinned, "\(provider)/\(id): \(verdict.reason)")
        if !pinned { #expect(!verdict.reason.isEmpty) }
    }
}
