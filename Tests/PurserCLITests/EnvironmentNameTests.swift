import Foundation
import PurserLedger
import Testing

/// An environment name (`--env`, a request's `env`) is checked where it enters: a name that breaks the rule is
/// refused by the command with 64 and the rule, and by the server with 400 naming the field, before anything is
/// written; a good name still works.
@Suite struct EnvironmentNameTests {
    /// The rule as every refusal states it.
    static let rule = "must be 1 to 64 lowercase letters, digits, '.', '_' or '-', starting with a letter or digit"

    /// Commands given a malformed `--env`.
    static let commands: [[String]] = [
        [
            "deploy", "start", "support-agent@1.0.0", "--env", "Prod", "--strategy", "blue-green", "--break-glass",
            "--reason", "test", "--approver", "tests",
        ],
        ["deploy", "promote", "--env", "Prod"],
        ["rollback", "drill", "--env", "Prod", "--from", "a@1", "--to", "a@2", "--result", "passed"],
        ["status", "--env", "Prod"],
        ["at", "now", "--env", "../prod"],
        ["history", "--env", "prod env"],
        ["check", "--version", "support-agent@1.0.0", "--env", "Prod"],
        ["canary", "judge", "--env", "_prod", "--config", "canary.yaml"],
        ["metrics", "report", "--env", String(repeating: "a", count: 65)],
        ["audit", "--env", "prod", "--env", "Prod", "--format", "md", "--out", "report.md"],
    ]

    @Test("a malformed --env is refused with 64 and the rule, and nothing is written", arguments: commands)
    func commandRefusesAMalformedName(_ arguments: [String]) throws {
        let workspace = Workspace()
        try workspace.initLedger()
        let before = workspace.ledgerSnapshot()
        let result = try workspace.run(arguments)
        #expect(result.status == 64, "\(result.stderr)")
        expectOneErrorLine(result)
        #expect(result.stderr.contains("'--env <env>'"), "\(result.stderr)")
        #expect(result.stderr.contains(Self.rule), "\(result.stderr)")
        #expect(result.stdout.isEmpty)
        #expect(workspace.ledgerSnapshot() == before)
        #expect(!FileManager.default.fileExists(atPath: workspace.file("report.md")))
    }

    /// Requests whose `env` is malformed: the route and the body.
    static let requests: [(route: String, body: String)] = [
        (
            "deployments/start",
            #"{"version":"support-agent@1.0.0","env":"Prod","strategy":"blue-green","breakGlassReason":"t","breakGlassApprover":"t"}"#
        ),
        ("deployments/change", #"{"change":"promote","env":"Prod"}"#),
        ("drills/record", #"{"env":"Prod","from":"a@1","to":"a@2","result":"passed"}"#),
        (
            "checklist/run",
            #"{"version":"a@1","env":"Prod","policy":{"source":"checklist.yaml","base64":""},"baseDirectory":".","files":{},"gathered":[]}"#
        ),
        ("status", #"{"env":"Prod"}"#),
        ("at", #"{"time":"now","env":"Prod"}"#),
    ]

    @Test("a malformed env in a request is refused with 400 naming the field and the rule", arguments: requests)
    func serverRefusesAMalformedName(_ route: String, _ body: String) throws {
        let workspace = Workspace()
        try workspace.initLedger()
        let token = "Bearer " + (try workspace.token("writer", name: "ci-runner"))
        let server = try RunningServer(in: workspace)
        let before = workspace.ledgerSnapshot()
        let answer = http("POST", server.url + "/v1/" + route, token: token, body: Data(body.utf8))
        let message = try workspace.json(answer.body)["error"]?["message"]?.stringValue ?? ""
        #expect(answer.status == 400, "\(answer.status) \(answer.body)")
        #expect(message.contains(#"env: \#(Self.rule) (e.g. prod), not "Prod""#), "\(message)")
        #expect(workspace.ledgerSnapshot() == before)
        #expect(server.stop() == 0)
    }

    @Test("GET /v1/status and /v1/at refuse a malformed env with 400; a good one is answered; OpenAPI states the rule")
    func queriesCheckTheName() throws {
        let workspace = Workspace()
        try workspace.initLedger()
        _ = try workspace.recordAgentVariant("1", label: "support-agent@1.0.0")
        let started = try workspace.run([
            "deploy", "start", "support-agent@1.0.0", "--env", "eu-west.prod_1", "--strategy", "blue-green",
            "--break-glass", "--reason", "test", "--approver", "tests",
        ])
        try #require(started.status == 0, "\(started.stderr)")
        let token = "Bearer " + (try workspace.token("reader", name: "auditor"))
        let server = try RunningServer(in: workspace)
        for path in ["/v1/status?env=Prod", "/v1/at?time=now&env=Prod"] {
            let answer = http("GET", server.url + path, token: token)
            let message = try workspace.json(answer.body)["error"]?["message"]?.stringValue ?? ""
            #expect(answer.status == 400, "\(path): \(answer.status) \(answer.body)")
            #expect(message.contains(#"env: \#(Self.rule) (e.g. prod), not "Prod""#), "\(path): \(message)")
        }
        for path in ["/v1/status?env=eu-west.prod_1", "/v1/at?time=now&env=eu-west.prod_1"] {
            let answer = http("GET", server.url + path, token: token)
            #expect(answer.status == 200, "\(path): \(answer.status) \(answer.body)")
            #expect(answer.body.contains(#""env":"eu-west.prod_1""#), "\(path): \(answer.body)")
        }
        let document = try workspace.json(http("GET", server.url + "/openapi.json").body)
        let schema = document["paths"]?["/v1/deployments/start"]?["post"]?["requestBody"]?["content"]?[
            "application/json"]?["schema"]
        #expect(
            schema?["properties"]?["env"]
                == .object(["type": .string("string"), "pattern": .string("^[a-z0-9][a-z0-9._-]{0,63}$")]),
            "\(String(describing: schema))")
        #expect(
            schema?["properties"]?["strategy"]?["enum"] != nil, "the members after env are still described")
        #expect(server.stop() == 0)
    }

    @Test("a good name works from the command line, as a plain string in the JSON")
    func goodNameWorks() throws {
        let workspace = Workspace()
        try workspace.initLedger()
        _ = try workspace.recordAgentVariant("1", label: "support-agent@1.0.0")
        let started = try workspace.run([
            "deploy", "start", "support-agent@1.0.0", "--env", "eu-west.prod_1", "--strategy", "blue-green",
            "--break-glass", "--reason", "test", "--approver", "tests", "--json",
        ])
        #expect(started.status == 0, "\(started.stderr)")
        #expect(try workspace.json(started.stdout)["env"] == .string("eu-west.prod_1"))
        let status = try workspace.runJSON(["status", "--env", "eu-west.prod_1", "--json"])
        #expect(status["environments"]?.arrayItems.first?["env"] == .string("eu-west.prod_1"))
        let at = try workspace.run(["at", "now", "--env", "eu-west.prod_1"])
        #expect(at.status == 0 && at.stdout.contains("eu-west.prod_1"), "\(at.stderr)")
    }
}
