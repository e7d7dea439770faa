import Foundation
import PurserLedger
import Testing

/// The query tables are derived from the entries and anyone with the file can edit them: a command that decides on
/// a row checks it against the entry it came from, and refuses with exit 3 (writing nothing) when they differ.
@Suite("decisions on edited query tables")
struct QueryTableTrustTests {
    /// A ledger with support-agent@1.0.0 and @2.0.0 recorded; returns their ids.
    private func prepare(_ workspace: Workspace) throws -> (v1: String, v2: String) {
        try workspace.initLedger()
        return (
            try workspace.recordAgentVariant("1", label: "support-agent@1.0.0"),
            try workspace.recordAgentVariant("2", label: "support-agent@2.0.0")
        )
    }

    /// Runs `sql` on the ledger file as someone with the file would.
    private func edit(_ workspace: Workspace, _ sql: String) throws {
        let connection = try Connection(path: workspace.ledgerPath, mode: .readWrite)
        try connection.execute(sql)
    }

    enum GateTamper: String, CaseIterable {
        case allowTheBlockedRun, replaceTheRunByAnAllowingOne
    }

    @Test(
        "an edited checklist_runs row does not open the deploy gate: exit 3, nothing written",
        arguments: GateTamper.allCases)
    func editedChecklistRunDoesNotOpenTheGate(_ tamper: GateTamper) throws {
        let workspace = Workspace()
        let (_, v2) = try prepare(workspace)
        try FileManager.default.copyItem(atPath: agentTemplates.path, toPath: workspace.file("release"))
        let check = try workspace.run(
            ["check", "--version", "support-agent@2.0.0", "--env", "prod", "--policy", "release/checklist.yaml"])
        try #require(check.status == 1, "never evaluated, so blocked: \(check.stdout) \(check.stderr)")
        let deploy = ["deploy", "start", "support-agent@2.0.0", "--env", "prod", "--strategy", "blue-green"]
        #expect(try workspace.run(deploy).status == 1)
        switch tamper {
        case .allowTheBlockedRun:
            try edit(workspace, "UPDATE checklist_runs SET allowed = 1")
        case .replaceTheRunByAnAllowingOne:
            try edit(
                workspace,
                """
                DELETE FROM checklist_runs;
                INSERT INTO checklist_runs VALUES (
                    99, '\(v2)', 'prod', 1, '2026-01-01T00:00:00.000Z', '2999-01-01T00:00:00.000Z');
                """)
        }
        let before = workspace.ledgerSnapshot()
        let refused = try workspace.run(deploy)
        #expect(refused.status == 3, "\(refused.stdout) \(refused.stderr)")
        #expect(refused.stderr.contains("checklist_runs row"), "\(refused.stderr)")
        #expect(workspace.ledgerSnapshot() == before)
    }

    enum VersionTamper: String, CaseIterable {
        case labelPointsElsewhere, componentsOfAnotherVersion, labelAdded
    }

    @Test(
        "an edited version_labels or versions row does not make materialize restore another version's files",
        arguments: VersionTamper.allCases)
    func editedVersionRowsDoNotRestoreAnotherVersion(_ tamper: VersionTamper) throws {
        let workspace = Workspace()
        let (v1, v2) = try prepare(workspace)
        let reference: String
        switch tamper {
        case .labelPointsElsewhere:
            try edit(workspace, "UPDATE version_labels SET id = '\(v1)' WHERE label = 'support-agent@2.0.0'")
            reference = "support-agent@2.0.0"
        case .componentsOfAnotherVersion:
            try edit(
                workspace,
                "UPDATE versions SET components = (SELECT components FROM versions WHERE id = '\(v1)') WHERE id = '\(v2)'"
            )
            reference = v2
        case .labelAdded:
            try edit(workspace, "INSERT INTO version_labels VALUES ('support-agent@2.1.0', '\(v2)', 2)")
            reference = v2
        }
        let refused = try workspace.run(["version", "materialize", reference, "--out", "restored"])
        #expect(refused.status == 3, "\(refused.stdout) \(refused.stderr)")
        #expect(refused.stderr.contains("row"), "\(refused.stderr)")
        #expect(!FileManager.default.fileExists(atPath: workspace.file("restored")))
        // A version whose rows are untouched is still served as recorded (the first tamper gave 1.0.0 a label).
        let one = try workspace.run(["version", "materialize", "support-agent@1.0.0", "--out", "one"])
        #expect(one.status == (tamper == .labelPointsElsewhere ? 3 : 0), "\(one.stderr)")
    }

    enum ChecklistTamper: String, CaseIterable {
        case evaluationOfAnotherVersion, latestEvaluationDeleted, waiverOfAnotherCheck, environmentDeleted
    }

    @Test(
        "check refuses with exit 3, recording nothing, when an evaluations, waivers or environments row it decides on was edited",
        arguments: ChecklistTamper.allCases)
    func checklistDoesNotDecideOnEditedRows(_ tamper: ChecklistTamper) throws {
        let workspace = Workspace()
        let (v1, v2) = try prepare(workspace)
        try FileManager.default.copyItem(atPath: agentTemplates.path, toPath: workspace.file("release"))
        let results = ["--results", "release/evidence/eval-results.json"]
        func run(_ arguments: [String]) throws {
            let result = try workspace.run(arguments)
            try #require(result.status == 0, "\(arguments): \(result.stderr)")
        }
        switch tamper {
        case .evaluationOfAnotherVersion:
            try run(["eval", "record", "--version", v1] + results)
            try edit(workspace, "UPDATE evaluations SET version = '\(v2)'")
        case .latestEvaluationDeleted:
            try run(["eval", "record", "--version", v2] + results)
            try run(["eval", "record", "--version", v2] + results)
            try edit(workspace, "DELETE FROM evaluations WHERE seq = (SELECT max(seq) FROM evaluations)")
        case .waiverOfAnotherCheck:
            try run([
                "waive", "--version", v2, "--check", "dashboards-updated", "--reason", "migration", "--approver",
                "dana", "--expires", "2099-01-01T00:00:00Z",
            ])
            try edit(workspace, "UPDATE waivers SET check_id = 'eval-passed'")
        case .environmentDeleted:
            try run(
                [
                    "deploy", "start", v1, "--env", "prod", "--strategy", "blue-green", "--break-glass", "--reason",
                    "r",
                    "--approver", "a",
                ])
            try edit(workspace, "DELETE FROM environments")
        }
        let before = workspace.ledgerSnapshot()
        let check = try workspace.run(
            ["check", "--version", v2, "--env", "prod", "--policy", "release/checklist.yaml"])
        #expect(check.status == 3, "\(check.stdout) \(check.stderr)")
        #expect(check.stderr.contains("query tables were changed"), "\(check.stderr)")
        #expect(workspace.ledgerSnapshot() == before)
    }

    @Test("an edited environments row does not let canary judge roll back: exit 3, nothing written")
    func editedEnvironmentDoesNotLetTheJudgeRollBack() throws {
        let workspace = Workspace()
        let canary = CanaryCommandTests()
        try canary.prepare(workspace)
        canary.tasks(workspace, baselineErrors: 20, canaryErrors: 60)
        #expect(try workspace.run(["metrics", "ingest", "tasks.jsonl"]).status == 0)
        #expect(try workspace.run(["deploy", "abort", "--env", "prod"]).status == 0)
        // The canary was aborted; the row is made to say it is still in progress.
        try edit(
            workspace,
            """
            UPDATE environments SET state = (
                SELECT state FROM traffic_events WHERE seq = (
                    SELECT max(seq) FROM traffic_events WHERE kind = 'deployment.started'))
            """)
        let before = workspace.ledgerSnapshot()
        let judged = try workspace.run(["canary", "judge", "--env", "prod", "--config", "canary.yaml"])
        #expect(judged.status == 3, "\(judged.stdout) \(judged.stderr)")
        #expect(judged.stderr.contains("environments row of prod"), "\(judged.stderr)")
        #expect(workspace.ledgerSnapshot() == before)
    }

    @Test("an edited traffic_events row does not change which tasks canary judge counts: exit 3, nothing written")
    func editedRolloutStartIsRefused() throws {
        let workspace = Workspace()
        let canary = CanaryCommandTests()
        try canary.prepare(workspace)
        canary.tasks(workspace, baselineErrors: 20, canaryErrors: 60)
        #expect(try workspace.run(["metrics", "ingest", "tasks.jsonl"]).status == 0)
        try edit(
            workspace,
            "UPDATE traffic_events SET effective_at = '2000-01-01T00:00:00.000Z' WHERE kind = 'deployment.started'")
        let before = workspace.ledgerSnapshot()
        let judged = try workspace.run(["canary", "judge", "--env", "prod", "--config", "canary.yaml"])
        #expect(judged.status == 3, "\(judged.stdout) \(judged.stderr)")
        #expect(judged.stderr.contains("traffic_events row"), "\(judged.stderr)")
        #expect(workspace.ledgerSnapshot() == before)
    }

    @Test("an edited environments row does not let rollback write an entry replay rejects: exit 3, nothing written")
    func editedEnvironmentDoesNotLetRollbackWrite() throws {
        let workspace = Workspace()
        _ = try prepare(workspace)
        let breakGlass = ["--break-glass", "--reason", "first release", "--approver", "dana@example.com"]
        var seqs: [Double] = []
        for label in ["support-agent@1.0.0", "support-agent@2.0.0"] {
            let started = try workspace.runJSON(
                ["deploy", "start", label, "--env", "prod", "--strategy", "blue-green", "--json"] + breakGlass)
            seqs.append(try #require(started["seq"]?.numberValue))
        }
        // 2.0.0 serves everything; the row is made to say 1.0.0 still does.
        try edit(
            workspace, "UPDATE environments SET state = (SELECT state FROM traffic_events WHERE seq = \(Int(seqs[0])))")
        let before = workspace.ledgerSnapshot()
        let refused = try workspace.run(
            ["rollback", "--env", "prod", "--to", "support-agent@2.0.0", "--reason", "bad prompt"])
        #expect(refused.status == 3, "\(refused.stdout) \(refused.stderr)")
        #expect(refused.stderr.contains("environments row of prod"), "\(refused.stderr)")
        #expect(workspace.ledgerSnapshot() == before)
        // The entries still replay; the table is what was changed.
        let verify = try workspace.run(["verify", "--json"])
        #expect(verify.status == 3 && verify.stdout.contains("projection"), "\(verify.stdout)")
        #expect(try workspace.run(["reindex"]).status == 0)
        #expect(try workspace.run(["verify"]).status == 0)
        let rollback = try workspace.run(["rollback", "--env", "prod", "--reason", "bad prompt"])
        #expect(rollback.status == 0, "after reindex the rollback goes to 1.0.0: \(rollback.stderr)")
    }
}
