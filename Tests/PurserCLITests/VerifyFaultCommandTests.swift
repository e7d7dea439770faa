import Foundation
import PurserLedger
import Testing

/// `purser verify` cannot be stopped by one entry nor fooled by edited tables, and reports every fault after
/// the chain; a rewritten header is an integrity fault (3), not bad input (65).
@Suite struct VerifyFaultCommandTests {
    /// agent@1 recorded and serving prod.
    private func prepare(_ workspace: Workspace) throws {
        try workspace.initLedger()
        let manifest = try workspace.copyAgentTemplate(to: "agent")
        #expect(try workspace.run(["version", "record", manifest, "--label", "agent@1"]).status == 0)
        let deploy = try workspace.run([
            "deploy", "start", "agent@1", "--env", "prod", "--strategy", "blue-green", "--break-glass", "--reason",
            "test", "--approver", "tests",
        ])
        #expect(deploy.status == 0, "\(deploy.stderr)")
    }

    @Test func entriesThatCannotBeReplayedAreEachReportedAndReadsGoOn() throws {
        let workspace = Workspace()
        try prepare(workspace)
        // Written with a valid chain around the release domain: shifts with no canary rollout in progress.
        let ledger = try Ledger(openingAt: workspace.ledgerPath)
        let bad = try (0..<2).map { _ in
            try ledger.append(
                Event(kind: "traffic.shifted", body: .object(["env": .string("prod"), "weight": .number(10)]))
            ).seq
        }

        let status = try workspace.run(["status", "--env", "prod"])
        #expect(status.status == 0, "\(status.stderr)")
        #expect(try workspace.run(["version", "list"]).status == 0)
        let variant = try workspace.copyAgentTemplate(to: "agent-2")
        workspace.edit("agent-2/agent/system-prompt.md", replacing: "Be brief and friendly.", with: "Be brief.")
        let recorded = try workspace.run(["version", "record", variant, "--label", "agent@2"])
        #expect(recorded.status == 0, "\(recorded.stderr)")

        let verify = try workspace.run(["verify", "--json"])
        try #require(verify.status == 3, "\(verify.stderr)")
        let faults = try workspace.json(verify.stdout)["faults"]?.arrayItems ?? []
        #expect(faults.map { $0["kind"]?.stringValue } == ["replay", "replay"], "\(verify.stdout)")
        #expect(faults.map { $0["seq"]?.numberValue } == bad.map { Double($0) })
        #expect(try workspace.json(verify.stdout)["fault"] == faults.first)
        let text = try workspace.run(["verify"])
        #expect(text.stdout.components(separatedBy: "FAULT: replay at seq").count == 3, "\(text.stdout)")
    }

    @Test func aDroppedTriggerIsASchemaFault() throws {
        let workspace = Workspace()
        try prepare(workspace)
        #expect(try workspace.run(["verify"]).status == 0)
        try Connection(path: workspace.ledgerPath, mode: .readWrite).execute(
            "DROP TRIGGER entries_append_only_delete")
        let verify = try workspace.run(["verify", "--json"])
        #expect(verify.status == 3)
        let fault = try workspace.json(verify.stdout)["fault"]
        #expect(fault?["kind"]?.stringValue == "schema", "\(verify.stdout)")
        #expect(fault?["detail"]?.stringValue?.contains("entries_append_only_delete is missing") == true)
        let audit = try workspace.run(["audit", "--format", "json"])
        #expect(audit.status == 3, "the audit report says so too: \(audit.stderr)")
        #expect(try workspace.json(audit.stdout)["verification"]?["fault"]?["kind"]?.stringValue == "schema")
    }

    @Test(arguments: ["PRAGMA application_id = 0", "PRAGMA user_version = 7"])
    func aRewrittenHeaderIsAnIntegrityFault(_ edit: String) throws {
        let workspace = Workspace()
        try prepare(workspace)
        try Connection(path: workspace.ledgerPath, mode: .readWrite).execute(edit)
        let log = try workspace.run(["log"])
        #expect(log.status == 3, "\(log.stderr)")
        #expect(log.stderr.contains("altered outside purser"), "\(log.stderr)")
        let verify = try workspace.run(["verify", "--json"])
        #expect(verify.status == 3, "\(verify.stderr)")
        #expect(try workspace.json(verify.stdout)["fault"]?["kind"]?.stringValue == "schema", "\(verify.stdout)")
    }

    @Test func aPromoteJudgedOnEditedTasksIsFoundAfterReindex() throws {
        let workspace = Workspace()
        let canary = CanaryCommandTests()
        try canary.prepare(workspace)
        canary.tasks(workspace, baselineErrors: 20, canaryErrors: 60)
        #expect(try workspace.run(["metrics", "ingest", "tasks.jsonl"]).status == 0)
        try Connection(path: workspace.ledgerPath, mode: .readWrite).execute(
            "UPDATE tasks SET error = 0 WHERE version = (SELECT seq FROM versions WHERE id = (SELECT id FROM version_labels WHERE label = 'agent@2'))"
        )
        let judged = try workspace.run(["canary", "judge", "--env", "prod", "--config", "canary.yaml", "--json"])
        #expect(judged.status == 0, "promoted on the edited table: \(judged.stdout) \(judged.stderr)")
        let seq = try workspace.json(judged.stdout)["seq"]
        #expect(try workspace.run(["reindex"]).status == 0)

        let verify = try workspace.run(["verify", "--json"])
        #expect(verify.status == 3, "\(verify.stdout)")
        let fault = try workspace.json(verify.stdout)["fault"]
        #expect(fault?["kind"]?.stringValue == "judgement", "\(verify.stdout)")
        #expect(fault?["seq"] == seq)
    }
}
