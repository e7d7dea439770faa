import Foundation
import PurserLedger
import Testing

/// `purser log` without --json: one readable line per entry, the same locally and through a server.
@Suite("purser log summary lines")
struct LogSummaryTests {
    /// COLUMNS empty: the lines are cut to 120 columns, whatever the environment running the tests says.
    private static let noColumns = ["COLUMNS": ""]

    /// The demo's ledger (27 entries of 12 kinds), in a fresh workspace.
    private func demoWorkspace() throws -> Workspace {
        let workspace = Workspace()
        let demo = try workspace.run(["demo"])
        try #require(demo.status == 0, "the demo failed: \(demo.stderr)")
        return workspace
    }

    /// Every byte of `text` but line feeds is printable: no C0 or C1 control, DEL, or bidirectional override.
    private func hasNoRawControls(_ text: String) -> Bool {
        text.unicodeScalars.allSatisfy { scalar in
            scalar == "\n"
                || !(scalar.value < 0x20 || (0x7F...0x9F).contains(scalar.value)
                    || (0x202A...0x202E).contains(scalar.value) || (0x2066...0x2069).contains(scalar.value))
        }
    }

    @Test("each kind of the demo's ledger gets seq, time, kind and its key facts on one line of at most 120 columns")
    func demoKinds() throws {
        let workspace = try demoWorkspace()
        let log = try workspace.run(["log"], environment: Self.noColumns)
        #expect(log.status == 0, "\(log.stderr)")
        let lines = log.stdout.split(separator: "\n").map(String.init)
        let entries = try workspace.run(["log", "--json"]).stdout.split(separator: "\n").map {
            try workspace.json(String($0))
        }
        try #require(lines.count == 27 && entries.count == 27, "\(log.stdout)")
        for (line, entry) in zip(lines, entries) {
            let seq = Int(try #require(entry["seq"]?.numberValue))
            let at = try #require(entry["at"]?.stringValue)
            let kind = try #require(entry["kind"]?.stringValue)
            // Seqs padded to the digits of the largest, 26.
            let padded = "\(seq)".padding(toLength: 2, withPad: " ", startingAt: 0)
            #expect(line.hasPrefix("\(padded)  \(at)  \(kind) "), "\(line)")
            #expect(line.count <= 120, "\(line.count) columns: \(line)")
            #expect(!line.contains("{\""), "no JSON body: \(line)")
        }
        #expect(hasNoRawControls(log.stdout))
        // The key facts of each kind (ledger/README.md §12 to §15), versions by their labels.
        let facts: [(seq: Int, facts: String)] = [
            (0, "ledger.created        origin=demo.example/support-agent"),
            (1, "version.recorded      label=support-agent@1.0.0 id="),
            (2, "evaluation.recorded   version=support-agent@1.0.0 passed=8/8 suite=support-regression"),
            (3, "checklist.evaluated   version=support-agent@1.0.0 env=prod verdict=blocked"),
            (4, "waiver.granted        version=support-agent@1.0.0 check=components-pinned approver="),
            (5, "checklist.evaluated   version=support-agent@1.0.0 env=prod verdict=allowed"),
            (6, "deployment.started    env=prod version=support-agent@1.0.0 strategy=blue-green weight=100"),
            (11, "rollback.drilled      env=staging result=passed from=support-agent@1.1.0 to="),
            (13, "deployment.started    env=prod version=support-agent@1.1.0 strategy=canary weight=5"),
            (14, "metrics.summarized    file=canary-1.1.0.jsonl records=2000 new=2000"),
            (15, "canary.judged         env=prod verdict=rollback score=66.7% canary=support-agent@1.1.0"),
            (16, #"rollback.performed    env=prod to=support-agent@1.0.0 reason="canary judge: rollback"#),
            (17, "deployment.drained    env=prod version=support-agent@1.1.0"),
            (24, "canary.judged         env=prod verdict=promote score=100% canary=support-agent@1.2.0"),
            (25, "deployment.promoted   env=prod version=support-agent@1.2.0"),
        ]
        for (seq, fact) in facts {
            #expect(lines[seq].contains("Z  " + fact), "seq \(seq): \(lines[seq])")
        }
        let id = try #require(entries[1]["entry"]?.stringValue.flatMap { try? JSONValue(parsing: Array($0.utf8)) })
        let versionID = try #require(id["body"]?["id"]?.stringValue)
        #expect(lines[1].hasSuffix("id=\(versionID.prefix(12)) agent=support-agent"), "\(lines[1])")
    }

    @Test("a custom entry's first members, with control characters and terminal escapes shown escaped")
    func customBodiesAreEscaped() throws {
        let workspace = Workspace()
        try workspace.initLedger()
        let body =
            #"{"z":"last","alert":"a\u001b[31mb\u0007\r\n\u009b","bidi":"\u202eexe","l":{"a":[1]},"#
            + #""long":"\#(String(repeating: "x", count: 500))"}"#
        #expect(try workspace.run(["append", "--kind", "custom.note", "--body", "-"], input: body).status == 0)
        let log = try workspace.run(["log", "--kind", "custom.note"], environment: Self.noColumns)
        #expect(log.status == 0, "\(log.stderr)")
        let line = log.stdout.trimmingCharacters(in: .newlines)
        #expect(hasNoRawControls(log.stdout), "\(log.stdout.debugDescription)")
        #expect(line.count <= 120, "\(line.count) columns")
        // Members in the canonical order of the entry's bytes, while the line has room.
        #expect(
            line.contains(
                #"custom.note           alert=a\u{1B}[31mb\u{7}\r\n\u{9B} bidi=\u{202E}exe l="{\"a\":[1]}" "#),
            "\(line)")
        #expect(!line.contains("z=last"))
        #expect(line.hasSuffix("…"), "cut at 120 columns: \(line)")
    }

    @Test("COLUMNS narrower than 120 cuts every line to it")
    func narrowTerminal() throws {
        let workspace = try demoWorkspace()
        let log = try workspace.run(["log"], environment: ["COLUMNS": "50"])
        let lines = log.stdout.split(separator: "\n")
        #expect(lines.count == 27)
        for line in lines {
            #expect(line.count <= 50 && line.hasSuffix("…"), "\(line)")
        }
    }

    @Test("log prints the same lines through a server as locally")
    func localAndServerAgree() throws {
        let workspace = try demoWorkspace()
        let token = try workspace.token("reader", name: "auditor")
        let server = try RunningServer(in: workspace)
        defer { _ = server.stop() }
        let remote = ["PURSER_SERVER": server.url, "PURSER_TOKEN": token]
        for (arguments, columns) in [
            (["log"], ""), (["log", "--kind", "deployment.started"], ""), (["log", "--limit", "5"], ""),
            (["log"], "60"),
        ] {
            let local = try workspace.run(arguments, environment: ["COLUMNS": columns])
            let there = try workspace.run(arguments, environment: remote.merging(["COLUMNS": columns]) { $1 })
            #expect(local.status == 0 && there.status == 0, "\(arguments): \(there.stderr)")
            #expect(!local.stdout.isEmpty)
            #expect(there.stdout == local.stdout, "\(arguments) COLUMNS=\(columns)")
        }
    }
}
