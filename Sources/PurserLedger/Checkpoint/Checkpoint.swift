internal import Foundation

/// A tree head as a C2SP tlog-checkpoint: origin, tree size, root hash.
public struct Checkpoint: Sendable, Equatable {
    public let origin: String
    public let size: UInt64
    public let root: Hash

    public init(origin: String, size: UInt64, root: Hash) {
        self.origin = origin
        self.size = size
        self.root = root
    }

    /// The checkpoint body: `<origin>\n<size>\n<base64 root>\n`.
    public var body: String { "\(origin)\n\(size)\n\(root.base64)\n" }

    /// The signed note: the body, a blank line, and one signature line `— <name> <base64(key ID ‖ signature)>`.
    public func signed(with key: SigningKey) throws(LedgerError) -> String {
        let message = Data(body.utf8)
        let signature: Data
        do {
            signature = try key.signature(for: message)
        } catch {
            throw LedgerError(.internal, "cannot sign the checkpoint: \(error)")
        }
        var id = key.verifierKey.keyID.bigEndian
        let prefix = withUnsafeBytes(of: &id) { Data($0) }
        return body + "\n\u{2014} \(key.name) \((prefix + signature).base64EncodedString())\n"
    }

    /// The outcome of opening a signed checkpoint.
    public enum Opened: Sendable {
        case verified(Checkpoint)
        /// Well formed, for this origin, but no valid signature by the expected key.
        case badSignature(Checkpoint, reason: String)
    }

    /// Parses a signed note and checks its signature by `key` and its origin.
    /// - Parameter source: the file name, for messages.
    /// - Throws: `LedgerError.invalidInput` for a malformed note or a checkpoint of another origin.
    public static func open(_ text: String, source: String, key: VerifierKey) throws(LedgerError) -> Opened {
        func malformed(_ why: String) -> LedgerError {
            LedgerError(.invalidInput, "\(source) is not a signed checkpoint: \(why)")
        }
        guard let split = text.range(of: "\n\n") else { throw malformed("no blank line before the signatures") }
        let body = String(text[..<split.lowerBound]) + "\n"
        let lines = body.split(separator: "\n", omittingEmptySubsequences: false).dropLast()
        guard lines.count >= 3 else { throw malformed("expected origin, tree size and root hash lines") }
        let origin = String(lines[lines.startIndex])
        let sizeLine = lines[lines.startIndex + 1]
        guard !origin.isEmpty else { throw malformed("empty origin line") }
        guard let size = UInt64(sizeLine), String(size) == sizeLine, size > 0 else {
            throw malformed("line 2 must be the tree size, a positive decimal number, got \"\(sizeLine.prefix(40))\"")
        }
        guard let root = Hash(base64: String(lines[lines.startIndex + 2])) else {
            throw malformed("line 3 must be a base64 SHA-256 root hash")
        }
        let checkpoint = Checkpoint(origin: origin, size: size, root: root)
        guard origin == key.name else {
            throw LedgerError(
                .invalidInput,
                "\(source) is a checkpoint for origin \"\(origin)\", but this ledger's origin is \"\(key.name)\"")
        }
        let signatureLines = text[split.upperBound...].split(separator: "\n")
        guard !signatureLines.isEmpty else { throw malformed("no signature lines") }
        for line in signatureLines {
            let fields = line.split(separator: " ", omittingEmptySubsequences: false)
            guard fields.count == 3, fields[0] == "\u{2014}" else {
                throw malformed("signature line must be \"\u{2014} <name> <signature>\"")
            }
            guard fields[1] == key.name, let decoded = Data(strictBase64: fields[2]), decoded.count == 68
            else {
                continue
            }
            let id = decoded.prefix(4).reduce(UInt32(0)) { $0 << 8 | UInt32($1) }
            guard id == key.keyID else { continue }
            if key.isValidSignature(decoded.dropFirst(4), for: Data(body.utf8)) {
                return .verified(checkpoint)
            }
            return .badSignature(checkpoint, reason: "the signature by \(key.name) does not verify")
        }
        return .badSignature(checkpoint, reason: "no signature by key \(key.name)+\(hex8(key.keyID))")
    }
}
