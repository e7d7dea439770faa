public import Foundation
public import PurserCore
public import PurserLedger

/// What a token may do. Each role may do everything the ones before it may.
public enum Role: String, NamedChoice, Comparable {
    /// Queries, checkpoints, proofs, reports.
    case reader
    /// Also every command that appends to the ledger.
    case writer
    /// Also the server's own administration (listing its tokens).
    case admin

    public static func < (lhs: Role, rhs: Role) -> Bool {
        allCases.firstIndex(of: lhs)! < allCases.firstIndex(of: rhs)!
    }
}

/// The server's tokens: one JSON file (mode 0600) holding each token's name, role and SHA-256, never the token.
///
/// `purser token create` prints a new token once; the server reads the file again whenever it changes, so a
/// revocation takes effect within 10 ms.
public struct TokenFile: Sendable {
    public struct Token: Codable, Sendable, Equatable {
        public let name: String
        public let role: Role
        /// Hex SHA-256 of the token text.
        public let sha256: String
        public let createdAt: String
        public var revokedAt: String?

        enum CodingKeys: String, CodingKey {
            case name, role, sha256
            case createdAt = "created_at"
            case revokedAt = "revoked_at"
        }
    }

    public let path: String

    public init(path: String) {
        self.path = path
    }

    /// The default file: beside the ledger, with extension `.tokens`.
    public static func defaultPath(forLedgerAt ledger: String) -> String {
        (ledger as NSString).deletingPathExtension + ".tokens"
    }

    /// Every token in the file, revoked ones included; none if there is no file yet.
    public func tokens() throws(LedgerError) -> [Token] {
        guard let data = FileManager.default.contents(atPath: path) else {
            guard !FileManager.default.fileExists(atPath: path) else {
                throw LedgerError(.notFound, "cannot read the token file \(quoted(path))")
            }
            return []
        }
        return try tokens(in: data)
    }

    /// The tokens of the file's bytes, already read.
    public func tokens(in data: Data) throws(LedgerError) -> [Token] {
        do {
            return try JSONDecoder().decode(Stored.self, from: data).tokens
        } catch {
            throw LedgerError(
                .invalidInput,
                "\(quoted(path)) is not a purser token file ({\"tokens\":[{name, role, sha256, …}]}): \(error)")
        }
    }

    /// Creates a token named `name` with `role`, stores its digest, and returns the token text (shown once).
    /// - Parameter now: its `created_at`.
    /// - Throws: `.alreadyExists` if a token of that name is not revoked; `.usage` for an empty name.
    public func create(name: String, role: Role, now: Date) throws(LedgerError) -> String {
        guard !name.isEmpty, name.count <= 100, !name.contains(where: \.isNewline) else {
            throw LedgerError(.usage, "a token name is 1 to 100 characters on one line")
        }
        var random = SystemRandomNumberGenerator()
        let secret = (0..<32).map { _ in UInt8.random(in: .min ... .max, using: &random) }
        let text = "purser_" + secret.map { String(format: "%02x", $0) }.joined()
        try change { tokens throws(LedgerError) in
            guard !tokens.contains(where: { $0.name == name && $0.revokedAt == nil }) else {
                throw LedgerError(.alreadyExists, "\(quoted(path)) already has a token named \(name); revoke it first")
            }
            tokens.append(
                Token(
                    name: name, role: role, sha256: Hash.sha256(Array(text.utf8)).hex,
                    createdAt: Timestamp.format(now), revokedAt: nil))
        }
        return text
    }

    /// Revokes the token named `name`.
    /// - Parameter now: its `revoked_at`.
    /// - Throws: `.notFound` if no unrevoked token has that name.
    public func revoke(name: String, now: Date) throws(LedgerError) {
        try change { tokens throws(LedgerError) in
            guard let index = tokens.firstIndex(where: { $0.name == name && $0.revokedAt == nil }) else {
                throw LedgerError(.notFound, "\(quoted(path)) has no unrevoked token named \(name)")
            }
            tokens[index].revokedAt = Timestamp.format(now)
        }
    }

    /// The unrevoked token whose digest is the digest of `text`, comparing every stored digest in constant time.
    public static func match(_ text: String, in tokens: [Token]) -> Token? {
        let digest = Array(Hash.sha256(Array(text.utf8)).hex.utf8)
        var found: Token?
        for token in tokens {
            let stored = Array(token.sha256.utf8)
            var difference = UInt8(stored.count == digest.count ? 0 : 1)
            for index in 0..<min(stored.count, digest.count) {
                difference |= stored[index] ^ digest[index]
            }
            if difference == 0, token.revokedAt == nil { found = token }
        }
        return found
    }

    private struct Stored: Codable {
        var tokens: [Token]
    }

    /// Reads the tokens, changes them and writes them back, holding an exclusive lock on the file `<path>.lock`
    /// all along, so that concurrent `create` and `revoke` commands each see the others' changes and none is lost.
    private func change(_ update: (inout [Token]) throws(LedgerError) -> Void) throws(LedgerError) {
        let lockPath = path + ".lock"
        let lock = open(lockPath, O_RDWR | O_CREAT | O_CLOEXEC, 0o600)
        guard lock >= 0 else {
            throw LedgerError(
                errno == ENOENT ? .notFound : .internal,
                "cannot open the token file's lock \(quoted(lockPath)): \(String(cString: strerror(errno)))")
        }
        defer { close(lock) }
        while flock(lock, LOCK_EX) != 0 {
            guard errno == EINTR else {
                throw LedgerError(
                    .internal, "cannot lock the token file \(quoted(lockPath)): \(String(cString: strerror(errno)))")
            }
        }
        var tokens = try tokens()
        try update(&tokens)
        try save(tokens)
    }

    /// Writes the whole file anew, readable by its owner only: a temporary file of its own (several commands may
    /// write at once), flushed to disk, then renamed over the file, so that a reader sees the old file or the new.
    private func save(_ tokens: [Token]) throws(LedgerError) {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        var template = Array((path + ".XXXXXX").utf8CString)
        let descriptor = template.withUnsafeMutableBufferPointer { mkstemp($0.baseAddress!) }
        guard descriptor >= 0 else {
            throw LedgerError(
                errno == ENOENT ? .notFound : .internal,
                "cannot write the token file \(quoted(path)): \(String(cString: strerror(errno)))")
        }
        let temporary = template.withUnsafeBufferPointer { String(cString: $0.baseAddress!) }
        do {
            let data = try encoder.encode(Stored(tokens: tokens))
            let handle = FileHandle(fileDescriptor: descriptor, closeOnDealloc: true)
            try handle.write(contentsOf: data)
            try handle.synchronize()
            try handle.close()
            guard rename(temporary, path) == 0 else { throw POSIXError(POSIXErrorCode(rawValue: errno) ?? .EIO) }
        } catch {
            unlink(temporary)
            throw LedgerError(.internal, "cannot write the token file \(quoted(path)): \(error.localizedDescription)")
        }
    }
}
