import Foundation
import PurserLedger
import Testing

/// What a writer sends that the CLI never does, beside `WriterValidationTests`: the same refusal or verdict
/// locally and through `purser serve`, and refusals that name the field.
@Suite("writers get the CLI's verdicts and refusals")
struct WriterFieldTests {
    /// A `checklist/run` request with the template's policy and `queue` as the queue probe's answer.
    private static func checklistRun(queue answer: String, observedAt: String?) throws -> Data {
        let policy = try String(contentsOf: agentTemplates.appendingPathComponent("checklist.yaml"), encoding: .utf8)
        func file(_ text: String, source: String) -> [String: Any] {
            ["source": source, "base64": Data(text.utf8).base64EncodedString()]
        }
        var queue: [String: Any] = [
            "source": "command:sh evidence/queue-probe.sh", "contents": file(answer, source: "queue"), "value": answer,
        ]
        if let observedAt { queue["observedAt"] = observedAt }
        let dashboard: [String: Any] = [
            "source": "file:evidence/dashboard.json", "contents": file("{}", source: "dashboard.json"),
            "value": "{}", "observedAt": Timestamp.format(Date()),
        ]
        let request: [String: Any] = [
            "version": "support-agent@1.0.0", "env": "prod", "policy": file(policy, source: "checklist.yaml"),
            "baseDirectory": ".", "files": templatePolicyFiles(), "gathered": [queue, dashboard],
        ]
        return try JSONSerialization.data(withJSONObject: request)
    }

    @Test(
        "a queue answer whose own observed_at is out of range is an ERROR through the server, as purser check makes it"
    )
    func outOfRangeObservedAtIsAnError() throws {
        let workspace = Workspace()
        try workspace.initLedger()
        _ = try workspace.recordAgentVariant("1", label: "support-agent@1.0.0")
        // Locally: the probe answers with the time, and the check is an ERROR.
        try FileManager.default.copyItem(atPath: agentTemplates.path, toPath: workspace.file("release"))
        let stamp = "9999-12-31T23:30:00-01:00"
        workspace.write(
            "release/evidence/queue-probe.sh",
            #"echo '{"capacity":100,"consumers":3,"depth":5,"observed_at":"\#(stamp)","oldest_age_s":10}'"# + "\n")
        let local = try workspace.run(
            [
                "check", "--version", "support-agent@1.0.0", "--env", "prod", "--policy", "release/checklist.yaml",
                "--json",
            ])
        let localQueue = try workspace.json(local.stdout)["checks"]?.arrayItems.first {
            $0["id"]?.stringValue == "queue-healthy"
        }
        #expect(localQueue?["verdict"]?.stringValue == "error", "\(local.stdout) \(local.stderr)")

        // Through the server, the same answer sent as evidence gathered without fault.
        let token = "Bearer " + (try workspace.token("writer", name: "ci-runner"))
        let server = try RunningServer(in: workspace)
        let answer = #"{"capacity":100,"consumers":3,"depth":5,"observed_at":"\#(stamp)","oldest_age_s":10}"#
        for observedAt: String? in ["9999-12-31T23:59:59.999Z", nil] {
            let reply = http(
                "POST", server.url + "/v1/checklist/run", token: token,
                body: try Self.checklistRun(queue: answer, observedAt: observedAt))
            let document = try JSONValue(parsing: Array(reply.body.utf8))
            let checks: [JSONValue] = document["json"]?["checks"]?.arrayItems ?? []
            let queue: JSONValue? = checks.first { $0["id"]?.stringValue == "queue-healthy" }
            #expect(queue?["verdict"]?.stringValue == "error", "\(reply.status) \(reply.body)")
            let reason: String = queue?["reason"]?.stringValue ?? ""
            #expect(reason.contains("not an RFC 3339 time"), "\(reply.body)")
        }
        #expect(server.stop() == 0)
        #expect(try workspace.run(["verify"]).status == 0)
    }

    @Test("a body that sets recorded_by is refused by purser append locally, naming the file or line")
    func recordedByIsRefusedLocally() throws {
        let workspace = Workspace()
        try workspace.initLedger()
        let before = try workspace.entryCount()
        workspace.write("note.json", #"{"recorded_by":"a","text":"hi"}"#)
        workspace.write("notes.jsonl", "{\"n\":1}\n{\"recorded_by\":\"a\"}\n")
        let body = try workspace.run(["append", "--kind", "custom.note", "--body", "note.json"])
        #expect(body.status == 65 && body.stderr.contains("recorded_by is set by the ledger"), "\(body.stderr)")
        let lines = try workspace.run(["append", "--kind", "custom.note", "--lines", "notes.jsonl"])
        #expect(lines.status == 65 && lines.stderr.contains("line 2"), "\(lines.stderr)")
        #expect(try workspace.entryCount() == before)
    }

    @Test("an agent name with control characters or over 128 bytes is refused by version record, naming the field")
    func agentNameIsRefusedLocally() throws {
        let workspace = Workspace()
        try workspace.initLedger()
        let manifest = try workspace.copyAgentTemplate()
        let original = workspace.read(manifest)
        for agent in [#""a\nb\e[31m""#, String(repeating: "a", count: 129)] {
            workspace.write(
                manifest, original.replacingOccurrences(of: "agent: support-agent", with: "agent: \(agent)"))
            let result = try workspace.run(["version", "record", manifest])
            #expect(result.status == 65 && result.stderr.contains("agent: "), "\(agent): \(result.stderr)")
        }
        #expect(try workspace.entryCount() == 1)
    }

    @Test(
        "a number that does not fit its field is refused naming the field and the type",
        arguments: [
            (#"{"from":-1,"limit":10}"#, "from: expected a whole number ≥ 0, not -1"),
            (#"{"from":0,"limit":1.5}"#, "limit: expected a whole number, not 1.5"),
            (#"{"from":1e300,"limit":10}"#, "from: expected a whole number ≥ 0, not 1e+300"),
        ])
    func numberOutOfItsFieldIsNamed(body: String, expected: String) throws {
        let workspace = Workspace()
        try workspace.initLedger()
        let token = "Bearer " + (try workspace.token("reader", name: "auditor"))
        let server = try RunningServer(in: workspace)
        let reply = http("POST", server.url + "/v1/entries", token: token, body: Data(body.utf8))
        #expect(reply.status == 400 && reply.body.contains(expected), "\(reply.status) \(reply.body)")
        #expect(server.stop() == 0)
    }
}

/// The files the template's checklist policy names, as `purser check` sends them.
func templatePolicyFiles() -> [String: Any] {
    var files: [String: Any] = [:]
    for name in ["model-pins.yaml", "runbooks/rollback.md", "canary.yaml"] {
        let bytes = (try? Data(contentsOf: agentTemplates.appendingPathComponent(name))) ?? Data()
        files[name] = ["source": "./" + name, "base64": bytes.base64EncodedString()]
    }
    return files
}
