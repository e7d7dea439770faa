import Foundation

/// A file a command writes where the user said (`checkpoint --out`, `audit --out`): written whole or not at all,
/// and a place the user can fix refused with the error that says so, not reported as an internal failure.
public enum OutputFile {
    /// Refuses, before a command does its work (and writes its ledger), a path `write` would fail on: `.usage` for an
    /// empty path, a directory, or a place where no file can be made (it makes one beside `path` and removes it).
    /// A device or a pipe (`/dev/stdout`) is written in place, so it is only checked for permission.
    public static func check(_ path: String) throws(LedgerError) {
        if isSpecial(path) {
            guard access(path, W_OK) == 0 else { throw OutputFolder.failure(path, errno: errno) }
            return
        }
        let probe = try temporaryFile(beside: path)
        close(probe.descriptor)
        unlink(probe.path)
    }

    /// Whether `path` is something other than a regular file, a directory or nothing: a device or a pipe.
    private static func isSpecial(_ path: String) -> Bool {
        var info = stat()
        guard stat(path, &info) == 0 else { return false }
        let type = info.st_mode & S_IFMT
        return type != S_IFREG && type != S_IFDIR
    }

    /// A new, empty file beside `path` with a name of its own (O_EXCL), with the mode any new file gets: 0666 less
    /// the umask.
    private static func temporaryFile(beside path: String) throws(LedgerError) -> (path: String, descriptor: Int32) {
        guard !path.isEmpty else { throw LedgerError(.usage, "the output file's path is empty") }
        var isFolder: ObjCBool = false
        if FileManager.default.fileExists(atPath: path, isDirectory: &isFolder), isFolder.boolValue {
            throw LedgerError(.usage, "\(quoted(path)) is a directory; name a file to write")
        }
        let temporary = path + ".partial-\(UInt64.random(in: 0...UInt64.max))"
        let descriptor = open(temporary, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o666)
        guard descriptor >= 0 else { throw OutputFolder.failure(path, errno: errno) }
        return (temporary, descriptor)
    }

    /// Writes `bytes` to `path` through a temporary file beside it, flushed to disk and renamed over it once
    /// complete; a device or a pipe (`/dev/stdout`) is written in place. Every write is checked: a failed or
    /// short write leaves nothing behind.
    /// - Throws: `.usage` for an empty path, a directory, or a place that cannot be written; `.invalidInput` for a
    ///   full disk or an I/O error (`OutputFolder.failure`).
    public static func write(_ bytes: [UInt8], to path: String) throws(LedgerError) {
        if isSpecial(path) {
            let descriptor = open(path, O_WRONLY | O_TRUNC | O_CLOEXEC)
            guard descriptor >= 0 else { throw OutputFolder.failure(path, errno: errno) }
            let code = bytes.withUnsafeBytes { writeAll($0, to: descriptor) }
            guard close(descriptor) == 0 || code != nil else { throw OutputFolder.failure(path, errno: errno) }
            if let code { throw OutputFolder.failure(path, errno: code) }
            return
        }
        let (temporary, descriptor) = try temporaryFile(beside: path)
        var code = bytes.withUnsafeBytes { writeAll($0, to: descriptor) }
        if code == nil, fsync(descriptor) != 0 { code = errno }
        if close(descriptor) != 0, code == nil { code = errno }
        if code == nil, rename(temporary, path) != 0 { code = errno }
        if let code {
            unlink(temporary)
            throw OutputFolder.failure(path, errno: code)
        }
    }

    /// Writes all of `bytes` to `descriptor`, retrying short writes.
    /// - Returns: nil, or the `errno` of the write that failed (`ENOSPC` for one that wrote nothing).
    public static func writeAll(_ bytes: UnsafeRawBufferPointer, to descriptor: Int32) -> Int32? {
        var written = 0
        while written < bytes.count {
            let count = Foundation.write(descriptor, bytes.baseAddress! + written, bytes.count - written)
            if count < 0 {
                if errno == EINTR { continue }
                return errno
            }
            if count == 0 { return ENOSPC }
            written += count
        }
        return nil
    }
}
