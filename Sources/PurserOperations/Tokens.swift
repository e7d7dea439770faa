public import Foundation
public import PurserLedger

/// What a token may do. Each role may do everything the ones before it may.
public enum Role: String, Codable, Sendable, CaseIterable, Comparable {
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
                throw LedgerError(.notFound, "cannot read the token file \(path)")
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
                .invalidInput, "\(path) is not a purser token file ({\"tokens\":[{name, role, sha256, …}]}): \(error)")
        }
    }

    /// Creates a token named `name` with `role`, stores its digest, and returns the token text (shown once).
    /// - Throws: `.alreadyExists` if a token of that name is not revoked; `.usage` for an empty name.
    public func create(name: String, role: Role, now: Date = Date()) throws(LedgerError) -> String {
        guard !name.isEmpty, name.count <= 100, !name.contains(where: \.isNewline) else {
            throw LedgerError(.usage, "a token name is 1 to 100 characters on one line")
        }
        var tokens = try tokens()
        guard !tokens.contains(where: { $0.name == name && $0.revokedAt == nil }) else {
            throw LedgerError(.alreadyExists, "\(path) already has a token named \(name); revoke it first")
        }
        var random = SystemRandomNumberGenerator()
        let secret = (0..<32).map { _ in UInt8.random(in: .min ... .max, using: &random) }
        let text = "purser_" + secret.map { String(format: "%02x", $0) }.joined()
        tokens.append(
            Token(
                name: name, role: role, sha256: Hash.sha256(Array(text.utf8)).hex, createdAt: Timestamp.format(now),
                revokedAt: nil))
        try save(tokens)
        return text
    }

    /// Revokes the token named `name`.
    /// - Throws: `.notFound` if no unrevoked token has that name.
    public func revoke(name: String, now: Date = Date()) throws(LedgerError) {
        var tokens = try tokens()
        guard let index = tokens.firstIndex(where: { $0.name == name && $0.revokedAt == nil }) else {
            throw LedgerError(.notFound, "\(path) has no unrevoked token named \(name)")
        }
        tokens[index].revokedAt = Timestamp.format(now)
        try save(tokens)
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

    /// Writes the whole file anew (a temporary file renamed over it), readable by its owner only.
    private func save(_ tokens: [Token]) throws(LedgerError) {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        let temporary = path + ".tmp"
        do {
            let data = try encoder.encode(Stored(tokens: tokens))
            guard
                FileManager.default.createFile(
                    atPath: temporary, contents: data, attributes: [.posixPermissions: 0o600])
            else { throw CocoaError(.fileWriteUnknown) }
            guard rename(temporary, path) == 0 else { throw POSIXError(POSIXErrorCode(rawValue: errno) ?? .EIO) }
        } catch {
            try? FileManager.default.removeItem(atPath: temporary)
            throw LedgerError(.internal, "cannot write the token file \(path): \(error.localizedDescription)")
        }
    }
}
