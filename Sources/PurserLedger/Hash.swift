public import Crypto
public import Foundation

/// A SHA-256 value: a leaf hash, a tree node or a root. Stored inline, without allocation.
public struct Hash: Hashable, Sendable, CustomStringConvertible {
    private var storage: (UInt64, UInt64, UInt64, UInt64) = (0, 0, 0, 0)

    public static func == (lhs: Hash, rhs: Hash) -> Bool {
        lhs.storage.0 == rhs.storage.0 && lhs.storage.1 == rhs.storage.1 && lhs.storage.2 == rhs.storage.2
            && lhs.storage.3 == rhs.storage.3
    }

    public func hash(into hasher: inout Hasher) {
        hasher.combine(storage.0)
        hasher.combine(storage.1)
        hasher.combine(storage.2)
        hasher.combine(storage.3)
    }

    /// 32 zero bytes: the `prev` of the genesis entry.
    public static let zero = Hash()

    /// Copies exactly 32 bytes; nil for any other length.
    public init?(bytes: UnsafeRawBufferPointer) {
        guard bytes.count == 32 else { return nil }
        withUnsafeMutableBytes(of: &storage) { $0.copyMemory(from: bytes) }
    }

    public init?(bytes: some Collection<UInt8>) {
        let array = Array(bytes)
        guard let hash = array.withUnsafeBytes({ Hash(bytes: $0) }) else { return nil }
        self = hash
    }

    public init(_ digest: SHA256Digest) {
        digest.withUnsafeBytes { buffer in
            withUnsafeMutableBytes(of: &storage) { $0.copyMemory(from: buffer) }
        }
    }

    private init() {}

    public init?(hex: some StringProtocol) {
        var text = String(hex)
        guard let hash = text.withUTF8({ Hash(hexDigits: $0) }) else { return nil }
        self = hash
    }

    /// Nibble values of lower-case hex digits; 0xFF for every other byte.
    private static let nibbles: [UInt8] = (0...255).map { byte in
        switch UInt8(byte) {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): UInt8(byte) - UInt8(ascii: "0")
        case UInt8(ascii: "a")...UInt8(ascii: "f"): UInt8(byte) - UInt8(ascii: "a") + 10
        default: 0xFF
        }
    }

    /// From 64 lower-case hexadecimal digits given as ASCII bytes (on the verifier's hot path).
    public init?(hexDigits: UnsafeBufferPointer<UInt8>) {
        guard hexDigits.count == 64 else { return nil }
        var invalid: UInt8 = 0
        Hash.nibbles.withUnsafeBufferPointer { table in
            withUnsafeMutableBytes(of: &storage) { output in
                for index in 0..<32 {
                    let high = table[Int(hexDigits[2 * index])]
                    let low = table[Int(hexDigits[2 * index + 1])]
                    invalid |= (high | low) & 0xF0
                    output[index] = high << 4 | (low & 0x0F)
                }
            }
        }
        guard invalid == 0 else { return nil }
    }

    public init?(base64: String) {
        guard let data = Data(strictBase64: base64) else { return nil }
        self.init(bytes: data)
    }

    public func withUnsafeBytes<T>(_ body: (UnsafeRawBufferPointer) throws -> T) rethrows -> T {
        try Swift.withUnsafeBytes(of: storage, body)
    }

    public var bytes: [UInt8] { withUnsafeBytes { Array($0) } }

    private static let hexDigits = Array("0123456789abcdef".utf8)

    /// Lower-case hexadecimal, 64 characters.
    public var hex: String {
        withUnsafeBytes { buffer in
            var text: [UInt8] = []
            text.reserveCapacity(64)
            for byte in buffer {
                text.append(Hash.hexDigits[Int(byte >> 4)])
                text.append(Hash.hexDigits[Int(byte & 0x0F)])
            }
            return String(decoding: text, as: UTF8.self)
        }
    }

    public var base64: String { Data(bytes).base64EncodedString() }

    public var description: String { hex }

    /// SHA-256 of `bytes`.
    public static func sha256(_ bytes: some DataProtocol) -> Hash {
        Hash(SHA256.hash(data: bytes))
    }

    /// RFC 6962 leaf hash: SHA-256(0x00 ‖ entry).
    public static func leaf(_ entry: UnsafeRawBufferPointer) -> Hash {
        var hasher = SHA256()
        Swift.withUnsafeBytes(of: UInt8(0)) { hasher.update(bufferPointer: $0) }
        hasher.update(bufferPointer: entry)
        return Hash(hasher.finalize())
    }

    public static func leaf(_ entry: [UInt8]) -> Hash {
        entry.withUnsafeBytes { leaf($0) }
    }

    /// RFC 6962 interior node: SHA-256(0x01 ‖ left ‖ right).
    public static func node(_ left: Hash, _ right: Hash) -> Hash {
        var hasher = SHA256()
        Swift.withUnsafeBytes(of: UInt8(1)) { hasher.update(bufferPointer: $0) }
        left.withUnsafeBytes { hasher.update(bufferPointer: $0) }
        right.withUnsafeBytes { hasher.update(bufferPointer: $0) }
        return Hash(hasher.finalize())
    }

    /// The root of the empty tree: SHA-256 of nothing.
    public static let emptyRoot = Hash(SHA256.hash(data: [UInt8]()))
}

extension Data {
    /// Standard base64 (RFC 4648 §4, with padding) in its one canonical spelling: Foundation alone also
    /// takes stray or inner `=`, so two texts could name the same bytes. Refusing them keeps keys,
    /// roots and signatures unambiguous.
    init?(strictBase64 text: some StringProtocol) {
        guard let data = Data(base64Encoded: String(text)), data.base64EncodedString() == text else { return nil }
        self = data
    }
}
