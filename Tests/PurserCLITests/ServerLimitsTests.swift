import Foundation
import PurserLedger
import Testing

@Suite("purser serve: what one request may cost")
struct ServerLimitsTests {
    /// A JUnit report `depth` suites deep with one case inside.
    static func deepJUnit(_ depth: Int) -> String {
        String(repeating: "<testsuite name=\"s\">", count: depth) + "<testcase name=\"deep\"/>"
            + String(repeating: "</testsuite>", count: depth)
    }

    @Test("a JUnit file 100,000 elements deep is bad input for the CLI (65) and the server (422), which keeps serving")
    func deepJUnitFile() throws {
        let workspace = Workspace()
        try workspace.initLedger()
        workspace.write("deep.xml", Self.deepJUnit(100_000))
        let arguments = ["eval", "record", "--version", "0123456789ab", "--results", "deep.xml", "--format", "junit"]
        let local = try workspace.run(arguments)
        #expect(local.status == 65, "\(local.stderr.suffix(500))")
        #expect(local.stderr.contains("deep.xml: line 1: <testsuite> is nested deeper than 256 elements"))

        let token = try workspace.token("writer", name: "ci-runner")
        let server = try RunningServer(in: workspace)
        let remote = try workspace.run(arguments, environment: ["PURSER_SERVER": server.url, "PURSER_TOKEN": token])
        #expect(remote.status == 65, "\(remote.stderr.suffix(500))")
        #expect(remote.stderr.contains("is nested deeper than 256 elements"), "\(remote.stderr.suffix(500))")
        let health = http("GET", server.url + "/healthz")
        #expect(health.status == 200 && health.body.contains(#""size":1"#), "the server survived and wrote nothing")
        #expect(server.stop() == 0)
    }

    @Test("a Content-Length over --max-body is answered 413 before any of the body is sent")
    func contentLengthOverLimit() throws {
        let workspace = Workspace()
        try workspace.initLedger()
        let token = try workspace.token("writer", name: "ci-runner")
        let server = try RunningServer(in: workspace, arguments: ["--max-body", "100000"])
        let connection = try RawConnection(server.url)
        connection.send(
            Array(
                ("POST /v1/entries/append HTTP/1.1\r\nHost: purser\r\nAuthorization: Bearer \(token)\r\n"
                    + "Content-Type: application/json\r\nContent-Length: 1000000000\r\n\r\n").utf8))
        // Nothing of the body is sent: a server that waits for it never answers.
        let answer = try #require(connection.answer(within: 10), "no answer before the body")
        #expect(answer.hasPrefix("HTTP/1.1 413"), "\(answer)")
        #expect(answer.lowercased().contains("connection: close"), "\(answer)")
        #expect(
            answer.contains(
                #"{"error":{"code":"too-large","message":"the request body is over this server's limit of 100000 bytes"#
            ))
        #expect(http("GET", server.url + "/healthz").body.contains(#""size":1"#))
        #expect(server.stop() == 0)
    }

    @Test("a chunked body is refused with too-large as soon as it passes --max-body, before it ends")
    func chunkedBodyOverLimit() throws {
        let workspace = Workspace()
        try workspace.initLedger()
        let token = try workspace.token("writer", name: "ci-runner")
        let server = try RunningServer(in: workspace, arguments: ["--max-body", "100000"])
        let connection = try RawConnection(server.url)
        connection.send(
            Array(
                ("POST /v1/entries/append HTTP/1.1\r\nHost: purser\r\nAuthorization: Bearer \(token)\r\n"
                    + "Content-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n").utf8))
        // 150,000 bytes in chunks of 10,000, and no last chunk: the body never ends.
        let chunk = Array("2710\r\n".utf8) + [UInt8](repeating: UInt8(ascii: " "), count: 10_000) + Array("\r\n".utf8)
        for _ in 0..<15 { connection.send(chunk) }
        let answer = try #require(connection.answer(within: 10), "no answer to a body past the limit")
        #expect(answer.hasPrefix("HTTP/1.1 413"), "\(answer)")
        #expect(answer.contains(#""code":"too-large""#), "\(answer)")
        #expect(server.stop() == 0)
    }

    @Test("the CLI exits 65 naming the limit for files over the server's: large ones are refused before sending")
    func cliBodyOverLimit() throws {
        let workspace = Workspace()
        try workspace.initLedger()
        let token = try workspace.token("writer", name: "ci-runner")
        let server = try RunningServer(in: workspace, arguments: ["--max-body", "100000"])
        let remote = ["PURSER_SERVER": server.url, "PURSER_TOKEN": token]
        // Under 1 MiB the CLI sends the body, and the server refuses it by its length.
        workspace.write("half.json", #"{"note":""# + String(repeating: "x", count: 500_000) + #""}"#)
        let sent = try workspace.run(["append", "--kind", "custom.note", "--body", "half.json"], environment: remote)
        #expect(sent.status == 65, "\(sent.stderr)")
        #expect(
            sent.stderr
                == "purser: error: the request body is over this server's limit of 100000 bytes (purser serve --max-body): nothing was written\n"
        )
        // Over 1 MiB it asks the server's limit first, and sends nothing.
        workspace.write("big.json", #"{"note":""# + String(repeating: "x", count: 3_000_000) + #""}"#)
        let refused = try workspace.run(["append", "--kind", "custom.note", "--body", "big.json"], environment: remote)
        #expect(refused.status == 65, "\(refused.stderr)")
        #expect(
            refused.stderr
                == "purser: error: the files of this request, 3000011 bytes (4000016 encoded), are over the limit of 100000 bytes of the server at \(server.url) (purser serve --max-body): nothing was sent\n"
        )
        #expect(http("GET", server.url + "/healthz").body.contains(#""size":1"#))
        #expect(server.stop() == 0)
        #expect(server.log.components(separatedBy: "path=/v1/entries/append").count == 2, "one append was sent")
    }

    @Test("log is answered a page at a time (1,000 entries by default, 4 MiB of text), and the CLI prints every page")
    func logPages() throws {
        let workspace = Workspace()
        try workspace.initLedger()
        workspace.write("notes.jsonl", (0..<2_500).map { #"{"n":\#($0)}"# }.joined(separator: "\n") + "\n")
        #expect(try workspace.run(["append", "--kind", "custom.note", "--lines", "notes.jsonl"]).status == 0)
        let token = try workspace.token("reader", name: "auditor")
        let server = try RunningServer(in: workspace)
        let remote = ["PURSER_SERVER": server.url, "PURSER_TOKEN": token]
        for arguments in [
            ["log"], ["log", "--json"], ["log", "--limit", "1500"], ["log", "--limit", "1000", "--json"],
            ["log", "--kind", "ledger.created"], ["log", "--limit", "0"],
        ] {
            let local = try workspace.run(arguments)
            let there = try workspace.run(arguments, environment: remote)
            #expect(local.status == 0 && there.status == 0, "\(arguments): \(there.stderr)")
            #expect(there.stdout == local.stdout, "\(arguments)")
        }
        #expect(try workspace.run(["log"]).stdout.split(separator: "\n").count == 2_501)

        func page(_ body: String) throws -> (count: Int, next: JSONValue?) {
            let answer = http("POST", server.url + "/v1/log", token: "Bearer \(token)", body: Data(body.utf8))
            try #require(answer.status == 200, "\(body): \(answer.status) \(answer.body.prefix(300))")
            let json = try workspace.json(answer.body)["json"]
            return (json?["entries"]?.arrayValue?.count ?? -1, json?["next"])
        }
        #expect(try page("{}") == (1_000, .number(1_000)))
        #expect(try page(#"{"page":10,"from":2495}"#) == (6, .null))
        #expect(try page(#"{"page":10,"from":100}"#) == (10, .number(110)))
        #expect(try page(#"{"page":100000}"#) == (2_501, .null))
        let refused = http("POST", server.url + "/v1/log", token: "Bearer \(token)", body: Data(#"{"page":0}"#.utf8))
        #expect(refused.status == 400, "\(refused.body)")
        #expect(server.stop() == 0)
    }

    @Test("a page of large entries ends once their text passes 4 MiB, for log and entries; export follows")
    func logPageBytes() throws {
        let workspace = Workspace()
        try workspace.initLedger()
        workspace.write("big.json", #"{"note":""# + String(repeating: "x", count: 3_000_000) + #""}"#)
        for _ in 0..<3 {
            #expect(try workspace.run(["append", "--kind", "custom.note", "--body", "big.json"]).status == 0)
        }
        let token = try workspace.token("reader", name: "auditor")
        let server = try RunningServer(in: workspace)
        let answer = http("POST", server.url + "/v1/log", token: "Bearer \(token)", body: Data(#"{"from":1}"#.utf8))
        let json = try workspace.json(answer.body)["json"]
        // 3 MB, then 6 MB: past 4 MiB, so the third entry starts the next page.
        #expect(json?["entries"]?.arrayValue?.count == 2)
        #expect(json?["next"] == .number(3))
        // The same for the auditor's entries, which export reads a page at a time.
        let entries = try workspace.json(http("GET", server.url + "/v1/entries?from=1", token: "Bearer \(token)").body)
        #expect(entries["entries"]?.arrayValue?.count == 2)
        #expect(entries["next"] == .number(3))
        let export = try workspace.run(
            ["export", "--out", "bundle"], environment: ["PURSER_SERVER": server.url, "PURSER_TOKEN": token])
        #expect(export.status == 0, "\(export.stderr)")
        #expect(try workspace.run(["verify-bundle", "bundle"]).status == 0)
        let local = try workspace.run(["log", "--json"])
        let there = try workspace.run(
            ["log", "--json"], environment: ["PURSER_SERVER": server.url, "PURSER_TOKEN": token])
        #expect(there.status == 0 && there.stdout == local.stdout)
        #expect(server.stop() == 0)
    }

    @Test("history and version list are answered a page at a time, and the CLI joins the pages")
    func historyAndVersionPages() throws {
        let workspace = Workspace()
        try workspace.initLedger()
        let versions = try ["1", "2", "3"].map { try workspace.recordAgentVariant($0, label: "agent@\($0).0.0") }
        let breakGlass = ["--break-glass", "--reason", "test", "--approver", "tests", "--env", "prod"]
        _ = try workspace.runJSON(["deploy", "start", versions[0], "--strategy", "blue-green", "--json"] + breakGlass)
        _ = try workspace.runJSON(
            ["deploy", "start", versions[1], "--strategy", "canary", "--weight", "5", "--json"] + breakGlass)
        for weight in stride(from: 10, through: 90, by: 10) {
            _ = try workspace.runJSON(["deploy", "shift", "--weight", "\(weight)", "--env", "prod", "--json"])
        }
        _ = try workspace.runJSON(["deploy", "promote", "--env", "prod", "--json"])
        let token = try workspace.token("reader", name: "auditor")
        let server = try RunningServer(in: workspace)

        func pages(_ name: String, _ member: String, size: Int) throws -> (items: [JSONValue], nexts: [JSONValue]) {
            var items: [JSONValue] = []
            var nexts: [JSONValue] = []
            var from: JSONValue = .null
            repeat {
                let body =
                    #"{"page":\#(size)"# + (from == .null ? "}" : #","from":\#(from.numberValue.map { Int($0) }!)}"#)
                let answer = http("POST", server.url + "/v1/" + name, token: "Bearer \(token)", body: Data(body.utf8))
                try #require(answer.status == 200, "\(name) \(body): \(answer.body.prefix(300))")
                let json = try #require(try workspace.json(answer.body)["json"])
                let page = try #require(json[member]?.arrayValue)
                #expect(page.count <= size)
                items += page
                from = json["next"] ?? .null
                nexts.append(from)
            } while from != .null && nexts.count < 20
            return (items, nexts)
        }
        // Twelve changes of traffic in pages of five; three versions in pages of two (the cursor is a seq).
        let history = try pages("history", "events", size: 5)
        #expect(history.nexts == [.number(5), .number(10), .null])
        #expect(history.items == (try workspace.runJSON(["history", "--json"]))["events"]?.arrayValue)
        let listed = try pages("versions/list", "versions", size: 2)
        #expect(listed.nexts.count == 2 && listed.nexts.last == .null)
        #expect(listed.items == (try workspace.runJSON(["version", "list", "--json"]))["versions"]?.arrayValue)

        let remote = ["PURSER_SERVER": server.url, "PURSER_TOKEN": token]
        for arguments in [["history"], ["history", "--json"], ["version", "list"], ["version", "list", "--json"]] {
            let local = try workspace.run(arguments)
            let there = try workspace.run(arguments, environment: remote)
            #expect(local.status == 0 && there.status == 0 && there.stdout == local.stdout, "\(arguments)")
        }
        #expect(server.stop() == 0)
    }
}
