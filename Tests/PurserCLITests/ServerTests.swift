import Foundation
import PurserLedger
import Testing

#if canImport(FoundationNetworking)
    import FoundationNetworking
#endif

/// A `purser serve` process on a free loopback port, serving the ledger of a workspace.
final class RunningServer {
    let process = Process()
    let url: String
    let stderrPath: String

    /// Starts `purser serve --listen 127.0.0.1:0` in `workspace` and waits until it says where it listens.
    init(in workspace: Workspace, arguments: [String] = [], environment extra: [String: String] = [:]) throws {
        let outPath = workspace.file(".serve-\(UUID().uuidString).out")
        stderrPath = workspace.file(".serve-\(UUID().uuidString).err")
        for path in [outPath, stderrPath] { _ = FileManager.default.createFile(atPath: path, contents: nil) }
        process.executableURL = URL(fileURLWithPath: purserBinary)
        process.arguments = ["serve", "--listen", "127.0.0.1:0"] + arguments
        process.currentDirectoryURL = URL(fileURLWithPath: workspace.path)
        var environment = ProcessInfo.processInfo.environment
        for name in ["PURSER_LEDGER", "PURSER_KEY", "PURSER_SERVER", "PURSER_TOKEN", "PURSER_NOW"] {
            environment.removeValue(forKey: name)
        }
        environment.merge(extra) { $1 }
        process.environment = environment
        process.standardOutput = FileHandle(forWritingAtPath: outPath)
        process.standardError = FileHandle(forWritingAtPath: stderrPath)
        try process.run()
        let deadline = Date().addingTimeInterval(30)
        var found: String?
        while found == nil, Date() < deadline, process.isRunning {
            let text = String(decoding: FileManager.default.contents(atPath: outPath) ?? Data(), as: UTF8.self)
            found = text.firstMatch(of: /listening on (http:\/\/[0-9.]+:[0-9]+)/).map { String($0.1) }
            if found == nil { usleep(50_000) }  // polling the server's start: real time itself
        }
        guard let found else {
            process.terminate()
            throw ServerFailure(
                message:
                    "purser serve did not start: \(String(decoding: FileManager.default.contents(atPath: stderrPath) ?? Data(), as: UTF8.self))"
            )
        }
        url = found
    }

    deinit {
        if process.isRunning {
            process.terminate()
            process.waitUntilExit()
        }
    }

    /// What the server logged.
    var log: String { String(decoding: FileManager.default.contents(atPath: stderrPath) ?? Data(), as: UTF8.self) }

    /// Sends `signal` and waits for the process to end; returns its exit status.
    func stop(with signal: Int32 = SIGTERM) -> Int32 {
        kill(process.processIdentifier, signal)
        process.waitUntilExit()
        return process.terminationStatus
    }
}

struct ServerFailure: Error, CustomStringConvertible {
    let message: String
    var description: String { message }
}

/// One HTTP exchange, waited for: the status (0 if no answer came) and the body.
func http(
    _ method: String, _ url: String, token: String? = nil, contentType: String? = "application/json",
    body: Data? = nil
) -> (status: Int, body: String) {
    var request = URLRequest(url: URL(string: url)!, timeoutInterval: 60)
    request.httpMethod = method
    request.httpBody = body
    if let contentType, body != nil { request.setValue(contentType, forHTTPHeaderField: "Content-Type") }
    if let token { request.setValue(token, forHTTPHeaderField: "Authorization") }
    final class Box: @unchecked Sendable { var result: (Int, String) = (0, "") }
    let box = Box()
    let done = DispatchSemaphore(value: 0)
    URLSession.shared.dataTask(with: request) { data, response, _ in
        box.result = (
            (response as? HTTPURLResponse)?.statusCode ?? 0, String(decoding: data ?? Data(), as: UTF8.self)
        )
        done.signal()
    }.resume()
    done.wait()
    return box.result
}

extension Workspace {
    /// Creates a token with `role` named `name`; returns it.
    func token(_ role: String, name: String) throws -> String {
        let created = try run(["token", "create", "--role", role, "--name", name, "--json"])
        try #require(created.status == 0, "token create: \(created.stderr)")
        return try #require(try json(created.stdout)["token"]?.stringValue)
    }
}

@Suite("purser serve")
struct ServerTests {
    /// The release story as commands, run in `workspace` with `environment` (a server, or none).
    private func tellTheStory(in workspace: Workspace, environment: [String: String]) throws -> [RunResult] {
        var results: [RunResult] = []
        func step(_ arguments: [String]) throws {
            results.append(try workspace.run(arguments, environment: environment))
        }
        for variant in ["1", "2"] {
            let manifest = try workspace.copyAgentTemplate(to: "agent-\(variant)")
            workspace.write(
                "agent-\(variant)/agent/system-prompt.md",
                workspace.read("agent-\(variant)/agent/system-prompt.md") + "(\(variant))\n")
            try step(["version", "record", manifest, "--label", "support-agent@\(variant).0.0"])
        }
        workspace.write(
            "eval.json", #"{"suite":"refunds","cases":[{"name":"a","passed":true},{"name":"b","passed":true}]}"#)
        workspace.write("drill.log", "rolled back in 4 minutes\n")
        workspace.write("note.json", #"{"note":"release train 42"}"#)
        let breakGlass = ["--break-glass", "--reason", "first release", "--approver", "dana@example.com"]
        try step(["eval", "record", "--version", "support-agent@2.0.0", "--results", "eval.json", "--json"])
        // The checklist's policy and evidence are the client's files; the run is judged and recorded by the server.
        try FileManager.default.copyItem(atPath: agentTemplates.path, toPath: workspace.file("release"))
        let check = ["check", "--env", "prod", "--policy", "release/checklist.yaml"]
        try step([
            "eval", "record", "--version", "support-agent@1.0.0", "--results", "release/evidence/eval-results.json",
        ])
        try step(check + ["--version", "support-agent@1.0.0"])
        try step(["deploy", "start", "support-agent@1.0.0", "--env", "prod", "--strategy", "blue-green"])
        try step(check + ["--version", "support-agent@2.0.0", "--json", "--junit", "checks.xml"])
        results.append(RunResult(status: 0, stdout: workspace.read("checks.xml"), stderr: ""))
        // Not checked: the gate refuses (exit 1), with the same message either way.
        try step(["deploy", "start", "support-agent@2.0.0", "--env", "prod", "--strategy", "canary"])
        try step(["deploy", "start", "support-agent@9.9.9", "--env", "prod", "--strategy", "canary"])
        try step([
            "rollback", "drill", "--env", "prod", "--from", "support-agent@2.0.0", "--to", "support-agent@1.0.0",
            "--result", "passed", "--evidence", "drill.log",
        ])
        try step([
            "waive", "--version", "support-agent@2.0.0", "--check", "dashboards-updated", "--reason", "migration",
            "--approver", "dana@example.com", "--expires", "2099-01-01T00:00:00Z",
        ])
        try step(
            ["deploy", "start", "support-agent@2.0.0", "--env", "prod", "--strategy", "canary", "--weight", "10"]
                + breakGlass)
        try step(["deploy", "shift", "--env", "prod", "--weight", "50", "--json"])
        try step(["deploy", "promote", "--env", "prod"])
        try step(["deploy", "drained", "--env", "prod", "--version", "support-agent@1.0.0"])
        try step(["rollback", "--env", "prod", "--reason", "tool errors doubled"])
        try step(["append", "--kind", "custom.note", "--body", "note.json"])
        workspace.write("notes.jsonl", "{\"n\":1}\n{\"n\":2}\n")
        try step(["append", "--kind", "custom.note", "--lines", "notes.jsonl", "--json"])
        try step(["status"])
        try step(["status", "--env", "staging"])
        try step(["history", "--env", "prod", "--json"])
        try step(["proof", "inclusion", "--seq", "2"])
        try step(["checkpoint", "--out", "held.checkpoint"])
        try step(["verify", "--checkpoint", "held.checkpoint"])
        try step(["verify", "--json"])
        // Materialized files come from the ledger and are written here.
        try step(["version", "materialize", "support-agent@2.0.0", "--out", "restored"])
        let restored = try FileManager.default.contentsOfDirectory(atPath: workspace.file("restored")).sorted()
        results.append(
            RunResult(
                status: 0,
                stdout: restored.map { "\($0) \(workspace.read("restored/\($0)").utf8.count)" }.joined(separator: "\n"),
                stderr: ""))
        // The report is made where the ledger is, with this side's templates, and written here.
        try step(["audit", "--format", "md", "--out", "report.md", "--checkpoint", "held.checkpoint"])
        let written = ["report.md", "report.timeline.svg"].map { workspace.read($0).isEmpty ? "missing" : "written" }
        results.append(RunResult(status: 0, stdout: written.joined(separator: " "), stderr: ""))
        return results
    }

    /// Effective times, entry times and hashes (of entries, and of the queue probe's output, which holds its
    /// time) differ between two runs of the same story, as do the workspaces' paths; and entries the server
    /// wrote name their token (`recorded_by`, which `history --json` shows); nothing else may.
    private func normalized(_ text: String) -> String {
        text.replacing(/\/[^ "]*purser-e2e-[0-9A-F-]+/, with: "<workspace>").replacing(
            /\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z/, with: "<time>"
        )
        .replacing(/[0-9a-f]{64}/, with: "<hash>").replacing(/sha256:[0-9a-f]{16}/, with: "sha256:<hash>")
        .replacing(#""recorded_by":"ci-runner","#, with: "").replacing(#","recorded_by":"ci-runner""#, with: "")
    }

    @Test("the release story through --server prints the same, exits the same and leaves the same ledger as locally")
    func storyThroughServerMatchesLocal() throws {
        let local = Workspace()
        try local.initLedger()
        let localResults = try tellTheStory(in: local, environment: [:])

        let remote = Workspace()
        try remote.initLedger()
        let token = try remote.token("writer", name: "ci-runner")
        let server = try RunningServer(in: remote)
        // The client's files live elsewhere: the server reads nothing but its own ledger.
        let client = Workspace()
        let remoteResults = try tellTheStory(
            in: client, environment: ["PURSER_SERVER": server.url, "PURSER_TOKEN": token])

        #expect(localResults.map(\.status) == remoteResults.map(\.status))
        #expect(localResults.map(\.status).contains(1) && localResults.map(\.status).contains(66))
        #expect(
            localResults[4].stdout.contains("ALLOWED"),
            "the first version's checklist passes: \(localResults[4].stdout)")
        #expect(remoteResults.last?.stdout == "written written", "the audit report and its picture, on the client")
        for (index, (here, there)) in zip(localResults, remoteResults).enumerated() {
            #expect(normalized(here.stdout) == normalized(there.stdout), "step \(index): stdout differs")
            #expect(here.stderr == there.stderr, "step \(index): stderr differs")
        }
        // An auditor with a reader token exports the server's ledger: the same bundle as the server's own export.
        let auditor = try remote.token("reader", name: "auditor")
        let exported = try client.run(
            ["export", "--out", "bundle"], environment: ["PURSER_SERVER": server.url, "PURSER_TOKEN": auditor])
        #expect(exported.status == 0, "\(exported.stderr)")
        #expect(server.stop() == 0)
        let pinned = try client.run(["verify-bundle", "bundle", "--key", remote.file("ledger/purser.pub")])
        #expect(pinned.status == 0, "\(pinned.stdout) \(pinned.stderr)")
        #expect(try remote.run(["export", "--out", "bundle"]).status == 0)
        for file in ["entries.jsonl", "checkpoint", "key.pub"] {
            #expect(client.read("bundle/" + file) == remote.read("bundle/" + file), "\(file) differs")
        }

        func kinds(_ workspace: Workspace) throws -> [String] {
            let log = try workspace.run(["log", "--json"])
            return try log.stdout.split(separator: "\n").map {
                try workspace.json(String($0))["kind"]?.stringValue ?? "?"
            }
        }
        #expect(try kinds(local) == kinds(remote))
        #expect(try local.run(["verify"]).status == 0)
        #expect(try remote.run(["verify"]).status == 0)
        // Every entry the server wrote names the token that asked for it.
        let log = try remote.run(["log", "--json"]).stdout.split(separator: "\n").dropFirst()
        #expect(!log.isEmpty)
        for line in log {
            let entry = try JSONValue(parsing: Array(try remote.json(String(line))["entry"]!.stringValue!.utf8))
            #expect(entry["body"]?["recorded_by"]?.stringValue == "ci-runner", "\(line)")
        }
    }

    /// Four weeks of agent@1 tasks before 2020-10-29 whose mean quality falls 2% a week, and of agent@2 tasks whose
    /// quality only wobbles, as `metrics ingest` reads them.
    private func qualityOverFourWeeks() -> String {
        let start = Timestamp.parse("2020-10-01T00:00:00Z")!
        var lines: [String] = []
        for day in 0..<28 {
            let wobble = day % 2 == 0 ? 0.004 : -0.004
            for (version, quality) in [("agent@1", 0.85 * (1 - 0.02 * Double(day) / 7)), ("agent@2", 0.85)] {
                for task in 0..<20 {
                    let time = Timestamp.format(start.addingTimeInterval(Double(day) * 86_400 + Double(task) * 60))
                    lines.append(
                        #"{"task_id":"\#(version)-\#(day)-\#(task)","version":"\#(version)","env":"prod","started_at":"\#(time)","duration_ms":100,"completed":true,"error":false,"quality":\#(quality + wobble)}"#
                    )
                }
            }
        }
        return lines.joined(separator: "\n")
    }

    @Test(
        "version show|list|diff, log, metrics report|drift, shadow compare and canary judge print and exit the same through --server as locally, and --on-rollback runs on the client"
    )
    func queriesAndJudgementsThroughServerMatchLocal() throws {
        let local = Workspace()
        let canary = CanaryCommandTests()
        try canary.prepare(local)
        canary.tasks(local, baselineErrors: 20, canaryErrors: 60)
        local.write("quality.jsonl", qualityOverFourWeeks())
        for file in ["tasks.jsonl", "quality.jsonl"] {
            let ingest = try local.run(["metrics", "ingest", file])
            try #require(ingest.status == 0, "\(file): \(ingest.stderr)")
        }
        // The shadow is better on quality and costs more on every request.
        local.write(
            "pairs.jsonl",
            (0..<30).map { index in
                #"{"request_id":"r\#(index)","primary":{"quality":0.8\#(index % 10),"cost_usd":0.010},"shadow":{"quality":0.9\#(index % 10),"cost_usd":0.0\#(12 + index % 5)}}"#
            }.joined(separator: "\n"))

        // The server serves a copy of this ledger; its client holds nothing but the files the commands read.
        let remote = Workspace()
        try FileManager.default.copyItem(atPath: local.file("ledger"), toPath: remote.file("ledger"))
        let token = try remote.token("writer", name: "ci-runner")
        let server = try RunningServer(in: remote)
        let client = Workspace()
        for file in ["canary.yaml", "pairs.jsonl"] { client.write(file, local.read(file)) }

        let until = ["--until", "2020-10-29T00:00:00Z"]
        let shadow = ["shadow", "compare", "--env", "prod", "--primary", "agent@1", "--shadow", "agent@2", "--pairs"]
        let judge = ["canary", "judge", "--env", "prod", "--config"]
        let hook = #"echo "$PURSER_ENV $PURSER_BASELINE $PURSER_CANARY" > hook.out; echo hook ran"#
        // The reads come first: they print entry times and bodies, which the writes below make differ.
        let commands: [(arguments: [String], status: Int32)] = [
            (["version", "list"], 0), (["version", "list", "--json"], 0), (["version", "show", "agent@2"], 0),
            (["version", "show", "agent@1", "--json"], 0), (["version", "show", "agent@9"], 66),
            (["version", "diff", "agent@1", "agent@2"], 0), (["version", "diff", "agent@1", "agent@2", "--json"], 0),
            (["version", "diff", "agent@2", "agent@2"], 0),
            (["log"], 0), (["log", "--json"], 0),
            (["log", "--kind", "deployment.started", "--limit", "1", "--json"], 0),
            (["log", "--since", "2000-01-01", "--until", "2999-01-01T00:00:00Z"], 0), (["log", "--since", "soon"], 64),
            (["metrics", "report"], 0), (["metrics", "report", "--version", "agent@1", "--version", "agent@2"], 0),
            (["metrics", "report", "--env", "prod", "--by", "task-type", "--json"], 0),
            (["metrics", "report", "--since", "2999-01-01"], 0),
            (["metrics", "drift"] + until, 1), (["metrics", "drift", "--json"] + until, 1),
            (["metrics", "drift", "--metric", "error_rate", "--window", "4w"] + until, 0),
            (["metrics", "drift", "--window", "2x"], 64),
            (shadow + ["pairs.jsonl"], 1), (shadow + ["pairs.jsonl", "--json"], 1), (shadow + ["none.jsonl"], 66),
            // Not the rollout in progress, so never rolled back: held (quality worse, errors better).
            (judge + ["canary.yaml", "--baseline", "agent@2", "--canary", "agent@1", "--json"], 2),
            (judge + ["missing.yaml"], 66), (judge + ["canary.yaml", "--on-rollback", hook], 1),
            (judge + ["canary.yaml"], 65),
        ]
        for (arguments, status) in commands {
            let here = try local.run(arguments)
            let there = try client.run(arguments, environment: ["PURSER_SERVER": server.url, "PURSER_TOKEN": token])
            #expect(here.status == status, "\(arguments) exits \(here.status) locally: \(here.stderr)")
            #expect(here.status == there.status, "\(arguments): exit \(here.status) locally, \(there.status) remotely")
            #expect(here.stdout == there.stdout, "\(arguments): stdout differs")
            #expect(here.stderr == there.stderr, "\(arguments): stderr differs")
            #expect(!(here.stdout + here.stderr).isEmpty, "\(arguments) printed nothing")
            if arguments.contains("--on-rollback") {
                #expect(there.stdout.contains(" as seq 11\nhook ran\n"), "the hook runs after the reply is printed")
            }
        }
        #expect(server.stop() == 0)

        // The hook ran where the command was typed, after the reply was printed, with the judged versions.
        let versions = try ["agent@1", "agent@2"].map { label in
            try #require(try local.json(try local.run(["version", "show", label, "--json"]).stdout)["id"]?.stringValue)
        }
        #expect(local.read("hook.out") == "prod \(versions[0]) \(versions[1])\n")
        #expect(client.read("hook.out") == local.read("hook.out"))
        #expect(!FileManager.default.fileExists(atPath: remote.file("hook.out")))
        // The writes reached the served ledger, which still verifies.
        for (kind, count) in [("shadow.compared", 2), ("canary.judged", 2), ("rollback.performed", 1)] {
            let entries = try remote.run(["log", "--kind", kind]).stdout.split(separator: "\n")
            #expect(entries.count == count, "\(kind): \(entries)")
        }
        #expect(try remote.run(["verify"]).status == 0)
    }

    @Test("missing, malformed, revoked and wrong-role tokens are refused with 401 or 403, and nothing is written")
    func authentication() throws {
        let workspace = Workspace()
        try workspace.initLedger()
        let writer = try workspace.token("writer", name: "ci-runner")
        let reader = try workspace.token("reader", name: "auditor")
        let revoked = try workspace.token("writer", name: "old-runner")
        #expect(try workspace.run(["token", "revoke", "--name", "old-runner"]).status == 0)
        let server = try RunningServer(in: workspace)
        let append = try JSONSerialization.data(withJSONObject: [
            "kind": "custom.note",
            "body": ["source": "note.json", "base64": Data(#"{"a":1}"#.utf8).base64EncodedString()],
        ])
        let url = server.url + "/v1/entries/append"
        let refusals: [(String?, Int)] = [
            (nil, 401), ("Bearer", 401), ("Bearer \(writer)x", 401), ("Basic \(writer)", 401),
            ("Bearer \(revoked)", 401), ("Bearer \(reader)", 403),
        ]
        for (header, status) in refusals {
            let answer = http("POST", url, token: header, body: append)
            #expect(answer.status == status, "\(header ?? "no header"): \(answer.body)")
            #expect(answer.body.contains(#""error":{"code":"#))
        }
        #expect(http("GET", server.url + "/v1/status", token: "Bearer \(reader)").status == 200)
        #expect(http("GET", server.url + "/healthz").body.contains(#""size":1"#), "nothing was appended")
        #expect(http("POST", url, token: "Bearer \(writer)", body: append).status == 200)
        #expect(http("GET", server.url + "/healthz").body.contains(#""size":2"#))
        // Rebuilding the query tables is an admin's, through the CLI too.
        let admin = try workspace.token("admin", name: "operator")
        let asWriter = try workspace.run(
            ["reindex"], environment: ["PURSER_SERVER": server.url, "PURSER_TOKEN": writer])
        #expect(asWriter.status == 64 && asWriter.stderr.contains("this needs admin"), "\(asWriter.stderr)")
        let asAdmin = try workspace.run(["reindex"], environment: ["PURSER_SERVER": server.url, "PURSER_TOKEN": admin])
        #expect(
            asAdmin.status == 0 && asAdmin.stdout.hasPrefix("rebuilt the query tables from 2 entries"),
            "\(asAdmin.stderr)")
        // Revoking a token applies to the next request, without a restart.
        #expect(try workspace.run(["token", "revoke", "--name", "ci-runner"]).status == 0)
        #expect(http("POST", url, token: "Bearer \(writer)", body: append).status == 401)
        let metrics = http("GET", server.url + "/metrics").body
        for series in [
            "purser_failed_auth_total 8", "purser_appends_total 1", "purser_tree_size 2", "purser_requests_total",
            "purser_request_duration_seconds_bucket",
        ] {
            #expect(metrics.contains(series), "/metrics lacks \(series): \(metrics.prefix(2000))")
        }
        #expect(server.stop() == 0)

        // A refusal's line says why, by its error code (never its message).
        #expect(
            server.log.split(separator: "\n").contains {
                $0.contains("status=401") && $0.contains("error=unauthorized")
            },
            "\(server.log.suffix(2000))")
        for token in [writer, reader, revoked] {
            #expect(!server.log.contains(token), "a token appears in the server's log")
            for path in [workspace.ledgerPath, workspace.ledgerPath + "-wal", workspace.file("ledger/purser.tokens")] {
                let bytes = FileManager.default.contents(atPath: path) ?? Data()
                #expect(bytes.range(of: Data(token.utf8)) == nil, "a token is stored in \(path)")
            }
        }
    }

    @Test("bad serve and token options are refused with their exit code and one line naming the problem")
    func refusals() throws {
        let workspace = Workspace()
        try workspace.initLedger()
        _ = try workspace.token("writer", name: "ci-runner")
        let ledger = workspace.ledgerSnapshot()
        let tokens = workspace.read("ledger/purser.tokens")
        let cases: [([String], Int32, String)] = [
            (["serve", "--listen", "nowhere"], 64, "--listen must be HOST:PORT"),
            (["serve", "--listen", "127.0.0.1:0", "--max-body", "0"], 64, "--max-body must be a positive number"),
            (["serve", "--listen", "127.0.0.1:0", "--ledger", "missing/purser.sqlite"], 66, "no ledger at"),
            (["serve", "--bogus"], 64, "(see purser serve --help)"),
            (["serve", "--otlp-window", "0"], 64, "--otlp-window must be a number of seconds above 0"),
            (["serve", "--otlp-batch-interval", "nan"], 64, "--otlp-batch-interval must be a number of seconds"),
            (["serve", "--otlp-max-pending", "0"], 64, "--otlp-max-pending must be a positive number of spans"),
            (["serve", "--otlp-tasks", "leaf"], 64, "--otlp-tasks must be invoke_agent or root, not leaf"),
            (["serve", "--otlp-prices", "missing.yaml"], 66, "missing.yaml"),
            (["token", "create", "--role", "root", "--name", "x"], 64, "'reader', 'writer' or 'admin'"),
            (
                ["token", "create", "--role", "writer", "--name", "ci-runner"], 65,
                "already has a token named ci-runner"
            ),
            (["token", "create", "--role", "writer", "--name", ""], 64, "a token name is 1 to 100 characters"),
            (["token", "revoke", "--name", "nobody"], 66, "has no unrevoked token named nobody"),
        ]
        for (arguments, status, message) in cases {
            let result = try workspace.run(arguments)
            #expect(result.status == status, "\(arguments): \(result.stderr)")
            #expect(result.stderr.contains(message), "\(arguments): \(result.stderr)")
            #expect(result.stderr.split(separator: "\n").count == 1, "\(arguments): one line, not \(result.stderr)")
        }
        #expect(workspace.ledgerSnapshot() == ledger, "the ledger is unchanged")
        #expect(workspace.read("ledger/purser.tokens") == tokens, "the token file is unchanged")
    }

    @Test("hostile requests get a 4xx with a JSON error, no crash, and nothing written")
    func hostileInput() throws {
        let workspace = Workspace()
        try workspace.initLedger()
        let writer = "Bearer " + (try workspace.token("writer", name: "ci-runner"))
        let server = try RunningServer(in: workspace, arguments: ["--max-body", "100000"])
        func body(_ object: Any) throws -> Data { try JSONSerialization.data(withJSONObject: object) }
        let nested = String(repeating: "[", count: 20_000) + String(repeating: "]", count: 20_000)
        let deepBody = "{" + String(repeating: #""a":{"#, count: 5_000) + String(repeating: "}", count: 5_001)
        let cases: [(String, String, String?, Data, Int)] = [
            ("oversized body", "/v1/entries/append", "application/json", Data(count: 200_000), 413),
            ("invalid JSON", "/v1/entries/append", "application/json", Data("{\"kind\":".utf8), 400),
            ("wrong content type", "/v1/entries/append", "text/plain", Data("{}".utf8), 415),
            ("deep nesting in the request", "/v1/entries/append", "application/json", Data(nested.utf8), 400),
            (
                "deep nesting in an entry body", "/v1/entries/append", "application/json",
                try body([
                    "kind": "custom.note",
                    "body": ["source": "x.json", "base64": Data(deepBody.utf8).base64EncodedString()],
                ]), 422
            ),
            (
                "a huge number", "/v1/deployments/change", "application/json",
                Data(#"{"change":"shift","env":"prod","weight":1e400}"#.utf8), 400
            ),
            (
                "a number past Int", "/v1/deployments/change", "application/json",
                Data(#"{"change":"shift","env":"prod","weight":99999999999999999999999}"#.utf8), 400
            ),
            (
                "path traversal in a component's file name", "/v1/versions/record", "application/json",
                try body([
                    "agent": "a",
                    "components": [
                        [
                            "name": "prompt", "kind": "text", "fileName": "../../etc/passwd",
                            "contents": ["source": "p.md", "base64": Data("hi".utf8).base64EncodedString()],
                        ]
                    ],
                ]), 422
            ),
            ("path traversal in the URL", "/v1/../../etc/passwd", "application/json", Data("{}".utf8), 404),
            ("an unknown operation", "/v1/entries/delete", "application/json", Data("{}".utf8), 404),
            ("a bad environment name", "/v1/status", "application/json", Data(#"{"env":"../prod"}"#.utf8), 400),
        ]
        for (name, path, contentType, data, status) in cases {
            let answer = http("POST", server.url + path, token: writer, contentType: contentType, body: data)
            #expect(answer.status == status, "\(name): \(answer.status) \(answer.body.prefix(300))")
            #expect(answer.body.hasPrefix(#"{"error":{"code":"#), "\(name): \(answer.body.prefix(300))")
        }
        for query in [
            "/v1/proofs/inclusion?seq=-1", "/v1/proofs/inclusion?seq=99999999999999999999999", "/v1/entries?limit=0",
            "/v1/proofs/inclusion?seq=18446744073709551615", "/v1/proofs/consistency?from=18446744073709551615",
        ] {
            let answer = http("GET", server.url + query, token: writer)
            #expect(answer.status == 400, "\(query): \(answer.body)")
        }
        let farPast = http("GET", server.url + "/v1/entries?from=18446744073709551615", token: writer)
        #expect(farPast.status == 200 && farPast.body.contains(#"{"entries":[],"next":null}"#), "\(farPast.body)")
        // The token check belongs to the route that matched, however its path is spelled.
        let reader = "Bearer " + (try workspace.token("reader", name: "auditor"))
        let note = try body(["kind": "custom.note", "body": ["source": "n.json", "base64": "eyJhIjoxfQ=="]])
        for (path, token, status) in [
            ("//v1/entries/append", nil, 401), ("/v1//entries/append", nil, 401), ("/v1/entries/append/", reader, 403),
            ("/v1/reindex/", reader, 403), ("/v1/./reindex", writer, 403),
        ] {
            let answer = http("POST", server.url + path, token: token, body: note)
            #expect([status, 404].contains(answer.status), "\(path): \(answer.status) \(answer.body)")
        }
        // A drift window of absurd length is refused, not a crash.
        let drift = try workspace.run(
            ["metrics", "drift", "--window", "100000000000000d", "--period", "1ms"],
            environment: ["PURSER_SERVER": server.url, "PURSER_TOKEN": String(writer.dropFirst(7))])
        #expect(drift.status == 64, "\(drift.stderr)")
        #expect(http("GET", server.url + "/healthz").body.contains(#""size":1"#), "nothing was written")
        #expect(server.stop() == 0, "the server survived: \(server.log.suffix(2000))")
        #expect(try workspace.run(["verify"]).status == 0)
    }

    @Test("export through a server without a signing key is refused with exit 66, and writes no bundle")
    func exportWithoutServerKey() throws {
        let workspace = Workspace()
        try workspace.initLedger()
        let server = try RunningServer(in: workspace, arguments: ["--key", workspace.file("none.key")])
        let token = try workspace.token("reader", name: "auditor")
        let client = Workspace()
        let exported = try client.run(
            ["export", "--out", "bundle"], environment: ["PURSER_SERVER": server.url, "PURSER_TOKEN": token])
        #expect(exported.status == 66)
        #expect(exported.stderr.contains("this server has no checkpoint signing key"), "\(exported.stderr)")
        #expect(!FileManager.default.fileExists(atPath: client.file("bundle")))
        #expect(server.stop() == 0)
    }

    @Test("answers over 10 MB reach the client whole: the log of large entries through --server equals the local one")
    func largeAnswers() throws {
        let workspace = Workspace()
        try workspace.initLedger()
        // Four entries of 3 MB each: every request is under the 10 MB body limit, the log of them is not.
        let text = String(repeating: "x", count: 3 << 20)
        for index in 0..<4 {
            let appended = try workspace.run(
                ["append", "--kind", "custom.large", "--body", "-"], input: #"{"i":\#(index),"text":"\#(text)"}"#)
            try #require(appended.status == 0, "\(appended.stderr)")
        }
        let local = try workspace.run(["log", "--json"])
        let server = try RunningServer(in: workspace)
        let token = try workspace.token("reader", name: "reader")
        let remote = try Workspace().run(
            ["log", "--json"], environment: ["PURSER_SERVER": server.url, "PURSER_TOKEN": token])
        #expect(remote.status == 0, "\(remote.stderr)")
        #expect(local.stdout.utf8.count > 12 << 20)
        #expect(remote.stdout == local.stdout)
        #expect(server.stop() == 0)
    }

    @Test("the OpenAPI document lists exactly the routes served")
    func openAPIMatchesRoutes() throws {
        let workspace = Workspace()
        try workspace.initLedger()
        let server = try RunningServer(in: workspace)
        let document = try workspace.json(http("GET", server.url + "/openapi.json").body)
        guard case .object(let paths) = document["paths"] ?? .null else {
            Issue.record("no paths in \(document)")
            return
        }
        #expect(paths.count >= 15)
        for (path, methods) in paths {
            guard case .object(let operations) = methods else { continue }
            for method in operations.keys {
                let answer = http(
                    method.uppercased(), server.url + path, body: method == "post" ? Data("{}".utf8) : nil)
                let secured = operations[method]?["security"] != nil
                #expect(answer.status == (secured ? 401 : 200), "\(method) \(path): \(answer.status)")
            }
        }
        #expect(http("GET", server.url + "/v1/nothing-here").status == 404)

        // Every POST body has the schema of its operation's members: an empty object is refused, naming a
        // member the schema requires.
        let token = try workspace.token("admin", name: "docs")
        let bodySchemas = paths.compactMapValues {
            $0["post"]?["requestBody"]?["content"]?["application/json"]?["schema"]
        }
        var checked = 0
        for (path, schema) in bodySchemas {
            #expect(schema["type"]?.stringValue == "object" && schema["properties"] != nil, "\(path): \(schema)")
            guard case .array(let required)? = schema["required"], !required.isEmpty else { continue }
            let answer = http("POST", server.url + path, token: "Bearer \(token)", body: Data("{}".utf8))
            let message = (try? workspace.json(answer.body)["error"]?["message"]?.stringValue) ?? nil
            #expect(answer.status == 400, "\(path): \(answer.status) \(answer.body)")
            #expect(
                required.contains { message?.contains("missing field \($0.stringValue ?? "?")") == true },
                "\(path): \(message ?? answer.body) names none of \(required)")
            checked += 1
        }
        #expect(checked >= 20)
        let append = bodySchemas["/v1/entries/append"]
        #expect(append?["required"] == .array([.string("kind"), .string("body")]), "\(String(describing: append))")
        #expect(append?["properties"]?["body"]?["properties"]?["base64"]?["type"] == .string("string"))
        let lifecycle = bodySchemas.values.first { $0["properties"]?["change"] != nil }
        #expect(lifecycle?["properties"]?["change"]?["enum"]?.arrayValue?.contains(.string("promote")) == true)
        #expect(server.stop() == 0)
    }

    /// Appends from `clients` threads; once `count` appends were acknowledged, calls `then` (the load is under way
    /// by a count of appends, not after a time, so however fast the machine is), and stops the clients. Returns the
    /// note ids that got a 2xx, and those sent.
    private func load(
        _ server: RunningServer, token: String, clients: Int, acknowledged count: Int = 100, then: () -> Void
    ) -> (acknowledged: Set<String>, sent: Set<String>) {
        final class Tally: @unchecked Sendable {
            let lock = NSLock()
            var acknowledged: Set<String> = []
            var sent: Set<String> = []
            var stop = false
        }
        let tally = Tally()
        let reached = DispatchSemaphore(value: 0)
        let url = server.url + "/v1/entries/append"
        let group = DispatchGroup()
        for client in 0..<clients {
            group.enter()
            Thread {
                var index = 0
                while !tally.lock.withLock({ tally.stop }) {
                    let id = "c\(client)-\(index)"
                    index += 1
                    let body = try! JSONSerialization.data(withJSONObject: [
                        "kind": "custom.load",
                        "body": ["source": "load", "base64": Data(#"{"id":"\#(id)"}"#.utf8).base64EncodedString()],
                    ])
                    tally.lock.withLock { _ = tally.sent.insert(id) }
                    let answer = http("POST", url, token: "Bearer \(token)", body: body)
                    if (200..<300).contains(answer.status) {
                        tally.lock.withLock {
                            tally.acknowledged.insert(id)
                            if tally.acknowledged.count == count { reached.signal() }
                        }
                    } else if answer.status == 0 {
                        break
                    }
                }
                group.leave()
            }.start()
        }
        let arrived = reached.wait(timeout: .now() + 60) == .success
        #expect(arrived, "the server acknowledged \(tally.lock.withLock { tally.acknowledged.count }) appends in 60 s")
        then()
        tally.lock.withLock { tally.stop = true }
        group.wait()
        return (tally.acknowledged, tally.sent)
    }

    /// The `id`s of the custom.load entries in the workspace's ledger.
    private func loadIDs(in workspace: Workspace) throws -> [String] {
        try workspace.run(["log", "--kind", "custom.load", "--json"]).stdout.split(separator: "\n").map { line in
            let entry = try JSONValue(parsing: Array(try workspace.json(String(line))["entry"]!.stringValue!.utf8))
            return entry["body"]?["id"]?.stringValue ?? "?"
        }
    }

    @Test("killed with SIGKILL under concurrent appends: every acknowledged append is there after a restart")
    func durabilityUnderKill() throws {
        let workspace = Workspace()
        try workspace.initLedger()
        let token = try workspace.token("writer", name: "load")
        let server = try RunningServer(in: workspace)
        let (acknowledged, _) = load(server, token: token, clients: 16) {
            _ = server.stop(with: SIGKILL)
        }
        let verify = try workspace.run(["verify"])
        #expect(verify.status == 0, "\(verify.stdout)\(verify.stderr)")
        let stored = try loadIDs(in: workspace)
        #expect(Set(stored).count == stored.count, "an append was stored twice")
        #expect(acknowledged.isSubset(of: Set(stored)), "lost: \(acknowledged.subtracting(stored).sorted().prefix(5))")
        // And it serves again.
        let again = try RunningServer(in: workspace)
        #expect(http("GET", again.url + "/healthz").status == 200)
        #expect(again.stop() == 0)
    }

    @Test(
        "SIGTERM under load: requests in flight complete, the server exits 0, and the ledger holds exactly the acknowledged appends"
    )
    func gracefulStop() throws {
        let workspace = Workspace()
        try workspace.initLedger()
        let token = try workspace.token("writer", name: "load")
        let server = try RunningServer(in: workspace)
        var status: Int32 = -1
        let (acknowledged, _) = load(server, token: token, clients: 16) {
            status = server.stop(with: SIGTERM)
        }
        #expect(status == 0, "\(server.log.suffix(2000))")
        #expect(try workspace.run(["verify"]).status == 0)
        #expect(Set(try loadIDs(in: workspace)) == acknowledged)
    }
}
