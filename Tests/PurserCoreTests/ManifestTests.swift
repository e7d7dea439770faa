import Foundation
import PurserCore
import PurserLedger
import Testing

@Suite("Manifest: reading an agent's components")
struct ManifestTests {
    /// Writes `files` into a new temporary directory; returns its path.
    func folder(_ files: [String: String]) throws -> String {
        let path = NSTemporaryDirectory() + "purser-manifest-" + UUID().uuidString
        for (name, text) in files {
            let url = URL(fileURLWithPath: path + "/" + name)
            try FileManager.default.createDirectory(
                at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
            try Data(text.utf8).write(to: url)
        }
        return path
    }

    static let common = """
        agent: a
        components:
          prompt: {file: prompt.md}
          model: {provider: openai, id: gpt-4o-2024-08-06, parameters: {temperature: 0.2}}
          code: {commit: 9fceb02d0ae598e95dc970b74767f19372d61af8}
          memory: {config: null}

        """

    @Test("tool definitions give one digest whether written as JSON or YAML, in any key order")
    func toolsInJSONOrYAML() throws {
        let json = try folder([
            "agent.yaml": Self.common + "  tools: {file: tools.json}\n", "prompt.md": "Hi.\n",
            "tools.json": #"[{"name": "lookup", "input_schema": {"type": "object", "required": ["id"]}}]"#,
        ])
        let yaml = try folder([
            "agent.yaml": Self.common + "  tools: {file: tools.yaml}\n", "prompt.md": "Hi.\n",
            "tools.yaml": "- input_schema:\n    required: [id]\n    type: object\n  name: lookup\n",
        ])
        let inline = try folder([
            "agent.yaml": Self.common
                + "  tools: {config: [{name: lookup, input_schema: {type: object, required: [id]}}]}\n",
            "prompt.md": "Hi.\n",
        ])
        defer { for path in [json, yaml, inline] { try? FileManager.default.removeItem(atPath: path) } }
        let ids = try [json, yaml, inline].map { try Manifest.load(at: $0 + "/agent.yaml").id }
        #expect(Set(ids).count == 1)
    }

    @Test("a component may not be named version: materialize writes version.json")
    func reservedName() throws {
        let path = try folder([
            "agent.yaml": Self.common + "  tools: {config: []}\n  version: {config: 1}\n", "prompt.md": "Hi.\n",
        ])
        defer { try? FileManager.default.removeItem(atPath: path) }
        #expect {
            try Manifest.load(at: path + "/agent.yaml")
        } throws: { error in
            (error as? LedgerError)?.message.contains("components.version") == true
        }
    }
}
