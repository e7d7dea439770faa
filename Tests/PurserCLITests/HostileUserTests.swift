import Foundation
import PurserLedger
import Testing

/// Starts `purser` with `arguments` in `workspace` without waiting; standard output goes to `output`.
private func launch(_ arguments: [String], in workspace: Workspace, output: String) throws -> Process {
    let process = Process()
    process.executableURL = URL(fileURLWithPath: purserBinary)
    process.arguments = arguments
    process.currentDirectoryURL = URL(fileURLWithPath: workspace.path)
    var environment = ProcessInfo.processInfo.environment
    for name in ["PURSER_LEDGER", "PURSER_KEY", "PURSER_SERVER", "PURSER_TOKEN"] {
        environment.removeValue(forKey: name)
    }
    process.environment = environment
    _ = FileManager.default.createFile(atPath: workspace.file(output), contents: nil)
    process.standardOutput = FileHandle(forWritingAtPath: workspace.file(output))
    process.standardError = FileHandle.nullDevice
    process.standardInput = FileHandle.nullDevice
    try process.run()
    return process
}

/// Sends `request` as it is over a new loopback connection to `url`'s port; returns the status of the answer (0 if
/// none came) and its text.
private func rawHTTP(_ url: String, _ request: String) throws -> (status: Int, text: String) {
    let connection = try RawConnection(url)
    try #require(connection.send(Array(request.utf8)))
    let text = connection.answer(within: 30) ?? ""
    return (text.firstMatch(of: /^HTTP\/1\.1 ([0-9]{3})/).flatMap { Int($0.1) } ?? 0, text)
}

@Suite("tokens, exit codes and messages a hostile user cannot break")
struct HostileUserTests {
    @Test("token create and revoke commands racing each other all land: none is lost, the revoked token is refused")
    func tokenRace() throws {
        let workspace = Workspace()
        try workspace.initLedger()
        let server = try RunningServer(in: workspace)
        let append = try JSONSerialization.data(withJSONObject: [
            "kind": "custom.note",
            "body": ["source": "note.json", "base64": Data(#"{"a":1}"#.utf8).base64EncodedString()],
        ])
        for round in 0..<3 {
            let victim = try workspace.token("writer", name: "victim-\(round)")
            let names = (0..<12).map { "runner-\(round)-\($0)" }
            var processes = try names.map { name in
                try launch(
                    ["token", "create", "--role", "writer", "--name", name, "--json"], in: workspace,
                    output: "\(name).json")
            }
            processes.insert(
                try launch(["token", "revoke", "--name", "victim-\(round)"], in: workspace, output: "revoke.out"),
                at: processes.count / 2)
            for process in processes {
                process.waitUntilExit()
                #expect(
                    process.terminationStatus == 0, "\(process.arguments ?? []) exited \(process.terminationStatus)")
            }
            let listed = try workspace.json(try workspace.run(["token", "list", "--json"]).stdout)
            guard case .array(let tokens)? = listed["tokens"] else {
                Issue.record("token list --json: \(listed)")
                return
            }
            let revoked = tokens.filter { $0["revoked_at"] != .null }.compactMap { $0["name"]?.stringValue }
            let live = Set(tokens.filter { $0["revoked_at"] == .null }.compactMap { $0["name"]?.stringValue })
            #expect(revoked.contains("victim-\(round)"), "round \(round): the revocation was lost")
            #expect(live.isSuperset(of: names), "round \(round): lost \(Set(names).subtracting(live).sorted())")
            // Through the server: the revoked token appends nothing; every created one is accepted.
            let refused = http("POST", server.url + "/v1/entries/append", token: "Bearer \(victim)", body: append)
            #expect(refused.status == 401, "round \(round): the revoked token got \(refused.status)")
            for name in names {
                let token = try #require(try workspace.json(workspace.read("\(name).json"))["token"]?.stringValue)
                #expect(http("GET", server.url + "/v1/status", token: "Bearer \(token)").status == 200, "\(name)")
            }
        }
        #expect(http("GET", server.url + "/healthz").body.contains(#""size":1"#), "nothing was appended")
        let leftovers = try FileManager.default.contentsOfDirectory(atPath: workspace.file("ledger"))
            .filter { $0.hasPrefix("purser.tokens.") && $0 != "purser.tokens.lock" }
        #expect(leftovers.isEmpty, "temporary token files left behind: \(leftovers)")
    }

    @Test("a ledger path that is a folder, and output paths that cannot be written, exit 64 or 65, never 70")
    func outputPaths() throws {
        let workspace = Workspace()
        try workspace.initLedger()
        let manifest = try workspace.copyAgentTemplate()
        #expect(try workspace.run(["version", "record", manifest, "--label", "agent@1"]).status == 0)
        try FileManager.default.copyItem(atPath: agentTemplates.path, toPath: workspace.file("release"))
        workspace.write("a-file", "keep me\n")
        try FileManager.default.createSymbolicLink(
            atPath: workspace.file("dangling"), withDestinationPath: "/nowhere/x")
        let before = try FileManager.default.contentsOfDirectory(atPath: workspace.path).sorted()
        let ledgerFolder = try FileManager.default.contentsOfDirectory(atPath: workspace.file("ledger")).sorted()
        let ledger = workspace.ledgerSnapshot()
        let cases: [([String], Int32, String)] = [
            (["status", "--ledger", "ledger"], 65, "ledger is a directory, not a purser ledger file"),
            (["export", "--out", "a-file"], 65, "a-file exists and is not a directory"),
            (["export", "--out", "dangling"], 65, "dangling is a symbolic link to something that does not exist"),
            (["export", "--out", ""], 64, "the output directory's path is empty"),
            (["export", "--out", "/proc"], 64, "cannot write to /proc"),
            (["export", "--out", "a-file/bundle"], 64, "cannot write to a-file/bundle: Not a directory"),
            (["version", "materialize", "agent@1", "--out", "a-file"], 65, "a-file exists and is not a directory"),
            (["version", "materialize", "agent@1", "--out", "dangling"], 65, "dangling is a symbolic link"),
            (["version", "materialize", "agent@1", "--out", ""], 64, "the output directory's path is empty"),
            (
                ["version", "materialize", "agent@1", "--out", "/proc"], 65,
                "/proc exists and is not an empty directory"
            ),
            (["version", "materialize", "agent@1", "--out", "/proc/restored"], 64, "cannot write to /proc/restored"),
            (["version", "materialize", "agent@1", "--out", "a-file/restored"], 64, "cannot write to a-file/restored"),
            (
                ["init", "--origin", "e2e.example/x", "--ledger", "ledger"], 65,
                "ledger is a directory; name the ledger's"
            ),
            (["init", "--origin", "e2e.example/x", "--ledger", ""], 64, "the ledger's path is empty"),
            (
                ["init", "--origin", "e2e.example/x", "--ledger", "/proc/x.sqlite"], 64,
                "cannot write to /proc/x.sqlite"
            ),
            (["init", "--origin", "e2e.example/x", "--ledger", "a-file/x.sqlite"], 64, "cannot write to a-file"),
            (
                ["init", "--origin", "e2e.example/x", "--ledger", "ledger/two.sqlite", "--key", "/proc/two.key"], 64,
                "cannot write to /proc/two.key"
            ),
            (
                [
                    "check", "--version", "agent@1", "--env", "prod", "--policy", "release/checklist.yaml", "--junit",
                    "/proc/checks.xml",
                ], 64, "cannot write to /proc/checks.xml"
            ),
            (["checkpoint", "--out", ""], 64, "the output file's path is empty"),
            (["checkpoint", "--out", "ledger"], 64, "ledger is a directory; name a file to write"),
            (["checkpoint", "--out", "/proc/held.checkpoint"], 64, "cannot write to /proc/held.checkpoint"),
            (["checkpoint", "--out", "a-file/held.checkpoint"], 64, "cannot write to a-file/held.checkpoint"),
            (["audit", "--format", "md", "--out", ""], 64, "the output file's path is empty"),
            (["audit", "--format", "md", "--out", "ledger"], 64, "ledger is a directory; name a file to write"),
            (["audit", "--format", "json", "--out", "/proc/report.json"], 64, "cannot write to /proc/report.json"),
        ]
        for (arguments, status, message) in cases {
            let result = try workspace.run(arguments)
            #expect(result.status == status, "\(arguments): \(result.stderr)")
            #expect(result.stderr.contains(message), "\(arguments): \(result.stderr)")
            #expect(result.stderr.split(separator: "\n").count == 1, "\(arguments): one line, not \(result.stderr)")
        }
        #expect(workspace.ledgerSnapshot() == ledger, "the ledger is unchanged")
        #expect(try FileManager.default.contentsOfDirectory(atPath: workspace.path).sorted() == before)
        #expect(
            try FileManager.default.contentsOfDirectory(atPath: workspace.file("ledger")).sorted() == ledgerFolder)
        #expect(workspace.read("a-file") == "keep me\n")
    }

    @Test("a path with a line break is named on one line, quoted and escaped")
    func pathWithLineBreak() throws {
        let workspace = Workspace()
        try workspace.initLedger()
        let cases: [([String], String)] = [
            (["status", "--ledger", "two\nlines.sqlite"], #"no ledger at "two\nlines.sqlite""#),
            (["append", "--kind", "custom.note", "--body", "bo\ndy.json"], #""bo\ndy.json" not found"#),
            (["checkpoint", "--key", "k\r\ney\t.key"], #"signing key "k\r\ney\t.key" not found"#),
            (["serve", "--listen", "127.0.0.1:0", "--ledger", "a\nb.sqlite"], #"no ledger at "a\nb.sqlite""#),
        ]
        for (arguments, message) in cases {
            let result = try workspace.run(arguments)
            #expect(result.status == 66, "\(arguments): \(result.stderr)")
            #expect(result.stderr.split(separator: "\n").count == 1, "\(arguments): one line, not \(result.stderr)")
            #expect(result.stderr.contains(message), "\(arguments): \(result.stderr)")
        }
    }

    @Test("requests SwiftNIO cannot parse (an unknown transfer coding, an overflowing chunk size) are answered 400")
    func malformedHTTP() throws {
        let workspace = Workspace()
        try workspace.initLedger()
        let writer = try workspace.token("writer", name: "ci-runner")
        let server = try RunningServer(in: workspace)
        let body = #"{"kind":"custom.note","body":{"source":"n.json","base64":"eyJhIjoxfQ=="}}"#
        let head =
            "POST /v1/entries/append HTTP/1.1\r\nHost: purser\r\nAuthorization: Bearer \(writer)\r\n"
            + "Content-Type: application/json\r\nConnection: close\r\n"
        for (name, request) in [
            ("xchunked", head + "Transfer-Encoding: xchunked\r\n\r\n" + body),
            (
                "an overflowing chunk size",
                head + "Transfer-Encoding: chunked\r\n\r\nFFFFFFFFFFFFFFFFFFFF\r\n" + body + "\r\n0\r\n\r\n"
            ),
        ] {
            let answer = try rawHTTP(server.url, request)
            #expect(answer.status == 400, "\(name): \(answer.text)")
            #expect(answer.text.contains(#"{"error":{"code":"http","message":"the request is not valid HTTP/1.1"#))
        }
        #expect(http("GET", server.url + "/healthz").body.contains(#""size":1"#), "nothing was written")
        #expect(!server.log.contains("internal error"), "\(server.log.suffix(2000))")
    }

    @Test("CSV task records follow JSON Lines' rules: numbers as JSON writes them, UTF-8 without control characters")
    func csvAsStrictAsJSONLines() throws {
        let workspace = Workspace()
        try workspace.initLedger()
        let ledger = workspace.ledgerSnapshot()
        let header = Array("task_id,version,env,started_at,duration_ms,completed,error\n".utf8)
        func row(id: [UInt8] = Array("t1".utf8), duration: String = "1200") -> [UInt8] {
            id + Array(",support-agent@1.0.0,prod,2026-11-26T12:00:00Z,\(duration),true,false\n".utf8)
        }
        func line(id: [UInt8] = Array("t1".utf8), duration: String = "1200") -> [UInt8] {
            Array(#"{"task_id":""#.utf8) + id
                + Array(
                    #"","version":"support-agent@1.0.0","env":"prod","started_at":"2026-11-26T12:00:00Z","duration_ms":\#(duration),"completed":true,"error":false}"#
                        .utf8) + [0x0A]
        }
        let cases: [(String, [UInt8], [UInt8], String)] = [
            (
                "a hexadecimal number", row(duration: "0x10"), line(duration: "0x10"),
                "expected a number written as in JSON"
            ),
            ("a plus sign", row(duration: "+5"), line(duration: "+5"), "expected a number written as in JSON"),
            ("a space", row(duration: " 5"), line(duration: "\"5\""), "expected a number written as in JSON"),
            ("a number that becomes 0", row(duration: "1e-400"), line(duration: "1e-400"), "expected a number"),
            ("the control character 0x10", row(id: [0x74, 0x10]), line(id: [0x74, 0x10]), "U+0010"),
            ("invalid UTF-8", row(id: [0x74, 0xFF]), line(id: [0x74, 0xFF]), "is not UTF-8"),
        ]
        for (name, csv, jsonl, message) in cases {
            _ = FileManager.default.createFile(atPath: workspace.file("tasks.csv"), contents: Data(header + csv))
            _ = FileManager.default.createFile(atPath: workspace.file("tasks.jsonl"), contents: Data(jsonl))
            let refused = try workspace.run(["metrics", "ingest", "tasks.csv"])
            #expect(refused.status == 65, "\(name): \(refused.stderr)")
            #expect(refused.stderr.contains("tasks.csv line 2"), "\(name): \(refused.stderr)")
            #expect(refused.stderr.contains(message), "\(name): \(refused.stderr)")
            let asJSONLines = try workspace.run(["metrics", "ingest", "tasks.jsonl"])
            #expect(asJSONLines.status == 65, "\(name) in JSON Lines: \(asJSONLines.stderr)")
        }
        #expect(workspace.ledgerSnapshot() == ledger, "the ledger is unchanged")
    }

    @Test("the server takes application/json only, refuses repeated keys in a request, and documents 409, 415, 422")
    func requestEnvelope() throws {
        let workspace = Workspace()
        try workspace.initLedger()
        let writer = "Bearer " + (try workspace.token("writer", name: "ci-runner"))
        let server = try RunningServer(in: workspace)
        let url = server.url + "/v1/entries/append"
        let note = #""body":{"source":"n.json","base64":"eyJhIjoxfQ=="}"#
        let append = Data(#"{"kind":"custom.note",\#(note)}"#.utf8)
        for contentType in ["application/jsonx", "application/json-seq", "text/json", "application/json+x; a=b"] {
            let answer = http("POST", url, token: writer, contentType: contentType, body: append)
            #expect(answer.status == 415, "\(contentType): \(answer.status) \(answer.body)")
        }
        for (name, body) in [
            ("a repeated kind", #"{"kind":"custom.note","kind":"custom.other",\#(note)}"#),
            (
                "a repeated member of the body",
                #"{"kind":"custom.note","body":{"source":"n.json","source":"m.json","base64":"eyJhIjoxfQ=="}}"#
            ),
        ] {
            let answer = http("POST", url, token: writer, body: Data(body.utf8))
            #expect(answer.status == 400, "\(name): \(answer.status) \(answer.body)")
            #expect(answer.body.contains("duplicate key"), "\(name): \(answer.body)")
        }
        #expect(http("GET", server.url + "/healthz").body.contains(#""size":1"#), "nothing was written")
        let accepted = http("POST", url, token: writer, contentType: "Application/JSON; charset=utf-8", body: append)
        #expect(accepted.status == 200, "\(accepted.body)")
        let document = try workspace.json(http("GET", server.url + "/openapi.json").body)
        guard case .object(let paths)? = document["paths"] else {
            Issue.record("no paths in /openapi.json")
            return
        }
        var posts = 0
        for (path, methods) in paths {
            // The operations' JSON bodies; OTLP/HTTP's routes take opentelemetry-proto messages and answer as it says.
            guard let responses = methods["post"]?["responses"], path != "/v1/traces" && path != "/v1/logs" else {
                continue
            }
            posts += 1
            for status in ["409", "415", "422"] {
                #expect(responses[status] != nil, "POST \(path) does not document \(status)")
            }
        }
        #expect(posts > 20)
    }
}
