internal import Foundation
public import PurserLedger

/// Reading the JSON a user hands to purser, with errors that name the file, the line and the byte.
public enum Inputs {
    /// Reads a file, or standard input for "-".
    public static func read(_ path: String) throws(LedgerError) -> [UInt8] {
        if path == "-" {
            return Array(FileHandle.standardInput.readDataToEndOfFile())
        }
        guard FileManager.default.fileExists(atPath: path) else {
            throw LedgerError(.notFound, "\(path) not found")
        }
        guard let handle = FileHandle(forReadingAtPath: path), let data = try? handle.readToEnd() ?? Data() else {
            throw LedgerError(.invalidInput, "\(path) cannot be read")
        }
        return Array(data)
    }

    /// How messages name `path`: "standard input" for "-".
    public static func name(_ path: String) -> String { path == "-" ? "standard input" : path }

    /// Parses one JSON object from `path`.
    public static func jsonObject(at path: String) throws(LedgerError) -> JSONValue {
        let bytes = try read(path)
        let value: JSONValue
        do {
            value = try JSONValue(parsing: bytes)
        } catch {
            throw LedgerError(.invalidInput, "\(name(path)): invalid JSON: \(error)")
        }
        guard case .object = value else {
            throw LedgerError(.invalidInput, "\(name(path)): expected a JSON object as the body")
        }
        return value
    }

    /// Parses JSON Lines from `path`: one object per non-blank line, each turned into a `T` by `make`
    /// as soon as it is read (so a large file is never held as parsed trees). Every line is checked
    /// before any result is returned.
    public static func jsonObjectLines<T>(
        at path: String, _ make: (JSONValue) throws(LedgerError) -> T
    ) throws(LedgerError) -> [T] {
        let bytes = try read(path)
        var objects: [T] = []
        var lineNumber = 0
        for line in bytes.split(separator: 0x0A, omittingEmptySubsequences: false) {
            lineNumber += 1
            if line.allSatisfy({ $0 == 0x20 || $0 == 0x09 || $0 == 0x0D }) { continue }
            let value: JSONValue
            do {
                value = try JSONValue(parsing: line)
            } catch {
                throw LedgerError(.invalidInput, "\(name(path)) line \(lineNumber): invalid JSON: \(error)")
            }
            guard case .object = value else {
                throw LedgerError(.invalidInput, "\(name(path)) line \(lineNumber): expected a JSON object")
            }
            objects.append(try make(value))
        }
        return objects
    }
}
