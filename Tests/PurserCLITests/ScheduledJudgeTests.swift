import Foundation
import PurserLedger
import Testing

/// `purser serve` judging canary rollouts on its own (`judge-every` in the configuration a deployment names).
@Suite("purser serve judges canaries on a schedule")
struct ScheduledJudgeTests {
    /// A canary configuration; `judgeEvery` adds `judge-every`.
    static func config(judgeEvery: String?) -> String {
        """
        steps: [10, 50, 100]
        min-sample-size: 200
        metrics:
          - {name: error_rate, statistic: rate, bad: increase, max-absolute-change: 0.01, critical: true}
          - {name: quality, statistic: mean, bad: decrease, max-relative-change: 0.05, min-sample-size: 50}
        scoring: {pass: 0.9, marginal: 0.5}
        auto-rollback: true
        """ + (judgeEvery.map { "\njudge-every: \($0)\n" } ?? "\n")
    }

    /// agent@1 and agent@2 recorded, agent@1 serving `envs` since two hours ago; `canary.yaml` (judge-every: 1s)
    /// and `plain.yaml` (none) written.
    func prepare(_ workspace: Workspace, envs: [String] = ["prod"]) throws {
        try workspace.recordTwoVersions()
        for env in envs {
            let started = try workspace.run(
                [
                    "deploy", "start", "agent@1", "--env", env, "--strategy", "blue-green",
                    "--effective-at", Timestamp.format(Date().addingTimeInterval(-7200)),
                ] + Self.glass)
            try #require(started.status == 0, "\(started.stderr)")
        }
        workspace.write("canary.yaml", Self.config(judgeEvery: "1s"))
        workspace.write("plain.yaml", Self.config(judgeEvery: nil))
    }

    static let glass = ["--break-glass", "--reason", "test", "--approver", "tests"]

    /// Tasks of both versions in `env`, started half an hour ago: errors in 2% of agent@1's and 6% of agent@2's.
    func writeTasks(_ workspace: Workspace, env: String, name: String) {
        let started = Timestamp.format(Date().addingTimeInterval(-1800))
        var lines: [String] = []
        for index in 0..<2000 {
            let canary = index % 2 == 1
            let error = (index / 2) % 1000 < (canary ? 60 : 20)
            let quality = index % 5 == 0 ? #","quality":0.\#(80 + index % 10)"# : ""
            lines.append(
                #"{"task_id":"\#(env)-t\#(index)","version":"\#(canary ? "agent@2" : "agent@1")","env":"\#(env)","started_at":"\#(started)","duration_ms":\#(900 + index % 200),"completed":true,"error":\#(error)\#(quality)}"#
            )
        }
        workspace.write(name, lines.joined(separator: "\n"))
    }

    /// The canary deployment of agent@2 to `env` an hour ago (before the tasks started), naming `config`.
    func deployCanary(_ workspace: Workspace, env: String, config: String, server: [String: String]) throws {
        let started = try workspace.run(
            [
                "deploy", "start", "agent@2", "--env", env, "--strategy", "canary", "--canary-config", config,
                "--effective-at", Timestamp.format(Date().addingTimeInterval(-3600)),
            ] + Self.glass, environment: server)
        try #require(started.status == 0, "\(started.stderr)")
    }

    /// The entries of `kind` (`{v, seq, at, kind, prev, body}`), from `purser log --json`.
    func entries(_ workspace: Workspace, kind: String, server: [String: String]) throws -> [JSONValue] {
        let log = try workspace.run(["log", "--kind", kind, "--json"], environment: server)
        try #require(log.status == 0, "\(log.stderr)")
        return try log.stdout.split(separator: "\n").map { line in
            try JSONValue(parsing: try #require(try JSONValue(parsing: String(line))["entry"]?.stringValue))
        }
    }

    /// Polls `done` until it holds or 30 s pass: the server judges in real time, a second after the rollout
    /// starts.
    func waitFor(_ what: String, _ done: () throws -> Bool) throws {
        let deadline = Date().addingTimeInterval(30)
        while try !done() {
            try #require(Date() < deadline, "waited 30 s for \(what)")
            usleep(100_000)  // polling the server's judgement: real time itself
        }
    }

    @Test func theServerJudgesACanaryWithTripleTheErrorsRollsItBackAndRunsTheHook() throws {
        let workspace = Workspace()
        try prepare(workspace)
        let token = try workspace.token("writer", name: "ci")
        let server = try RunningServer(
            in: workspace,
            arguments: ["--on-rollback", #"echo "$PURSER_ENV $PURSER_BASELINE $PURSER_CANARY" > hook.out"#])
        let client = ["PURSER_SERVER": server.url, "PURSER_TOKEN": token]
        writeTasks(workspace, env: "prod", name: "tasks.jsonl")
        let ingest = try workspace.run(["metrics", "ingest", "tasks.jsonl"], environment: client)
        try #require(ingest.status == 0, "\(ingest.stderr)")
        try deployCanary(workspace, env: "prod", config: "canary.yaml", server: client)

        // No further command: the server judges the rollout, rolls it back and runs the hook.
        try waitFor("the hook") { !workspace.read("hook.out").isEmpty }
        let judged = try entries(workspace, kind: "canary.judged", server: client)
        try #require(judged.count == 1, "\(judged)")
        let body = try #require(judged[0]["body"])
        #expect(body["verdict"] == .string("rollback"))
        #expect(body["recorded_by"] == .string("purser serve (judge-every)"), "\(body)")
        #expect(body["config"]?["file"] == .string("canary.yaml"))
        let errorRate = body["metrics"]?.arrayItems.first { $0["metric"] == .string("error_rate") }
        #expect(errorRate?["label"] == .string("regression"), "rolled back for the errors, not for want of data")
        let rollbacks = try entries(workspace, kind: "rollback.performed", server: client)
        #expect(
            rollbacks.count == 1 && rollbacks.first?["seq"]?.numberValue == judged[0]["seq"]?.numberValue.map { $0 + 1 }
        )
        let hook = workspace.read("hook.out").split(separator: " ").map(String.init)
        #expect(hook.count == 3 && hook[0] == "prod" && hook[1] == body["baseline"]?.stringValue)
        #expect(hook[2].trimmingCharacters(in: .newlines) == body["canary"]?.stringValue)
        #expect(server.stop() == 0)
        #expect(try workspace.run(["verify"]).status == 0)
        let help = try workspace.run(["serve", "--help"])
        #expect(help.stdout.contains("--no-judge") && help.stdout.contains("--on-rollback"), "\(help.stdout)")
    }

    @Test func aFailingHookIsLoggedAndCountedAndTheRollbackStaysRecorded() throws {
        let workspace = Workspace()
        try prepare(workspace)
        let token = try workspace.token("writer", name: "ci")
        let server = try RunningServer(in: workspace, arguments: ["--on-rollback", "exit 3"])
        let client = ["PURSER_SERVER": server.url, "PURSER_TOKEN": token]
        writeTasks(workspace, env: "prod", name: "tasks.jsonl")
        #expect(try workspace.run(["metrics", "ingest", "tasks.jsonl"], environment: client).status == 0)
        try deployCanary(workspace, env: "prod", config: "canary.yaml", server: client)

        try waitFor("the failed hook in /metrics") {
            http("GET", server.url + "/metrics").body.contains("purser_failed_rollback_hooks_total 1")
        }
        #expect(try entries(workspace, kind: "rollback.performed", server: client).count == 1)
        #expect(server.log.contains("--on-rollback exited 3"), "\(server.log)")
        #expect(server.stop() == 0)
    }

    @Test func aConfigurationWithoutJudgeEveryIsNeverJudgedByTheServer() throws {
        let workspace = Workspace()
        try prepare(workspace, envs: ["prod", "staging"])
        let token = try workspace.token("writer", name: "ci")
        let server = try RunningServer(in: workspace)
        let client = ["PURSER_SERVER": server.url, "PURSER_TOKEN": token]
        for env in ["prod", "staging"] {
            writeTasks(workspace, env: env, name: "\(env).jsonl")
            #expect(try workspace.run(["metrics", "ingest", "\(env).jsonl"], environment: client).status == 0)
        }
        try deployCanary(workspace, env: "prod", config: "plain.yaml", server: client)
        try deployCanary(workspace, env: "staging", config: "canary.yaml", server: client)

        // Staging's judgement shows the server looked at prod's rollout (deployed first) and passed it over.
        try waitFor("staging's judgement") { try !entries(workspace, kind: "canary.judged", server: client).isEmpty }
        let judged = try entries(workspace, kind: "canary.judged", server: client)
        #expect(judged.map { $0["body"]?["env"]?.stringValue } == ["staging"])
        let status = try workspace.json(
            try workspace.run(["status", "--env", "prod", "--json"], environment: client).stdout)
        #expect("\(status)".contains("canary"), "prod's canary rollout is still in progress: \(status)")
    }

    static let refusals: [(strategy: String, config: String, status: Int32, mentions: String)] = [
        ("blue-green", "canary.yaml", 64, "--canary-config"),
        ("shadow", "canary.yaml", 64, "--canary-config"),
        ("canary", "bad-steps.yaml", 65, "do not increase strictly"),
        ("canary", "too-often.yaml", 65, "judge-every"),
        ("canary", "never.yaml", 65, "judge-every"),
        ("canary", "none.yaml", 66, "none.yaml"),
    ]

    @Test(
        "a canary configuration with another strategy, or one that does not pass its checks, is refused and writes nothing, locally and through the server",
        arguments: refusals)
    func refused(_ strategy: String, _ config: String, _ status: Int32, _ mentions: String) throws {
        let workspace = Workspace()
        try prepare(workspace)
        workspace.write(
            "bad-steps.yaml",
            workspace.read("canary.yaml").replacingOccurrences(of: "[10, 50, 100]", with: "[50, 10, 100]"))
        workspace.write("too-often.yaml", Self.config(judgeEvery: "500ms"))
        workspace.write("never.yaml", Self.config(judgeEvery: "often"))
        let deploy =
            ["deploy", "start", "agent@2", "--env", "prod", "--strategy", strategy, "--canary-config", config]
            + Self.glass
        let before = workspace.ledgerSnapshot()
        let local = try workspace.run(deploy)
        #expect(local.status == status && local.stderr.contains(mentions), "\(local.stderr)")
        #expect(workspace.ledgerSnapshot() == before)

        let token = try workspace.token("writer", name: "ci")
        let server = try RunningServer(in: workspace)
        let client = ["PURSER_SERVER": server.url, "PURSER_TOKEN": token]
        let entries = try workspace.run(["log", "--json"], environment: client).stdout
        let remote = try workspace.run(deploy, environment: client)
        #expect(remote.status == status && remote.stderr.contains(mentions), "\(remote.stderr)")
        #expect(try workspace.run(["log", "--json"], environment: client).stdout == entries)
    }

    @Test func verifyRehashesTheConfigurationADeploymentNames() throws {
        let workspace = Workspace()
        try prepare(workspace)
        try deployCanary(workspace, env: "prod", config: "canary.yaml", server: [:])
        let started = try #require(try entries(workspace, kind: "deployment.started", server: [:]).last)
        let named = started["body"]?["canary_config"]
        let digest = Hash.sha256(Array(workspace.read("canary.yaml").utf8))
        #expect(named == .object(["file": .string("canary.yaml"), "digest": .string(digest.hex)]))
        #expect(try workspace.run(["verify"]).status == 0)

        do {
            let connection = try Connection(path: workspace.ledgerPath, mode: .readWrite)
            try connection.execute("DROP TRIGGER artifacts_immutable_update")
            let update = try connection.prepare("UPDATE artifacts SET bytes = ? WHERE digest = ?")
            try update.bind(1, bytes: Array(Self.config(judgeEvery: "1h").utf8))
            try update.bind(2, bytes: digest.bytes)
            _ = try update.step()
        }
        let verify = try workspace.run(["verify", "--json"])
        #expect(verify.status == 3, "\(verify.stdout) \(verify.stderr)")
        let fault = try workspace.json(verify.stdout)["fault"]
        #expect(fault?["kind"] == .string("artifact") && fault?["seq"] == started["seq"], "\(verify.stdout)")
        #expect(fault?["detail"]?.stringValue?.contains("canary configuration of deployment") == true)
    }
}
