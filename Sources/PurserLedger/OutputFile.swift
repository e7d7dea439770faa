import Foundation

/// A file a command writes where the user said (`checkpoint --out`, `audit --out`): written whole or not at all,
/// and a place the user can fix refused with the error that says so, not reported as an internal failure.
public enum OutputFile {
    /// Refuses, before a command does its work (and writes its ledger), a path `write` would fail on: `.usage` for an
    /// empty path, a directory, or a place where no file can be made (it makes one beside `path` and removes it).
    public static func check(_ path: String) throws(LedgerError) {
        let probe = try temporaryFile(beside: path)
        close(probe.descriptor)
        unlink(probe.path)
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

    /// Writes `bytes` to `path` through a temporary file beside it, renamed over it once complete.
    /// - Throws: `.usage` for an empty path, a directory, or a place that cannot be written (`OutputFolder.failure`);
    ///   `.internal` for a full disk or an I/O error.
    public static func write(_ bytes: [UInt8], to path: String) throws(LedgerError) {
        let (temporary, descriptor) = try temporaryFile(beside: path)
        var written = 0
        while written < bytes.count {
            let count = bytes[written...].withUnsafeBytes { Foundation.write(descriptor, $0.baseAddress, $0.count) }
            guard count > 0 else {
                let code = errno
                close(descriptor)
                unlink(temporary)
                throw OutputFolder.failure(path, errno: code)
            }
            written += count
        }
        guard close(descriptor) == 0, rename(temporary, path) == 0 else {
            let code = errno
            unlink(temporary)
            throw OutputFolder.failure(path, errno: code)
        }
    }
}
