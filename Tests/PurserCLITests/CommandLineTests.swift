import Foundation
import Testing

/// What a newcomer meets first: --version, a mistyped command, and --help at an 80-column terminal.
@Suite struct CommandLineTests {
    @Test func versionAloneIsPurserVersionAndExitsZero() throws {
        let result = try Workspace().run(["--version"])
        #expect(result.status == 0, "\(result.stderr)")
        #expect(result.stdout == "purser 0.1.0\n")
        #expect(result.stderr.isEmpty)
    }

    @Test func aSubcommandsVersionIsStillTheBehavioralVersionOption() throws {
        let workspace = Workspace()
        let missingEnv = try workspace.run(["check", "--version", "x"])
        #expect(missingEnv.status == 64)
        #expect(missingEnv.stderr.contains("Missing expected argument '--env <env>'"), "\(missingEnv.stderr)")
        #expect(!missingEnv.stdout.contains("0.1.0"))
        let missingVersion = try workspace.run(["check"])
        #expect(missingVersion.status == 64)
        #expect(missingVersion.stderr.contains("Missing expected argument '--version <version>'"))
        let groupHelp = try workspace.run(["version", "--help"])
        #expect(groupHelp.status == 0)
        #expect(groupHelp.stdout.contains("purser version record"))
    }

    @Test(
        "a mistyped command name is reported, with the nearest name, exit 64",
        arguments: [
            (["verfy"], "unknown command 'verfy'; did you mean 'verify'? (see purser --help for the commands)"),
            (["chekc", "--version", "x", "--env", "prod"], "unknown command 'chekc'; did you mean 'check'?"),
            (
                ["deploy", "strat"],
                "unknown command 'strat' of purser deploy; did you mean 'start'?"
                    + " (its commands: start, shift, promote, drained, abort)"
            ),
            (
                ["deploy", "strat", "--version", "x", "--env", "prod"],
                "unknown command 'strat' of purser deploy; did you mean 'start'?"
            ),
            (
                ["version", "recrod", "agent.yaml"],
                "unknown command 'recrod' of purser version; did you mean 'record'?"
            ),
            (["xyzzy"], "unknown command 'xyzzy' (see purser --help for the commands)"),
            (["verfy", "--help"], "unknown command 'verfy'; did you mean 'verify'?"),
            (["help", "verfy"], "unknown command 'verfy'; did you mean 'verify'?"),
            (["help", "deploy", "strat"], "unknown command 'strat' of purser deploy; did you mean 'start'?"),
            (["VERIFY"], "unknown command 'VERIFY'; did you mean 'verify'?"),
            (["Deploy", "Strat"], "unknown command 'Deploy'; did you mean 'deploy'?"),
            (
                ["rollback", "dril", "--env", "staging"],
                "unknown command 'dril' of purser rollback; did you mean 'drill'? (its commands: perform, drill)"
            ),
        ])
    func mistypedCommand(arguments: [String], message: String) throws {
        let result = try Workspace().run(arguments)
        #expect(result.status == 64, "\(arguments): \(result.stderr)")
        #expect(result.stderr.contains(message), "\(arguments): \(result.stderr)")
        #expect(!result.stderr.contains("Unknown option"), "\(arguments): \(result.stderr)")
        #expect(result.stderr.split(separator: "\n").count == 1, "\(arguments): \(result.stderr)")
    }

    /// The edit distance to each name takes time in proportion to the length typed: 11 s for 131,000 characters
    /// before names over 64 characters got no suggestion. The bound is loose, for a loaded machine.
    @Test func aVeryLongCommandNameIsRefusedAtOnce() throws {
        let name = String(repeating: "verify", count: 21_834)
        let started = ContinuousClock.now
        let result = try Workspace().run([name])
        #expect(ContinuousClock.now - started < .seconds(4))
        #expect(result.status == 64)
        #expect(result.stderr.hasPrefix("purser: error: unknown command 'verifyverify"))
        #expect(!result.stderr.contains("did you mean"))
    }

    @Test func rootExamplesShowTheReleaseFlow() throws {
        let help = try Workspace().run(["--help"])
        #expect(help.status == 0)
        let examples = [
            "init", "version record", "eval record", "check", "deploy start", "metrics ingest",
            "canary judge", "audit",
        ]
        var rest = Substring(help.stdout)
        for command in examples {
            let found = rest.range(of: "\n  purser \(command) ")
            #expect(found != nil, "purser --help shows `purser \(command)` after the step before it:\n\(help.stdout)")
            if let found { rest = rest[found.upperBound...] }
        }
    }

    /// Every command path: the root, then each name under SUBCOMMANDS: of a command's help, depth first.
    static func commandPaths(in workspace: Workspace, under path: [String] = []) throws -> [[String]] {
        let help = try workspace.run(path + ["--help"], environment: ["COLUMNS": "80"])
        let lines = help.stdout.split(separator: "\n", omittingEmptySubsequences: false)
        guard let start = lines.firstIndex(of: "SUBCOMMANDS:") else { return [path] }
        let names = lines[(start + 1)...].prefix { !$0.isEmpty }
            .filter { $0.hasPrefix("  ") && !$0.hasPrefix("   ") }
            .compactMap { $0.split(separator: " ").first.map(String.init) }
        return try [path] + names.flatMap { try commandPaths(in: workspace, under: path + [$0]) }
    }

    /// What is wrong with help text shown at 80 columns: a line over 80 (bar ArgumentParser's USAGE line, which it
    /// never wraps); an example broken in two (an unindented line right after an indented one); a ragged paragraph
    /// (a line the next line's first word would have fit on, so the break was written by hand).
    static func problems(inHelp text: String) -> [String] {
        let lines = text.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        var problems: [String] = []
        for (index, line) in lines.enumerated() {
            if line.count > 80, !line.hasPrefix("USAGE: ") {
                problems.append("over 80 columns: \(line)")
            }
            if index > 0, !line.isEmpty, line.allSatisfy({ $0 == " " }) {
                problems.append("an indented line broken in its indentation, after: \(lines[index - 1])")
                continue
            }
            guard index > 0, let first = line.split(separator: " ").first, !line.hasPrefix(" ") else { continue }
            let previous = lines[index - 1]
            if previous.hasPrefix(" "), !previous.trimmingCharacters(in: .whitespaces).isEmpty {
                problems.append("an indented line broken before: \(line)")
            } else if !previous.isEmpty, !line.hasPrefix("- "), previous.count + 1 + first.count < 80 {
                problems.append("ragged: \(previous) / \(line)")
            }
        }
        return problems
    }

    @Test func everyCommandsHelpFitsEightyColumnsWithoutRaggedParagraphs() throws {
        let workspace = Workspace()
        let paths = try Self.commandPaths(in: workspace)
        #expect(paths.count > 40, "walked \(paths.count) commands")
        for path in paths {
            let help = try workspace.run(path + ["--help"], environment: ["COLUMNS": "80"])
            #expect(help.status == 0, "\(path)")
            let problems = Self.problems(inHelp: help.stdout)
            #expect(
                problems.isEmpty, "purser \(path.joined(separator: " ")) --help:\n\(problems.joined(separator: "\n"))")
        }
    }
}
