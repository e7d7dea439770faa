import Foundation
import PurserLedger
import Testing

/// Errors about a request's parameter name it as the user gave it: the command line (locally or through `--server`)
/// as its flag, the server's JSON as the request field, with a template a client can name it from.
@Suite("errors name parameters as each transport's user gives them")
struct ParameterNamingTests {
    @Test("rollback without an earlier version: --to on the command line and through --server, version in the JSON")
    func rollbackTarget() throws {
        let workspace = Workspace()
        try workspace.recordTwoVersions()
        let deploy = [
            "deploy", "start", "agent@1", "--env", "prod", "--strategy", "blue-green", "--break-glass", "--reason",
            "test", "--approver", "tests",
        ]
        try #require(try workspace.run(deploy).status == 0)
        let before = workspace.ledgerSnapshot()[0]
        let rollback = ["rollback", "--env", "prod", "--reason", "errors doubled"]
        let expected = "prod has no earlier version that had all traffic; name the version to go back to (--to)"
        let local = try workspace.run(rollback)
        #expect(local.status == 65 && local.stderr == "purser: error: \(expected)\n", "\(local.stderr)")

        let token = try workspace.token("writer", name: "ci")
        let server = try RunningServer(in: workspace)
        defer { _ = server.stop() }
        let remote = try workspace.run(rollback, environment: ["PURSER_SERVER": server.url, "PURSER_TOKEN": token])
        #expect(remote.status == 65 && remote.stderr == local.stderr, "\(remote.stderr)")

        let body = #"{"change":"rollback","env":"prod","reason":"errors doubled"}"#
        let answer = http(
            "POST", server.url + "/v1/deployments/change", token: "Bearer " + token, body: Data(body.utf8))
        let error = try workspace.json(answer.body)["error"]
        #expect(answer.status == 422, "\(answer.status) \(answer.body)")
        #expect(
            error?["message"]?.stringValue
                == "prod has no earlier version that had all traffic; name the version to go back to (version)")
        #expect(
            error?["template"]?.stringValue
                == "prod has no earlier version that had all traffic; name the version to go back to ({version})")
        // Every refusal writes nothing: the file is as it was, and the server's write-ahead log holds nothing.
        let after = workspace.ledgerSnapshot()
        #expect(after[0] == before && (after[1] ?? Data()).isEmpty)
    }

    @Test("a field named in kebab case on the command line: --effective-at in the future")
    func effectiveAt() throws {
        let workspace = Workspace()
        try workspace.recordTwoVersions()
        let result = try workspace.run([
            "deploy", "start", "agent@1", "--env", "prod", "--strategy", "blue-green", "--break-glass", "--reason",
            "test", "--approver", "tests", "--effective-at", "2999-01-01T00:00:00Z",
        ])
        #expect(result.status == 65, "\(result.stderr)")
        #expect(result.stderr.hasPrefix("purser: error: --effective-at 2999-01-01T00:00:00.000Z is in the future"))
    }
}
