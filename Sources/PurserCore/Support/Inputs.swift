internal import Foundation
public import PurserLedger

/// A file a user handed to purser, read where the command runs (on a client of `purser serve`, before the
/// request is sent): the bytes, how messages name the file, and the name the ledger records.
public struct InputFile: Sendable, Codable {
    /// How messages name the file: its path, or "standard input".
    public let source: String
    public let bytes: [UInt8]

    public init(source: String, bytes: [UInt8]) {
        self.source = source
        self.bytes = bytes
    }

    /// Reads a file, or standard input for "-", of at most `InputBytes.maximumSize` (64 MiB).
    public static func read(_ path: String) throws(LedgerError) -> InputFile {
        try read(path, limit: InputBytes.maximumSize)
    }

    /// Reads a file, or standard input for "-", of at most `limit` bytes.
    public static func read(_ path: String, limit: Int) throws(LedgerError) -> InputFile {
        InputFile(source: Inputs.name(path), bytes: try Inputs.read(path, limit: limit))
    }

    /// The name entries record: the file's last path component, or "standard input". Taken from `source` as
    /// written, never resolved against the working directory: on the server, a client's empty or relative
    /// source would otherwise name a folder of the server's.
    public var fileName: String {
        guard source != "standard input" else { return source }
        return source.split(separator: "/").last.map(String.init) ?? "unnamed"
    }

    /// The file's name without its extension, or nil for standard input.
    public var stem: String? {
        guard source != "standard input" else { return nil }
        let name = fileName
        guard let dot = name.lastIndex(of: "."), dot != name.startIndex else { return name }
        return String(name[..<dot])
    }

    enum CodingKeys: String, CodingKey { case source, base64 }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        source = try container.decode(String.self, forKey: .source)
        let text = try container.decode(String.self, forKey: .base64)
        guard let data = Data(base64Encoded: text) else {
            throw DecodingError.dataCorruptedError(
                forKey: .base64, in: container, debugDescription: "the contents of \(source) are not base64")
        }
        bytes = Array(data)
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(source, forKey: .source)
        try container.encode(Data(bytes).base64EncodedString(), forKey: .base64)
    }
}

/// Reading the JSON a user hands to purser, with errors that name the file, the line and the byte.
public enum Inputs {
    /// Reads a file, or standard input for "-", of at most `limit` bytes.
    /// - Throws: `.notFound` for a missing file; `.invalidInput` for one that cannot be read or is over `limit`.
    public static func read(_ path: String, limit: Int = InputBytes.maximumSize) throws(LedgerError) -> [UInt8] {
        try InputBytes.read(path, source: name(path), limit: limit)
    }

    /// How messages name `path`: "standard input" for "-".
    public static func name(_ path: String) -> String { path == "-" ? "standard input" : quoted(path) }

    /// Parses one JSON object from `path`.
    public static func jsonObject(at path: String) throws(LedgerError) -> JSONValue {
        try object(try read(path)[...], from: name(path))
    }

    /// Parses `bytes` as a JSON object; `source` names them in errors ("body.json", "x.jsonl line 3").
    private static func object(_ bytes: ArraySlice<UInt8>, from source: String) throws(LedgerError) -> JSONValue {
        let value: JSONValue
        do {
            value = try JSONValue(parsing: bytes)
        } catch {
            throw LedgerError(.invalidInput, "\(source): invalid JSON: \(error)")
        }
        guard case .object = value else {
            throw LedgerError(.invalidInput, "\(source): expected a JSON object")
        }
        return value
    }

    /// Parses JSON Lines from `path`: one object per non-blank line, each turned into a `T` by `make`
    /// as soon as it is read (so a large file is never held as parsed trees). Every line is checked
    /// before any result is returned.
    public static func jsonObjectLines<T>(
        at path: String, _ make: (JSONValue) throws(LedgerError) -> T
    ) throws(LedgerError) -> [T] {
        try jsonObjectLines(try read(path), source: name(path)) { (object, _) throws(LedgerError) in try make(object) }
    }

    /// Parses JSON Lines already read: `make` gets each object and how messages name its line
    /// ("pairs.jsonl line 3"), for its own errors.
    public static func jsonObjectLines<T>(
        _ bytes: [UInt8], source: String, _ make: (JSONValue, _ line: String) throws(LedgerError) -> T
    ) throws(LedgerError) -> [T] {
        var objects: [T] = []
        var lineNumber = 0
        for line in bytes.split(separator: 0x0A, omittingEmptySubsequences: false) {
            lineNumber += 1
            if line.allSatisfy({ $0 == 0x20 || $0 == 0x09 || $0 == 0x0D }) { continue }
            let place = "\(source) line \(lineNumber)"
            objects.append(try make(try object(line, from: place), place))
        }
        return objects
    }
}
