import ArgumentParser
import Foundation
import PurserCore
import PurserLedger
import PurserOperations

struct VersionCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "version",
        abstract: "Record, inspect and restore behavioral versions (prompt, tools, model, code, memory).",
        discussion: reflowed(
            """
            A behavioral version pins everything an agent's behaviour depends on. Its id is the SHA-256 of the
            canonical JSON of its component digests: the same manifest gives the same id on any machine. Ids may
            be abbreviated to any unique prefix of 8+ hex characters, or given as a label (NAME@VERSION).

            Examples:
              purser version record templates/agent.yaml --label support-agent@1.4.0
              purser version digest templates/agent.yaml
              purser version list
              purser version show support-agent@1.4.0 --json
              purser version diff support-agent@1.4.0 support-agent@1.5.0
              purser version materialize 3f2a9c1e --out restored/
            """),
        subcommands: [Record.self, Digest.self, Show.self, List.self, Diff.self, Materialize.self])

    struct ManifestOptions: ParsableArguments {
        @Argument(help: ArgumentHelp("The agent manifest (YAML), or - for standard input.", valueName: "manifest"))
        var manifest: String

        @Flag(help: "Take the code commit from HEAD of the manifest's git repository (refuses uncommitted changes).")
        var codeFromGit = false

        @Option(
            help: ArgumentHelp(
                "Allow component files from this file or folder outside the manifest's folder (repeatable).",
                discussion: reflowed(
                    """
                    Component files must be inside the manifest's folder once symbolic links are resolved: an \
                    absolute path, a path through .. or a link that leads elsewhere is refused (exit 65) unless it \
                    is inside a PATH given here.
                    """),
                valueName: "path"))
        var allowOutside: [String] = []

        func load() throws -> BehavioralVersion {
            try Manifest.load(at: manifest, codeFromGit: codeFromGit, allowOutside: allowOutside)
        }
    }

    struct Record: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "record",
            abstract: "Record a behavioral version and its component contents (version.recorded).",
            discussion: reflowed(
                """
                Recording the same manifest again records nothing and prints the same id; a new --label for a
                recorded version is recorded on its own. Labels are immutable: one label names one id forever.

                --json prints:
                  {"id":"<64 hex>","label":…,"new":bool,"seq":N|null,
                   "components":[{"name","kind","digest","pinned","file","size"}]}

                Examples:
                  purser version record agent.yaml --label support-agent@1.4.0
                  purser version record agent.yaml --code-from-git --json
                """))

        @OptionGroup var ledgerOptions: LedgerOptions
        @OptionGroup var manifest: ManifestOptions
        @Option(help: ArgumentHelp("A human label for this version, NAME@VERSION.", valueName: "label"))
        var label: String?
        @Flag(help: "Print the result as JSON.") var json = false

        func run() throws {
            try ledgerOptions.perform(RecordVersion(manifest.load(), label: label), json: json)
        }
    }

    struct Digest: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "digest",
            abstract: "Print a manifest's behavioral version id without recording anything.",
            discussion: reflowed(
                """
                Needs no ledger: CI can compare the id of what it is about to ship with what was checked.

                Examples:
                  purser version digest agent.yaml
                  test "$(purser version digest agent.yaml)" = "$EXPECTED_VERSION"
                """))

        @OptionGroup var manifest: ManifestOptions
        @Flag(help: "Print the id and components as JSON.") var json = false

        func run() throws {
            let version = try manifest.load()
            if json {
                Output.json(
                    .object(["id": .string(version.id), "components": .array(version.components.map(componentJSON))]))
            } else {
                Output.line(version.id)
            }
        }
    }

    struct Show: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "show",
            abstract: "Show a recorded version: labels, when it was recorded, and each component.",
            discussion: reflowed(
                """
                --json prints:
                  {"id","agent","labels":[…],"seq","at",
                   "components":[{"name","kind","digest","pinned","file","size","source"?,
                                  "value"?}]}

                Examples:
                  purser version show support-agent@1.4.0
                  purser version show 3f2a9c1e --json
                """))

        @OptionGroup var ledgerOptions: LedgerOptions
        @Argument(help: ArgumentHelp("A version id, unique prefix (8+ hex) or label.", valueName: "version"))
        var version: String
        @Flag(help: "Print the version as JSON.") var json = false

        func run() throws {
            try ledgerOptions.perform(VersionQuery(version: version), json: json)
        }
    }

    struct List: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "list",
            abstract: "List recorded versions, oldest first.",
            discussion: reflowed(
                """
                --json prints:
                  {"versions":[{"id","agent","labels":[…],"seq","at","components":[…]}]}

                Examples:
                  purser version list
                  purser version list --json
                """))

        @OptionGroup var ledgerOptions: LedgerOptions
        @Flag(help: "Print the versions as JSON.") var json = false

        func run() throws {
            try ledgerOptions.perform(VersionListQuery(), json: json)
        }
    }

    struct Diff: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "diff",
            abstract: "Show which components differ between two versions, with a text diff of prompts.",
            discussion: reflowed(
                """
                --json prints:
                  {"old":"<id>","new":"<id>",
                   "changes":[{"name","old":{component}|null,"new":{component}|null,
                               "diff":"<unified diff>"|null}]}

                Examples:
                  purser version diff support-agent@1.4.0 support-agent@1.5.0
                  purser version diff 3f2a9c1e 9b07d2aa --json
                """))

        @OptionGroup var ledgerOptions: LedgerOptions
        @Argument(help: ArgumentHelp("The older version.", valueName: "old")) var old: String
        @Argument(help: ArgumentHelp("The newer version.", valueName: "new")) var new: String
        @Flag(help: "Print the differences as JSON.") var json = false

        func run() throws {
            try ledgerOptions.perform(VersionDiffQuery(old: old, new: new), json: json)
        }
    }

    struct Materialize: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "materialize",
            abstract: "Write every component of a recorded version back to files, exactly as recorded.",
            discussion: reflowed(
                """
                Writes each component (text as recorded, structured data as canonical JSON) and version.json, which
                maps component names to their files and digests; an auditor can recompute the id from these files
                (see ledger/README.md). Refuses a non-empty output directory. Files get mode 0666 less the umask
                (0644 usually), never executable.

                Examples:
                  purser version materialize support-agent@1.4.0 --out restored/
                """))

        @OptionGroup var ledgerOptions: LedgerOptions
        @Argument(help: ArgumentHelp("A version id, unique prefix or label.", valueName: "version")) var version: String
        @Option(help: ArgumentHelp("The directory to write (must not exist or be empty).", valueName: "dir"))
        var out: String
        @Flag(help: "Print the files written as JSON.") var json = false

        func run() throws {
            // The files come from where the ledger is and are written here.
            let reply = try ledgerOptions.reply(MaterializeVersion(version: version))
            var files: [InputFile] = []
            for file in reply.json["files"]?.arrayValue ?? [] {
                guard let name = file["name"]?.stringValue,
                    let bytes = file["base64"]?.stringValue.flatMap({ Data(base64Encoded: $0) })
                else {
                    throw LedgerError(.internal, "a materialized file lacks its name or base64 contents")
                }
                files.append(InputFile(source: name, bytes: Array(bytes)))
            }
            let id = reply.json["id"]?.stringValue ?? version
            let paths = try Versions.write(files, to: out)
            if json {
                Output.json(.object(["id": .string(id), "files": .array(paths.map(JSONValue.string))]))
            } else {
                Output.line("wrote \(paths.count) files of \(reply.json["short_name"]?.stringValue ?? id) to \(out)")
            }
        }
    }
}
