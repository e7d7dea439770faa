public import Foundation
import PurserCore
public import PurserLedger

/// The CLI's side of `--server URL`: sends an operation to `purser serve` and hands back its reply, or the error
/// the server reported, with the code the command would have failed with locally. It speaks plain HTTP over
/// POSIX sockets (PurserCore's `HTTPClient`), so that no purser start-up loads FoundationNetworking and libcurl.
public struct Client: Sendable {
    public let base: URL
    public let token: String?

    /// - Throws: `.usage` for a URL that is not http(s).
    public init(server: String, token: String?) throws(LedgerError) {
        guard let url = URL(string: server.hasSuffix("/") ? String(server.dropLast()) : server),
            url.scheme == "http", url.host != nil
        else {
            if !server.contains("://") {
                throw LedgerError(.usage, "--server \"\(server)\" has no scheme: write http://\(server)")
            }
            throw LedgerError(
                .usage,
                "--server \"\(server)\" is not an http:// URL (purser has no TLS client yet: reach an https server through a local tunnel such as ssh -L or stunnel)"
            )
        }
        base = url
        self.token = token
    }

    /// Performs `operation` on the server's ledger (`POST /v1/<name>`); a listing page after page, joined.
    public func perform<Op: LedgerOperation>(_ operation: Op) throws(LedgerError) -> Reply {
        if let listing = operation as? any PagedOperation { return try performAllPages(listing) }
        return try performPage(operation)
    }

    /// Performs `operation` with one request.
    func performPage<Op: LedgerOperation>(_ operation: Op) throws(LedgerError) -> Reply {
        try checkFileSizes(of: operation)
        let body: Data
        do {
            body = try JSONEncoder().encode(operation)
        } catch {
            throw LedgerError(.internal, "cannot encode the \(Op.name) request: \(error)")
        }
        return try Reply(wire: send("POST", "/v1/\(Op.name)", body: body))
    }

    /// Files over this many bytes in one request make the client ask the server's body limit first.
    static let askLimitAbove = 1 << 20

    /// Refuses a request whose files, base64-encoded, are over the server's body limit (`GET /healthz` says it),
    /// before they are encoded and sent: a file of a gigabyte is refused in the time it takes to read it, not after
    /// seconds of encoding and gigabytes of memory. Only a request with files over `askLimitAbove` asks; a server
    /// that does not say its limit refuses the body itself.
    /// - Throws: `.tooLarge`.
    private func checkFileSizes(of operation: some LedgerOperation) throws(LedgerError) {
        let size = Self.fileBytes(in: operation)
        guard size > Self.askLimitAbove,
            let limit = try get("/healthz")["max_body"]?.numberValue.flatMap({ Int(exactly: $0) })
        else { return }
        let encoded = (size + 2) / 3 * 4
        guard encoded > limit else { return }
        throw LedgerError(
            .tooLarge,
            "the files of this request, \(size) bytes (\(encoded) encoded), are over the limit of \(limit) bytes of the server at \(base.absoluteString) (purser serve --max-body): nothing was sent"
        )
    }

    /// The bytes of the files `value` carries (`InputFile`s, however deep in it), without encoding them.
    static func fileBytes(in value: Any) -> Int {
        if let file = value as? InputFile { return file.bytes.count }
        return Mirror(reflecting: value).children.reduce(0) { $0 + fileBytes(in: $1.value) }
    }

    /// The JSON document of a GET endpoint (`/v1/checkpoint`, …).
    public func get(_ path: String) throws(LedgerError) -> JSONValue {
        try send("GET", path, body: nil)
    }

    private func send(_ method: String, _ path: String, body: Data?) throws(LedgerError) -> JSONValue {
        var headers: [(String, String)] = []
        if body != nil { headers.append(("Content-Type", "application/json")) }
        if let token { headers.append(("Authorization", "Bearer \(token)")) }
        let response: (status: Int, body: [UInt8])
        do {
            // Answers are as large as what was asked: a year's audit document or log runs to tens of megabytes.
            response = try HTTPClient.request(
                method, base.absoluteString + path, headers: headers, body: body.map(Array.init), timeout: 300,
                maximumBody: 4 << 30)
        } catch {
            throw LedgerError(.notFound, "cannot reach the purser server at \(base.absoluteString): \(error.message)")
        }
        let value: JSONValue
        do {
            value = try JSONValue(parsing: response.body)
        } catch {
            throw LedgerError(
                .internal, "the server at \(base.absoluteString) answered \(response.status) without JSON: \(error)")
        }
        guard (200..<300).contains(response.status) else {
            guard let code = value["error"]?["code"]?.stringValue, let message = value["error"]?["message"]?.stringValue
            else {
                throw LedgerError(.internal, "the server at \(base.absoluteString) answered \(response.status)")
            }
            // A message naming parameters comes with its template too, for the CLI to name them as its flags.
            if let template = value["error"]?["template"]?.stringValue.flatMap(LedgerError.Message.init(template:)),
                template.rendered({ $0 }) == message
            {
                throw LedgerError(LedgerError.Code(name: code), naming: template)
            }
            throw LedgerError(LedgerError.Code(name: code), message)
        }
        return value
    }
}
