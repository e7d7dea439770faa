import Foundation
import PurserLedger
import PurserOperations

/// The token file, read again whenever it changes (a revocation applies within 10 ms).
final class TokenCache: @unchecked Sendable {
    private let file: TokenFile
    private let lock = NSLock()
    private var read: Data?
    private var readAt: UInt64 = 0
    private var tokens: [TokenFile.Token] = []

    init(_ file: TokenFile) { self.file = file }

    /// How long a reading of the file stands, in nanoseconds: a revocation applies within it.
    static let freshness: UInt64 = 10_000_000

    /// The tokens, read at most every 10 ms and decoded again only when the file's bytes changed (reading a small
    /// file is cheaper than FileManager's attributes, which look up the owner's name on every call).
    func current() throws(LedgerError) -> [TokenFile.Token] {
        let now = DispatchTime.now().uptimeNanoseconds
        lock.lock()
        defer { lock.unlock() }
        guard now &- readAt >= Self.freshness else { return tokens }
        let bytes = FileManager.default.contents(atPath: file.path)
        if bytes == nil || bytes != read {
            if let bytes { tokens = try file.tokens(in: bytes) } else { tokens = try file.tokens() }
            read = bytes
        }
        readAt = now
        return tokens
    }
}
