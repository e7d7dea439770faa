internal import Crypto
public import Foundation

/// Key names in signed notes: non-empty, no whitespace, no '+'. purser uses the ledger's origin.
func isValidKeyName(_ name: String) -> Bool {
    !name.isEmpty && name.unicodeScalars.allSatisfy { !$0.properties.isWhitespace && $0 != "+" }
}

/// The 4-byte key ID of a C2SP signed-note Ed25519 key: the first bytes of SHA-256(name ‖ "\n" ‖ 0x01 ‖ public key).
func noteKeyID(name: String, publicKey: Data) -> UInt32 {
    var hasher = SHA256()
    hasher.update(data: Array(name.utf8) + [0x0A, 0x01])
    hasher.update(data: publicKey)
    let digest = Array(hasher.finalize())
    return UInt32(digest[0]) << 24 | UInt32(digest[1]) << 16 | UInt32(digest[2]) << 8 | UInt32(digest[3])
}

func hex8(_ value: UInt32) -> String {
    let text = String(value, radix: 16)
    return String(repeating: "0", count: 8 - text.count) + text
}

/// A C2SP signed-note verifier key: `<name>+<key ID, 8 hex>+<base64(0x01 ‖ Ed25519 public key)>`.
public struct VerifierKey: Sendable, Equatable, CustomStringConvertible {
    public let name: String
    public let keyID: UInt32
    public let publicKey: Data

    public init(name: String, publicKey: Data) {
        self.name = name
        self.publicKey = publicKey
        self.keyID = noteKeyID(name: name, publicKey: publicKey)
    }

    /// Parses a verifier key string.
    /// - Throws: `LedgerError.invalidInput` naming what is wrong.
    public init(parsing text: String) throws(LedgerError) {
        let parts = text.trimmingCharacters(in: .whitespacesAndNewlines).split(
            separator: "+", maxSplits: 2, omittingEmptySubsequences: false)
        guard parts.count == 3, isValidKeyName(String(parts[0])) else {
            throw LedgerError(
                .invalidInput, "verifier key must be <name>+<8 hex key id>+<base64 key>, got \"\(text.prefix(80))\"")
        }
        guard let encoded = Data(strictBase64: parts[2]), encoded.count == 33, encoded.first == 0x01 else {
            throw LedgerError(
                .invalidInput, "verifier key \(parts[0]): expected an Ed25519 key (algorithm byte 0x01 and 32 bytes)")
        }
        let key = VerifierKey(name: String(parts[0]), publicKey: encoded.dropFirst())
        guard hex8(key.keyID) == parts[1] else {
            throw LedgerError(
                .invalidInput,
                "verifier key \(parts[0]): key id \(parts[1]) does not match the key (expected \(hex8(key.keyID)))")
        }
        self = key
    }

    public var description: String {
        "\(name)+\(hex8(keyID))+\((Data([0x01]) + publicKey).base64EncodedString())"
    }

    /// Whether `signature` is a valid Ed25519 signature of `message` by this key.
    func isValidSignature(_ signature: Data, for message: Data) -> Bool {
        guard let key = try? Curve25519.Signing.PublicKey(rawRepresentation: publicKey) else { return false }
        return key.isValidSignature(signature, for: message)
    }
}

/// The private half: an Ed25519 key stored as a C2SP signer key string
/// `PRIVATE+KEY+<name>+<key ID>+<base64(0x01 ‖ 32-byte seed)>`, in a file of mode 0600.
public struct SigningKey: Sendable {
    public let name: String
    /// The 32-byte Ed25519 seed.
    private let seed: Data

    private var key: Curve25519.Signing.PrivateKey {
        // The seed was validated when the key was made or read.
        try! Curve25519.Signing.PrivateKey(rawRepresentation: seed)
    }

    /// A new random key.
    public init(name: String) {
        self.name = name
        self.seed = Curve25519.Signing.PrivateKey().rawRepresentation
    }

    public var verifierKey: VerifierKey {
        VerifierKey(name: name, publicKey: key.publicKey.rawRepresentation)
    }

    /// The key file's text.
    public var fileText: String {
        let verifier = verifierKey
        return
            "PRIVATE+KEY+\(name)+\(hex8(verifier.keyID))+\((Data([0x01]) + key.rawRepresentation).base64EncodedString())\n"
    }

    /// Parses a signer key string read from `path`.
    public init(parsing text: String, path: String) throws(LedgerError) {
        let parts = text.trimmingCharacters(in: .whitespacesAndNewlines).split(
            separator: "+", maxSplits: 4, omittingEmptySubsequences: false)
        guard parts.count == 5, parts[0] == "PRIVATE", parts[1] == "KEY", isValidKeyName(String(parts[2])),
            let encoded = Data(strictBase64: parts[4]), encoded.count == 33, encoded.first == 0x01,
            (try? Curve25519.Signing.PrivateKey(rawRepresentation: encoded.dropFirst())) != nil
        else {
            throw LedgerError(
                .invalidInput, "\(quoted(path)) is not a purser signing key (expected PRIVATE+KEY+<name>+<id>+<base64>)"
            )
        }
        self.name = String(parts[2])
        self.seed = Data(encoded.dropFirst())
        guard hex8(verifierKey.keyID) == parts[3] else {
            throw LedgerError(
                .invalidInput,
                "\(quoted(path)): key id \(parts[3]) does not match the key (expected \(hex8(verifierKey.keyID)))")
        }
    }

    /// Reads the key file at `path`, refusing one that others can read.
    public static func load(from path: String) throws(LedgerError) -> SigningKey {
        var info = stat()
        guard stat(path, &info) == 0 else {
            throw LedgerError(
                .notFound,
                naming: "signing key \(quoted(path)) not found (pass \(parameter: "key") PATH or set PURSER_KEY)")
        }
        if info.st_mode & 0o077 != 0 {
            throw LedgerError(
                .invalidInput,
                "signing key \(quoted(path)) is readable by others (mode \(String(info.st_mode & 0o777, radix: 8))); run chmod 600 \(quoted(path))"
            )
        }
        guard let data = FileManager.default.contents(atPath: path), let text = String(data: data, encoding: .utf8)
        else {
            throw LedgerError(.invalidInput, "signing key \(quoted(path)) cannot be read")
        }
        return try SigningKey(parsing: text, path: path)
    }

    /// Writes the key file with mode 0600; refuses to overwrite an existing file.
    /// - Throws: `.alreadyExists` for an existing file; `.usage` for a place that cannot be written.
    public func write(to path: String) throws(LedgerError) {
        let descriptor = open(path, O_WRONLY | O_CREAT | O_EXCL, 0o600)
        guard descriptor >= 0 else {
            if errno == EEXIST {
                throw LedgerError(
                    .alreadyExists, "signing key \(quoted(path)) already exists; refusing to overwrite it")
            }
            throw OutputFolder.failure(path, errno: errno)
        }
        defer { close(descriptor) }
        let bytes = Array(fileText.utf8)
        guard Foundation.write(descriptor, bytes, bytes.count) == bytes.count, fsync(descriptor) == 0 else {
            throw LedgerError(
                .internal, "cannot write signing key \(quoted(path)): \(String(cString: strerror(errno)))")
        }
    }

    func signature(for message: Data) throws -> Data {
        try key.signature(for: message)
    }
}
