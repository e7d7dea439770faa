import Foundation

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// A real HTTP/1.1 server on 127.0.0.1 and a port the system picks, serving canned responses by path, one thread
/// per connection. It records every request's target and stops accepting when released.
final class LoopbackServer: Sendable {
    /// What the server sends for a path.
    struct Response: Sendable {
        var status = 200
        var reason = "OK"
        var headers: [String] = []
        var body: [UInt8] = []
        /// Sent with `Transfer-Encoding: chunked`, one chunk each, instead of `body` with a Content-Length.
        var chunks: [[UInt8]]?
        /// Sent with neither a Content-Length nor chunks: the body ends when the connection closes.
        var closeDelimited = false
        /// Seconds to wait before answering (cut short when the client hangs up).
        var delay = 0.0

        static func json(_ text: String, status: Int = 200, reason: String = "OK") -> Response {
            Response(
                status: status, reason: reason, headers: ["Content-Type: application/json"], body: Array(text.utf8))
        }

        /// The exact bytes on the wire.
        var bytes: [UInt8] {
            var head = "HTTP/1.1 \(status) \(reason)\r\n" + headers.map { $0 + "\r\n" }.joined()
            if chunks != nil {
                head += "Transfer-Encoding: chunked\r\n"
            } else if !closeDelimited && !headers.contains(where: { $0.lowercased().hasPrefix("content-length:") }) {
                head += "Content-Length: \(body.count)\r\n"
            }
            var bytes = Array((head + "Connection: close\r\n\r\n").utf8)
            if let chunks {
                for chunk in chunks {
                    bytes += Array((String(chunk.count, radix: 16) + ";note=x\r\n").utf8) + chunk + [13, 10]
                }
                bytes += Array("0\r\n\r\n".utf8)
            } else {
                bytes += body
            }
            return bytes
        }
    }

    /// State shared with the server's threads.
    private final class State: @unchecked Sendable {
        private let lock = NSLock()
        private var requested: [String] = []
        private var isStopped = false

        func record(_ target: String) {
            lock.lock()
            defer { lock.unlock() }
            requested.append(target)
        }

        var requests: [String] {
            lock.lock()
            defer { lock.unlock() }
            return requested
        }

        var stopped: Bool {
            get {
                lock.lock()
                defer { lock.unlock() }
                return isStopped
            }
            set {
                lock.lock()
                defer { lock.unlock() }
                isStopped = newValue
            }
        }
    }

    struct Failure: Error, CustomStringConvertible {
        let description: String
    }

    let port: UInt16
    private let state = State()

    /// Starts serving `routes` (path and query → response); any other target gets a 404.
    init(routes: [String: Response]) throws {
        let (listener, port) = try Self.bindLoopback()
        guard listen(listener, 64) == 0 else {
            close(listener)
            throw Failure(description: "listen: \(String(cString: strerror(errno)))")
        }
        self.port = port
        let state = state
        Thread {
            while !state.stopped {
                var entry = pollfd(fd: listener, events: Int16(POLLIN), revents: 0)
                guard poll(&entry, 1, 50) > 0 else { continue }
                let client = accept(listener, nil, nil)
                guard client >= 0 else { continue }
                Thread { Self.serve(client, routes: routes, state: state) }.start()
            }
            close(listener)
        }.start()
    }

    deinit { state.stopped = true }

    /// The targets (path and query) requested so far, in order.
    var requests: [String] { state.requests }

    func url(_ target: String) -> String { "http://127.0.0.1:\(port)\(target)" }

    /// A loopback port nothing listens on: bound by the system, then closed.
    static func closedPort() throws -> UInt16 {
        let (socket, port) = try bindLoopback()
        close(socket)
        return port
    }

    private static func bindLoopback() throws -> (Int32, UInt16) {
        #if os(Linux)
            let listener = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        #else
            let listener = socket(AF_INET, SOCK_STREAM, 0)
        #endif
        guard listener >= 0 else { throw Failure(description: "socket: \(String(cString: strerror(errno)))") }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        address.sin_port = 0
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let bound = withUnsafeMutablePointer(to: &address) { pointer in
            pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) { socketAddress in
                bind(listener, socketAddress, length) == 0 && getsockname(listener, socketAddress, &length) == 0
            }
        }
        guard bound else {
            close(listener)
            throw Failure(description: "bind: \(String(cString: strerror(errno)))")
        }
        return (listener, UInt16(bigEndian: address.sin_port))
    }

    private static func serve(_ client: Int32, routes: [String: Response], state: State) {
        defer { close(client) }
        var request: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 4096)
        while !endsHead(request) {
            var entry = pollfd(fd: client, events: Int16(POLLIN), revents: 0)
            guard poll(&entry, 1, 2000) > 0 else { return }
            let count = recv(client, &buffer, buffer.count, 0)
            guard count > 0 else { return }
            request += buffer[0..<count]
        }
        let requestLine = String(decoding: request.prefix { $0 != 13 }, as: UTF8.self).split(separator: " ")
        guard requestLine.count == 3 else { return }
        let target = String(requestLine[1])
        state.record(target)
        let response = routes[target] ?? .json(#"{"error":"no such path"}"#, status: 404, reason: "Not Found")
        if response.delay > 0 {
            // Readable here means the client hung up.
            var entry = pollfd(fd: client, events: Int16(POLLIN), revents: 0)
            _ = poll(&entry, 1, Int32(response.delay * 1000))
        }
        let bytes = response.bytes
        var offset = 0
        while offset < bytes.count {
            #if os(Linux)
                let flags = Int32(MSG_NOSIGNAL)
            #else
                let flags: Int32 = 0
            #endif
            let sent = bytes[offset...].withUnsafeBytes { send(client, $0.baseAddress, $0.count, flags) }
            guard sent > 0 else { return }
            offset += sent
        }
    }

    private static func endsHead(_ bytes: [UInt8]) -> Bool {
        bytes.count >= 4 && bytes.suffix(4).elementsEqual([13, 10, 13, 10])
    }
}
