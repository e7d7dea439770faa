internal import Foundation

/// An event to append: a kind and a JSON object body. The ledger adds `v`, `seq`, `at` and `prev`.
///
/// The body is kept as its canonical bytes: encoded once, when the event is made, and small to hold
/// for a large import.
public struct Event: Sendable {
    public let kind: String
    /// The canonical JSON bytes of the body.
    public let body: [UInt8]

    /// - Throws: `LedgerError.usage` for a kind with characters outside `[A-Za-z0-9._-]`;
    ///   `LedgerError.invalidInput` for a body that is not a JSON object.
    public init(kind: String, body: JSONValue) throws(LedgerError) {
        try Event.checkKind(kind)
        guard case .object = body else {
            throw LedgerError(.invalidInput, "the body of a \(kind) entry must be a JSON object")
        }
        self.kind = kind
        self.body = CanonicalJSON.encode(body)
    }

    /// - Throws: `LedgerError.usage` for a kind with characters outside `[A-Za-z0-9._-]` or over 100 bytes.
    public static func checkKind(_ kind: String) throws(LedgerError) {
        guard isValidKind(kind) else {
            throw LedgerError(
                .usage, "invalid kind \"\(kind)\": use letters, digits, '.', '_' and '-' (at most 100 characters)")
        }
    }

    public static func isValidKind(_ kind: String) -> Bool {
        !kind.isEmpty && kind.utf8.count <= 100
            && kind.utf8.allSatisfy { byte in
                switch byte {
                case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"),
                    UInt8(ascii: "0")...UInt8(ascii: "9"), UInt8(ascii: "."), UInt8(ascii: "_"), UInt8(ascii: "-"):
                    true
                default: false
                }
            }
    }
}

/// A recorded entry: its exact canonical bytes and the fields the ledger indexes.
public struct Entry: Sendable {
    public let seq: UInt64
    public let at: String
    public let kind: String
    public let leafHash: Hash
    /// The exact canonical JSON bytes, as hashed.
    public let bytes: [UInt8]

    public var text: String { String(decoding: bytes, as: UTF8.self) }

    /// The body's canonical JSON bytes, exactly as stored inside the entry.
    public var bodyBytes: ArraySlice<UInt8> {
        let range = bytes.withUnsafeBytes { Envelope($0)?.bodyRange }
        return range.map { bytes[$0] } ?? []
    }

    /// The parsed body.
    /// - Throws: `LedgerError.integrity` if the stored entry is not a valid entry (run `purser verify`).
    public var body: JSONValue {
        get throws(LedgerError) {
            guard let body = try? JSONValue(parsing: bodyBytes), case .object = body else {
                throw LedgerError(.integrity, "entry \(seq) has no readable body; run `purser verify`")
            }
            return body
        }
    }

    /// Encodes the canonical bytes of entry `seq` (keys in canonical order: at, body, kind, prev, seq, v).
    static func encode(seq: UInt64, at: String, event: Event, prev: Hash) -> [UInt8] {
        var output: [UInt8] = []
        output.reserveCapacity(384)
        output.append(contentsOf: #"{"at":"#.utf8)
        CanonicalJSON.writeString(at, into: &output)
        output.append(contentsOf: #","body":"#.utf8)
        output.append(contentsOf: event.body)
        output.append(contentsOf: #","kind":"#.utf8)
        CanonicalJSON.writeString(event.kind, into: &output)
        output.append(contentsOf: #","prev":""#.utf8)
        output.append(contentsOf: prev.hex.utf8)
        output.append(contentsOf: #"","seq":"#.utf8)
        output.append(contentsOf: String(seq).utf8)
        output.append(contentsOf: #","v":1}"#.utf8)
        return output
    }
}

/// The envelope fields of an entry read straight from its canonical bytes, without parsing the body.
///
/// Canonical key order puts `at` first and `kind`, `prev`, `seq`, `v` after the body, so the fields
/// sit at fixed places from the two ends. Ranges are byte offsets into the entry.
struct Envelope: Sendable {
    static let atRange = 7..<31
    let bodyRange: Range<Int>
    let kindRange: Range<Int>
    let prev: Hash
    let seq: UInt64

    init?(_ bytes: UnsafeRawBufferPointer) {
        let b = bytes.bindMemory(to: UInt8.self)
        func matches(_ literal: StaticString, at offset: Int) -> Bool {
            let count = literal.utf8CodeUnitCount
            guard offset >= 0, offset + count <= b.count else { return false }
            return memcmp(b.baseAddress! + offset, literal.utf8Start, count) == 0
        }
        // Head: {"at":"<24 characters>","body":{
        guard b.count > 100, matches(#"{"at":""#, at: 0), matches(#"","body":{"#, at: 31) else { return nil }
        // Tail: },"kind":"<kind>","prev":"<64 hex>","seq":<digits>,"v":1}
        var end = b.count - 7
        guard matches(#","v":1}"#, at: end) else { return nil }
        var digitsStart = end
        var seq: UInt64 = 0
        while digitsStart > end - 20, (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(b[digitsStart - 1]) {
            digitsStart -= 1
        }
        guard digitsStart < end, b[digitsStart] != UInt8(ascii: "0") || end - digitsStart == 1 else { return nil }
        for index in digitsStart..<end {
            let (product, overflow1) = seq.multipliedReportingOverflow(by: 10)
            let (sum, overflow2) = product.addingReportingOverflow(UInt64(b[index] - UInt8(ascii: "0")))
            guard !overflow1, !overflow2 else { return nil }
            seq = sum
        }
        end = digitsStart - 7
        guard matches(#","seq":"#, at: end) else { return nil }
        let hexStart = end - 65
        guard matches(#""prev":""#, at: hexStart - 8), matches("\"", at: end - 1),
            let prev = Hash(hexDigits: UnsafeBufferPointer(rebasing: b[hexStart..<(end - 1)]))
        else { return nil }
        end = hexStart - 10  // the quote closing the kind
        guard matches("\",", at: end) else { return nil }
        var kindStart = end
        while kindStart > 41, b[kindStart - 1] != UInt8(ascii: "\"") { kindStart -= 1 }
        guard kindStart < end, matches(#"},"kind":""#, at: kindStart - 10) else { return nil }
        self.bodyRange = 40..<(kindStart - 9)
        self.kindRange = kindStart..<end
        self.prev = prev
        self.seq = seq
    }
}
