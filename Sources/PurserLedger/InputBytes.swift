import Foundation

/// Reading a whole file a user handed to purser into memory, with a cap: an endless file (`/dev/zero`, a pipe
/// that never ends) is refused once it passes the cap instead of growing until the machine runs out of memory.
/// It reads in chunks into one buffer, so a file costs its size, not twice its size.
public enum InputBytes {
    /// The most a command reads of a file it holds whole (a body, a manifest, eval results, a policy, a
    /// checkpoint): 64 MiB, over six times `purser serve`'s default `--max-body` of 10 MiB.
    public static let maximumSize = 64 << 20

    /// Reads the file at `path` whole, or standard input for "-"; pipes and `/dev/fd/N` are read like files.
    /// - Parameters:
    ///   - source: how messages name the file.
    ///   - limit: the most bytes read; one byte more is refused.
    /// - Throws: `.notFound` for a path where nothing is; `.invalidInput` for a directory, a file that cannot be
    ///   read, or one over `limit` bytes (the message names the file and the cap).
    public static func read(_ path: String, source: String, limit: Int = maximumSize) throws(LedgerError) -> [UInt8] {
        if path == "-" { return try read(descriptor: STDIN_FILENO, source: source, limit: limit) }
        let descriptor = open(path, O_RDONLY | O_CLOEXEC)
        guard descriptor >= 0 else {
            let code = errno
            if code == ENOENT { throw LedgerError(.notFound, "\(source) not found") }
            throw LedgerError(.invalidInput, "\(source) cannot be read: \(String(cString: strerror(code)))")
        }
        defer { close(descriptor) }
        var info = stat()
        if fstat(descriptor, &info) == 0 {
            if info.st_mode & S_IFMT == S_IFDIR {
                throw LedgerError(.invalidInput, "\(source) is a directory, not a file")
            }
            if info.st_mode & S_IFMT == S_IFREG, info.st_size > limit { throw tooLarge(source, limit: limit) }
        }
        return try read(descriptor: descriptor, source: source, limit: limit, expected: Int(info.st_size))
    }

    private static func read(
        descriptor: Int32, source: String, limit: Int, expected: Int = 0
    ) throws(LedgerError) -> [UInt8] {
        var bytes: [UInt8] = []
        // A regular file says its size: one allocation of it (and one byte more, to see that it ended).
        bytes.reserveCapacity(min(max(expected, 0), limit) + 1)
        let chunk = 1 << 16
        var buffer = [UInt8](repeating: 0, count: chunk)
        while true {
            let count = buffer.withUnsafeMutableBytes { Foundation.read(descriptor, $0.baseAddress, chunk) }
            if count < 0 {
                if errno == EINTR { continue }
                throw LedgerError(.invalidInput, "\(source) cannot be read: \(String(cString: strerror(errno)))")
            }
            if count == 0 { return bytes }
            guard count <= limit - bytes.count else { throw tooLarge(source, limit: limit) }
            bytes.append(contentsOf: buffer[..<count])
        }
    }

    private static func tooLarge(_ source: String, limit: Int) -> LedgerError {
        LedgerError(
            .invalidInput, "\(source) is over \(limit >> 20) MiB (\(limit) bytes), the most purser reads of such a file"
        )
    }
}
