internal import CSQLite

/// A prepared statement. Reset on release and given back to its connection for reuse; `reset` makes it reusable
/// with new bindings.
public final class Statement {
    let handle: OpaquePointer
    private let connection: Connection
    let sql: String

    init(connection: Connection, sql: String) throws(SQLiteError) {
        if let idle = connection.takeIdleStatement(sql) {
            self.handle = idle
            self.connection = connection
            self.sql = sql
            return
        }
        var statement: OpaquePointer?
        let rc = sqlite3_prepare_v2(connection.handle, sql, -1, &statement, nil)
        guard rc == SQLITE_OK, let statement else {
            throw SQLiteError(code: connection.lastErrorCode, message: connection.lastErrorMessage, sql: sql)
        }
        self.handle = statement
        self.connection = connection
        self.sql = sql
    }

    deinit {
        connection.keepIdleStatement(handle, sql: sql)
    }

    // MARK: Binding (1-based parameter indexes, as in SQL)

    public func bind(_ index: Int32, _ value: Int64) throws(SQLiteError) {
        try check(sqlite3_bind_int64(handle, index, value))
    }

    public func bind(_ index: Int32, _ value: Double) throws(SQLiteError) {
        try check(sqlite3_bind_double(handle, index, value))
    }

    /// Binds NULL.
    public func bindNull(_ index: Int32) throws(SQLiteError) {
        try check(sqlite3_bind_null(handle, index))
    }

    public func bind(_ index: Int32, _ value: String) throws(SQLiteError) {
        try check(sqlite3_bind_text(handle, index, value, -1, purser_sqlite_transient()))
    }

    public func bind(_ index: Int32, bytes: UnsafeRawBufferPointer) throws(SQLiteError) {
        try check(sqlite3_bind_blob(handle, index, bytes.baseAddress, Int32(bytes.count), purser_sqlite_transient()))
    }

    public func bind(_ index: Int32, bytes: [UInt8]) throws(SQLiteError) {
        let result = bytes.withUnsafeBytes { buffer in
            Result { () throws(SQLiteError) in try bind(index, bytes: buffer) }
        }
        try result.get()
    }

    // MARK: Stepping

    /// Advances to the next row. Returns false when the statement is done.
    @discardableResult
    public func step() throws(SQLiteError) -> Bool {
        let rc = sqlite3_step(handle)
        switch rc {
        case SQLITE_ROW: return true
        case SQLITE_DONE: return false
        default: throw SQLiteError(code: connection.lastErrorCode, message: connection.lastErrorMessage, sql: sql)
        }
    }

    /// How many times the statement has run (stepped, then reset) since it was prepared, reuses included.
    var runs: Int { Int(sqlite3_stmt_status(handle, SQLITE_STMTSTATUS_RUN, 0)) }

    /// Resets the statement and clears its bindings, ready to run again.
    public func reset() {
        sqlite3_reset(handle)
        sqlite3_clear_bindings(handle)
    }

    // MARK: Columns (0-based)

    public func isNull(_ column: Int32) -> Bool { sqlite3_column_type(handle, column) == SQLITE_NULL }

    public func int64(_ column: Int32) -> Int64 { sqlite3_column_int64(handle, column) }

    public func double(_ column: Int32) -> Double { sqlite3_column_double(handle, column) }

    public func string(_ column: Int32) -> String {
        guard let text = sqlite3_column_text(handle, column) else { return "" }
        return String(cString: text)
    }

    /// The column's bytes, valid only until the next step or reset. No copy is made.
    public func withBlob<T>(_ column: Int32, _ body: (UnsafeRawBufferPointer) throws -> T) rethrows -> T {
        let pointer = sqlite3_column_blob(handle, column)
        let count = Int(sqlite3_column_bytes(handle, column))
        return try body(UnsafeRawBufferPointer(start: pointer, count: count))
    }

    public func bytes(_ column: Int32) -> [UInt8] {
        withBlob(column) { Array($0) }
    }

    private func check(_ rc: Int32) throws(SQLiteError) {
        guard rc == SQLITE_OK else {
            throw SQLiteError(code: connection.lastErrorCode, message: connection.lastErrorMessage, sql: sql)
        }
    }
}
