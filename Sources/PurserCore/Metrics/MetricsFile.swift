internal import Foundation
public import PurserLedger

/// A file of per-task records: JSON Lines (one object per line) or CSV (a header row naming the fields,
/// RFC 4180 quoting).
public enum MetricsFormat: String, Sendable, CaseIterable {
    case jsonl, csv
}

public enum MetricsFile {
    /// Parses every record of `bytes`, checking each; nothing is returned unless all are valid.
    /// - Throws: `.invalidInput` naming the first bad line and field, and how many other lines are bad.
    public static func parse(
        _ bytes: [UInt8], format: MetricsFormat, source: String
    ) throws(LedgerError) -> [(line: Int, record: TaskRecord)] {
        var records: [(line: Int, record: TaskRecord)] = []
        var problems: [(line: Int, message: String)] = []
        func add(_ line: Int, _ make: () throws(LedgerError) -> TaskRecord) {
            do {
                records.append((line, try make()))
            } catch {
                problems.append((line, error.message))
            }
        }
        switch format {
        case .jsonl:
            (records, problems) = jsonLines(bytes)
        case .csv:
            let rows = try CSV.rows(bytes, source: source)
            guard let header = rows.first else { throw LedgerError(.invalidInput, "\(source): empty CSV file") }
            var names = header.cells
            if let first = names.first, first.hasPrefix("\u{FEFF}") { names[0] = String(first.dropFirst()) }
            if Set(names).count != names.count {
                throw LedgerError(.invalidInput, "\(source) line \(header.line): a column is named twice")
            }
            for name in names where !TaskRecord.fields.contains(name) {
                throw LedgerError(
                    .invalidInput,
                    "\(source) line \(header.line): unknown column \"\(name)\" (columns: \(TaskRecord.fields.joined(separator: ", ")))"
                )
            }
            for row in rows.dropFirst() where !(row.cells.count == 1 && row.cells[0].isEmpty) {
                add(row.line) { () throws(LedgerError) in
                    guard row.cells.count == names.count else {
                        throw LedgerError(.invalidInput, "\(row.cells.count) cells, but the header has \(names.count)")
                    }
                    var values: [String: JSONValue] = [:]
                    for (name, cell) in zip(names, row.cells) { values[name] = .string(cell) }
                    return try TaskRecord(values, csv: true)
                }
            }
        }
        if let first = problems.first {
            let more =
                problems.count > 1
                ? " (and \(problems.count - 1) more bad line(s): \(problems.dropFirst().prefix(5).map { String($0.line) }.joined(separator: ", "))\(problems.count > 6 ? ", …" : ""))"
                : ""
            throw LedgerError(
                .invalidInput, "\(source) line \(first.line): \(first.message)\(more); nothing was ingested")
        }
        guard !records.isEmpty else { throw LedgerError(.invalidInput, "\(source): no task records") }
        return records
    }

    /// The records and the problems of JSON Lines. Lines are independent, so a large file is read in pieces
    /// of whole lines on every core, put back together in order: reading was a quarter of an ingestion.
    private static func jsonLines(
        _ bytes: [UInt8]
    ) -> (records: [(line: Int, record: TaskRecord)], problems: [(line: Int, message: String)]) {
        let count = bytes.count < 1 << 20 ? 1 : 2 * ProcessInfo.processInfo.activeProcessorCount
        // Each piece starts just after a newline, or at the start or end of the file.
        var starts = [0]
        for piece in 1..<count {
            let start = max(bytes.count / count * piece, starts.last!)
            starts.append(bytes[start...].firstIndex(of: 0x0A).map { $0 + 1 } ?? bytes.count)
        }
        let bounds = starts + [bytes.count]
        var pieces = Array(repeating: LinesPiece(), count: count)
        pieces.withUnsafeMutableBufferPointer { buffer in
            nonisolated(unsafe) let pieces = buffer  // each iteration writes its own piece only
            DispatchQueue.concurrentPerform(iterations: count) { index in
                pieces[index] = LinesPiece(bytes[bounds[index]..<bounds[index + 1]])
            }
        }
        var records: [(line: Int, record: TaskRecord)] = []
        var problems: [(line: Int, message: String)] = []
        records.reserveCapacity(pieces.reduce(0) { $0 + $1.records.count })
        var linesBefore = 0
        for piece in pieces {
            records.append(contentsOf: piece.records.lazy.map { (linesBefore + $0.line, $0.record) })
            problems.append(contentsOf: piece.problems.lazy.map { (linesBefore + $0.line, $0.message) })
            linesBefore += piece.lines
        }
        return (records, problems)
    }
}

/// The records and problems of some whole lines of JSON Lines, with line numbers from 1 at the first.
private struct LinesPiece {
    var records: [(line: Int, record: TaskRecord)] = []
    var problems: [(line: Int, message: String)] = []
    var lines = 0

    init() {}

    /// Reads `bytes`, which end with a newline or at the end of the file: the newline that ends the piece
    /// ends its last line, and the next piece's first line follows it.
    init(_ bytes: ArraySlice<UInt8>) {
        bytes.withUnsafeBufferPointer { piece in
            guard let base = piece.baseAddress else { return }
            var start = 0
            while start < piece.count {
                let end =
                    memchr(base + start, 0x0A, piece.count - start).map { UnsafeRawPointer(base).distance(to: $0) }
                    ?? piece.count
                lines += 1
                let line = UnsafeBufferPointer(rebasing: piece[start..<end])
                start = end + 1
                if line.allSatisfy({ $0 == 0x20 || $0 == 0x09 || $0 == 0x0D }) { continue }
                do throws(LedgerError) {
                    records.append((lines, try Self.record(line)))
                } catch {
                    problems.append((lines, error.message))
                }
            }
        }
    }

    private static func record(_ line: UnsafeBufferPointer<UInt8>) throws(LedgerError) -> TaskRecord {
        if let values = FlatJSONObject.taskFields(line) {
            return try TaskRecord(fieldValues: values, csv: false)
        }
        guard case .object(let members) = try? JSONValue(parsing: line) else {
            throw LedgerError(.invalidInput, "not a JSON object")
        }
        return try TaskRecord(members)
    }
}

/// RFC 4180 CSV: fields separated by commas, quoted with `"` (a quote inside doubled), rows ended by LF
/// or CRLF; a quoted field may span lines.
enum CSV {
    static func rows(_ bytes: [UInt8], source: String) throws(LedgerError) -> [(line: Int, cells: [String])] {
        var rows: [(line: Int, cells: [String])] = []
        var cells: [String] = []
        var cell: [UInt8] = []
        var line = 1
        var rowLine = 1
        var index = 0
        var quoted = false
        func endCell() {
            cells.append(String(decoding: cell, as: UTF8.self))
            cell.removeAll(keepingCapacity: true)
        }
        while index < bytes.count {
            let byte = bytes[index]
            index += 1
            if quoted {
                if byte == 0x22 {
                    if index < bytes.count && bytes[index] == 0x22 {
                        cell.append(0x22)
                        index += 1
                    } else {
                        quoted = false
                    }
                } else {
                    if byte == 0x0A { line += 1 }
                    cell.append(byte)
                }
                continue
            }
            switch byte {
            case 0x22 where cell.isEmpty: quoted = true
            case 0x2C: endCell()
            case 0x0D where index < bytes.count && bytes[index] == 0x0A: break
            case 0x0A:
                endCell()
                rows.append((rowLine, cells))
                cells = []
                line += 1
                rowLine = line
            default: cell.append(byte)
            }
        }
        if quoted { throw LedgerError(.invalidInput, "\(source) line \(rowLine): a quoted field is not closed") }
        if !cell.isEmpty || !cells.isEmpty {
            endCell()
            rows.append((rowLine, cells))
        }
        return rows
    }
}
