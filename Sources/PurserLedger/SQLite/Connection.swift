internal import CSQLite
internal import Foundation

/// One connection to a SQLite database file. Not thread-safe: owned by one thread or actor at a time, and so are
/// its statements (releasing one gives it back to the connection).
///
/// Nothing outside this folder touches SQLite's C API.
public final class Connection {
    let handle: OpaquePointer
    public let path: String
    /// How many transactions and savepoints of this connection are open.
    private var transactionDepth = 0
    /// Whether the outermost transaction open is a write transaction.
    private var writing = false
    /// Prepared statements not in use, by their SQL, to be handed out again, with when each was given back:
    /// preparing a statement costs more than running many a query. A statement is taken out while in use, so that
    /// two users never share one.
    private var idleStatements: [String: (statement: OpaquePointer, keptAt: UInt64)] = [:]
    /// How many statements were given back so far: the clock of `keptAt`.
    private var kept: UInt64 = 0
    /// The most statements kept idle; beyond it, the one given back longest ago is finalized (SQL built on the fly,
    /// such as multi-row inserts, would otherwise pile up, or crowd out the statements every transaction uses).
    static let maximumIdleStatements = 64

    /// How the file is opened.
    public enum Mode: Sendable {
        case readWrite
        case readOnly
        /// Creates the file if it does not exist.
        case create
    }

    /// Opens the database at `path`.
    /// - Parameter busyTimeout: how long SQLite waits for a lock held by another connection.
    public init(path: String, mode: Mode, busyTimeout: Int32 = 10_000) throws(SQLiteError) {
        _ = Self.configured
        var flags: Int32 = SQLITE_OPEN_NOMUTEX | SQLITE_OPEN_EXRESCODE
        switch mode {
        case .readWrite: flags |= SQLITE_OPEN_READWRITE
        case .readOnly: flags |= SQLITE_OPEN_READONLY
        case .create: flags |= SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE
        }
        var db: OpaquePointer?
        let rc = sqlite3_open_v2(path, &db, flags, nil)
        guard rc == SQLITE_OK, let db else {
            let message = db.map { String(cString: sqlite3_errmsg($0)) } ?? "cannot open"
            sqlite3_close_v2(db)
            throw SQLiteError(code: rc, message: message, sql: nil)
        }
        self.handle = db
        self.path = path
        sqlite3_busy_timeout(db, busyTimeout)
    }

    /// Process-wide settings, made before the first connection opens: SQLite's count of the memory it uses takes a
    /// global mutex on every allocation, and nothing reads it. (SQLite refuses the setting once it has started,
    /// which nothing else in purser's processes makes it do before.)
    private static let configured: Void = {
        _ = purser_sqlite_disable_memory_status()
    }()

    deinit {
        for idle in idleStatements.values { sqlite3_finalize(idle.statement) }
        sqlite3_close_v2(handle)
    }

    /// A prepared statement of `sql` no one is using, if one is idle.
    func takeIdleStatement(_ sql: String) -> OpaquePointer? {
        idleStatements.removeValue(forKey: sql)?.statement
    }

    /// Resets `statement` and keeps it for the next `prepare` of `sql`, unless one of `sql` is kept already.
    func keepIdleStatement(_ statement: OpaquePointer, sql: String) {
        sqlite3_reset(statement)
        sqlite3_clear_bindings(statement)
        guard idleStatements[sql] == nil else {
            sqlite3_finalize(statement)
            return
        }
        if idleStatements.count >= Self.maximumIdleStatements,
            let oldest = idleStatements.min(by: { $0.value.keptAt < $1.value.keptAt })
        {
            sqlite3_finalize(oldest.value.statement)
            idleStatements[oldest.key] = nil
        }
        kept += 1
        idleStatements[sql] = (statement, kept)
    }

    /// Runs one or more statements that return no rows.
    public func execute(_ sql: String) throws(SQLiteError) {
        var errorMessage: UnsafeMutablePointer<CChar>?
        let rc = sqlite3_exec(handle, sql, nil, nil, &errorMessage)
        if rc != SQLITE_OK {
            let message = errorMessage.map { String(cString: $0) } ?? String(cString: sqlite3_errstr(rc))
            sqlite3_free(errorMessage)
            throw SQLiteError(code: sqlite3_extended_errcode(handle), message: message, sql: sql)
        }
    }

    /// Runs one statement that returns no rows, prepared once and reused (for the statements of every transaction).
    private func executeOne(_ sql: String) throws(SQLiteError) {
        try prepare(sql).step()
    }

    /// Prepares a statement, or hands out one of `sql` prepared before and idle since. When the returned value is
    /// released, the statement is reset and kept for the next `prepare` of the same SQL.
    public func prepare(_ sql: String) throws(SQLiteError) -> Statement {
        try Statement(connection: self, sql: sql)
    }

    /// The first column of the first row of `sql`, as an integer (nil if no row or NULL).
    public func scalarInt(_ sql: String) throws(SQLiteError) -> Int64? {
        let statement = try prepare(sql)
        guard try statement.step() else { return nil }
        return statement.isNull(0) ? nil : statement.int64(0)
    }

    /// Runs `body` inside `BEGIN IMMEDIATE … COMMIT`; rolls back if it throws.
    ///
    /// `BEGIN IMMEDIATE` takes the write lock up front, so two writers never deadlock upgrading a read
    /// transaction. If the lock stays busy past the busy timeout (or SQLite reports busy without
    /// waiting, as during WAL recovery), the whole transaction is retried with a back-off, up to `retryFor` seconds.
    ///
    /// Inside a write transaction already open (a group commit), `body` runs in a savepoint instead: if it
    /// throws, only its own writes are undone, and what it wrote commits with the outer transaction.
    public func immediateTransaction<T>(
        retryFor seconds: Double = 60,
        _ body: () throws -> T
    ) throws -> T {
        if transactionDepth > 0 {
            guard writing else {
                throw SQLiteError(code: SQLITE_MISUSE, message: "a write inside a read transaction", sql: nil)
            }
            return try savepoint(body)
        }
        transactionDepth += 1
        writing = true
        defer {
            transactionDepth -= 1
            writing = false
        }
        let deadline = Date().addingTimeInterval(seconds)
        var delay: useconds_t = 1_000
        while true {
            do {
                try executeOne("BEGIN IMMEDIATE")
                do {
                    let result = try body()
                    try executeOne("COMMIT")
                    return result
                } catch {
                    try? execute("ROLLBACK")
                    throw error
                }
            } catch let error as SQLiteError {
                guard error.isBusy, Date() < deadline else { throw error }
                usleep(delay + useconds_t.random(in: 0...delay))
                delay = min(delay * 2, 50_000)
            }
        }
    }

    /// Runs `body` inside a read transaction, so that all its queries see one snapshot. Inside a transaction
    /// already open, `body` simply runs in it.
    public func readTransaction<T>(_ body: () throws -> T) throws -> T {
        guard transactionDepth == 0 else { return try body() }
        try executeOne("BEGIN DEFERRED")
        transactionDepth += 1
        defer {
            transactionDepth -= 1
            try? executeOne("COMMIT")
        }
        return try body()
    }

    private func savepoint<T>(_ body: () throws -> T) throws -> T {
        // SQLite rolls the whole transaction back itself after some errors (a full disk, I/O, memory): a savepoint
        // begun then would be a transaction of its own and commit alone. Refuse, so that the outer COMMIT fails too.
        guard sqlite3_get_autocommit(handle) == 0 else {
            throw SQLiteError(
                code: SQLITE_ABORT, message: "the enclosing transaction was rolled back by an earlier error", sql: nil)
        }
        transactionDepth += 1
        defer { transactionDepth -= 1 }
        let name = "nested\(transactionDepth)"
        try executeOne("SAVEPOINT \(name)")
        do {
            let result = try body()
            try executeOne("RELEASE \(name)")
            return result
        } catch {
            try? execute("ROLLBACK TO \(name); RELEASE \(name)")
            throw error
        }
    }

    var lastErrorMessage: String { String(cString: sqlite3_errmsg(handle)) }
    var lastErrorCode: Int32 { sqlite3_extended_errcode(handle) }
}
