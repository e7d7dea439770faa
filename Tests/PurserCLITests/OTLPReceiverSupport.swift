import Foundation
import PurserLedger
import Testing

#if canImport(FoundationNetworking)
    import FoundationNetworking
#endif

/// `purser serve` with its OTLP/HTTP receiver at `/v1/traces`, a ledger holding agent@1 and agent@2, and tokens: what
/// the receiver's end-to-end tests share.
final class TraceReceiver {
    /// The receiver's options that make a test quick: a short late-span window and batch interval, in seconds.
    static let options = ["--otlp-window", "0.2", "--otlp-batch-interval", "0.1"]
    /// Options for a test whose tasks' spans come in several requests: a window that a loaded machine's gaps between
    /// requests stay well inside (0.2 s did not, on CI).
    static let patient = ["--otlp-window", "3", "--otlp-batch-interval", "0.1"]
    /// Options under which spans wait an hour for late ones: none is summarized while a test looks.
    static let holding = ["--otlp-window", "3600", "--otlp-batch-interval", "0.1"]

    let workspace: Workspace
    let writer: String
    let reader: String
    private(set) var server: RunningServer

    /// A ledger with agent@1 and agent@2 recorded (and, with `canary`, agent@1 serving prod and agent@2 its 10%
    /// canary), a writer and a reader token, and `purser serve` on it with `options`.
    init(canary: Bool = false, options: [String] = TraceReceiver.options) throws {
        workspace = Workspace()
        if canary { try workspace.startCanaryRollout() } else { try workspace.recordTwoVersions() }
        writer = try workspace.token("writer", name: "agent-runtime")
        reader = try workspace.token("reader", name: "dashboard")
        server = try RunningServer(in: workspace, arguments: options)
    }

    var endpoint: String { server.url + "/v1/traces" }

    /// Stops the server with `signal`, then starts it again on the same ledger (on another port) with the quick
    /// options; returns how the stopped server exited.
    @discardableResult
    func restart(after signal: Int32) throws -> Int32 {
        let status = server.stop(with: signal)
        server = try RunningServer(in: workspace, arguments: Self.options)
        return status
    }

    /// POSTs `body` to `/v1/traces` with the writer's token, or `token` ("" for none).
    func post(
        _ body: Data, token: String? = nil, contentType: String = "application/json", gzip: Bool = false
    ) -> (status: Int, body: String, retryAfter: String?) {
        var headers = ["Content-Type": contentType]
        let token = token ?? writer
        if !token.isEmpty { headers["Authorization"] = "Bearer \(token)" }
        if gzip { headers["Content-Encoding"] = "gzip" }
        return exchange(endpoint, headers: headers, body: body)
    }

    func post(_ body: String, gzip: Bool = false) -> (status: Int, body: String, retryAfter: String?) {
        post(gzip ? gzipped(Data(body.utf8)) : Data(body.utf8), gzip: gzip)
    }

    /// Runs `purser` against the server, with the writer's token.
    func purser(_ arguments: [String]) throws -> RunResult {
        try workspace.run(arguments, environment: ["PURSER_SERVER": server.url, "PURSER_TOKEN": writer])
    }

    /// The bodies of the ledger's `metrics.summarized` entries, oldest first.
    func summaries() throws -> [JSONValue] {
        let log = try purser(["log", "--kind", "metrics.summarized", "--json"])
        try #require(log.status == 0, "log: \(log.stderr)")
        return try log.stdout.split(separator: "\n").map { line in
            let entry = try #require(try workspace.json(String(line))["entry"]?.stringValue)
            return try #require(try JSONValue(parsing: Array(entry.utf8))["body"])
        }
    }

    /// The sum of `member` over the `metrics.summarized` entries.
    func summed(_ member: String) throws -> Double {
        try summaries().reduce(0) { $0 + ($1[member]?.numberValue ?? 0) }
    }

    /// `purser metrics report --env prod --json`, by version label.
    func report() throws -> [String: JSONValue] {
        let result = try purser(["metrics", "report", "--env", "prod", "--json"])
        try #require(result.status == 0, "report: \(result.stderr)")
        var rows: [String: JSONValue] = [:]
        for row in try workspace.json(result.stdout)["versions"]?.arrayValue ?? [] {
            rows[row["label"]?.stringValue ?? "?"] = row
        }
        return rows
    }

    /// The tasks of every version in prod.
    func taskCount() throws -> Double {
        try report().values.reduce(0) { $0 + ($1["tasks"]?.numberValue ?? 0) }
    }

    /// Polls `condition` until it holds or `seconds` pass: the receiver summarises spans a moment after they
    /// arrive. Records an issue naming `what` when it never holds.
    @discardableResult
    func wait(
        _ what: String, seconds: Double = 60, sourceLocation: SourceLocation = #_sourceLocation,
        until condition: () throws -> Bool
    ) rethrows -> Bool {
        let deadline = Date().addingTimeInterval(seconds)
        while Date() < deadline {
            if try condition() { return true }
            usleep(100_000)  // polling the server's batches: real time itself
        }
        if try condition() { return true }
        Issue.record(
            "waited \(Int(seconds)) s for \(what); the server said: \(server.log.suffix(2000))",
            sourceLocation: sourceLocation)
        return false
    }
}

/// One HTTP exchange with `headers`, waited for: the status (0 if no answer came), the body and any Retry-After.
func exchange(
    _ url: String, method: String = "POST", headers: [String: String], body: Data?
) -> (
    status: Int, body: String, retryAfter: String?
) {
    var request = URLRequest(url: URL(string: url)!, timeoutInterval: 60)
    request.httpMethod = method
    request.httpBody = body
    for (name, value) in headers { request.setValue(value, forHTTPHeaderField: name) }
    final class Box: @unchecked Sendable { var result: (Int, String, String?) = (0, "", nil) }
    let box = Box()
    let done = DispatchSemaphore(value: 0)
    URLSession.shared.dataTask(with: request) { data, response, _ in
        let answer = response as? HTTPURLResponse
        box.result = (
            answer?.statusCode ?? 0, String(decoding: data ?? Data(), as: UTF8.self),
            answer?.value(forHTTPHeaderField: "Retry-After")
        )
        done.signal()
    }.resume()
    done.wait()
    return box.result
}

/// `data` compressed by gzip(1), as an OTLP exporter sends it with `Content-Encoding: gzip`.
func gzipped(_ data: Data) -> Data {
    let path = NSTemporaryDirectory() + "purser-gzip-" + UUID().uuidString
    _ = FileManager.default.createFile(atPath: path, contents: data)
    defer { try? FileManager.default.removeItem(atPath: path) }
    let process = Process()
    process.executableURL = URL(fileURLWithPath: "/usr/bin/gzip")
    process.arguments = ["-c", path]
    let output = Pipe()
    process.standardOutput = output
    try! process.run()
    let compressed = output.fileHandleForReading.readDataToEndOfFile()
    process.waitUntilExit()
    return compressed
}

/// The `f` percentile of `values` as ledger/README.md §15.4 defines it (numpy's default, linear).
func percentile(_ values: [Double], _ f: Double) -> Double {
    let sorted = values.sorted()
    let h = f * Double(sorted.count - 1)
    let i = Int(h.rounded(.down))
    return sorted[i] + (sorted[min(i + 1, sorted.count - 1)] - sorted[i]) * (h - Double(i))
}
