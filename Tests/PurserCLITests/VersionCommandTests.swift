import Foundation
import PurserCore
import PurserLedger
import Testing

/// The repository's `templates/` folder, found from this file's path so that tests never depend on the
/// current directory.
let agentTemplates = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
    .deletingLastPathComponent().appendingPathComponent("templates")

/// git on the PATH, for `--code-from-git`; a user's machine may not have it.
let gitExecutable: String? = (ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin").split(separator: ":")
    .map { "\($0)/git" }.first { FileManager.default.isExecutableFile(atPath: $0) }

extension Workspace {
    /// Copies `templates/agent.yaml` and `templates/agent/` into `folder` of this workspace.
    /// - Returns: the manifest's path relative to the workspace.
    @discardableResult
    func copyAgentTemplate(to folder: String = "agent-v1") throws -> String {
        let files = FileManager.default
        try files.createDirectory(atPath: file(folder), withIntermediateDirectories: true)
        try files.copyItem(
            atPath: agentTemplates.appendingPathComponent("agent.yaml").path, toPath: file("\(folder)/agent.yaml"))
        try files.copyItem(atPath: agentTemplates.appendingPathComponent("agent").path, toPath: file("\(folder)/agent"))
        return "\(folder)/agent.yaml"
    }

    /// Replaces the one occurrence of `old` in the file `name`; the test fails if there is not exactly one.
    func edit(
        _ name: String, replacing old: String, with new: String, sourceLocation: SourceLocation = #_sourceLocation
    ) {
        let text = read(name)
        #expect(
            text.components(separatedBy: old).count == 2, "\(name) contains \(old) once", sourceLocation: sourceLocation
        )
        write(name, text.replacingOccurrences(of: old, with: new))
    }

    /// Runs `purser` and requires exit 0 and JSON on standard output.
    func runJSON(_ arguments: [String], sourceLocation: SourceLocation = #_sourceLocation) throws -> JSONValue {
        let result = try run(arguments)
        try #require(result.status == 0, "\(arguments): \(result.stderr)", sourceLocation: sourceLocation)
        return try json(result.stdout)
    }

    /// Records the agent template with one more prompt line naming `variant`, so each variant is its own
    /// behavioral version.
    /// - Returns: the version id.
    func recordAgentVariant(
        _ variant: String, label: String? = nil, sourceLocation: SourceLocation = #_sourceLocation
    ) throws -> String {
        let manifest = try copyAgentTemplate(to: "agent-\(variant)")
        write(
            "agent-\(variant)/agent/system-prompt.md",
            read("agent-\(variant)/agent/system-prompt.md") + "(\(variant))\n")
        let recorded = try runJSON(
            ["version", "record", manifest, "--json"] + (label.map { ["--label", $0] } ?? []),
            sourceLocation: sourceLocation)
        return try #require(recorded["id"]?.stringValue, sourceLocation: sourceLocation)
    }

    /// How many entries the ledger holds, counted from `purser log --json`.
    func entryCount() throws -> Int {
        let log = try run(["log", "--json"])
        #expect(log.status == 0, "log: \(log.stderr)")
        return log.stdout.split(separator: "\n").count
    }
}

extension JSONValue {
    /// The elements if this is an array, else none.
    var arrayItems: [JSONValue] {
        if case .array(let items) = self { return items }
        return []
    }
}

/// Whether `text` is a full SHA-256 in lowercase hex.
func isSHA256Hex(_ text: String?) -> Bool {
    text?.wholeMatch(of: /[0-9a-f]{64}/) != nil
}

/// Expects exactly one line on standard error, starting `purser: error:`.
func expectOneErrorLine(_ result: RunResult, sourceLocation: SourceLocation = #_sourceLocation) {
    #expect(
        result.stderr.hasPrefix("purser: error: ") && result.stderr.hasSuffix("\n")
            && result.stderr.split(separator: "\n").count == 1,
        "one error line on stderr, got: \(result.stderr)", sourceLocation: sourceLocation)
}

/// One way to break the example manifest, and what `purser version record` must say about it.
struct BadManifest: Sendable, CustomTestStringConvertible {
    let name: String
    let status: Int32
    let mentions: [String]
    /// Breaks the copy of the template in `agent-v1/`.
    let edit: @Sendable (Workspace) throws -> Void

    var testDescription: String { name }

    static let all: [BadManifest] = [
        BadManifest(
            name: "missing prompt file", status: 66,
            mentions: ["agent-v1/agent.yaml", "components.prompt.file", "agent/system-prompt.md", "not found"]
        ) { try FileManager.default.removeItem(atPath: $0.file("agent-v1/agent/system-prompt.md")) },
        BadManifest(name: "missing model id", status: 65, mentions: ["agent-v1/agent.yaml", "components.model.id"]) {
            $0.edit("agent-v1/agent.yaml", replacing: "    id: claude-3-5-sonnet-20241022\n", with: "")
        },
        BadManifest(
            name: "short git hash", status: 65, mentions: ["agent-v1/agent.yaml", "components.code.commit", "9fceb02"]
        ) {
            $0.edit(
                "agent-v1/agent.yaml", replacing: "commit: 9fceb02d0ae598e95dc970b74767f19372d61af8",
                with: "commit: 9fceb02")
        },
        BadManifest(name: "invalid YAML on line 19", status: 65, mentions: ["agent-v1/agent.yaml line 19"]) {
            $0.edit(
                "agent-v1/agent.yaml", replacing: "    file: agent/system-prompt.md\n",
                with: "    file: agent/system-prompt.md\n   stray: [unclosed\n")
        },
        BadManifest(name: "unknown top-level field", status: 65, mentions: ["agent-v1/agent.yaml", "owner", "unknown"])
        {
            $0.write("agent-v1/agent.yaml", $0.read("agent-v1/agent.yaml") + "owner: platform-team\n")
        },
        BadManifest(
            name: "missing memory component", status: 65, mentions: ["agent-v1/agent.yaml", "components.memory"]
        ) {
            $0.edit(
                "agent-v1/agent.yaml",
                replacing:
                    "  memory:\n    config:\n      type: conversation-window\n      max_turns: 20\n      summarize_after: 12\n",
                with: "")
        },
        BadManifest(name: "tools.json is not JSON", status: 65, mentions: ["tools.json", "invalid JSON"]) {
            $0.write("agent-v1/agent/tools.json", #"[{"name": "lookup_order",}]"#)
        },
    ]
}

/// `purser version`: recording, identity, restoring and comparing behavioral versions, end to end.
@Suite struct VersionCommandTests {
    @Test func recordingTwiceRecordsOnce() throws {
        let workspace = Workspace()
        try workspace.initLedger()
        let manifest = try workspace.copyAgentTemplate()
        let before = try workspace.entryCount()

        let first = try workspace.runJSON(["version", "record", manifest, "--json"])
        let id = try #require(first["id"]?.stringValue)
        #expect(isSHA256Hex(id))
        #expect(first["new"] == .bool(true))
        #expect(first["seq"]?.numberValue == Double(before))
        let components = first["components"]?.arrayItems ?? []
        let kinds = Dictionary(
            components.map { ($0["name"]?.stringValue ?? "?", $0["kind"]?.stringValue ?? "?") },
            uniquingKeysWith: { $1 })
        #expect(
            kinds == [
                "prompt": "text", "tools": "data", "model": "model", "code": "commit", "memory": "data",
                "judge": "model", "guardrails": "data",
            ])
        #expect(components.map { $0["name"]?.stringValue ?? "" } == kinds.keys.sorted(), "components sorted by name")
        for component in components {
            #expect(isSHA256Hex(component["digest"]?.stringValue), "\(component)")
            #expect(component["pinned"] == .bool(true), "\(component)")
        }
        let prompt = try #require(components.first { $0["name"]?.stringValue == "prompt" })
        let promptBytes = try #require(
            FileManager.default.contents(atPath: workspace.file("agent-v1/agent/system-prompt.md")))
        #expect(prompt["digest"]?.stringValue == Hash.sha256(promptBytes).hex, "a text component hashes its bytes")
        #expect(try workspace.entryCount() == before + 1)

        let again = try workspace.runJSON(["version", "record", manifest, "--json"])
        #expect(again["id"]?.stringValue == id)
        #expect(again["new"] == .bool(false))
        #expect(again["seq"] == .null)
        #expect(try workspace.entryCount() == before + 1, "recording again appends nothing")
        let digest = try workspace.run(["version", "digest", manifest])
        #expect(digest.status == 0 && digest.stdout == id + "\n", "digest agrees with record: \(digest.stderr)")
    }

    @Test func theIdDependsOnContentNotOnLayoutOrPlace() throws {
        let workspace = Workspace()
        func id(_ manifest: String) throws -> String {
            let result = try workspace.run(["version", "digest", manifest])
            try #require(result.status == 0, "\(manifest): \(result.stderr)")
            return result.stdout.trimmingCharacters(in: .whitespacesAndNewlines)
        }
        let original = try id(try workspace.copyAgentTemplate(to: "original"))
        #expect(isSHA256Hex(original))

        // The same content elsewhere, with tools.json re-serialized (keys reversed, other whitespace), the YAML
        // files' keys reordered and restyled, and the comments gone.
        try workspace.copyAgentTemplate(to: "moved/elsewhere")
        let tools = try workspace.json(workspace.read("moved/elsewhere/agent/tools.json"))
        let reserialized = reversedJSON(tools)
        #expect(reserialized != workspace.read("moved/elsewhere/agent/tools.json"))
        workspace.write("moved/elsewhere/agent/tools.json", reserialized)
        workspace.write(
            "moved/elsewhere/agent/guardrails.yaml",
            "pii: {redact: [credit_card, ssn]}\nblocked_topics:\n  - legal-advice\n  - medical-advice\nmax_refund_usd: 200\n"
        )
        workspace.write(
            "moved/elsewhere/agent.yaml",
            """
            components:
              guardrails: {file: agent/guardrails.yaml}
              memory:
                config: {summarize_after: 12, max_turns: 20, type: conversation-window}
              judge: {parameters: {temperature: 0}, id: gpt-4o-2024-08-06, provider: openai}
              code:
                repository: https://github.com/example/support-agent
                commit: 9fceb02d0ae598e95dc970b74767f19372d61af8
              model:
                parameters: {max_tokens: 1024, temperature: 0.2}
                id: claude-3-5-sonnet-20241022
                provider: anthropic
              tools: {file: agent/tools.json}
              prompt: {file: agent/system-prompt.md}
            agent: support-agent

            """)
        #expect(try id("moved/elsewhere/agent.yaml") == original)
        #expect(try id(workspace.file("moved/elsewhere/agent.yaml")) == original, "an absolute path, too")

        // Anything that can change behaviour gives a new id.
        let variants: [(folder: String, file: String, old: String, new: String)] = [
            ("prompt", "agent/system-prompt.md", "You are", "you are"),
            ("model", "agent.yaml", "id: claude-3-5-sonnet-20241022", "id: claude-3-5-sonnet-20240620"),
            ("temperature", "agent.yaml", "temperature: 0.2", "temperature: 0.3"),
            ("tool", "agent/tools.json", "Open a ticket for a human colleague", "Open a ticket for a colleague"),
        ]
        var ids: Set<String> = [original]
        for variant in variants {
            let manifest = try workspace.copyAgentTemplate(to: variant.folder)
            workspace.edit("\(variant.folder)/\(variant.file)", replacing: variant.old, with: variant.new)
            let changed = try id(manifest)
            #expect(changed != original, "changing the \(variant.folder) changes the id")
            ids.insert(changed)
        }
        #expect(ids.count == variants.count + 1, "every change gives a different id")
    }

    @Test func materializeRestoresEveryComponentByteForByte() throws {
        let workspace = Workspace()
        try workspace.initLedger()
        let manifest = try workspace.copyAgentTemplate()
        let recorded = try workspace.runJSON(["version", "record", manifest, "--json"])
        let id = try #require(recorded["id"]?.stringValue)
        let components = recorded["components"]?.arrayItems ?? []
        #expect(components.count == 7)

        let written = try workspace.runJSON([
            "version", "materialize", String(id.prefix(10)), "--out", "restored", "--json",
        ])
        #expect(written["id"]?.stringValue == id)
        #expect(written["files"]?.arrayItems.count == components.count + 1)
        let names = try FileManager.default.contentsOfDirectory(atPath: workspace.file("restored")).sorted()
        #expect(names == (components.compactMap { $0["file"]?.stringValue } + ["version.json"]).sorted())
        for component in components {
            let file = try #require(component["file"]?.stringValue)
            let bytes = try #require(
                FileManager.default.contents(atPath: workspace.file("restored/\(file)")), "\(file)")
            #expect(Hash.sha256(bytes).hex == component["digest"]?.stringValue, "\(file) hashes to its digest")
        }
        let prompt = try #require(components.first { $0["name"]?.stringValue == "prompt" }?["file"]?.stringValue)
        #expect(
            FileManager.default.contents(atPath: workspace.file("restored/\(prompt)"))
                == FileManager.default.contents(atPath: workspace.file("agent-v1/agent/system-prompt.md")),
            "the prompt is restored byte for byte")

        let description = try workspace.json(workspace.read("restored/version.json"))
        #expect(description["id"]?.stringValue == id)
        #expect(description["agent"]?.stringValue == "support-agent")
        guard case .object(let described) = description["components"] ?? .null else {
            Issue.record("version.json has no components object: \(description)")
            return
        }
        #expect(described.count == components.count)
        let digests = try described.map { name, value in
            (name: name, digest: try #require(value["digest"]?.stringValue.flatMap { Hash(hex: $0) }))
        }
        #expect(BehavioralVersion.id(digests: digests) == id, "the id recomputes from version.json")

        // A non-empty directory is refused and left alone.
        try FileManager.default.createDirectory(atPath: workspace.file("occupied"), withIntermediateDirectories: true)
        workspace.write("occupied/keep.txt", "mine")
        let before = workspace.ledgerSnapshot()
        let refused = try workspace.run(["version", "materialize", id, "--out", "occupied"])
        #expect(refused.status == 65)
        expectOneErrorLine(refused)
        #expect(
            refused.stderr.contains("occupied") && refused.stderr.contains("not an empty directory"),
            "\(refused.stderr)")
        #expect(try FileManager.default.contentsOfDirectory(atPath: workspace.file("occupied")) == ["keep.txt"])
        #expect(workspace.read("occupied/keep.txt") == "mine")
        #expect(workspace.ledgerSnapshot() == before)

        // A regular file is not replaced by a directory.
        workspace.write("precious.txt", "keep me")
        let onFile = try workspace.run(["version", "materialize", id, "--out", "precious.txt"])
        #expect(onFile.status == 65, "\(onFile.stderr)")
        #expect(workspace.read("precious.txt") == "keep me")

        // An existing empty directory is fine.
        try FileManager.default.createDirectory(atPath: workspace.file("empty"), withIntermediateDirectories: true)
        #expect(try workspace.run(["version", "materialize", id, "--out", "empty"]).status == 0)
        #expect(FileManager.default.fileExists(atPath: workspace.file("empty/version.json")))
    }

    @Test func showFindsAVersionByLabelOrPrefix() throws {
        let workspace = Workspace()
        try workspace.initLedger()
        let id = try workspace.recordAgentVariant("1", label: "support-agent@1.0.0")

        let byLabel = try workspace.runJSON(["version", "show", "support-agent@1.0.0", "--json"])
        #expect(byLabel["id"]?.stringValue == id)
        #expect(byLabel["labels"] == .array([.string("support-agent@1.0.0")]))
        #expect(byLabel["agent"]?.stringValue == "support-agent")
        #expect(byLabel["components"]?.arrayItems.count == 7)
        for reference in [String(id.prefix(8)), String(id.prefix(8)).uppercased(), String(id.prefix(20)), id] {
            #expect(try workspace.runJSON(["version", "show", reference, "--json"]) == byLabel, "\(reference)")
        }
        let text = try workspace.run(["version", "show", "support-agent@1.0.0"])
        #expect(
            text.status == 0 && text.stdout.contains("version \(id)") && text.stdout.contains("support-agent@1.0.0"))

        let unknownPrefix = id.hasPrefix("00000000") ? "ffffffff" : "00000000"
        let refusals: [(reference: String, status: Int32, message: String)] = [
            (String(id.prefix(7)), 64, "not a version id (at least 8 hex characters of it)"),
            ("not-hex!", 64, "not a version id"),
            (unknownPrefix, 66, "no recorded version matches \(unknownPrefix)"),
            (String(repeating: unknownPrefix, count: 8), 66, "no recorded version matches"),
            ("support-agent@9.9.9", 66, "no recorded version matches support-agent@9.9.9"),
        ]
        for refusal in refusals {
            let result = try workspace.run(["version", "show", refusal.reference])
            #expect(result.status == refusal.status, "\(refusal.reference): \(result.stderr)")
            expectOneErrorLine(result)
            #expect(result.stderr.contains(refusal.message), "\(refusal.reference): \(result.stderr)")
        }
    }

    /// Two real ids sharing their first 8 hex characters would take ~2^32 recordings; instead a second row
    /// sharing the prefix is put into the versions query table directly, which is all the lookup reads.
    @Test func anAmbiguousPrefixListsTheCandidates() throws {
        let workspace = Workspace()
        try workspace.initLedger()
        let id = try workspace.recordAgentVariant("1", label: "support-agent@1.0.0")
        let twin = String(id.prefix(8)) + String(repeating: id.dropFirst(8).hasPrefix("0") ? "1" : "0", count: 56)
        do {
            let connection = try Connection(path: workspace.ledgerPath, mode: .readWrite)
            let insert = try connection.prepare(
                "INSERT INTO versions (id, seq, at, agent, components) SELECT ?, seq, at, agent, components FROM versions WHERE id = ?"
            )
            try insert.bind(1, twin)
            try insert.bind(2, id)
            _ = try insert.step()
        }
        let result = try workspace.run(["version", "show", String(id.prefix(8))])
        #expect(result.status == 64, "\(result.stderr)")
        expectOneErrorLine(result)
        #expect(result.stderr.contains("ambiguous"), "\(result.stderr)")
        #expect(result.stderr.contains(String(id.prefix(12))) && result.stderr.contains(String(twin.prefix(12))))
        #expect(try workspace.runJSON(["version", "show", String(id.prefix(9)), "--json"])["id"]?.stringValue == id)
    }

    @Test func diffShowsTheChangedPromptLine() throws {
        let workspace = Workspace()
        try workspace.initLedger()
        let oldManifest = try workspace.copyAgentTemplate(to: "old")
        let newManifest = try workspace.copyAgentTemplate(to: "new")
        workspace.edit("new/agent/system-prompt.md", replacing: "Be brief and friendly.", with: "Be brief and warm.")
        let old = try workspace.runJSON(["version", "record", oldManifest, "--label", "support-agent@1.0.0", "--json"])
        let new = try workspace.runJSON(["version", "record", newManifest, "--label", "support-agent@1.1.0", "--json"])
        func promptDigest(_ recorded: JSONValue) -> String {
            recorded["components"]?.arrayItems.first { $0["name"]?.stringValue == "prompt" }?["digest"]?.stringValue
                ?? ""
        }
        let removed =
            "\n-Answer customers' questions about their orders, refunds and accounts. Be brief and friendly.\n"
        let added = "\n+Answer customers' questions about their orders, refunds and accounts. Be brief and warm.\n"

        let text = try workspace.run(["version", "diff", "support-agent@1.0.0", "support-agent@1.1.0"])
        #expect(text.status == 0, "\(text.stderr)")
        #expect(text.stdout.hasPrefix("prompt: \(promptDigest(old).prefix(12)) -> \(promptDigest(new).prefix(12))\n"))
        #expect(text.stdout.contains(removed) && text.stdout.contains(added), "\(text.stdout)")
        for unchanged in ["tools:", "model:", "code:", "memory:"] {
            #expect(!text.stdout.contains(unchanged), "only the prompt differs: \(text.stdout)")
        }

        let json = try workspace.runJSON(["version", "diff", "support-agent@1.0.0", "support-agent@1.1.0", "--json"])
        #expect(json["old"] == old["id"] && json["new"] == new["id"])
        let changes = json["changes"]?.arrayItems ?? []
        #expect(changes.count == 1)
        #expect(changes.first?["name"]?.stringValue == "prompt")
        #expect(changes.first?["old"]?["digest"]?.stringValue == promptDigest(old))
        #expect(changes.first?["new"]?["digest"]?.stringValue == promptDigest(new))
        let diff = try #require(changes.first?["diff"]?.stringValue)
        #expect(diff.hasPrefix("--- ") && diff.contains("\n+++ ") && diff.contains("\n@@ "), "\(diff)")
        #expect(diff.contains(removed) && diff.contains(added), "\(diff)")

        let same = try workspace.runJSON(["version", "diff", "support-agent@1.0.0", "support-agent@1.0.0", "--json"])
        #expect(same["changes"] == .array([]))
    }

    @Test(arguments: BadManifest.all)
    func aBadManifestIsRefusedAndRecordsNothing(_ bad: BadManifest) throws {
        let workspace = Workspace()
        try workspace.initLedger()
        _ = try workspace.recordAgentVariant("seed")
        let manifest = try workspace.copyAgentTemplate()
        try bad.edit(workspace)
        let before = workspace.ledgerSnapshot()
        let result = try workspace.run(["version", "record", manifest, "--label", "support-agent@1.0.0"])
        #expect(result.status == bad.status, "\(result.stderr)")
        expectOneErrorLine(result)
        for word in bad.mentions {
            #expect(result.stderr.contains(word), "stderr mentions \(word): \(result.stderr)")
        }
        #expect(workspace.ledgerSnapshot() == before, "the ledger file is unchanged")
        let digest = try workspace.run(["version", "digest", manifest])
        #expect(digest.status == bad.status && digest.stderr == result.stderr, "digest refuses it the same way")
    }

    @Test func labelsAreImmutable() throws {
        let workspace = Workspace()
        try workspace.initLedger()
        let id = try workspace.recordAgentVariant("1", label: "support-agent@1.0.0")
        let count = try workspace.entryCount()

        let same = try workspace.runJSON(
            ["version", "record", "agent-1/agent.yaml", "--label", "support-agent@1.0.0", "--json"])
        #expect(same["id"]?.stringValue == id && same["new"] == .bool(false) && same["seq"] == .null)
        #expect(try workspace.entryCount() == count)

        let other = try workspace.copyAgentTemplate(to: "agent-2")
        let before = workspace.ledgerSnapshot()
        let refused = try workspace.run(["version", "record", other, "--label", "support-agent@1.0.0"])
        #expect(refused.status == 65)
        expectOneErrorLine(refused)
        #expect(
            refused.stderr.contains("support-agent@1.0.0") && refused.stderr.contains("already names")
                && refused.stderr.contains(String(id.prefix(12))), "\(refused.stderr)")
        #expect(workspace.ledgerSnapshot() == before)
        #expect(
            try workspace.runJSON(["version", "show", "support-agent@1.0.0", "--json"])["id"]?.stringValue == id)

        // A second label for the same version is recorded on its own.
        let relabelled = try workspace.runJSON(
            ["version", "record", "agent-1/agent.yaml", "--label", "support-agent@1.0.1", "--json"])
        #expect(relabelled["id"]?.stringValue == id && relabelled["new"] == .bool(false))
        #expect(relabelled["seq"]?.numberValue == Double(count))
        #expect(
            try workspace.runJSON(["version", "show", id, "--json"])["labels"]
                == .array([.string("support-agent@1.0.0"), .string("support-agent@1.0.1")]))
    }

    @Test(.enabled(if: gitExecutable != nil, "git is not installed"))
    func codeFromGitTakesHeadAndRefusesUncommittedChanges() throws {
        let workspace = Workspace()
        try workspace.initLedger()
        try workspace.copyAgentTemplate(to: "repo")
        workspace.edit(
            "repo/agent.yaml", replacing: "    commit: 9fceb02d0ae598e95dc970b74767f19372d61af8\n", with: "")
        func git(_ arguments: [String]) throws -> String { try runGit(arguments, in: workspace.file("repo")) }
        _ = try git(["init", "-q"])
        _ = try git(["add", "-A"])
        _ = try git(["commit", "-q", "-m", "agent"])
        let head = try git(["rev-parse", "HEAD"])
        #expect(head.wholeMatch(of: /[0-9a-f]{40}/) != nil, "HEAD is 40 hex: \(head)")

        let recorded = try workspace.runJSON(["version", "record", "repo/agent.yaml", "--code-from-git", "--json"])
        let code = recorded["components"]?.arrayItems.first { $0["name"]?.stringValue == "code" }
        #expect(code?["value"]?["commit"]?.stringValue == head)
        #expect(code?["kind"]?.stringValue == "commit")

        // A manifest that names another commit than HEAD is refused.
        let named = try workspace.copyAgentTemplate(to: "repo/named")
        _ = try git(["add", "-A"])
        _ = try git(["commit", "-q", "-m", "named"])
        let mismatch = try workspace.run(["version", "record", named, "--code-from-git"])
        #expect(mismatch.status == 65)
        expectOneErrorLine(mismatch)
        #expect(mismatch.stderr.contains("components.code.commit"), "\(mismatch.stderr)")

        workspace.write("repo/agent/system-prompt.md", workspace.read("repo/agent/system-prompt.md") + "Say thanks.\n")
        let before = workspace.ledgerSnapshot()
        let dirty = try workspace.run(["version", "record", "repo/agent.yaml", "--code-from-git"])
        #expect(dirty.status == 65)
        expectOneErrorLine(dirty)
        #expect(dirty.stderr.contains("uncommitted change"), "\(dirty.stderr)")
        #expect(workspace.ledgerSnapshot() == before)
    }

    @Test(
        .enabled(if: gitExecutable != nil, "git is not installed"))
    func codeFromGitKeepsTheRestOfTheCodeComponent() throws {
        let workspace = Workspace()
        try workspace.copyAgentTemplate(to: "repo")
        workspace.edit(
            "repo/agent.yaml", replacing: "    commit: 9fceb02d0ae598e95dc970b74767f19372d61af8\n", with: "")
        let repo = workspace.file("repo")
        _ = try runGit(["init", "-q"], in: repo)
        _ = try runGit(["add", "-A"], in: repo)
        _ = try runGit(["commit", "-q", "-m", "agent"], in: repo)
        let head = try runGit(["rev-parse", "HEAD"], in: repo)
        let fromGit = try workspace.runJSON(["version", "digest", "repo/agent.yaml", "--code-from-git", "--json"])
        let code = fromGit["components"]?.arrayItems.first { $0["name"]?.stringValue == "code" }
        #expect(code?["value"]?["repository"]?.stringValue == "https://github.com/example/support-agent")

        // The same id as a manifest that names HEAD itself.
        let named = try workspace.copyAgentTemplate(to: "named")
        workspace.edit("named/agent.yaml", replacing: "9fceb02d0ae598e95dc970b74767f19372d61af8", with: head)
        #expect(try workspace.runJSON(["version", "digest", named, "--json"])["id"] == fromGit["id"])
    }
}

/// Runs git in `folder` with a fixed identity and no signing; requires success.
/// - Returns: its standard output, trimmed.
private func runGit(_ arguments: [String], in folder: String) throws -> String {
    let process = Process()
    process.executableURL = URL(fileURLWithPath: try #require(gitExecutable))
    process.arguments =
        [
            "-C", folder, "-c", "user.name=purser-test", "-c", "user.email=test@example.com", "-c",
            "commit.gpgsign=false",
        ] + arguments
    let output = Pipe()
    process.standardOutput = output
    process.standardError = FileHandle.nullDevice
    try process.run()
    let data = output.fileHandleForReading.readDataToEndOfFile()
    process.waitUntilExit()
    try #require(process.terminationStatus == 0, "git \(arguments)")
    return String(decoding: data, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
}

/// `value` as JSON text with every object's keys in reverse order and unusual (valid) whitespace.
private func reversedJSON(_ value: JSONValue, indent: String = "") -> String {
    let inner = indent + "\t"
    switch value {
    case .null: return "null"
    case .bool(let flag): return flag ? "true" : "false"
    case .number(let number):
        return number == number.rounded() && abs(number) < 1e15 ? String(Int64(number)) : "\(number)"
    case .string(let text):
        return String(decoding: CanonicalJSON.encode(.string(text)), as: UTF8.self)
    case .array(let items):
        return "[\r\n" + items.map { inner + reversedJSON($0, indent: inner) }.joined(separator: " ,\n")
            + "\n\(indent)]"
    case .object(let members):
        let keys = members.keys.sorted(by: >)
        return "{ "
            + keys.map { "\(reversedJSON(.string($0)))  :\(reversedJSON(members[$0]!, indent: inner))" }
            .joined(separator: ",\n\(inner)") + " }"
    }
}
