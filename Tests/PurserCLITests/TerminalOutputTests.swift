import Foundation
import PurserLedger
import Testing

/// A hostile or broken purser server on loopback: a real listener that answers every request with the same canned
/// HTTP response, and keeps the head of each request it got. It stops listening when released.
private final class FakeServer: Sendable {
    /// The heads of the requests so far, shared with the thread that answers them.
    private final class Heads: @unchecked Sendable {
        private let lock = NSLock()
        private var heads: [String] = []

        func append(_ head: String) {
            lock.lock()
            defer { lock.unlock() }
            heads.append(head)
        }

        var all: [String] {
            lock.lock()
            defer { lock.unlock() }
            return heads
        }
    }

    let port: UInt16
    private let listener: Int32
    private let heads = Heads()

    /// Starts answering every request with `status` and the JSON `body`.
    init(status: Int, body: String) throws {
        let listener = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let bound = withUnsafeMutablePointer(to: &address) { pointer in
            pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                bind(listener, $0, length) == 0 && getsockname(listener, $0, &length) == 0 && listen(listener, 16) == 0
            }
        }
        if !bound { close(listener) }
        try #require(bound, "cannot listen on loopback: \(String(cString: strerror(errno)))")
        self.listener = listener
        port = UInt16(bigEndian: address.sin_port)
        let head = "HTTP/1.1 \(status) X\r\nContent-Type: application/json\r\nContent-Length: \(body.utf8.count)\r\n"
        let response = Array((head + "Connection: close\r\n\r\n" + body).utf8)
        let heads = heads
        Thread {
            // Ends when deinit shuts the listener down.
            while true {
                let client = accept(listener, nil, nil)
                guard client >= 0 else { return }
                heads.append(Self.readHead(client))
                _ = response.withUnsafeBytes { send(client, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
                close(client)
            }
        }.start()
    }

    deinit {
        shutdown(listener, Int32(SHUT_RDWR))
        close(listener)
    }

    var url: String { "http://127.0.0.1:\(port)" }

    /// The heads (request line and headers) of the requests so far.
    var requests: [String] { heads.all }

    /// Reads a request's head, and as much of its body as its Content-Length says.
    private static func readHead(_ client: Int32) -> String {
        var bytes: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 4096)
        while true {
            let text = String(decoding: bytes, as: UTF8.self)
            if let end = text.range(of: "\r\n\r\n") {
                let head = String(text[..<end.lowerBound])
                let length =
                    head.split(separator: "\r\n").first { $0.lowercased().hasPrefix("content-length:") }
                    .flatMap { Int($0.split(separator: ":")[1].trimmingCharacters(in: .whitespaces)) } ?? 0
                if text.utf8.count - text[..<end.upperBound].utf8.count >= length { return head }
            }
            let count = recv(client, &buffer, buffer.count, 0)
            guard count > 0 else { return text }
            bytes += buffer[0..<count]
        }
    }
}

/// Every scalar of `text` but line feeds prints: no C0 or C1 control, DEL, soft hyphen, bidirectional override.
private func printsSafely(_ text: String) -> Bool {
    text.unicodeScalars.allSatisfy { scalar in
        scalar == "\n"
            || !(scalar.value < 0x20 || (0x7F...0x9F).contains(scalar.value) || scalar.value == 0xAD
                || (0x202A...0x202E).contains(scalar.value) || (0x2066...0x2069).contains(scalar.value))
    }
}

/// What the CLI prints on a terminal, whoever wrote it: a server, a ledger entry, a command line.
@Suite struct TerminalOutputTests {
    /// JSON text of `text`, escaped as JSON requires.
    private func json(_ text: String) -> String {
        String(decoding: CanonicalJSON.encode(.string(text)), as: UTF8.self)
    }

    @Test func aServersReplyLinesAreEscaped() throws {
        let hostile = "clear\u{1B}[2J title\u{1B}]0;owned\u{7} \u{202E}exe.txt \u{9B}31m"
        let server = try FakeServer(
            status: 200, body: #"{"status":"done","json":{"entries":[]},"text":[\#(json(hostile)),"plain"]}"#)
        let result = try Workspace().run(
            ["log"], environment: ["PURSER_SERVER": server.url, "PURSER_TOKEN": "x", "COLUMNS": ""])
        #expect(result.status == 0, "\(result.stderr)")
        #expect(printsSafely(result.stdout), "\(result.stdout.debugDescription)")
        #expect(
            result.stdout
                == #"clear\u{1B}[2J title\u{1B}]0;owned\u{7} \u{202E}exe.txt \u{9B}31m"# + "\nplain\n")
    }

    @Test func aServersErrorMessageIsEscaped() throws {
        let message = "no\u{1B}[2J such\r\nthing \u{202E}x\u{AD}y"
        let server = try FakeServer(
            status: 404, body: #"{"error":{"code":"not-found","message":\#(json(message))}}"#)
        let result = try Workspace().run(["status"], environment: ["PURSER_SERVER": server.url, "PURSER_TOKEN": "x"])
        #expect(result.status == 66, "\(result.stderr)")
        #expect(printsSafely(result.stderr), "\(result.stderr.debugDescription)")
        #expect(result.stderr == #"purser: error: no\u{1B}[2J such\r\nthing \u{202E}x\u{AD}y"# + "\n")
    }

    @Test func aCommandLineEchoedInAnErrorIsEscaped() throws {
        let result = try Workspace().run(["ver\u{1B}[31mify\u{AD}"])
        #expect(result.status == 64)
        #expect(printsSafely(result.stderr), "\(result.stderr.debugDescription)")
        #expect(result.stderr.contains(#"unknown command 'ver\u{1B}[31mify\u{AD}'"#), "\(result.stderr)")
    }

    @Test("log lines stay within COLUMNS whatever emoji or combining marks an entry holds")
    func emojiAndCombiningMarks() throws {
        let workspace = Workspace()
        try workspace.initLedger()
        let bodies = [
            ["m": String(repeating: "\u{1F3FB}", count: 200)],
            ["h": String(repeating: "\u{2764}\u{FE0F}", count: 60)],
            ["x": "x" + String(repeating: "\u{301}", count: 5_000) + " after"],
        ]
        for body in bodies {
            let text = String(decoding: CanonicalJSON.encode(.object(body.mapValues(JSONValue.string))), as: UTF8.self)
            let append = try workspace.run(["append", "--kind", "custom.wide", "--body", "-"], input: text)
            #expect(append.status == 0, "\(append.stderr)")
        }
        let log = try workspace.run(["log", "--kind", "custom.wide"], environment: ["COLUMNS": "80"])
        #expect(log.status == 0, "\(log.stderr)")
        let lines = log.stdout.split(separator: "\n").map(String.init)
        try #require(lines.count == 3)
        // No line holds more scalars than 80 columns of the longest emoji sequences take.
        for line in lines { #expect(line.unicodeScalars.count <= 4 * 80, "\(line.unicodeScalars.count) scalars") }
        // ❤️ (with variation selector 16) takes two columns: 53 for seq, time, kind and h=, 1 for the ellipsis.
        let hearts = lines[1].components(separatedBy: "\u{2764}\u{FE0F}").count - 1
        #expect(hearts == (80 - 53 - 1) / 2, "\(lines[1])")
        #expect(!lines[2].contains("after"))
    }

    @Test func logValuesAreQuotedWhenTheyCouldReadAsOtherFacts() throws {
        let workspace = Workspace()
        try workspace.initLedger()
        let body = #"{"a":"1 b=forged","c":"\\u{1B}","d":"plain","e":"say \"hi\""}"#
        #expect(try workspace.run(["append", "--kind", "custom.q", "--body", "-"], input: body).status == 0)
        for _ in 0..<9 {
            #expect(try workspace.run(["append", "--kind", "custom.n", "--body", "-"], input: "{}").status == 0)
        }
        let log = try workspace.run(["log"], environment: ["COLUMNS": ""])
        let lines = log.stdout.split(separator: "\n").map(String.init)
        try #require(lines.count == 11, "\(log.stdout)")
        let facts = #"a="1 b=forged" c="\\u{1B}" d=plain e="say \"hi\"""#
        #expect(lines[1].hasSuffix("custom.q" + String(repeating: " ", count: 14) + facts), "\(lines[1])")
        // Seqs padded to the largest one's digits: every time starts in the same column.
        for line in lines { #expect(line.dropFirst(2).hasPrefix("  2"), "\(line)") }
        #expect(lines[0].hasPrefix("0   2") && lines[10].hasPrefix("10  2"), "\(lines[0])\n\(lines[10])")
    }

    @Test("help at COLUMNS under 27 is laid out for 40 columns", arguments: ["0", "1", "20", "26", "39", "-3", "x"])
    func narrowHelp(columns: String) throws {
        let workspace = Workspace()
        for arguments in [["--help"], ["help", "verify"], ["verify", "--help"], ["serve", "--help"]] {
            let help = try workspace.run(arguments, environment: ["COLUMNS": columns])
            #expect(help.status == 0, "\(arguments) COLUMNS=\(columns): \(help.status) \(help.stderr)")
            #expect(help.stdout.contains("USAGE:"), "\(arguments) COLUMNS=\(columns)")
        }
    }

    @Test func emptyEnvironmentVariablesAreUnset() throws {
        let workspace = Workspace()
        let empty = ["PURSER_SERVER": "", "PURSER_TOKEN": "", "PURSER_LEDGER": "", "PURSER_KEY": ""]
        let created = try workspace.run(["init", "--origin", "e2e.example/empty"], environment: empty)
        #expect(created.status == 0, "\(created.stderr)")
        #expect(FileManager.default.fileExists(atPath: workspace.ledgerPath))
        #expect(FileManager.default.fileExists(atPath: workspace.file("ledger/purser.key")))
        let status = try workspace.run(["status"], environment: empty)
        #expect(status.status == 0, "\(status.stderr)")
        let checkpoint = try workspace.run(["checkpoint"], environment: empty)
        #expect(checkpoint.status == 0, "\(checkpoint.stderr)")
        // An empty token is none: no Authorization header reaches the server.
        let server = try FakeServer(status: 401, body: #"{"error":{"code":"unauthorized","message":"no token"}}"#)
        let log = try workspace.run(["log"], environment: ["PURSER_SERVER": server.url, "PURSER_TOKEN": ""])
        #expect(log.status == 64, "\(log.stderr)")
        #expect(server.requests.count == 1)
        #expect(!server.requests.contains { $0.lowercased().contains("authorization:") }, "\(server.requests)")
    }
}
