import Foundation
import PurserCore
import Synchronization

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// A server on loopback that answers every request with the bytes it is given, so that `HTTPClient` reads them
/// through its real socket code. One request at a time.
final class LoopbackAnswer: Sendable {
    static let shared = LoopbackAnswer()

    private let port: UInt16
    private let answer = Mutex<[UInt8]>([])

    private init() {
        signal(SIGPIPE, SIG_IGN)
        let listener = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let bound = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { pointer in
                bind(listener, pointer, length) == 0 && listen(listener, 16) == 0
                    && getsockname(listener, pointer, &length) == 0
            }
        }
        precondition(listener >= 0 && bound, "cannot listen on 127.0.0.1: \(String(cString: strerror(errno)))")
        port = UInt16(bigEndian: address.sin_port)
        Thread { [self] in serve(listener) }.start()
    }

    /// Sends a request to the server, which answers `bytes`, and reads the answer as the CLI would.
    func fetch(answering bytes: [UInt8]) {
        answer.withLock { $0 = bytes }
        _ = try? HTTPClient.request("GET", "http://127.0.0.1:\(port)/fuzz", timeout: 10, maximumBody: 1 << 20)
    }

    private func serve(_ listener: Int32) {
        var buffer = [UInt8](repeating: 0, count: 4096)
        while true {
            let client = accept(listener, nil, nil)
            guard client >= 0 else { continue }
            // The request's head, whole, so that closing does not reset the connection.
            var request: [UInt8] = []
            while !request.suffix(4).elementsEqual([13, 10, 13, 10]) {
                let count = recv(client, &buffer, buffer.count, 0)
                guard count > 0 else { break }
                request += buffer[0..<count]
            }
            let bytes = answer.withLock { $0 }
            var offset = 0
            while offset < bytes.count {
                let sent = bytes[offset...].withUnsafeBytes { send(client, $0.baseAddress, $0.count, 0) }
                guard sent > 0 else { break }
                offset += sent
            }
            close(client)
        }
    }
}
