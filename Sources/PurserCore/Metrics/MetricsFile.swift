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
            var line = 0
            for text in bytes.split(separator: 0x0A, omittingEmptySubsequences: false) {
                line += 1
                if text.allSatisfy({ $0 == 0x20 || $0 == 0x09 || $0 == 0x0D }) { continue }
                add(line) { () throws(LedgerError) in
                    if let values = text.withUnsafeBufferPointer(FlatJSONObject.taskFields) {
                        return try TaskRecord(fieldValues: values, csv: false)
                    }
                    guard case .object(let members) = try? JSONValue(parsing: text) else {
                        throw LedgerError(.invalidInput, "not a JSON object")
                    }
                    return try TaskRecord(members)
                }
            }
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
