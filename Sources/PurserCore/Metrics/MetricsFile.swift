internal import Foundation
public import PurserLedger
internal import Synchronization

/// A file of per-task records: JSON Lines (one object per line) or CSV (a header row naming the fields,
/// RFC 4180 quoting); or OpenTelemetry traces as OTLP/JSON, one request per line, whose agent tasks are assembled
/// from their spans (`OTLPTasks`).
public enum MetricsFormat: String, NamedChoice {
    case jsonl, csv, otlp
}

public enum MetricsFile {
    /// The most `metrics ingest` reads of a file: 512 MiB, about 1.5 million task records. The file is stored
    /// whole as an artifact, and SQLite stores no value over 1,000,000,000 bytes.
    public static let maximumSize = 512 << 20
    /// The most a gzip'd metrics file (an OTLP receiver's batch) inflates to when read back: a bound on the memory a
    /// damaged artifact can take. A batch holds 10,000 spans, or one trace of at most the 500,000 spans a server
    /// lets wait by default (about 420 MB of OTLP/JSON); the receiver records no larger one (`Metrics.summarize`).
    package static let maximumInflated = 1 << 30
    /// The longest line of JSON Lines read: a task record is far shorter, and a line is parsed whole.
    static let maximumLineSize = 1 << 20

    /// Parses every record of `bytes`, checking each; nothing is returned unless all are valid.
    /// - Throws: `.invalidInput` naming the first bad line and field, and how many other lines are bad.
    public static func parse(
        _ bytes: [UInt8], format: MetricsFormat, source: String
    ) throws(LedgerError) -> [(line: Int, record: TaskRecord)] {
        var records: [(line: Int, record: TaskRecord)] = []
        do {
            try forEachPiece(bytes, format: format, source: source) { records.append(contentsOf: $0) }
        } catch let error as LedgerError {
            throw error
        } catch {
            throw LedgerError(.internal, "\(source): \(error)")
        }
        return records
    }

    /// Reads the records of `bytes` and hands them to `body` a piece at a time, in order: JSON Lines in pieces of
    /// about 1 MiB of whole lines, read on another thread while `body` stores the piece before (reading was a
    /// quarter of an ingestion), CSV in one piece. Once a line is bad, or `body` throws, no more pieces are
    /// handed over, but every line is still read, so that the error names them all.
    /// - Throws: `.invalidInput` naming the first bad line and field, and how many other lines are bad; else
    ///   what `body` threw.
    /// - Parameter received: the file is a batch of the OTLP receiver (`Metrics.summarize`): a task a task record
    ///   cannot hold counts among the spans no task took, and a batch without tasks is no error.
    /// - Parameter prices: for OTLP, the prices that give the cost of tasks whose spans carry none.
    /// - Parameter marker: for OTLP, which spans are tasks.
    /// - Returns: for OTLP, how many spans no task took (`OTLPTasks`); 0 otherwise.
    @discardableResult
    static func forEachPiece(
        _ bytes: [UInt8], format: MetricsFormat, source: String, received: Bool = false, prices: PriceTable? = nil,
        tasks marker: TaskSpans = .invokeAgent, _ body: ([(line: Int, record: TaskRecord)]) throws -> Void
    ) throws -> Int {
        var unattributed = 0
        var problems: [(line: Int, message: String)] = []
        var records = 0
        var failure: (any Error)?
        func take(_ piece: [(line: Int, record: TaskRecord)], _ pieceProblems: [(line: Int, message: String)]) {
            problems += pieceProblems
            records += piece.count
            guard problems.isEmpty, failure == nil else { return }
            do { try body(piece) } catch { failure = error }
        }
        switch format {
        case .jsonl:
            let reader = JSONLinesReader(bytes)
            var linesBefore = 0
            for index in 0..<reader.count {
                let piece = reader.take(index)
                take(
                    piece.records.map { (linesBefore + $0.line, $0.record) },
                    piece.problems.map { (linesBefore + $0.line, $0.message) })
                linesBefore += piece.lines
            }
        case .csv:
            let (csvRecords, csvProblems) = try csv(bytes, source: source)
            take(csvRecords, csvProblems)
        case .otlp:
            let (tasks, left) = try OTLPTasks.assemble(
                OTLPJSON.spans(bytes, source: source), lenient: received, prices: prices, tasks: marker)
            unattributed = left
            take(tasks, [])
        }
        if let first = problems.first {
            let more =
                problems.count > 1
                ? " (and \(problems.count - 1) more bad line(s): \(problems.dropFirst().prefix(5).map { String($0.line) }.joined(separator: ", "))\(problems.count > 6 ? ", …" : ""))"
                : ""
            throw LedgerError(
                .invalidInput, "\(source) line \(first.line): \(first.message)\(more); nothing was ingested")
        }
        if let failure { throw failure }
        guard records > 0 || received else {
            throw LedgerError(
                .invalidInput,
                format == .otlp
                    ? "\(source): no agent tasks (invoke_agent spans with a version and an environment) among its \(unattributed) span(s)"
                    : "\(source): no task records")
        }
        return unattributed
    }

    /// The records and the problems of a CSV file.
    /// - Throws: for a file without a header, or a header that repeats a column or names an unknown one.
    private static func csv(
        _ bytes: [UInt8], source: String
    ) throws(LedgerError) -> (records: [(line: Int, record: TaskRecord)], problems: [(line: Int, message: String)]) {
        var records: [(line: Int, record: TaskRecord)] = []
        var problems: [(line: Int, message: String)] = []
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
            do throws(LedgerError) {
                guard row.cells.count == names.count else {
                    throw LedgerError(.invalidInput, "\(row.cells.count) cells, but the header has \(names.count)")
                }
                var values: [String: JSONValue] = [:]
                for (name, cell) in zip(names, row.cells) { values[name] = .string(cell) }
                records.append((row.line, try TaskRecord(values, csv: true)))
            } catch {
                problems.append((row.line, error.message))
            }
        }
        return (records, problems)
    }
}

/// JSON Lines in pieces of about 1 MiB of whole lines, read one after another on a thread of their own from
/// the moment it is made, and taken in order.
private final class JSONLinesReader: Sendable {
    let count: Int
    private let pieces: Mutex<[LinesPiece?]>
    private let read: [DispatchSemaphore]

    init(_ bytes: [UInt8]) {
        let count = max(1, bytes.count >> 20)
        // Each piece starts just after a newline, or at the start or end of the file.
        var starts = [0]
        for piece in 1..<count {
            let start = max(bytes.count / count * piece, starts.last!)
            starts.append(bytes[start...].firstIndex(of: 0x0A).map { $0 + 1 } ?? bytes.count)
        }
        let bounds = starts + [bytes.count]
        self.count = count
        pieces = Mutex(Array(repeating: nil, count: count))
        read = (0..<count).map { _ in DispatchSemaphore(value: 0) }
        // A thread of its own, not a worker of Dispatch's global queue, which other work can keep busy while
        // the taker waits.
        Thread { [self] in
            for index in 0..<count {
                let piece = LinesPiece(bytes[bounds[index]..<bounds[index + 1]])
                pieces.withLock { $0[index] = piece }
                read[index].signal()
            }
        }.start()
    }

    /// Piece `index` (each once), when it has been read.
    func take(_ index: Int) -> LinesPiece {
        read[index].wait()
        return pieces.withLock { pieces in
            defer { pieces[index] = nil }
            return pieces[index]!
        }
    }
}

/// The records and problems of some whole lines of JSON Lines, with line numbers from 1 at the first.
private struct LinesPiece {
    var records: [(line: Int, record: TaskRecord)] = []
    var problems: [(line: Int, message: String)] = []
    var lines = 0

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
                guard line.count <= MetricsFile.maximumLineSize else {
                    problems.append((lines, "over \(MetricsFile.maximumLineSize) bytes, longer than any task record"))
                    continue
                }
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
        // A cell holds what a JSON string may hold (§3.2): UTF-8, and no control character but the line breaks of
        // a quoted cell that spans lines.
        func endCell() throws(LedgerError) {
            guard let text = String(validating: cell, as: UTF8.self) else {
                throw LedgerError(.invalidInput, "\(source) line \(rowLine): cell \(cells.count + 1) is not UTF-8")
            }
            if let control = text.unicodeScalars.first(where: { $0.value < 0x20 && $0 != "\n" && $0 != "\r" }) {
                throw LedgerError(
                    .invalidInput,
                    "\(source) line \(rowLine): cell \(cells.count + 1) holds the control character U+\(String(format: "%04X", control.value))"
                )
            }
            cells.append(text)
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
            case 0x2C: try endCell()
            case 0x0D where index < bytes.count && bytes[index] == 0x0A: break
            case 0x0A:
                try endCell()
                rows.append((rowLine, cells))
                cells = []
                line += 1
                rowLine = line
            default: cell.append(byte)
            }
        }
        if quoted { throw LedgerError(.invalidInput, "\(source) line \(rowLine): a quoted field is not closed") }
        if !cell.isEmpty || !cells.isEmpty {
            try endCell()
            rows.append((rowLine, cells))
        }
        return rows
    }
}
