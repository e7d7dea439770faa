internal import Foundation
public import PurserLedger

/// Reads an agent manifest (`templates/agent.yaml`) and every file it names into a `BehavioralVersion`.
///
/// ```yaml
/// agent: support-agent
/// components:
///   prompt: {file: prompts/system.md}          # text: hashed byte for byte
///   tools: {file: tools.json}                  # data: JSON or YAML, hashed as canonical JSON
///   model: {provider: anthropic, id: claude-3-5-sonnet-20241022, parameters: {temperature: 0.2}}
///   code: {commit: 9fceb02d0ae598e95dc970b74767f19372d61af8}
///   memory: {config: {type: window, max_turns: 20}}
///   judge: {provider: openai, id: gpt-4o-2024-08-06}   # any number of extra components
/// ```
public enum Manifest {
    /// The components every manifest names.
    public static let requiredComponents = ["prompt", "tools", "model", "code", "memory"]

    /// Loads the manifest at `path`; files it names are relative to its folder.
    /// - Parameter codeFromGit: take the `code` commit from the HEAD of the git repository holding the
    ///   manifest, refusing a working tree with uncommitted changes.
    /// - Throws: `.invalidInput` naming the file and the field for anything invalid; `.notFound` for a
    ///   missing manifest or component file.
    public static func load(at path: String, codeFromGit: Bool = false) throws(LedgerError) -> BehavioralVersion {
        let source = Inputs.name(path)
        let document = try YAML.parse(try Inputs.read(path), source: source)
        let folder = path == "-" ? "." : URL(fileURLWithPath: path).deletingLastPathComponent().path
        let reader = Reader(source: source, folder: folder)

        guard case .object(let top) = document else {
            throw reader.invalid("", "expected a mapping with agent: and components:")
        }
        for key in top.keys where key != "agent" && key != "components" {
            throw reader.invalid(key, "unknown field (a manifest has agent: and components:)")
        }
        guard let agent = top["agent"]?.stringValue, !agent.isEmpty else {
            throw reader.invalid("agent", "missing: the agent's name, e.g. agent: support-agent")
        }
        guard case .object(var specs) = top["components"] ?? .null else {
            throw reader.invalid("components", "expected a mapping of component names to their sources")
        }
        if codeFromGit {
            let commit = try headCommit(in: folder)
            if let named = specs["code"]?["commit"]?.stringValue, named != commit {
                throw reader.invalid(
                    "components.code.commit", "names \(named) but --code-from-git found HEAD \(commit) in \(folder)")
            }
            // Keep the rest of the code component (its repository), as if the manifest named HEAD.
            var code: [String: JSONValue] = [:]
            if case .object(let members) = specs["code"] ?? .null { code = members }
            code["commit"] = .string(commit)
            specs["code"] = .object(code)
        }
        for name in requiredComponents where specs[name] == nil {
            throw reader.invalid("components.\(name)", "missing: \(describe(name))")
        }
        var components: [(Component, bytes: [UInt8])] = []
        for name in specs.keys.sorted() {
            components.append(try reader.component(name, specs[name]!))
        }
        return BehavioralVersion(agent: agent, components: components)
    }

    private static func describe(_ name: String) -> String {
        switch name {
        case "prompt": "the system prompt, {file: PATH}"
        case "tools": "the tool definitions, {file: tools.json} (or {config: []} for none)"
        case "model": "{provider: NAME, id: EXACT-MODEL-ID, parameters: {...}}"
        case "code": "{commit: <full 40-hex git commit>} (or pass --code-from-git)"
        default: "{file: PATH} or {config: {...}} (e.g. {config: {type: none}})"
        }
    }

    /// Reads one manifest's components, naming the manifest and field in every error.
    private struct Reader {
        let source: String
        let folder: String

        func invalid(_ field: String, _ problem: String) -> LedgerError {
            LedgerError(.invalidInput, field.isEmpty ? "\(source): \(problem)" : "\(source): \(field): \(problem)")
        }

        func component(_ name: String, _ spec: JSONValue) throws(LedgerError) -> (Component, bytes: [UInt8]) {
            let field = "components.\(name)"
            guard name.wholeMatch(of: /[a-z0-9][a-z0-9_-]{0,63}/) != nil else {
                throw invalid(field, "component names are lowercase letters, digits, '-' and '_' (at most 64)")
            }
            guard name != "version" else {
                throw invalid(field, "\"version\" is reserved (materialize writes version.json); choose another name")
            }
            guard case .object(let members) = spec else {
                throw invalid(field, "expected a mapping: {file: PATH}, {config: …}, {provider:, id:} or {commit:}")
            }
            let kind: Component.Kind
            var bytes: [UInt8]
            var source: String?
            var value: JSONValue?
            var fileName = "\(name).json"
            if let file = members["file"] {
                try only(["file"], in: members, field: field)
                guard let path = file.stringValue, !path.isEmpty else {
                    throw invalid("\(field).file", "expected a file path relative to the manifest")
                }
                let resolved = path.hasPrefix("/") ? path : folder + "/" + path
                guard FileManager.default.fileExists(atPath: resolved) else {
                    throw LedgerError(
                        .notFound, "\(self.source): \(field).file: \(path) not found (looked for \(resolved))")
                }
                let raw: [UInt8]
                do {
                    raw = try Inputs.read(resolved)
                } catch {
                    throw LedgerError(error.code, "\(self.source): \(field).file: \(error.message)")
                }
                source = path
                let suffix = URL(fileURLWithPath: path).pathExtension.lowercased()
                let isData =
                    name == "tools" || (name != "prompt" && ["json", "yaml", "yml"].contains(suffix))
                if isData {
                    kind = .data
                    let yaml = suffix == "yaml" || suffix == "yml"
                    bytes = CanonicalJSON.encode(try data(raw, yaml: yaml, path: path, field: "\(field).file"))
                } else {
                    kind = .text
                    bytes = raw
                    fileName = suffix.wholeMatch(of: /[a-z0-9]{1,16}/) == nil ? "\(name).txt" : "\(name).\(suffix)"
                }
            } else if let config = members["config"] {
                try only(["config"], in: members, field: field)
                kind = .data
                bytes = CanonicalJSON.encode(config)
            } else if members["provider"] != nil || members["id"] != nil {
                for key in ["provider", "id"] where (members[key]?.stringValue ?? "").isEmpty {
                    throw invalid(
                        "\(field).\(key)", key == "id" ? "missing: the exact model id" : "missing: e.g. openai")
                }
                if let parameters = members["parameters"], case .object = parameters {
                } else if members["parameters"] != nil {
                    throw invalid("\(field).parameters", "expected a mapping such as {temperature: 0.2}")
                }
                kind = .model
                value = spec
                bytes = CanonicalJSON.encode(spec)
            } else if let commit = members["commit"] {
                try only(["commit", "repository"], in: members, field: field)
                guard let hex = commit.stringValue, hex.wholeMatch(of: /[0-9a-f]{40}/) != nil else {
                    throw invalid(
                        "\(field).commit",
                        "expected a full 40-character lowercase hex git commit, got \(commit.stringValue.map { "\"\($0)\"" } ?? "a non-string")"
                    )
                }
                kind = .commit
                value = spec
                bytes = CanonicalJSON.encode(spec)
            } else {
                throw invalid(field, "expected one of file:, config:, provider: with id:, or commit:")
            }
            if name == "prompt" && kind != .text {
                throw invalid(field, "the prompt is a text file: {file: PATH}")
            }
            if name == "tools" && kind != .data {
                throw invalid(field, "tool definitions are JSON or YAML data: {file: tools.json} or {config: [...]}")
            }
            if name == "model" && kind != .model {
                throw invalid(field, "expected {provider: NAME, id: EXACT-MODEL-ID, parameters: {...}}")
            }
            if name == "code" && kind != .commit {
                throw invalid(field, "expected {commit: <full 40-hex git commit>}")
            }
            let component = Component(
                name: name, kind: kind, digest: Hash.sha256(bytes), size: bytes.count, source: source,
                fileName: fileName, value: value)
            return (component, bytes)
        }

        private func only(_ allowed: Set<String>, in members: [String: JSONValue], field: String) throws(LedgerError) {
            for key in members.keys.sorted() where !allowed.contains(key) {
                throw invalid(
                    "\(field).\(key)", "unknown field here (expected only \(allowed.sorted().joined(separator: ", ")))")
            }
        }

        /// Parses a component file's data; errors name the manifest and the field, then the file.
        private func data(_ raw: [UInt8], yaml: Bool, path: String, field: String) throws(LedgerError) -> JSONValue {
            let prefix = "\(source): \(field): "
            if yaml {
                do {
                    return try YAML.parse(raw, source: path)
                } catch {
                    throw LedgerError(error.code, prefix + error.message)
                }
            }
            do {
                return try JSONValue(parsing: raw)
            } catch {
                throw LedgerError(.invalidInput, prefix + "\(path): invalid JSON: \(error)")
            }
        }
    }

    /// The HEAD commit of the git repository holding `folder`.
    /// - Throws: `.invalidInput` if it is not in a git work tree or the tree has uncommitted changes.
    static func headCommit(in folder: String) throws(LedgerError) -> String {
        func git(_ arguments: [String]) throws(LedgerError) -> String {
            let process = Process()
            process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
            process.arguments = ["git", "-C", folder] + arguments
            let output = Pipe()
            process.standardOutput = output
            process.standardError = Pipe()
            do {
                try process.run()
            } catch {
                throw LedgerError(.invalidInput, "--code-from-git: cannot run git: \(error.localizedDescription)")
            }
            let data = output.fileHandleForReading.readDataToEndOfFile()
            process.waitUntilExit()
            guard process.terminationStatus == 0 else {
                throw LedgerError(
                    .invalidInput, "--code-from-git: \(folder) is not inside a git work tree with a commit")
            }
            return String(decoding: data, as: UTF8.self)
        }
        let commit = try git(["rev-parse", "HEAD"]).trimmingCharacters(in: .whitespacesAndNewlines)
        // Untracked files (a ledger beside the manifest, build output) are not part of the commit's tree.
        let changes = try git(["status", "--porcelain", "--untracked-files=no"]).split(separator: "\n")
        guard changes.isEmpty else {
            throw LedgerError(
                .invalidInput,
                "--code-from-git: the git work tree at \(folder) has \(changes.count) uncommitted change(s) to tracked files (first: \(changes[0].trimmingCharacters(in: .whitespaces))); commit them first"
            )
        }
        return commit
    }
}
