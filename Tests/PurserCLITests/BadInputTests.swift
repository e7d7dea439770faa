import Foundation
import PurserLedger
import Testing

/// Bad input gets one clear line on stderr, the documented exit code, and the ledger unchanged byte for byte.
@Suite struct BadInputTests {
    /// Runs `arguments` against a ledger with a few entries and checks the outcome.
    private func expectRefusal(
        _ arguments: [String], input: String? = nil, status: Int32, mentions: [String],
        prepare: (Workspace) throws -> Void = { _ in }
    ) throws {
        let workspace = Workspace()
        try workspace.initLedger()
        #expect(try workspace.run(["append", "--kind", "custom.seed", "--body", "-"], input: #"{"a":1}"#).status == 0)
        try prepare(workspace)
        let before = workspace.ledgerSnapshot()
        let result = try workspace.run(arguments, input: input)
        #expect(result.status == status, "\(arguments): \(result.stderr)")
        let lines = result.stderr.split(separator: "\n")
        #expect(lines.count == 1, "one line on stderr, got: \(result.stderr)")
        for word in mentions {
            #expect(result.stderr.contains(word), "stderr mentions \(word): \(result.stderr)")
        }
        #expect(workspace.ledgerSnapshot() == before, "the ledger file is unchanged")
    }

    @Test func invalidJSONBody() throws {
        try expectRefusal(
            ["append", "--kind", "custom.x", "--body", "body.json"], status: 65,
            mentions: ["body.json", "invalid JSON", "byte 9"]
        ) { $0.write("body.json", #"{"a": 1,,}"#) }
    }

    @Test func bodyThatIsNotAnObject() throws {
        try expectRefusal(
            ["append", "--kind", "custom.x", "--body", "-"], input: "[1,2]", status: 65,
            mentions: ["standard input", "object"])
    }

    @Test func oneBadLineMeansNothingIsAppended() throws {
        try expectRefusal(
            ["append", "--kind", "custom.x", "--lines", "lines.jsonl"], status: 65,
            mentions: ["lines.jsonl line 1502", "invalid JSON"]
        ) { workspace in
            var lines = (1...3000).map { #"{"n":\#($0)}"# }
            lines[1501] = #"{"n":oops}"#
            workspace.write("lines.jsonl", lines.joined(separator: "\n"))
        }
    }

    @Test func domainKindIsRefused() throws {
        try expectRefusal(
            ["append", "--kind", "version.recorded", "--body", "-"], input: "{}", status: 64, mentions: ["custom."])
    }

    @Test func unknownKindIsRefused() throws {
        try expectRefusal(
            ["append", "--kind", "deploy.whatever", "--body", "-"], input: "{}", status: 64,
            mentions: ["unknown kind", "deploy.whatever"])
    }

    @Test func missingBodyFile() throws {
        try expectRefusal(
            ["append", "--kind", "custom.x", "--body", "nowhere.json"], status: 66,
            mentions: ["nowhere.json", "not found"])
    }

    @Test func existingLedgerIsNotOverwritten() throws {
        try expectRefusal(["init"], status: 65, mentions: ["already exists", "ledger/purser.sqlite"])
    }

    @Test func checkpointForAnotherOrigin() throws {
        try expectRefusal(
            ["verify", "--checkpoint", "other.checkpoint"], status: 65,
            mentions: ["other.checkpoint", "origin", "elsewhere.example/ledger"]
        ) { workspace in
            let other = Workspace()
            try other.initLedger(origin: "elsewhere.example/ledger")
            #expect(try other.run(["checkpoint", "--out", "cp"]).status == 0)
            workspace.write("other.checkpoint", other.read("cp"))
        }
    }

    @Test func checkpointWithABadSignature() throws {
        let workspace = Workspace()
        try workspace.initLedger()
        #expect(try workspace.run(["checkpoint", "--out", "cp"]).status == 0)
        var lines = workspace.read("cp").split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        lines[1] = "5"
        workspace.write("forged", lines.joined(separator: "\n"))
        let before = workspace.ledgerSnapshot()
        let result = try workspace.run(["verify", "--checkpoint", "forged", "--json"])
        #expect(result.status == 3)
        #expect(try workspace.json(result.stdout)["fault"]?["kind"]?.stringValue == "bad-signature")
        #expect(workspace.ledgerSnapshot() == before)
    }

    @Test func malformedCheckpoint() throws {
        try expectRefusal(
            ["verify", "--checkpoint", "junk"], status: 65, mentions: ["junk", "not a signed checkpoint"]
        ) {
            $0.write("junk", "hello\n")
        }
    }

    @Test func missingLedger() throws {
        let workspace = Workspace()
        for arguments in [
            ["verify"], ["log"], ["append", "--kind", "custom.x", "--body", "-"], ["proof", "inclusion", "--seq", "0"],
        ] {
            let result = try workspace.run(arguments, input: "{}")
            #expect(result.status == 66, "\(arguments)")
            #expect(
                result.stderr.contains("no ledger at ledger/purser.sqlite")
                    && result.stderr.split(separator: "\n").count == 1)
        }
        #expect(!FileManager.default.fileExists(atPath: workspace.ledgerPath), "nothing is created by a failed command")
    }

    @Test(arguments: [("corrupt", "not a purser ledger (not a SQLite database)"), ("foreign", "not a purser ledger")])
    func corruptOrForeignFile(kind: String, message: String) throws {
        let workspace = Workspace()
        try FileManager.default.createDirectory(atPath: workspace.file("ledger"), withIntermediateDirectories: true)
        if kind == "corrupt" {
            _ = FileManager.default.createFile(
                atPath: workspace.ledgerPath, contents: Data((0..<10_000).map { UInt8($0 % 251) }))
        } else {
            try Connection(path: workspace.ledgerPath, mode: .create).execute(
                "CREATE TABLE notes (x TEXT); INSERT INTO notes VALUES ('mine');")
        }
        let before = workspace.ledgerSnapshot()
        for arguments in [["verify"], ["log"], ["append", "--kind", "custom.x", "--body", "-"]] {
            let result = try workspace.run(arguments, input: "{}")
            #expect(result.status == 65, "\(arguments): \(result.stderr)")
            #expect(
                result.stderr.contains(message) && result.stderr.split(separator: "\n").count == 1, "\(result.stderr)")
        }
        #expect(workspace.ledgerSnapshot() == before)
    }

    @Test func truncatedDatabaseFileIsRefused() throws {
        let workspace = Workspace()
        try workspace.initLedger()
        workspace.write(
            "lines.jsonl",
            (1...3000).map { #"{"n":\#($0),"pad":"\#(String(repeating: "x", count: 200))"}"# }.joined(separator: "\n"))
        #expect(try workspace.run(["append", "--kind", "custom.x", "--lines", "lines.jsonl"]).status == 0)
        let handle = try #require(FileHandle(forUpdatingAtPath: workspace.ledgerPath))
        try handle.truncate(atOffset: 100_000)
        try handle.close()
        let result = try workspace.run(["verify"])
        #expect(result.status == 65, "\(result.status): \(result.stderr) \(result.stdout)")
        #expect(result.stderr == "purser: error: ledger/purser.sqlite is corrupt: database disk image is malformed\n")
    }

    @Test(arguments: [
        (["append", "--kind", "custom.x"], "exactly one of --body FILE and --lines FILE"),
        (["append", "--kind", "bad.kind", "--lines", "-"], "unknown kind \"bad.kind\""),
        (["log", "--since", "yesterday"], "--since \"yesterday\" is not an RFC 3339 time"),
        (["proof", "inclusion", "--seq", "5"], "seq 5 is not in a tree of 1 entries"),
        (["frobnicate"], "unknown command 'frobnicate'"),
    ])
    func usageErrorsAreOneLineAndExit64(arguments: [String], message: String) throws {
        let workspace = Workspace()
        try workspace.initLedger()
        let before = workspace.ledgerSnapshot()
        let result = try workspace.run(arguments, input: "")
        #expect(result.status == 64)
        #expect(
            result.stderr.hasPrefix("purser: error: ") && result.stderr.split(separator: "\n").count == 1,
            "\(result.stderr)")
        #expect(result.stderr.contains(message), "\(result.stderr)")
        #expect(workspace.ledgerSnapshot() == before)
    }
}
