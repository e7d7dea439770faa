import Foundation
import PurserLedger
import Testing

/// The `at` of every entry in the workspace's ledger, in order.
private func entryTimes(in workspace: Workspace) throws -> [String] {
    let log = try workspace.run(["log", "--json"])
    try #require(log.status == 0, "log: \(log.stderr)")
    return try log.stdout.split(separator: "\n").map { line in
        let text = try #require(try workspace.json(String(line))["entry"]?.stringValue)
        let entry = try JSONValue(parsing: Array(text.utf8))
        return try #require(entry["at"]?.stringValue)
    }
}

@Suite("PURSER_NOW: the time a command acts at, for tests")
struct ClockTests {
    @Test("PURSER_NOW dates the entries a command appends and is its now")
    func fixesTheClock() throws {
        let workspace = Workspace()
        let start = try #require(Timestamp.parse("2031-05-01T09:00:00Z"))
        workspace.now = start
        try workspace.initLedger()
        workspace.now = start.addingTimeInterval(90)
        #expect(try workspace.run(["append", "--kind", "custom.note", "--body", "-"], input: "{}").status == 0)
        #expect(try entryTimes(in: workspace) == ["2031-05-01T09:00:00.000Z", "2031-05-01T09:01:30.000Z"])
        let at = try workspace.json(try workspace.run(["at", "now", "--json"]).stdout)
        #expect(at["at"]?.stringValue == "2031-05-01T09:01:30.000Z")
    }

    @Test("a PURSER_NOW that is not a time is a usage error naming it, and nothing is written")
    func malformed() throws {
        let workspace = Workspace()
        try workspace.initLedger()
        let before = workspace.ledgerSnapshot()
        let result = try workspace.run(
            ["append", "--kind", "custom.note", "--body", "-"], input: "{}", environment: ["PURSER_NOW": "tomorrow"])
        #expect(result.status == 64, "\(result.stderr)")
        #expect(result.stderr.contains(#"PURSER_NOW "tomorrow" is not an RFC 3339 time"#), "\(result.stderr)")
        #expect(workspace.ledgerSnapshot() == before)
    }

    @Test("PURSER_NOW cannot date an entry before the last one by more than the clock tolerance")
    func cannotGoBack() throws {
        let workspace = Workspace()
        let start = try #require(Timestamp.parse("2031-05-01T09:00:00Z"))
        workspace.now = start
        try workspace.initLedger()
        workspace.now = start.addingTimeInterval(-(Ledger.clockTolerance + 1))
        let before = workspace.ledgerSnapshot()
        let result = try workspace.run(["append", "--kind", "custom.note", "--body", "-"], input: "{}")
        #expect(result.status == 3 && result.stderr.contains("more than 5 minutes after"), "\(result.stderr)")
        #expect(workspace.ledgerSnapshot() == before)
    }

    @Test("purser serve ignores PURSER_NOW, its own and its clients': the server's clock dates every entry")
    func serverIgnoresIt() throws {
        let workspace = Workspace()
        try workspace.initLedger()
        let token = try workspace.token("writer", name: "runner")
        let faked = "2090-01-01T00:00:00Z"
        let server = try RunningServer(in: workspace, environment: ["PURSER_NOW": faked])
        let appended = try workspace.run(
            ["append", "--kind", "custom.note", "--body", "-"], input: "{}",
            environment: ["PURSER_SERVER": server.url, "PURSER_TOKEN": token, "PURSER_NOW": faked])
        #expect(appended.status == 0, "\(appended.stderr)")
        #expect(server.stop() == 0)
        let times = try entryTimes(in: workspace)
        #expect(times.count == 2)
        #expect(times.allSatisfy { !$0.hasPrefix("2090") }, "\(times)")
    }
}
