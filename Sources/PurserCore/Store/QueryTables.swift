internal import PurserLedger

/// The query tables the release domain derives from the entries, as one transaction or one snapshot sees them:
/// the seam between the domain and the database that keeps them.
///
/// Each group of tables is a protocol of its own in this folder (`VersionTables`, `TrafficTables`,
/// `ChecklistTables`, `TaskTables`), owning its rows' writes and reads and returning Swift values; a feature's
/// reads name only the group it owns (`readTables { (tables: any VersionTables) in … }`). `Store/SQLite/`
/// implements them all over the ledger's SQLite file, one file per group with its `CREATE TABLE`. A second store
/// implements the same protocols in a folder of its own. The entries themselves are read through `Ledger`, never
/// here.
protocol QueryTables: VersionTables, TrafficTables, ChecklistTables, TaskTables {
    /// Creates the tables and their progress row, if missing.
    func createTables() throws
    /// Drops the tables and their progress row, if present.
    func dropTables() throws
    /// The projection version the tables were made by and the last seq applied, or nil if there are no tables.
    func progress() throws -> (version: Int64, appliedSeq: Int64)?
    /// Records that the entries up to `seq` are applied.
    func setAppliedSeq(_ seq: Int64) throws
    /// Runs `body`; if it throws, undoes what it wrote to the tables (and rethrows).
    func undoingOnError(_ body: () throws -> Void) throws
    /// An empty set of the same tables beside these, seen in the same snapshot, for a rebuild to compare with
    /// (`verify`); it lasts until `dropTables`.
    func scratch() -> any QueryTables
    /// The first table whose rows differ from `rebuilt`'s (a scratch set of this store), with how many rows
    /// differ and the lowest seq among them; nil if none does.
    func firstDifference(from rebuilt: any QueryTables) throws -> TableDifference?
}

/// Where a query table and its rebuild disagree.
struct TableDifference {
    let table: String
    /// False when the table is missing altogether (`rows` and `seq` are then 0).
    let exists: Bool
    let rows: Int64
    let seq: Int64
}

extension Ledger.WriteTransaction {
    /// The query tables as this transaction sees them: they commit with its entries.
    var tables: any QueryTables { SQLiteTables(connection) }
    /// What the ledger says of the OTLP receiver's inbox, as this transaction sees it.
    var summarized: any SummarizedRequestTables { SQLiteTables(connection) }
    /// The inbox an earlier purser kept in the ledger file, as this transaction sees it.
    var legacyInbox: any InboxTables { SQLiteTables(connection) }
}

extension Ledger {
    /// Runs `body` on the query tables in one read transaction, so that they and the entries are one snapshot.
    func readTables<T>(_ body: (any QueryTables) throws -> T) throws(LedgerError) -> T {
        try read { connection in try body(SQLiteTables(connection)) }
    }

    /// Runs `body` on what the ledger says of the OTLP receiver's inbox, and on the inbox an earlier purser kept in
    /// the ledger file, in one read transaction.
    func readInbox<T>(
        _ body: (any SummarizedRequestTables, _ legacy: any InboxTables) throws -> T
    ) throws(LedgerError) -> T {
        try read { connection in try body(SQLiteTables(connection), SQLiteTables(connection)) }
    }
}
