internal import PurserLedger

/// The query tables in the ledger's own SQLite file, written in the transaction of the entries they derive from.
/// One file per group of tables holds its `CREATE TABLE`, its writes and its reads (`SQLiteTables+Versions.swift`,
/// …); this one holds what they share: the progress row, creating and dropping them all, and the comparison
/// `verify` makes with a rebuild.
///
/// All SQL names its schema: `main`, or `temp` for the rebuild `verify` compares against.
struct SQLiteTables: QueryTables {
    let connection: Connection
    let schema: String

    init(_ connection: Connection, schema: String = "main") {
        self.connection = connection
        self.schema = schema
    }

    /// Every query table, each with a `seq` column naming the entry that wrote the row.
    static let tables = versionTables + trafficTables + checklistTables + taskTables

    func createTables() throws {
        try connection.execute(
            """
            CREATE TABLE IF NOT EXISTS \(schema).projection_meta (key TEXT PRIMARY KEY, value INTEGER NOT NULL);
            INSERT OR IGNORE INTO \(schema).projection_meta VALUES ('version', \(Projection.version)), ('applied_seq', -1);
            """)
        try connection.execute(
            Self.createVersionTables(schema) + Self.createTrafficTables(schema)
                + Self.createChecklistTables(schema) + Self.createTaskTables(schema))
    }

    func dropTables() throws {
        for table in ["projection_meta"] + Self.tables {
            try connection.execute("DROP TABLE IF EXISTS \(schema).\(table)")
        }
    }

    func progress() throws -> (version: Int64, appliedSeq: Int64)? {
        guard try hasTable("projection_meta") else { return nil }
        let version = try connection.scalarInt("SELECT value FROM \(schema).projection_meta WHERE key = 'version'")
        let applied = try connection.scalarInt("SELECT value FROM \(schema).projection_meta WHERE key = 'applied_seq'")
        return (version ?? 0, applied ?? -1)
    }

    func setAppliedSeq(_ seq: Int64) throws {
        try run("UPDATE \(schema).projection_meta SET value = ? WHERE key = 'applied_seq'", .int(seq))
    }

    func undoingOnError(_ body: () throws -> Void) throws {
        try connection.prepare("SAVEPOINT replay").step()
        do {
            try body()
        } catch {
            try connection.prepare("ROLLBACK TO replay").step()
            try connection.prepare("RELEASE replay").step()
            throw error
        }
        try connection.prepare("RELEASE replay").step()
    }

    func scratch() -> any QueryTables {
        SQLiteTables(connection, schema: "temp")
    }

    func firstDifference(from rebuilt: any QueryTables) throws -> TableDifference? {
        guard let rebuilt = rebuilt as? SQLiteTables else { preconditionFailure("a rebuild of another store") }
        let stored = try progress() != nil
        for table in Self.tables {
            if try stored && !hasTable(table) {
                return TableDifference(table: table, exists: false, rows: 0, seq: 0)
            }
            let mine = stored ? "SELECT * FROM \(schema).\(table)" : "SELECT * FROM \(rebuilt.schema).\(table) WHERE 0"
            let theirs = "SELECT * FROM \(rebuilt.schema).\(table)"
            let select = try connection.prepare(
                """
                SELECT min(seq), count(*) FROM (
                    SELECT seq FROM (\(mine) EXCEPT \(theirs))
                    UNION ALL SELECT seq FROM (\(theirs) EXCEPT \(mine)))
                """)
            guard try select.step(), select.int64(1) > 0 else { continue }
            return TableDifference(table: table, exists: stored, rows: select.int64(1), seq: select.int64(0))
        }
        return nil
    }

    // MARK: Statements

    /// Whether this schema holds a table named `name`.
    func hasTable(_ name: String) throws -> Bool {
        let statement = try query(
            "SELECT count(*) FROM \(schema).sqlite_master WHERE type = 'table' AND name = ?", .text(name))
        _ = try statement.step()
        return statement.int64(0) == 1
    }

    /// A value bound to a statement's parameter.
    enum Value {
        case int(Int64)
        case real(Double)
        case text(String)
        case blob([UInt8])
        case null
    }

    /// Runs `sql`, a statement that returns no rows, with `values` bound in order.
    func run(_ sql: String, _ values: Value...) throws {
        let statement = try connection.prepare(sql)
        try Self.bind(values, to: statement)
        try statement.step()
    }

    /// Prepares `sql` with `values` bound in order, for the caller to step through its rows.
    func query(_ sql: String, _ values: Value...) throws -> Statement {
        let statement = try connection.prepare(sql)
        try Self.bind(values, to: statement)
        return statement
    }

    private static func bind(_ values: [Value], to statement: Statement) throws {
        for (index, value) in values.enumerated() {
            let position = Int32(index + 1)
            switch value {
            case .int(let number): try statement.bind(position, number)
            case .real(let number): try statement.bind(position, number)
            case .text(let text): try statement.bind(position, text)
            case .blob(let bytes): try statement.bind(position, bytes: bytes)
            case .null: try statement.bindNull(position)
            }
        }
    }
}
