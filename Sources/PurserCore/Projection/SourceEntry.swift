internal import Foundation
internal import PurserLedger

/// The entry a query-table row says it came from (by its `seq`), read and checked before a command decides on the
/// row: the query tables are derived and anyone with the file can edit them, while an entry cannot change without
/// `verify` noticing. Reading one entry by its seq is one lookup, so a command checks every row it decides on.
struct SourceEntry {
    let seq: Int64
    let kind: String
    let at: String
    let body: JSONValue
    /// How messages name the row.
    let row: String

    /// Reads entry `seq` of `ledger` (in the caller's snapshot): it must exist, its bytes must hash to its stored
    /// leaf hash, and it must be of one of `kinds`.
    /// - Parameter row: how messages name the row that named the entry (`checklist_runs row 12`).
    /// - Throws: `.integrity` naming the row otherwise.
    init(_ seq: Int64, kinds: Set<String>, row: String, ledger: Ledger) throws(LedgerError) {
        self.seq = seq
        self.row = row
        func fault(_ problem: String) -> LedgerError {
            SourceEntry.fault(row: row, seq: seq, problem)
        }
        guard let number = UInt64(exactly: seq), let entry = try ledger.entry(number) else {
            throw fault("does not exist")
        }
        guard entry.leafHash == Hash.leaf(entry.bytes) else { throw fault("no longer hashes to its leaf hash") }
        guard let envelope = try? JSONValue(parsing: entry.bytes), envelope["seq"]?.numberValue == Double(seq),
            let kind = envelope["kind"]?.stringValue, kind == entry.kind, kinds.contains(kind),
            let at = envelope["at"]?.stringValue, case .object = envelope["body"] ?? .null
        else {
            throw fault("is not a \(kinds.sorted().joined(separator: " or ")) entry")
        }
        self.kind = kind
        self.at = at
        self.body = envelope["body"]!
    }

    /// Throws unless the row's `field` is what the entry says.
    func require(_ field: String, _ rowValue: String?, equals entryValue: String?) throws(LedgerError) {
        guard rowValue == entryValue else {
            throw SourceEntry.fault(
                row: row, seq: seq,
                "says \(field) \(entryValue.map { "\"\($0)\"" } ?? "nothing"), not \(rowValue.map { "\"\($0)\"" } ?? "nothing")"
            )
        }
    }

    /// Throws if an entry of `kind` after `seq` is one `matches` picks: a later entry than the row decided on, which
    /// the table lacks (its row deleted, or moved to another version).
    /// - Parameter what: what such an entry is, for the message (`a later checklist run of … in prod`).
    static func requireNoLater(
        _ kind: String, after seq: Int64, row: String, what: String, ledger: Ledger, _ matches: (JSONValue) -> Bool
    ) throws(LedgerError) {
        try ledger.forEachEntry(from: UInt64(max(seq + 1, 0)), kind: kind) { entry in
            if let body = (try? JSONValue(parsing: entry.bytes))?["body"], matches(body) {
                throw tampered("entry \(entry.seq) is \(what), later than \(row), and the table lacks it")
            }
        }
    }

    static func fault(row: String, seq: Int64, _ problem: String) -> LedgerError {
        tampered("\(row) came from entry \(seq), which \(problem)")
    }

    /// The error of a query table that disagrees with the entries, as `detail` says.
    static func tampered(_ detail: String) -> LedgerError {
        LedgerError(
            .integrity,
            "\(detail): the query tables were changed outside purser; refusing to decide on them (run `purser verify`, then `purser reindex`)"
        )
    }
}
