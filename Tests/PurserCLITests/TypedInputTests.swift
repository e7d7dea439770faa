import Foundation
import PurserLedger
import Testing

/// An option or request field that takes one of a fixed list of names: a name outside the list is refused where it
/// enters, naming the option or field and every allowed name, and the OpenAPI document lists the names.
@Suite struct TypedInputTests {
    /// A command given a name outside its option's list, the option as the error names it, and the allowed names.
    static let commands: [(arguments: [String], option: String, allowed: [String])] = [
        (
            ["deploy", "start", "support-agent@1.0.0", "--env", "prod", "--strategy", "big-bang"],
            "--strategy <strategy>", ["blue-green", "canary", "shadow"]
        ),
        (
            ["rollback", "drill", "--env", "prod", "--from", "a@1", "--to", "a@2", "--result", "maybe"],
            "--result <result>", ["passed", "failed"]
        ),
        (
            ["eval", "record", "--version", "a@1", "--results", "results.json", "--format", "csv"],
            "--format <format>", ["json", "junit", "promptfoo"]
        ),
        (["metrics", "ingest", "tasks.jsonl", "--format", "xml"], "--format <format>", ["jsonl", "csv", "otlp"]),
        (["metrics", "report", "--by", "colour"], "--by <dimension>", ["task-type", "model"]),
        (["audit", "--format", "pdf"], "--format <format>", ["md", "html", "json"]),
        (["token", "create", "--role", "root", "--name", "x"], "--role <role>", ["reader", "writer", "admin"]),
    ]

    @Test("a name outside an option's list is refused with 64, the option and the allowed names", arguments: commands)
    func commandRefusesAnUnknownName(_ arguments: [String], _ option: String, _ allowed: [String]) throws {
        let workspace = Workspace()
        try workspace.initLedger()
        workspace.write("tasks.jsonl", "")
        workspace.write("results.json", #"{"cases": []}"#)
        let before = workspace.ledgerSnapshot()
        let result = try workspace.run(arguments)
        #expect(result.status == 64, "\(result.stderr)")
        expectOneErrorLine(result)
        #expect(result.stderr.contains("'\(option)'"), "\(result.stderr)")
        for name in allowed { #expect(result.stderr.contains("'\(name)'"), "\(name): \(result.stderr)") }
        #expect(result.stdout.isEmpty)
        #expect(workspace.ledgerSnapshot() == before)
    }

    /// A request (JSON) whose `field` holds "bogus", a name outside its list, and the allowed names.
    static let requests: [(route: String, field: String, body: String, allowed: [String])] = [
        (
            "deployments/start", "strategy", #"{"version":"support-agent@1.0.0","env":"prod","strategy":"bogus"}"#,
            ["blue-green", "canary", "shadow"]
        ),
        (
            "drills/record", "result", #"{"env":"prod","from":"a@1","to":"a@2","result":"bogus"}"#,
            ["passed", "failed"]
        ),
        (
            "evaluations/record", "format",
            #"{"version":"a@1","results":{"source":"r.json","base64":""},"format":"bogus"}"#,
            ["json", "junit", "promptfoo"]
        ),
        (
            "metrics/ingest", "format", #"{"file":{"source":"t.jsonl","base64":""},"format":"bogus"}"#,
            ["jsonl", "csv", "otlp"]
        ),
        ("metrics/report", "by", #"{"versions":[],"by":"bogus"}"#, ["task-type", "model"]),
        (
            "deployments/change", "change", #"{"change":"bogus","env":"prod"}"#,
            ["shift", "promote", "drained", "abort", "rollback"]
        ),
    ]

    @Test(
        "a request field outside its list is refused with 400 naming the field and the allowed names, which the OpenAPI document lists",
        arguments: requests)
    func serverRefusesAnUnknownName(_ route: String, _ field: String, _ body: String, _ allowed: [String]) throws {
        let workspace = Workspace()
        try workspace.initLedger()
        let token = "Bearer " + (try workspace.token("writer", name: "ci-runner"))
        let server = try RunningServer(in: workspace)
        let before = workspace.ledgerSnapshot()
        let answer = http("POST", server.url + "/v1/" + route, token: token, body: Data(body.utf8))
        let message = try workspace.json(answer.body)["error"]?["message"]?.stringValue ?? ""
        #expect(answer.status == 400, "\(answer.status) \(answer.body)")
        let names = allowed.dropLast().joined(separator: ", ") + " or " + allowed.last!
        #expect(message.contains("\(field): must be \(names), not \"bogus\""), "\(message)")
        #expect(workspace.ledgerSnapshot() == before)

        let document = try workspace.json(http("GET", server.url + "/openapi.json").body)
        let schema = document["paths"]?["/v1/" + route]?["post"]?["requestBody"]?["content"]?["application/json"]?[
            "schema"]
        #expect(
            schema?["properties"]?[field]?["enum"] == .array(allowed.map { .string($0) }),
            "\(String(describing: schema))")
        #expect(server.stop() == 0)
    }
}
