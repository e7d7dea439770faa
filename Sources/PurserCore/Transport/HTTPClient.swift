internal import Foundation
public import PurserLedger

/// A minimal HTTP/1.1 client over a POSIX socket: enough for a local probe answering JSON and for `--server`,
/// without linking FoundationNetworking and libcurl into every purser start-up.
public enum HTTPClient {
    struct Target {
        let host: String
        let port: UInt16
        /// The Host header's value.
        let authority: String
        /// The path and query.
        let path: String
    }

    /// Sends one request (`Connection: close`) and returns the status and body.
    /// - Throws: `.invalidInput` for a URL it cannot use (https among them), a connection that fails, a deadline
    ///   that passes, or a body over `maximumBody` bytes.
    public static func request(
        _ method: String, _ url: String, headers: [(String, String)] = [], body: [UInt8]? = nil, timeout: Double,
        maximumBody: Int
    ) throws(LedgerError) -> (status: Int, body: [UInt8]) {
        let response = try exchange(
            method, url, headers: headers, body: body, timeout: timeout, maximumBody: maximumBody)
        return (response.status, response.body)
    }

    static func get(_ url: String, timeout: Double) throws(LedgerError) -> [UInt8] {
        let response = try exchange("GET", url, timeout: timeout)
        switch response.status {
        case 200..<300:
            return response.body
        case 300..<400:
            let location = response.header("location").map { "redirected to \($0)" } ?? "redirected"
            throw LedgerError(
                .invalidInput,
                "\(location) (status \(response.status)); purser does not follow redirects: put the final URL "
                    + "in the policy")
        default:
            let reason = response.reason.isEmpty ? "" : " \(response.reason)"
            let body = EvidenceSource.excerpt(response.body)
            throw LedgerError(
                .invalidInput, "status \(response.status)\(reason)" + (body.isEmpty ? "" : ": \(body)"))
        }
    }

    private static func exchange(
        _ method: String, _ url: String, headers: [(String, String)] = [], body: [UInt8]? = nil, timeout: Double,
        maximumBody: Int = maximumEvidenceBytes
    ) throws(LedgerError) -> Response {
        let target = try parse(url)
        let deadline = Deadline(after: timeout)
        let timedOut = "timed out after \(EvidenceSource.formatNumber(timeout)) s"
        let socket = try openConnection(to: target, deadline: deadline, timedOut: timedOut)
        defer { close(socket) }
        var request =
            "\(method) \(target.path) HTTP/1.1\r\nHost: \(target.authority)\r\nConnection: close\r\n"
            + "Accept: application/json\r\nUser-Agent: purser\r\n"
        for (name, value) in headers { request += "\(name): \(value)\r\n" }
        if let body { request += "Content-Length: \(body.count)\r\n" }
        try write(Array((request + "\r\n").utf8) + (body ?? []), to: socket, deadline: deadline, timedOut: timedOut)
        return try receive(from: socket, deadline: deadline, timedOut: timedOut, maximumBody: maximumBody)
    }

    static func parse(_ url: String) throws(LedgerError) -> Target {
        let lower = url.lowercased()
        if lower.hasPrefix("https://") {
            throw LedgerError(
                .invalidInput,
                "https needs a TLS client purser does not have yet: put a local proxy in front, or use a command "
                    + "source such as [\"curl\", \"-fsS\", \"\(url)\"]")
        }
        guard lower.hasPrefix("http://") else {
            throw LedgerError(.invalidInput, "expected an http:// URL")
        }
        let rest = url.dropFirst("http://".count)
        let end = rest.firstIndex { $0 == "/" || $0 == "?" || $0 == "#" } ?? rest.endIndex
        let authority = rest[..<end]
        var path = rest[end...]
        if let fragment = path.firstIndex(of: "#") { path = path[..<fragment] }
        let target = path.first == "/" ? String(path) : "/" + path
        guard !authority.contains("@") else {
            throw LedgerError(.invalidInput, "credentials in the URL are not supported")
        }
        var host = Substring(authority)
        var port: UInt16 = 80
        var portText: Substring?
        if host.hasPrefix("[") {
            guard let close = host.firstIndex(of: "]") else {
                throw LedgerError(.invalidInput, "the URL's IPv6 address lacks its closing ]")
            }
            let after = host[host.index(after: close)...]
            if after.first == ":" {
                portText = after.dropFirst()
            } else if !after.isEmpty {
                throw LedgerError(.invalidInput, "unexpected \(after) after the URL's IPv6 address")
            }
            host = host[host.index(after: host.startIndex)..<close]
        } else if let colon = host.lastIndex(of: ":") {
            portText = host[host.index(after: colon)...]
            host = host[..<colon]
        }
        if let portText {
            guard let number = UInt16(portText), number > 0 else {
                throw LedgerError(.invalidInput, "the URL's port \"\(portText)\" is not a number from 1 to 65535")
            }
            port = number
        }
        guard !host.isEmpty else { throw LedgerError(.invalidInput, "the URL has no host") }
        guard target.utf8.allSatisfy({ (0x21...0x7E).contains($0) && $0 != 0x7B && $0 != 0x7D }) else {
            throw LedgerError(
                .invalidInput, "the URL's path holds a space, a brace or a character outside ASCII: percent-encode it")
        }
        return Target(host: String(host), port: port, authority: String(authority), path: target)
    }

    /// Connects to the first address of the host that accepts, without blocking past the deadline.
    static func openConnection(to target: Target, deadline: Deadline, timedOut: String) throws(LedgerError) -> Int32 {
        var hints = addrinfo()
        hints.ai_family = AF_UNSPEC
        #if os(Linux)
            hints.ai_socktype = Int32(SOCK_STREAM.rawValue)
        #else
            hints.ai_socktype = SOCK_STREAM
        #endif
        var list: UnsafeMutablePointer<addrinfo>?
        let status = getaddrinfo(target.host, String(target.port), &hints, &list)
        guard status == 0, let list else {
            throw LedgerError(.invalidInput, "cannot resolve \(target.host): \(String(cString: gai_strerror(status)))")
        }
        defer { freeaddrinfo(list) }
        var failure: Int32 = 0
        var cursor: UnsafeMutablePointer<addrinfo>? = list
        while let info = cursor?.pointee {
            cursor = info.ai_next
            let fd = socket(info.ai_family, info.ai_socktype, info.ai_protocol)
            guard fd >= 0 else {
                failure = errno
                continue
            }
            _ = fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK)
            #if canImport(Darwin)
                var one: Int32 = 1
                setsockopt(fd, SOL_SOCKET, SO_NOSIGPIPE, &one, socklen_t(MemoryLayout<Int32>.size))
            #endif
            if connect(fd, info.ai_addr, info.ai_addrlen) == 0 { return fd }
            guard errno == EINPROGRESS else {
                failure = errno
                close(fd)
                continue
            }
            var entry = pollfd(fd: fd, events: Int16(POLLOUT), revents: 0)
            var ready: Int32
            repeat {
                ready = poll(&entry, 1, deadline.milliseconds)
            } while ready < 0 && errno == EINTR
            guard ready > 0 else {
                close(fd)
                throw LedgerError(.invalidInput, "\(timedOut) connecting to \(target.authority)")
            }
            var error: Int32 = 0
            var length = socklen_t(MemoryLayout<Int32>.size)
            getsockopt(fd, SOL_SOCKET, SO_ERROR, &error, &length)
            if error == 0 { return fd }
            failure = error
            close(fd)
        }
        if failure == ECONNREFUSED {
            throw LedgerError(.invalidInput, "connection refused by \(target.authority) (is the service running?)")
        }
        throw LedgerError(.invalidInput, "cannot connect to \(target.authority): \(systemError(failure))")
    }

    /// Sends `bytes`, and stops early when the server answers before it has read them all (a server refuses a body
    /// over its limit as soon as it sees the length) or closes the connection: the answer is read next.
    static func write(_ bytes: [UInt8], to fd: Int32, deadline: Deadline, timedOut: String) throws(LedgerError) {
        #if os(Linux)
            let flags = Int32(MSG_NOSIGNAL)
        #else
            let flags: Int32 = 0
        #endif
        var offset = 0
        while offset < bytes.count {
            let ready = try wait(
                fd, for: Int16(POLLOUT) | Int16(POLLIN), deadline: deadline, timedOut: "\(timedOut) sending the request"
            )
            if ready & Int16(POLLIN) != 0 { return }
            let sent = bytes[offset...].withUnsafeBytes { send(fd, $0.baseAddress, $0.count, flags) }
            if sent < 0 {
                if errno == EINTR || errno == EAGAIN { continue }
                if errno == EPIPE || errno == ECONNRESET { return }
                throw LedgerError(.invalidInput, "sending the request failed: \(systemError(errno))")
            }
            offset += sent
        }
    }

    /// Waits until one of `events` happens on `fd`; returns the events that did.
    @discardableResult
    static func wait(_ fd: Int32, for events: Int16, deadline: Deadline, timedOut: String) throws(LedgerError) -> Int16
    {
        var entry = pollfd(fd: fd, events: events, revents: 0)
        while true {
            let remaining = deadline.milliseconds
            guard remaining > 0 else { throw LedgerError(.invalidInput, timedOut) }
            let ready = poll(&entry, 1, remaining)
            if ready > 0 { return entry.revents }
            if ready < 0 && errno != EINTR {
                throw LedgerError(.invalidInput, "waiting for the server failed: \(systemError(errno))")
            }
        }
    }

    struct Response {
        var status: Int
        var reason: String
        var headers: [(name: String, value: String)]
        var body: [UInt8] = []

        func header(_ name: String) -> String? {
            headers.first { $0.name.lowercased() == name }?.value
        }
    }

    /// Reads until the response is complete (by Content-Length, the last chunk, or the server closing).
    /// - Throws: `.invalidInput` for a body over `maximumBody` bytes.
    static func receive(
        from fd: Int32, deadline: Deadline, timedOut: String, maximumBody: Int = maximumEvidenceBytes
    ) throws(LedgerError) -> Response {
        var data: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 65_536)
        var head: Response?
        var bodyStart = 0
        var scanned = 0
        var atEnd = false
        while true {
            if head == nil, let end = headEnd(in: data, from: scanned) {
                var response = try parseHead(data[..<end])
                if (100..<200).contains(response.status) {
                    data.removeFirst(end + 4)
                    scanned = 0
                    continue
                }
                if let length = response.header("content-length").flatMap(Int.init), length > maximumBody {
                    throw tooLarge(maximumBody, "\(length) bytes")
                }
                bodyStart = end + 4
                response.body = []
                head = response
            } else if head == nil {
                scanned = max(0, data.count - 3)
                if data.count > 65_536 { throw LedgerError(.invalidInput, "the response headers exceed 64 KB") }
            }
            if var response = head,
                let body = try self.body(of: response, in: data[bodyStart...], atEnd: atEnd, maximumBody: maximumBody)
            {
                response.body = body
                return response
            }
            if atEnd {
                let excerpt = EvidenceSource.excerpt(data)
                throw LedgerError(
                    .invalidInput,
                    data.isEmpty
                        ? "the server closed the connection without answering"
                        : "the response ended before its headers were complete (it starts \"\(excerpt)\")")
            }
            try wait(fd, for: Int16(POLLIN), deadline: deadline, timedOut: "\(timedOut) waiting for the response")
            let count = recv(fd, &buffer, buffer.count, 0)
            if count < 0 {
                if errno == EINTR || errno == EAGAIN { continue }
                throw LedgerError(.invalidInput, "reading the response failed: \(systemError(errno))")
            }
            if count == 0 {
                atEnd = true
            } else {
                data += buffer[0..<count]
            }
            if data.count - bodyStart > maximumBody + 65_536 {
                throw tooLarge(maximumBody)
            }
        }
    }

    private static func tooLarge(_ maximum: Int, _ size: String? = nil) -> LedgerError {
        let limit = maximum % (1 << 20) == 0 ? "\(maximum >> 20) MB" : "\(maximum) bytes"
        return LedgerError(.invalidInput, "the body is larger than \(limit)" + (size.map { " (\($0))" } ?? ""))
    }

    /// The offset of the blank line ending the head, searching from `start`.
    static func headEnd(in data: [UInt8], from start: Int) -> Int? {
        guard data.count >= 4, start < data.count - 3 else { return nil }
        for index in start..<(data.count - 3)
        where data[index] == 13 && data[index + 1] == 10 && data[index + 2] == 13 && data[index + 3] == 10 {
            return index
        }
        return nil
    }

    static func parseHead(_ bytes: ArraySlice<UInt8>) throws(LedgerError) -> Response {
        let lines = String(decoding: bytes, as: UTF8.self).components(separatedBy: "\r\n")
        let statusLine = lines[0].split(separator: " ", maxSplits: 2, omittingEmptySubsequences: false)
        guard statusLine.count >= 2, statusLine[0].hasPrefix("HTTP/1."), statusLine[1].count == 3,
            statusLine[1].allSatisfy(\.isASCIIDigit), let status = Int(statusLine[1])
        else {
            throw LedgerError(
                .invalidInput, "the answer is not HTTP/1.x: it starts \"\(EvidenceSource.excerpt(Array(bytes)))\"")
        }
        var headers: [(name: String, value: String)] = []
        for line in lines.dropFirst() {
            guard let colon = line.firstIndex(of: ":") else {
                throw LedgerError(.invalidInput, "malformed response header \"\(line.prefix(80))\"")
            }
            let value = line[line.index(after: colon)...].trimmingCharacters(in: .whitespaces)
            headers.append((String(line[..<colon]), value))
        }
        let reason = statusLine.count > 2 ? String(statusLine[2]) : ""
        return Response(status: status, reason: reason, headers: headers)
    }

    /// The body if `data` holds all of it; nil when more must be read.
    static func body(
        of response: Response, in data: ArraySlice<UInt8>, atEnd: Bool, maximumBody: Int
    ) throws(LedgerError) -> [UInt8]? {
        if response.status == 204 || response.status == 304 { return [] }
        if let encoding = response.header("transfer-encoding"), encoding.lowercased().contains("chunked") {
            // The last chunk and the trailers end with a blank line: only then is decoding worth trying.
            guard atEnd || data.suffix(4).elementsEqual([13, 10, 13, 10]) else { return nil }
            return try dechunk(data, atEnd: atEnd, maximumBody: maximumBody)
        }
        if let text = response.header("content-length") {
            guard text.allSatisfy(\.isASCIIDigit), let length = Int(text) else {
                throw LedgerError(.invalidInput, "invalid Content-Length \"\(text)\"")
            }
            if data.count >= length { return Array(data.prefix(length)) }
            if atEnd {
                throw LedgerError(
                    .invalidInput, "the server closed the connection after \(data.count) of \(length) bytes of the body"
                )
            }
            return nil
        }
        return atEnd ? Array(data) : nil
    }

    /// Decodes a chunked body: `SIZE[;ext]\r\nDATA\r\n` … `0\r\n[trailers]\r\n`.
    static func dechunk(_ data: ArraySlice<UInt8>, atEnd: Bool, maximumBody: Int) throws(LedgerError) -> [UInt8]? {
        var body: [UInt8] = []
        var index = data.startIndex
        func incomplete() throws(LedgerError) -> [UInt8]? {
            if atEnd {
                throw LedgerError(.invalidInput, "the server closed the connection in the middle of a chunked body")
            }
            return nil
        }
        func line() -> ArraySlice<UInt8>? {
            var cursor = index
            while cursor + 1 < data.endIndex {
                if data[cursor] == 13 && data[cursor + 1] == 10 {
                    defer { index = cursor + 2 }
                    return data[index..<cursor]
                }
                cursor += 1
            }
            return nil
        }
        while true {
            guard let sizeLine = line() else { return try incomplete() }
            let sizeText = String(decoding: sizeLine.prefix { $0 != UInt8(ascii: ";") }, as: UTF8.self)
                .trimmingCharacters(in: .whitespaces)
            guard sizeText.allSatisfy(\.isHexDigit), let size = Int(sizeText, radix: 16) else {
                throw LedgerError(.invalidInput, "invalid chunk size \"\(sizeText.prefix(20))\" in a chunked body")
            }
            if size == 0 {
                // Trailers, then a blank line.
                while true {
                    guard let trailer = line() else { return try incomplete() }
                    if trailer.isEmpty { return body }
                }
            }
            // Compared without adding to `size`, which can be near Int.max.
            guard size <= maximumBody - body.count else { throw tooLarge(maximumBody) }
            guard data.endIndex - index - 2 >= size else { return try incomplete() }
            body += data[index..<index + size]
            index += size
            guard data[index] == 13 && data[index + 1] == 10 else {
                throw LedgerError(.invalidInput, "a chunk of the chunked body does not end where its size says")
            }
            index += 2
        }
    }
}

extension Character {
    /// 0-9 only: `Int("+5")` and `Int("-0")` parse, but a number in an HTTP head is digits alone.
    fileprivate var isASCIIDigit: Bool { isASCII && isNumber }
}
