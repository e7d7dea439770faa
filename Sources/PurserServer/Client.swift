public import Foundation
public import PurserLedger

#if canImport(FoundationNetworking)
    import FoundationNetworking
#endif

/// The CLI's side of `--server URL`: sends an operation to `purser serve` and hands back its reply, or the error
/// the server reported, with the code the command would have failed with locally.
public struct Client: Sendable {
    public let base: URL
    public let token: String?

    /// - Throws: `.usage` for a URL that is not http(s).
    public init(server: String, token: String?) throws(LedgerError) {
        guard let url = URL(string: server.hasSuffix("/") ? String(server.dropLast()) : server),
            ["http", "https"].contains(url.scheme ?? ""), url.host != nil
        else {
            throw LedgerError(.usage, "--server \"\(server)\" is not an http:// or https:// URL")
        }
        base = url
        self.token = token
    }

    /// Performs `operation` on the server's ledger (`POST /v1/<name>`).
    public func perform<Op: LedgerOperation>(_ operation: Op) throws(LedgerError) -> Reply {
        let body: Data
        do {
            body = try JSONEncoder().encode(operation)
        } catch {
            throw LedgerError(.internal, "cannot encode the \(Op.name) request: \(error)")
        }
        return try Reply(wire: send("POST", "/v1/\(Op.name)", body: body))
    }

    /// The JSON document of a GET endpoint (`/v1/checkpoint`, …).
    public func get(_ path: String) throws(LedgerError) -> JSONValue {
        try send("GET", path, body: nil)
    }

    private func send(_ method: String, _ path: String, body: Data?) throws(LedgerError) -> JSONValue {
        var request = URLRequest(url: URL(string: base.absoluteString + path)!, timeoutInterval: 300)
        request.httpMethod = method
        request.httpBody = body
        if body != nil { request.setValue("application/json", forHTTPHeaderField: "Content-Type") }
        if let token { request.setValue("Bearer \(token)", forHTTPHeaderField: "Authorization") }
        let (data, response, failure) = Self.exchange(request)
        guard let response = response as? HTTPURLResponse, let data else {
            throw LedgerError(
                .notFound,
                "cannot reach the purser server at \(base.absoluteString): \(failure?.localizedDescription ?? "no response")"
            )
        }
        let value: JSONValue
        do {
            value = try JSONValue(parsing: Array(data))
        } catch {
            throw LedgerError(
                .internal, "the server at \(base.absoluteString) answered \(response.statusCode) without JSON: \(error)"
            )
        }
        guard (200..<300).contains(response.statusCode) else {
            guard let code = value["error"]?["code"]?.stringValue, let message = value["error"]?["message"]?.stringValue
            else {
                throw LedgerError(.internal, "the server at \(base.absoluteString) answered \(response.statusCode)")
            }
            throw LedgerError(LedgerError.Code(name: code), message)
        }
        return value
    }

    /// One request, waited for.
    private static func exchange(_ request: URLRequest) -> (Data?, URLResponse?, (any Error)?) {
        final class Box: @unchecked Sendable {
            var result: (Data?, URLResponse?, (any Error)?) = (nil, nil, nil)
        }
        let box = Box()
        let done = DispatchSemaphore(value: 0)
        URLSession.shared.dataTask(with: request) { data, response, error in
            box.result = (data, response, error)
            done.signal()
        }.resume()
        done.wait()
        return box.result
    }
}
