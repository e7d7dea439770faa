import Foundation
import PurserCore
import PurserLedger
import PurserServer

/// 11. `purser serve` under load: appends from 64 concurrent clients, and `GET /v1/at` (what ran when) from 64,
/// each client on its own keep-alive connection, against the release binary on a loopback port.
func benchmarkServer(in directory: String, purser: String) throws {
    let path = directory + "/server.sqlite"
    let ledger = try Ledger.create(at: path, origin: "bench.example/server", keyPath: directory + "/server.key")
    let releases = try Releases(ledger: ledger)
    let fixture = try ManifestFixture(folder: directory + "/server-manifest", promptBytes: 4 * 1024, tools: 20)
    var versions: [String] = []
    for n in 0..<20 {
        try fixture.writePrompt(variant: n)
        versions.append(try releases.recordVersion(try Manifest.load(at: fixture.manifestPath), label: nil).id)
    }
    let now = Int64(Date().timeIntervalSince1970 * 1000)
    let year: Int64 = 365 * 86_400_000
    let span = (now - 86_400_000 - year)...(now - 86_400_000)
    let timeline = try TrafficTimeline(environments: 10, events: 20_000, versions: versions, span: span, seed: 0x5E4E)
    try ledger.append(contentsOf: timeline.events, batchSize: 1_000)
    try Releases.reindex(ledger)
    let token = try TokenFile(path: directory + "/server.tokens").create(name: "bench", role: .writer)
    let sizeBefore = try ledger.size()

    let server = Process()
    server.executableURL = URL(fileURLWithPath: purser)
    server.arguments = ["serve", "--ledger", path, "--tokens", directory + "/server.tokens", "--listen", "127.0.0.1:0"]
    let output = Pipe()
    server.standardOutput = output
    server.standardError = FileHandle(forWritingAtPath: "/dev/null")
    var environment = ProcessInfo.processInfo.environment
    environment["LOG_LEVEL"] = "error"
    server.environment = environment
    try server.run()
    defer {
        if server.isRunning {
            server.terminate()
            server.waitUntilExit()
        }
    }
    let line = String(decoding: output.fileHandleForReading.availableData, as: UTF8.self)
    guard let port = line.firstMatch(of: /listening on http:\/\/127\.0\.0\.1:([0-9]+)/).flatMap({ UInt16($0.1) }) else {
        throw LoadError(message: "purser serve did not say where it listens: \(line)")
    }

    // Appends.
    let clients = 64
    let appends = try runLoad(port: port, clients: clients, seconds: 5) { client, n in
        let note = Data(#"{"client":\#(client),"n":\#(n)}"#.utf8).base64EncodedString()
        let body = #"{"kind":"custom.load","body":{"source":"load","base64":"\#(note)"}}"#
        return
            "POST /v1/entries/append HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer \(token)\r\nContent-Type: application/json\r\nContent-Length: \(body.utf8.count)\r\n\r\n\(body)"
    }
    let appendRate = Double(appends.ok) / appends.seconds
    let appendP99 = percentile(appends.latencies, 0.99) * 1000
    report(
        "server appends, \(clients) clients (5 s)", "\(format(appendRate)) appends/s",
        target: "target ≥ 5,000/s: \(verdict(appendRate >= 5_000))")
    report(
        "  latency p50 / p99", "\(format(percentile(appends.latencies, 0.5) * 1000, 1)) / \(format(appendP99, 1)) ms",
        target: "p99 target < 50 ms: \(verdict(appendP99 < 50))")

    // What ran when, at random instants of the year in random environments.
    var random = SeededGenerator(seed: 0xA7)
    let queries = (0..<4_096).map { _ in
        (
            timeline.environments.randomElement(using: &random)!,
            ledgerTime(milliseconds: Int64.random(in: span, using: &random))
        )
    }
    let reads = try runLoad(port: port, clients: clients, seconds: 5) { client, n in
        let (env, time) = queries[(client * 7_919 + n) % queries.count]
        return
            "GET /v1/at?time=\(time)&env=\(env) HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer \(token)\r\n\r\n"
    }
    let readRate = Double(reads.ok) / reads.seconds
    let readP99 = percentile(reads.latencies, 0.99) * 1000
    report(
        "GET /v1/at, \(clients) clients (5 s)", "\(format(readRate)) requests/s",
        target: "target ≥ 5,000/s: \(verdict(readRate >= 5_000))")
    report(
        "  latency p50 / p99", "\(format(percentile(reads.latencies, 0.5) * 1000, 1)) / \(format(readP99, 1)) ms",
        target: "p99 target < 20 ms: \(verdict(readP99 < 20))")

    kill(server.processIdentifier, SIGTERM)
    server.waitUntilExit()
    let stored = try Ledger(openingAt: path).size() - sizeBefore
    guard appends.failed == 0, reads.failed == 0, stored == UInt64(appends.ok), server.terminationStatus == 0 else {
        throw LoadError(
            message:
                "\(appends.failed) appends and \(reads.failed) reads failed; \(stored) entries stored for \(appends.ok) acknowledged; serve exited \(server.terminationStatus)"
        )
    }
    print("(all \(appends.ok) acknowledged appends stored; SIGTERM: exit 0)")
}

struct LoadError: Error, CustomStringConvertible {
    let message: String
    var description: String { message }
}

/// What a load run measured.
struct LoadResult {
    var ok = 0
    var failed = 0
    var latencies: [Double] = []
    var seconds = 0.0
}

/// `clients` threads, each on its own keep-alive connection, send `request(client, n)` one after another for
/// `seconds`; a 2xx counts as ok.
func runLoad(
    port: UInt16, clients: Int, seconds: Double, request: @escaping @Sendable (Int, Int) -> String
) throws
    -> LoadResult
{
    final class Results: @unchecked Sendable {
        let lock = NSLock()
        var total = LoadResult()
        var error: (any Error)?
    }
    let results = Results()
    let group = DispatchGroup()
    let start = DispatchTime.now().uptimeNanoseconds
    let end = start + UInt64(seconds * 1e9)
    for client in 0..<clients {
        group.enter()
        Thread {
            defer { group.leave() }
            var mine = LoadResult()
            do {
                let connection = try HTTPConnection(port: port)
                var n = 0
                while DispatchTime.now().uptimeNanoseconds < end {
                    let sent = DispatchTime.now().uptimeNanoseconds
                    let status = try connection.exchange(Array(request(client, n).utf8))
                    mine.latencies.append(Double(DispatchTime.now().uptimeNanoseconds - sent) / 1e9)
                    if (200..<300).contains(status) { mine.ok += 1 } else { mine.failed += 1 }
                    n += 1
                }
            } catch {
                results.lock.withLock { results.error = error }
            }
            results.lock.withLock {
                results.total.ok += mine.ok
                results.total.failed += mine.failed
                results.total.latencies += mine.latencies
            }
        }.start()
    }
    group.wait()
    if let error = results.error { throw error }
    results.total.seconds = Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
    return results.total
}

/// One HTTP/1.1 keep-alive connection on a blocking socket: send a request, read the status line, headers and
/// a Content-Length body.
final class HTTPConnection {
    private let socket: Int32
    private var buffer: [UInt8] = []
    private var chunk = [UInt8](repeating: 0, count: 65_536)

    init(port: UInt16) throws {
        socket = Glibc.socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = port.bigEndian
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        let connected = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                connect(socket, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
            }
        }
        var on: Int32 = 1
        setsockopt(socket, Int32(IPPROTO_TCP), TCP_NODELAY, &on, socklen_t(MemoryLayout<Int32>.size))
        guard connected == 0 else { throw LoadError(message: "cannot connect to 127.0.0.1:\(port): errno \(errno)") }
    }

    deinit { close(socket) }

    /// Sends `request`; returns the response's status code once its whole body has arrived.
    func exchange(_ request: [UInt8]) throws -> Int {
        var sent = 0
        while sent < request.count {
            let n = request[sent...].withUnsafeBytes { send(socket, $0.baseAddress, $0.count, 0) }
            guard n > 0 else { throw LoadError(message: "send failed: errno \(errno)") }
            sent += n
        }
        let separator: [UInt8] = [13, 10, 13, 10]
        while true {
            if let end = buffer.firstRange(of: separator) {
                let head = String(decoding: buffer[..<end.lowerBound], as: UTF8.self)
                let status = Int(head.split(separator: " ").dropFirst().first ?? "") ?? 0
                let length =
                    head.split(separator: "\r\n").first { $0.lowercased().hasPrefix("content-length:") }
                    .flatMap { Int($0.split(separator: ":")[1].trimmingCharacters(in: .whitespaces)) } ?? 0
                while buffer.count < end.upperBound + length { try receive() }
                buffer.removeFirst(end.upperBound + length)
                return status
            }
            try receive()
        }
    }

    private func receive() throws {
        let n = chunk.withUnsafeMutableBytes { recv(socket, $0.baseAddress, $0.count, 0) }
        guard n > 0 else { throw LoadError(message: "the server closed the connection (errno \(errno))") }
        buffer += chunk[..<n]
    }
}
