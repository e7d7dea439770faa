import Foundation

/// A folder a command writes files into (an audit bundle, a materialized version). Where a user pointed it is
/// checked before anything is written, so that a path the user can fix is refused with the error that says so,
/// not reported as an internal failure.
public enum OutputFolder {
    /// Refuses `path` unless it is a folder or nothing yet: `.usage` for an empty path or one that goes through a
    /// file; `.alreadyExists` for a file, a symbolic link to nothing, or (with `empty`) a folder that holds files.
    public static func check(_ path: String, empty: Bool) throws(LedgerError) {
        guard !path.isEmpty else { throw LedgerError(.usage, "the output directory's path is empty") }
        var link = stat()
        guard lstat(path, &link) == 0 else {
            guard errno == ENOENT else { throw failure(path, errno: errno) }
            return
        }
        var target = stat()
        guard stat(path, &target) == 0 else {
            throw LedgerError(
                .alreadyExists,
                "\(quoted(path)) is a symbolic link to something that does not exist; refusing to write through it")
        }
        guard target.st_mode & S_IFMT == S_IFDIR else {
            throw LedgerError(.alreadyExists, "\(quoted(path)) exists and is not a directory; refusing to overwrite it")
        }
        if empty, (try? FileManager.default.contentsOfDirectory(atPath: path))?.isEmpty != true {
            throw LedgerError(
                .alreadyExists, "\(quoted(path)) exists and is not an empty directory; refusing to overwrite it")
        }
    }

    /// Creates the folder `path` and any missing folder above it (mode 0777 less the umask).
    /// - Returns: the folders it made, the outermost first (for a command that fails to remove them).
    /// - Throws: `failure(path, errno:)` for the first that cannot be made.
    @discardableResult
    public static func create(_ path: String) throws(LedgerError) -> [String] {
        var isFolder: ObjCBool = false
        if FileManager.default.fileExists(atPath: path, isDirectory: &isFolder), isFolder.boolValue { return [] }
        let parent = (path as NSString).deletingLastPathComponent
        var made: [String] = []
        if !parent.isEmpty, parent != path { made = try create(parent) }
        if mkdir(path, 0o777) == 0 {
            made.append(path)
        } else if errno != EEXIST {
            throw failure(path, errno: errno)
        }
        return made
    }

    /// The error of a write to or under `path` that failed with `errno`: where the user chose a place that cannot
    /// be written (no permission, a read-only or virtual file system, a file on the way) it is `.usage`, naming
    /// the reason; a full disk, a file too large for it or an I/O error is `.invalidInput` (exit 65): nothing
    /// purser can fix, and nothing that was asked for is left half-written; anything else is `.internal`.
    public static func failure(_ path: String, errno code: Int32) -> LedgerError {
        let reason = String(cString: strerror(code))
        switch code {
        case EACCES, EPERM, EROFS, ENOTDIR, ENOENT, EISDIR, ENAMETOOLONG, ELOOP, EEXIST, EINVAL, ENOTEMPTY:
            return LedgerError(.usage, "cannot write to \(quoted(path)): \(reason); choose a directory you can write")
        case ENOSPC, EDQUOT, EFBIG, EIO:
            return LedgerError(.invalidInput, "cannot write to \(quoted(path)): \(reason); nothing was left there")
        default:
            return LedgerError(.internal, "cannot write to \(quoted(path)): \(reason)")
        }
    }
}
