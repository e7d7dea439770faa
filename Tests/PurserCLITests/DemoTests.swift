import Foundation
import PurserLedger
import Testing

/// `purser demo`: the story of the example agent, from nothing to a verified ledger, with real commands.
@Suite struct DemoTests {
    /// The entries the story writes, by kind.
    static let storyKinds: [String: Int] = [
        "ledger.created": 1, "version.recorded": 3, "evaluation.recorded": 4, "checklist.evaluated": 5,
        "waiver.granted": 1, "deployment.started": 3, "rollback.drilled": 2, "metrics.summarized": 2,
        "canary.judged": 2, "rollback.performed": 1, "deployment.drained": 2, "deployment.promoted": 1,
    ]

    /// How many entries of each kind the workspace's ledger holds, from `purser log --json`.
    func kinds(in workspace: Workspace) throws -> [String: Int] {
        let log = try workspace.run(["log", "--json"])
        #expect(log.status == 0, "log failed: \(log.stderr)")
        var counts: [String: Int] = [:]
        for line in log.stdout.split(separator: "\n") {
            let kind = try #require(try workspace.json(String(line))["kind"]?.stringValue)
            counts[kind, default: 0] += 1
        }
        return counts
    }

    @Test func runsFromNothingToAVerifiedLedgerTheSameWayTwice() throws {
        var histograms: [[String: Int]] = []
        for _ in 1...2 {
            let workspace = Workspace()
            let demo = try workspace.run(["demo"])
            #expect(demo.status == 0, "the demo failed:\n\(demo.stdout)\n\(demo.stderr)")
            #expect(demo.stdout.contains("$ purser canary judge --env prod --config ledger/demo/canary.yaml"))
            #expect(demo.stdout.contains("ROLLBACK: score"))
            #expect(demo.stdout.contains("PROMOTE: score 1.00"))

            #expect(demo.stdout.contains("\naudit report: ledger/demo/audit.html\n"))
            let report = workspace.read("ledger/demo/audit.html")
            #expect(report.contains("support-agent@1.2.0"))
            #expect(report.contains("floating-model"), "1.0.0 shipped with a floating model id: the report's finding")

            let verify = try workspace.run(["verify", "--checkpoint", "ledger/demo/checkpoint"])
            #expect(verify.status == 0, "verify failed: \(verify.stdout) \(verify.stderr)")
            #expect(verify.stdout.hasPrefix("intact: 27 entries"))
            let status = try workspace.run(["status", "--env", "prod"])
            #expect(status.stdout.contains("(support-agent@1.2.0)       100%  serving"))
            histograms.append(try kinds(in: workspace))
        }
        #expect(histograms[0] == Self.storyKinds)
        #expect(histograms[1] == histograms[0])
    }

    /// With --ledger, every step names that ledger, and the work folder is beside it.
    @Test func aSecondDemoOnTheSameLedgerIsRefusedAndChangesNothing() throws {
        let workspace = Workspace()
        let ledger = "custom/purser.sqlite"
        let first = try workspace.run(["demo", "--ledger", ledger])
        #expect(first.status == 0, "the demo failed:\n\(first.stdout)\n\(first.stderr)")
        #expect(first.stdout.contains("$ purser deploy promote --env prod --ledger custom/purser.sqlite\n"))
        #expect(first.stdout.contains("  purser at now --ledger custom/purser.sqlite\n"))
        let files = [ledger, ledger + "-wal", "custom/purser.key", "custom/demo/checkpoint", "custom/demo/agent.yaml"]
        func snapshot() -> [Data?] { files.map { FileManager.default.contents(atPath: workspace.file($0)) } }
        let before = snapshot()
        #expect(before[0] != nil && before[3] != nil)

        let again = try workspace.run(["demo", "--ledger", ledger])
        #expect(again.status == 64)
        #expect(again.stdout.isEmpty)
        #expect(
            again.stderr.contains(
                "custom/purser.sqlite, custom/purser.key, custom/purser.pub, custom/demo already exist"))
        #expect(again.stderr.contains("remove them or pass --ledger PATH"))
        #expect(snapshot() == before)
    }

    @Test func anEarlierDemosWorkFolderIsRefusedBeforeALedgerIsCreated() throws {
        let workspace = Workspace()
        try FileManager.default.createDirectory(
            atPath: workspace.file("ledger/demo"), withIntermediateDirectories: true)
        let demo = try workspace.run(["demo"])
        #expect(demo.status == 64)
        #expect(demo.stderr.contains("ledger/demo already exists"))
        #expect(!FileManager.default.fileExists(atPath: workspace.ledgerPath))
    }

    /// The demo's steps run in its process and would follow PURSER_SERVER into a team's ledger.
    @Test func aServerInTheEnvironmentIsRefusedBeforeAnythingIsWritten() throws {
        let workspace = Workspace()
        for (arguments, environment) in [
            (["demo"], ["PURSER_SERVER": "http://127.0.0.1:9"]),
            (["demo", "--server", "http://127.0.0.1:9"], [:]),
        ] {
            let demo = try workspace.run(arguments, environment: environment)
            #expect(demo.status == 64, "\(arguments): \(demo.stderr)")
            #expect(demo.stderr.contains("never writes to a server: unset PURSER_SERVER"))
            #expect(!FileManager.default.fileExists(atPath: workspace.file("ledger")))
        }
    }

    @Test func missingTemplatesAreNotFound() throws {
        let workspace = Workspace()
        let demo = try workspace.run(["demo", "--templates", "nowhere", "--ledger", "elsewhere/purser.sqlite"])
        #expect(demo.status == 66)
        #expect(demo.stderr.contains("--templates nowhere"))
        #expect(!FileManager.default.fileExists(atPath: workspace.file("elsewhere")))
    }
}
