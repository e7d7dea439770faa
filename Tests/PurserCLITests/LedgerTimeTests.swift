import Foundation
import PurserLedger
import Testing

/// Times outside the years 0001 to 9999 once their offset is applied were formatted as `10000-…`, which sorts
/// before every real time: they passed the "not in the future" refusals. Every place a time enters refuses them.
@Suite struct LedgerTimeTests {
    /// A ledger with agent@1 recorded.
    private func prepare(_ workspace: Workspace) throws {
        try workspace.initLedger()
        let manifest = try workspace.copyAgentTemplate(to: "agent")
        #expect(try workspace.run(["version", "record", manifest, "--label", "agent@1"]).status == 0)
    }

    @Test func anEffectiveTimeInTheYear10000IsRefused() throws {
        let workspace = Workspace()
        try prepare(workspace)
        let before = workspace.ledgerSnapshot()
        let result = try workspace.run([
            "deploy", "start", "agent@1", "--env", "prod", "--strategy", "blue-green", "--break-glass", "--reason",
            "import", "--approver", "tests", "--effective-at", "9999-12-31T23:30:00-01:00",
        ])
        #expect(result.status == 64, "\(result.stderr)")
        #expect(result.stderr.contains("--effective-at \"9999-12-31T23:30:00-01:00\""), "\(result.stderr)")
        #expect(result.stderr.contains("0001 to 9999"), "\(result.stderr)")
        #expect(workspace.ledgerSnapshot() == before)
    }

    @Test func aTaskStartedInTheYear0IsRefused() throws {
        let workspace = Workspace()
        try prepare(workspace)
        workspace.write(
            "tasks.jsonl",
            #"{"task_id":"t1","version":"agent@1","env":"prod","started_at":"0001-01-01T00:30:00+01:00","duration_ms":900,"completed":true,"error":false}"#
        )
        let before = workspace.ledgerSnapshot()
        let result = try workspace.run(["metrics", "ingest", "tasks.jsonl"])
        #expect(result.status == 65, "\(result.stderr)")
        #expect(result.stderr.contains("started_at") && result.stderr.contains("0001 to 9999"), "\(result.stderr)")
        #expect(workspace.ledgerSnapshot() == before)
    }
}
