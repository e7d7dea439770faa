import Foundation
import Testing

/// What a newcomer who follows the README from a fresh clone trips over: suggestions that must work as printed,
/// token commands that cannot reach a server, help that lists what a command refuses or says a default twice, and
/// errors that do not say what to do.
@Suite("first hour: suggestions, token commands, help and errors")
struct FirstHourTests {
    /// Help as a terminal of 80 columns shows it.
    private func help(_ arguments: [String]) throws -> String {
        let result = try Workspace().run(arguments + ["--help"], environment: ["COLUMNS": "80"])
        #expect(result.status == 0, "\(arguments): \(result.stderr)")
        return result.stdout
    }

    /// A workspace holding the templates at its root (agent.yaml, checklist.yaml, …) and a ledger with the agent
    /// recorded as agent@1.
    private func templatesAtRoot() throws -> Workspace {
        let workspace = Workspace()
        for name in try FileManager.default.contentsOfDirectory(atPath: agentTemplates.path) {
            try FileManager.default.copyItem(
                atPath: agentTemplates.appendingPathComponent(name).path, toPath: workspace.file(name))
        }
        try workspace.initLedger()
        let recorded = try workspace.run(["version", "record", "agent.yaml", "--label", "agent@1"])
        try #require(recorded.status == 0, "\(recorded.stderr)")
        return workspace
    }

    // MARK: 1. The gate's suggestion and check's missing policy

    @Test("the deploy gate suggests a check command with --policy that runs as printed")
    func gateSuggestionRuns() throws {
        let workspace = try templatesAtRoot()
        let refused = try workspace.run(["deploy", "start", "agent@1", "--env", "prod", "--strategy", "blue-green"])
        #expect(refused.status == 1, "\(refused.stderr)")
        let suggested = try #require(
            refused.stderr.firstMatch(of: /`(purser check [^`]*)`/).map { String($0.1) }, "\(refused.stderr)")
        #expect(suggested.hasSuffix(" --policy checklist.yaml"), "\(suggested)")
        let words = suggested.split(separator: " ").dropFirst().map(String.init)
        let check = try workspace.run(words)
        // A verdict (allowed or blocked by a check), never a usage error or a missing file.
        #expect(check.status == 0 || check.status == 1, "\(suggested): \(check.stderr)")
        #expect(!check.stderr.contains("not found"), "\(check.stderr)")
    }

    @Test("check without --policy and no ./checklist.yaml says where it looked and what to pass (exit 66)")
    func missingDefaultPolicy() throws {
        let workspace = Workspace()
        let result = try workspace.run(["check", "--version", "4aeb91149bea", "--env", "prod"])
        #expect(result.status == 66)
        #expect(
            result.stderr
                == "purser: error: no --policy given and ./checklist.yaml not found; pass --policy FILE "
                + "(templates/checklist.yaml in purser's repository is an example to copy)\n")
        let named = try workspace.run(["check", "--version", "4aeb91149bea", "--env", "prod", "--policy", "p.yaml"])
        #expect(named.status == 66)
        #expect(named.stderr.hasPrefix("purser: error: checklist policy p.yaml not found; pass --policy FILE"))
    }

    // MARK: 2. token commands and servers

    @Test(
        "token list, create and revoke refuse PURSER_SERVER and --server with 64 and change nothing",
        arguments: [
            ["list"], ["create", "--role", "reader", "--name", "auditor"], ["revoke", "--name", "auditor"],
        ])
    func tokenRefusesAServer(command: [String]) throws {
        let workspace = Workspace()
        try workspace.initLedger()
        let before = try FileManager.default.contentsOfDirectory(atPath: workspace.file("ledger")).sorted()
        for (extra, environment, named) in [
            ([String](), ["PURSER_SERVER": "http://127.0.0.1:9"], "PURSER_SERVER is http://127.0.0.1:9"),
            (["--server", "http://127.0.0.1:9"], [:], "--server is http://127.0.0.1:9"),
        ] {
            let result = try workspace.run(["token"] + command + extra, environment: environment)
            #expect(result.status == 64, "\(command): \(result.stderr)")
            #expect(
                result.stderr.hasPrefix(
                    "purser: error: purser token \(command[0]) works on a local token file and does not act on a "
                        + "server (\(named)); run it on the server's machine"),
                "\(result.stderr)")
            #expect(result.stdout.isEmpty)
        }
        #expect(try FileManager.default.contentsOfDirectory(atPath: workspace.file("ledger")).sorted() == before)
    }

    @Test("token help says it acts on the token file on the server's machine", arguments: ["create", "list", "revoke"])
    func tokenHelp(command: String) throws {
        let text = try help(["token", command]).split(whereSeparator: \.isWhitespace).joined(separator: " ")
        #expect(text.contains("Acts on the token file on the server's machine; refuses --server and PURSER_SERVER"))
    }

    @Test(
        "token create, revoke and list without a ledger folder say to create the ledger first (exit 66)",
        arguments: [["create", "--role", "reader", "--name", "ci"], ["revoke", "--name", "ci"], ["list"]])
    func tokenWithoutLedgerFolder(command: [String]) throws {
        let workspace = Workspace()
        let result = try workspace.run(["token"] + command)
        #expect(result.status == 66)
        #expect(
            result.stderr
                == "purser: error: the ledger folder ledger does not exist (create the ledger with `purser init` first)\n"
        )
        #expect(try FileManager.default.contentsOfDirectory(atPath: workspace.path).isEmpty)
    }

    // MARK: 3. Help

    @Test("demo and init do not list --server, which they refuse", arguments: ["demo", "init"])
    func refusedServerNotListed(command: String) throws {
        let text = try help([command])
        #expect(!text.contains("--server <url>"), "\(text)")
        #expect(text.contains("--ledger <path>"))
    }

    @Test("metrics drift says each default once")
    func driftDefaultsOnce() throws {
        let text = try help(["metrics", "drift"])
        for shown in ["(default: quality)", "(default: 28d)", "(default: 1d)"] {
            #expect(text.components(separatedBy: shown).count == 2, "\(shown): \(text)")
        }
        for twice in ["(default quality)", "(default 28d)", "(default 1d)"] {
            #expect(!text.contains(twice), "\(text)")
        }
    }

    @Test(
        "--json prints: with a colon, and no JSON string cut across lines at 80 columns",
        arguments: [
            ["version", "list"], ["proof", "inclusion"], ["proof", "consistency"], ["checkpoint"], ["token", "create"],
            ["token", "list"], ["rollback", "drill"], ["metrics", "ingest"], ["waive"],
        ])
    func jsonPrintsWithColon(command: [String]) throws {
        let text = try help(command)
        #expect(text.contains("--json prints:"), "\(text)")
        #expect(!text.contains("--json prints {"), "\(text)")
        for line in text.split(separator: "\n") {
            #expect(line.count { $0 == "\"" } % 2 == 0, "a quoted string is cut at: \(line)")
        }
    }

    @Test("the root help's check example names its policy")
    func rootHelpCheckExample() throws {
        #expect(try help([]).contains("purser check --version support-agent@1.1.0 --env prod --policy checklist.yaml"))
    }

    // MARK: 4. Errors that say what to do

    @Test("init over an existing ledger says how to go on")
    func initOverExistingLedger() throws {
        let workspace = Workspace()
        try workspace.initLedger()
        let result = try workspace.run(["init"])
        #expect(result.status == 65, "\(result.stderr)")
        #expect(
            result.stderr
                == "purser: error: a ledger already exists at ledger/purser.sqlite; refusing to overwrite it: pass "
                + "--ledger PATH to create another, or --if-missing to go on with this one\n")
        #expect(try workspace.run(["init", "--if-missing"]).status == 0)
    }

    @Test("verify, audit and verify-bundle name a missing --checkpoint as a checkpoint file (exit 66)")
    func missingCheckpointFile() throws {
        let workspace = Workspace()
        try workspace.initLedger()
        try #require(try workspace.run(["export", "--out", "bundle"]).status == 0)
        for arguments in [
            ["verify", "--checkpoint", "nope"], ["audit", "--format", "json", "--checkpoint", "nope"],
            ["verify-bundle", "bundle", "--checkpoint", "nope"],
        ] {
            let result = try workspace.run(arguments)
            #expect(result.status == 66, "\(arguments): \(result.stderr)")
            #expect(result.stderr == "purser: error: checkpoint file nope not found\n", "\(arguments)")
        }
    }

    @Test("a server address without a scheme is answered with the URL to write")
    func serverWithoutScheme() throws {
        let result = try Workspace().run(["status", "--server", "127.0.0.1:18431"])
        #expect(result.status == 64)
        #expect(
            result.stderr == "purser: error: --server \"127.0.0.1:18431\" has no scheme: write http://127.0.0.1:18431\n"
        )
    }

    @Test("purser at with a time it cannot read names now and the RFC 3339 form")
    func atUnreadableTime() throws {
        let workspace = Workspace()
        try workspace.initLedger()
        let result = try workspace.run(["at", "yesterday"])
        #expect(result.status == 64)
        #expect(result.stderr.hasPrefix(#"purser: error: time "yesterday" is not now, an RFC 3339 time (e.g. "#))
    }

    // MARK: 6. history's columns

    @Test("history pads environments and seqs so that the kinds line up, the same through a server")
    func historyColumns() throws {
        let workspace = Workspace()
        try workspace.startCanaryRollout()
        // Past seq 9, so that seqs of one and two digits meet.
        for number in 1...6 {
            let note = try workspace.run(
                ["append", "--kind", "custom.note", "--body", "-"], input: #"{"n":\#(number)}"#)
            try #require(note.status == 0, "\(note.stderr)")
        }
        let glass = ["--break-glass", "--reason", "test", "--approver", "tests"]
        let staging = ["deploy", "start", "agent@1", "--env", "staging-eu", "--strategy", "blue-green"]
        try #require(try workspace.run(staging + glass).status == 0)
        let local = try workspace.run(["history"])
        #expect(local.status == 0, "\(local.stderr)")
        let lines = local.stdout.split(separator: "\n").map(String.init)
        #expect(lines.count == 3, "\(local.stdout)")
        let seqDigits = Set(lines.compactMap { $0.firstMatch(of: /\sseq (\d+)\s/).map { $0.1.count } })
        #expect(seqDigits == [1, 2], "\(local.stdout)")
        let kindColumns = Set(lines.map { $0.firstRange(of: "deployment.")?.lowerBound.utf16Offset(in: $0) })
        #expect(kindColumns.count == 1 && kindColumns.first! != nil, "\(local.stdout)")

        let token = try workspace.token("reader", name: "auditor")
        let server = try RunningServer(in: workspace)
        defer { _ = server.stop() }
        let remote = try workspace.run(["history"], environment: ["PURSER_SERVER": server.url, "PURSER_TOKEN": token])
        #expect(remote.status == 0, "\(remote.stderr)")
        #expect(remote.stdout == local.stdout)
    }
}
