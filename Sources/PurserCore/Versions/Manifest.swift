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

    /// Loads the manifest at `path`; files it names are relative to its folder, and must be inside it once
    /// symbolic links are resolved (a manifest cannot record `/etc/shadow`, `../other/key` or a link out of its
    /// folder), unless they are inside a path of `allowOutside`.
    /// - Parameters:
    ///   - codeFromGit: take the `code` commit from the HEAD of the git repository holding the manifest,
    ///     refusing a working tree with uncommitted changes.
    ///   - allowOutside: files or folders outside the manifest's folder that components may come from.
    /// - Throws: `.invalidInput` naming the file and the field for anything invalid, a component file outside
    ///   the manifest's folder or one that is not a regular file included; `.notFound` for a missing manifest,
    ///   component file or allowed path.
    public static func load(
        at path: String, codeFromGit: Bool = false, allowOutside: [String] = []
    ) throws(LedgerError) -> BehavioralVersion {
        let source = Inputs.name(path)
        var allowed: [String] = []
        for outside in allowOutside {
            guard let real = realPath(outside) else {
                throw LedgerError(.notFound, naming: "\(parameter: "allowOutside") \(outside) not found")
            }
            allowed.append(real)
        }
        let document = try YAML.parse(try Inputs.read(path), source: source)
        let folder = path == "-" ? "." : URL(fileURLWithPath: path).deletingLastPathComponent().path
        guard let realFolder = realPath(folder) else {
            throw LedgerError(.notFound, "\(source): its folder \(folder) cannot be resolved")
        }
        let reader = Reader(source: source, folder: folder, realFolder: realFolder, allowed: allowed)

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
        let version = BehavioralVersion(agent: agent, components: components)
        do {
            try version.validate()
        } catch {
            throw error.prefixed("\(source): ")
        }
        return version
    }

    /// The absolute path of `path` with every symbolic link resolved, or nil if it does not exist.
    static func realPath(_ path: String) -> String? {
        guard let resolved = realpath(path, nil) else { return nil }
        defer { free(resolved) }
        return String(cString: resolved)
    }

    /// Whether `path` is `folder` or inside it (both resolved).
    static func isInside(_ path: String, _ folder: String) -> Bool {
        path == folder || path.hasPrefix(folder.hasSuffix("/") ? folder : folder + "/")
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
        /// `folder` with symbolic links resolved: component files must be inside it, or inside one of `allowed`.
        let realFolder: String
        let allowed: [String]

        func invalid(_ field: String, _ problem: String) -> LedgerError {
            LedgerError(.invalidInput, field.isEmpty ? "\(source): \(problem)" : "\(source): \(field): \(problem)")
        }

        func component(_ name: String, _ spec: JSONValue) throws(LedgerError) -> (Component, bytes: [UInt8]) {
            let field = "components.\(name)"
            if let problem = Component.nameProblem(name) { throw invalid(field, problem) }
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
                guard let real = Manifest.realPath(resolved) else {
                    throw LedgerError(
                        .notFound, "\(self.source): \(field).file: \(path) not found (looked for \(resolved))")
                }
                guard Manifest.isInside(real, realFolder) || allowed.contains(where: { Manifest.isInside(real, $0) })
                else {
                    throw invalid(
                        "\(field).file",
                        "\(path) is \(real), outside the manifest's folder \(realFolder); components come from inside it unless allowed with --allow-outside \(real)"
                    )
                }
                var status = stat()
                guard stat(real, &status) == 0, status.st_mode & S_IFMT == S_IFREG else {
                    throw invalid("\(field).file", "\(path) is not a regular file")
                }
                let raw: [UInt8]
                do {
                    raw = try Inputs.read(real)
                } catch {
                    throw error.prefixed("\(self.source): \(field).file: ")
                }
                // What is recorded is kept forever and any reader can fetch it: never a signing key.
                guard !raw.starts(with: Array("PRIVATE+KEY+".utf8)) else {
                    throw invalid("\(field).file", "\(path) is a private signing key; a version never records one")
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
                    fileName = Component.fileName(for: name, kind: .text, extension: suffix)
                }
            } else if let config = members["config"] {
                try only(["config"], in: members, field: field)
                kind = .data
                bytes = CanonicalJSON.encode(config)
            } else if members["provider"] != nil || members["id"] != nil {
                if let (member, problem) = Component.modelProblem(spec) { throw invalid("\(field).\(member)", problem) }
                kind = .model
                value = spec
                bytes = CanonicalJSON.encode(spec)
            } else if members["commit"] != nil {
                if let (member, problem) = Component.commitProblem(spec) {
                    throw invalid("\(field).\(member)", problem)
                }
                kind = .commit
                value = spec
                bytes = CanonicalJSON.encode(spec)
            } else {
                throw invalid(field, "expected one of file:, config:, provider: with id:, or commit:")
            }
            if let (required, expected) = Component.requiredKinds[name], kind != required {
                throw invalid(field, expected)
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
                    throw error.prefixed(prefix)
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
                throw LedgerError(
                    .invalidInput, naming: "\(parameter: "codeFromGit"): cannot run git: \(error.localizedDescription)")
            }
            let data = output.fileHandleForReading.readDataToEndOfFile()
            process.waitUntilExit()
            guard process.terminationStatus == 0 else {
                throw LedgerError(
                    .invalidInput,
                    naming: "\(parameter: "codeFromGit"): \(folder) is not inside a git work tree with a commit")
            }
            return String(decoding: data, as: UTF8.self)
        }
        let commit = try git(["rev-parse", "HEAD"]).trimmingCharacters(in: .whitespacesAndNewlines)
        // Untracked files (a ledger beside the manifest, build output) are not part of the commit's tree.
        let changes = try git(["status", "--porcelain", "--untracked-files=no"]).split(separator: "\n")
        guard changes.isEmpty else {
            throw LedgerError(
                .invalidInput,
                naming:
                    "\(parameter: "codeFromGit"): the git work tree at \(folder) has \(changes.count) uncommitted change(s) to tracked files (first: \(changes[0].trimmingCharacters(in: .whitespaces))); commit them first"
            )
        }
        return commit
    }
}
