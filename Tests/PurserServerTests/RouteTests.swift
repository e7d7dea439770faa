import Foundation
import Hummingbird
import HummingbirdTesting
import NIOCore
import PurserCore
import PurserLedger
import PurserOperations
import PurserServer
import Testing

/// A ledger file in a temporary folder with a writer's and a reader's token, and the application `purser serve`
/// serves over it (`Server.application`), driven in process: no process, no socket. Removed when released.
final class ServedLedger: Sendable {
    let folder: String
    /// The tokens' texts: `ci` may write, `dashboard` only read.
    let writer: String
    let reader: String
    let app: Application<RouterResponder<ServerContext>>

    var path: String { folder + "/ledger.sqlite" }

    init(maximumBody: Int = 10 << 20) throws {
        folder = NSTemporaryDirectory() + "purser-server-" + UUID().uuidString
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        let path = folder + "/ledger.sqlite"
        let keyPath = folder + "/ledger.key"
        _ = try Releases(ledger: Ledger.create(at: path, origin: "test.example/server", keyPath: keyPath))
        let tokensPath = TokenFile.defaultPath(forLedgerAt: path)
        writer = try TokenFile(path: tokensPath).create(name: "ci", role: .writer, now: Date())
        reader = try TokenFile(path: tokensPath).create(name: "dashboard", role: .reader, now: Date())
        var configuration = Server.Configuration(ledgerPath: path, tokensPath: tokensPath, keyPath: keyPath)
        configuration.maximumBody = maximumBody
        configuration.port = 0  // `.live` tests: any free port on loopback
        app = try Server(configuration).application()
    }

    deinit { try? FileManager.default.removeItem(atPath: folder) }

    /// The number of entries in the ledger file, read on a connection of its own.
    func size() throws -> UInt64 {
        try Ledger(openingAt: path).size()
    }
}

/// What a test sends: a request's headers, with a token and a content type.
func headers(token: String? = nil, contentType: String? = "application/json") -> HTTPFields {
    var fields: HTTPFields = [:]
    if let token { fields[.authorization] = "Bearer \(token)" }
    if let contentType { fields[.contentType] = contentType }
    return fields
}

/// A JSON body.
func body(_ value: JSONValue) -> ByteBuffer {
    ByteBuffer(bytes: CanonicalJSON.encode(value))
}

/// An `entries/append` request for a `custom.note` saying `text`.
func noteRequest(_ text: String) -> JSONValue {
    .object([
        "kind": .string("custom.note"),
        "body": .object([
            "source": .string("note.json"),
            "base64": .string(Data(CanonicalJSON.encode(.object(["text": .string(text)]))).base64EncodedString()),
        ]),
    ])
}

extension TestResponse {
    /// The body, parsed.
    func json() throws -> JSONValue {
        try JSONValue(parsing: body.readableBytesView)
    }

    /// The code and message of an error answer (`{"error":{"code","message"}}`).
    func error() throws -> (code: String?, message: String?) {
        let error = try json()["error"]
        return (error?["code"]?.stringValue, error?["message"]?.stringValue)
    }
}

/// The routes of `purser serve` in process (HummingbirdTesting's router framework), over a real ledger file:
/// the same requests as the end-to-end `purser serve` suites, without a process or a socket.
@Suite("Server routes, in process")
struct RouteTests {
    @Test("a route that needs a role answers 401 without a token, or with an unknown one, and writes nothing")
    func unauthorizedWithoutToken() async throws {
        let served = try ServedLedger()
        try await served.app.test(.router) { client in
            try await client.execute(
                uri: "/v1/entries/append", method: .post, headers: headers(), body: body(noteRequest("hello"))
            ) { response in
                #expect(response.status == .unauthorized)
                #expect(response.headers[.wwwAuthenticate] == "Bearer")
                #expect(
                    !response.headers.contains { $0.name.canonicalName == "x-purser-error-code" }, "for the log only")
                let error = try response.error()
                #expect(error.code == "unauthorized")
                #expect(
                    error.message
                        == "this server needs a token: Authorization: Bearer <token> (PURSER_TOKEN for the CLI)")
            }
            try await client.execute(
                uri: "/v1/status", method: .get, headers: headers(token: "purser_" + String(repeating: "0", count: 64))
            ) { response in
                #expect(response.status == .unauthorized)
                let error = try response.error()
                #expect(error.message == "the token is not valid (unknown, revoked or malformed)")
            }
        }
        #expect(try served.size() == 1)
    }

    @Test("a reader's token may read but not append: 403, and nothing written")
    func readerMayNotAppend() async throws {
        let served = try ServedLedger()
        try await served.app.test(.router) { client in
            try await client.execute(
                uri: "/v1/entries/append", method: .post, headers: headers(token: served.reader),
                body: body(noteRequest("hello"))
            ) { response in
                #expect(response.status == .forbidden)
                let error = try response.error()
                #expect(error.code == "forbidden")
                #expect(error.message == "the token dashboard has the role reader; this needs writer")
            }
            try await client.execute(uri: "/v1/status", method: .get, headers: headers(token: served.reader)) {
                response in
                #expect(response.status == .ok)
            }
        }
        #expect(try served.size() == 1)
    }

    @Test("an append lands: the reply is {json, status, text}, and the entry names its token")
    func appendLands() async throws {
        let served = try ServedLedger()
        try await served.app.test(.router) { client in
            try await client.execute(
                uri: "/v1/entries/append", method: .post, headers: headers(token: served.writer),
                body: body(noteRequest("hello"))
            ) { response in
                #expect(response.status == .ok)
                #expect(response.headers[.contentType] == "application/json")
                let reply = try response.json()
                guard case .object(let members) = reply else {
                    Issue.record("the answer is not an object: \(reply)")
                    return
                }
                #expect(Set(members.keys) == ["json", "status", "text"])
                #expect(reply["status"] == .string("done"))
                #expect(reply["json"]?["seq"] == .int(1))
                #expect(reply["json"]?["kind"] == .string("custom.note"))
                let leaf = try #require(reply["json"]?["leaf_hash"]?.stringValue)
                let at = try #require(reply["json"]?["at"]?.stringValue)
                #expect(reply["text"] == .array([.string("appended seq 1 (custom.note) at \(at), leaf \(leaf)")]))
            }
        }
        let entry = try #require(try Ledger(openingAt: served.path).entry(1))
        #expect(entry.kind == "custom.note")
        let note = try entry.body
        #expect(note["text"] == .string("hello"))
        #expect(note["recorded_by"] == .string("ci"))
    }

    @Test("a body whose Content-Length is over the limit is refused with 413 before it is read")
    func oversizeBodyRefused() async throws {
        let served = try ServedLedger(maximumBody: 1_024)
        let note = noteRequest(String(repeating: "x", count: 2_000))
        try await served.app.test(.router) { client in
            try await client.execute(
                uri: "/v1/entries/append", method: .post, headers: headers(token: served.writer), body: body(note)
            ) { response in
                #expect(response.status == .contentTooLarge)
                #expect(response.headers[.connection] == "close")
                let error = try response.error()
                #expect(error.code == "too-large")
                #expect(
                    error.message
                        == "the request body is over this server's limit of 1024 bytes (purser serve --max-body): nothing was written"
                )
            }
        }
        #expect(try served.size() == 1)
    }

    @Test("a body that is not application/json is refused with 415; parameters are allowed")
    func wrongContentTypeRefused() async throws {
        let served = try ServedLedger()
        try await served.app.test(.router) { client in
            try await client.execute(
                uri: "/v1/entries/append", method: .post,
                headers: headers(token: served.writer, contentType: "text/plain"), body: body(noteRequest("hello"))
            ) { response in
                #expect(response.status == .unsupportedMediaType)
                let error = try response.error()
                #expect(error.code == "unsupported-media-type")
                #expect(error.message == "send the request body as Content-Type: application/json")
            }
            #expect(try served.size() == 1)
            try await client.execute(
                uri: "/v1/entries/append", method: .post,
                headers: headers(token: served.writer, contentType: "Application/JSON; charset=utf-8"),
                body: body(noteRequest("hello"))
            ) { response in
                #expect(response.status == .ok)
            }
        }
        #expect(try served.size() == 2)
    }

    @Test("log answers a page at a time: next names where the following page starts, null on the last")
    func logPages() async throws {
        let served = try ServedLedger()
        try await served.app.test(.router) { client in
            for text in ["one", "two", "three"] {
                try await client.execute(
                    uri: "/v1/entries/append", method: .post, headers: headers(token: served.writer),
                    body: body(noteRequest(text))
                ) { response in
                    #expect(response.status == .ok)
                }
            }
            /// The seqs of a page's entries and its `next`.
            func page(_ request: JSONValue) async throws -> (seqs: [JSONValue], next: JSONValue?) {
                try await client.execute(
                    uri: "/v1/log", method: .post, headers: headers(token: served.reader), body: body(request)
                ) { response in
                    #expect(response.status == .ok)
                    let reply = try response.json()
                    #expect(reply["status"] == .string("done"))
                    guard case .array(let entries) = reply["json"]?["entries"] ?? .null else {
                        Issue.record("no entries in \(reply)")
                        return ([], nil)
                    }
                    return (entries.map { $0["seq"] ?? .null }, reply["json"]?["next"])
                }
            }
            let first = try await page(.object(["page": .int(3)]))
            #expect(first.seqs == [.int(0), .int(1), .int(2)])
            #expect(first.next == .int(3))
            let second = try await page(.object(["page": .int(3), "from": .int(3)]))
            #expect(second.seqs == [.int(3)])
            #expect(second.next == .null)
        }
    }

    @Test("over a real socket too: /healthz answers, and an oversize Content-Length gets 413 and Connection: close")
    func liveSocket() async throws {
        let served = try ServedLedger(maximumBody: 1_024)
        try await served.app.test(.live) { client in
            try await client.execute(uri: "/healthz", method: .get) { response in
                #expect(response.status == .ok)
                let health = try response.json()
                #expect(health["max_body"] == .int(1_024))
            }
            try await client.execute(
                uri: "/v1/entries/append", method: .post, headers: headers(token: served.writer),
                body: body(noteRequest(String(repeating: "x", count: 2_000)))
            ) { response in
                #expect(response.status == .contentTooLarge)
                #expect(response.headers[.connection] == "close")
                let error = try response.error()
                #expect(error.code == "too-large")
            }
        }
        #expect(try served.size() == 1)
    }

    @Test("GET /healthz answers without a token: status, size and the body limit")
    func healthz() async throws {
        let served = try ServedLedger(maximumBody: 4_096)
        try await served.app.test(.router) { client in
            try await client.execute(uri: "/healthz", method: .get) { response in
                #expect(response.status == .ok)
                let health = try response.json()
                #expect(health == .object(["status": .string("ok"), "size": .int(1), "max_body": .int(4_096)]))
            }
        }
    }
}
