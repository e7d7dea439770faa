import Foundation
import PurserCore
import PurserLedger
import PurserOperations

/// 11. `purser serve` under load: appends from 64 concurrent clients, and `GET /v1/at` (what ran when) from 64,
/// each client on its own keep-alive connection, against the release binary on a loopback port.
func benchmarkServer(in directory: String, purser: String) throws {
    let path = directory + "/server.sqlite"
    let ledger = try Ledger.create(at: path, origin: "bench.example/server", keyPath: directory + "/server.key")
    let releases = try Releases(ledger: ledger)
    let fixture = try ManifestFixture(folder: directory + "/server-manifest", promptBytes: 4 * 1024, tools: 20)
    let versions = try fixture.recordVariants(20, in: releases) { _ in nil }
    let span = lastYear()
    let timeline = try TrafficTimeline(environments: 10, events: 20_000, versions: versions, span: span, seed: 0x5E4E)
    try ledger.append(contentsOf: timeline.events, batchSize: 1_000)
    try Releases.reindex(ledger)
    let token = try TokenFile(path: directory + "/server.tokens").create(name: "bench", role: .writer, now: Date())
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
    let head = Array(
        "POST /v1/entries/append HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer \(token)\r\nContent-Type: application/json\r\nContent-Length: "
            .utf8)
    let appends = try runLoad(port: port, clients: clients, seconds: 5) { client, n in
        let note = Data(#"{"client":\#(client),"n":\#(n)}"#.utf8).base64EncodedString()
        let body = #"{"kind":"custom.load","body":{"source":"load","base64":"\#(note)"}}"#
        return head + Array("\(body.utf8.count)\r\n\r\n\(body)".utf8)
    }
    appends.report("server appends, \(clients) clients (5 s)", unit: "appends/s", p99Target: 50)

    // What ran when, at random instants of the year in random environments.
    var random = SeededGenerator(seed: 0xA7)
    let queries = (0..<4_096).map { _ in
        (
            timeline.environments.randomElement(using: &random)!,
            ledgerTime(milliseconds: Int64.random(in: span, using: &random))
        )
    }
    // The requests are made before the clock starts: the load generator shares the 2 cores with the server.
    let requests = queries.map { env, time in
        Array(
            "GET /v1/at?time=\(time)&env=\(env) HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer \(token)\r\n\r\n"
                .utf8)
    }
    let reads = try runLoad(port: port, clients: clients, seconds: 5) { client, n in
        requests[(client * 7_919 + n) % requests.count]
    }
    reads.report("GET /v1/at, \(clients) clients (5 s)", unit: "requests/s", p99Target: 20)

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

/// What a load run measured: 2xx, 429 and other answers, and the latencies of the 2xx ones.
struct LoadResult {
    var ok = 0
    var refused = 0
    var failed = 0
    var latencies: [Double] = []
    var seconds = 0.0

    /// Prints the rate against the target of 5,000 per second, and the latency against `p99Target` ms.
    func report(_ name: String, unit: String, p99Target: Double) {
        let rate = Double(ok) / seconds
        let p99 = percentile(latencies, 0.99) * 1000
        PurserBench.report(name, "\(format(rate)) \(unit)", target: "target ≥ 5,000/s: \(verdict(rate >= 5_000))")
        PurserBench.report(
            "  latency p50 / p99", "\(format(percentile(latencies, 0.5) * 1000, 1)) / \(format(p99, 1)) ms",
            target: "p99 target < \(format(p99Target)) ms: \(verdict(p99 < p99Target))")
    }
}

/// `clients` threads, each on its own keep-alive connection, send `request(client, n)` for `seconds`: one after
/// another, or with `period` one every `period` seconds each (a steady rate, the clients' starts spread over the
/// period). `sample` runs on this thread once a second meanwhile.
func runLoad(
    port: UInt16, clients: Int, seconds: Double, period: Double? = nil, sample: () -> Void = {},
    request: @escaping @Sendable (Int, Int) -> [UInt8]
) throws -> LoadResult {
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
                    if let period {
                        // Pacing the sender, not making time pass in a test: request n leaves at its slot.
                        let slot = start + UInt64((Double(n) + Double(client) / Double(clients)) * period * 1e9)
                        if slot >= end { break }
                        let now = DispatchTime.now().uptimeNanoseconds
                        if slot > now { usleep(UInt32((slot - now) / 1_000)) }
                    }
                    let sent = DispatchTime.now().uptimeNanoseconds
                    let status = try connection.exchange(request(client, n))
                    switch status {
                    case 200..<300:
                        mine.ok += 1
                        mine.latencies.append(Double(DispatchTime.now().uptimeNanoseconds - sent) / 1e9)
                    case 429: mine.refused += 1
                    default: mine.failed += 1
                    }
                    n += 1
                }
            } catch {
                results.lock.withLock { results.error = error }
            }
            results.lock.withLock {
                results.total.ok += mine.ok
                results.total.refused += mine.refused
                results.total.failed += mine.failed
                results.total.latencies += mine.latencies
            }
        }.start()
    }
    // Sampling never sleeps past the end: the run's seconds are the clients' own.
    var now = DispatchTime.now().uptimeNanoseconds
    while now < end {
        sample()
        usleep(UInt32(min(1_000_000, (end - now) / 1_000)))
        now = DispatchTime.now().uptimeNanoseconds
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
        while true {
            if let end = headEnd() {
                // "HTTP/1.1 200 OK": the status is bytes 9–11.
                let status = buffer.count > 12 ? buffer[9..<12].reduce(0) { $0 * 10 + Int($1) - 48 } : 0
                let length = contentLength(in: buffer[..<end])
                while buffer.count < end + length { try receive() }
                buffer.removeFirst(end + length)
                return status
            }
            try receive()
        }
    }

    /// Where the body starts: just after the first blank line, if it has arrived.
    private func headEnd() -> Int? {
        guard buffer.count >= 4 else { return nil }
        for index in 3..<buffer.count
        where buffer[index] == 10 && buffer[index - 1] == 13 && buffer[index - 2] == 10 && buffer[index - 3] == 13 {
            return index + 1
        }
        return nil
    }

    /// The Content-Length header's value (0 without one).
    private func contentLength(in head: ArraySlice<UInt8>) -> Int {
        let name = Array("content-length:".utf8)
        var index = head.startIndex
        while index + name.count < head.endIndex {
            if head[index] == 10,
                zip(head[(index + 1)...].prefix(name.count), name).allSatisfy({ ($0 | 0x20) == $1 })
            {
                var value = 0
                for byte in head[(index + 1 + name.count)...] {
                    if byte == 32 { continue }
                    guard (48...57).contains(byte) else { break }
                    value = value * 10 + Int(byte) - 48
                }
                return value
            }
            index += 1
        }
        return 0
    }

    private func receive() throws {
        let n = chunk.withUnsafeMutableBytes { recv(socket, $0.baseAddress, $0.count, 0) }
        guard n > 0 else { throw LoadError(message: "the server closed the connection (errno \(errno))") }
        buffer += chunk[..<n]
    }
}
