import Foundation
import Testing

@testable import PurserLedger

/// Prepared statements are kept for reuse once released: each use must still start afresh and alone.
@Suite struct ConnectionTests {
    /// A database in WAL mode with rows 1, 2, 3 in `t`.
    private func database(_ directory: TemporaryDirectory) throws -> Connection {
        let connection = try Connection(path: directory.file("db.sqlite"), mode: .create)
        try connection.execute(
            "PRAGMA journal_mode=WAL; CREATE TABLE t(x INTEGER); INSERT INTO t VALUES (1), (2), (3);")
        return connection
    }

    @Test func aReleasedStatementIsHandedOutAgainResetAndWithoutBindings() throws {
        let directory = TemporaryDirectory()
        let connection = try database(directory)
        let sql = "SELECT x, ?1 IS NULL FROM t ORDER BY x"
        do {
            let statement = try connection.prepare(sql)
            try statement.bind(1, Int64(7))
            #expect(try statement.step())
            #expect(try statement.step())
            #expect(statement.int64(0) == 2)
            #expect(statement.int64(1) == 0)
        }
        let again = try connection.prepare(sql)
        #expect(again.runs == 1, "the statement that ran once")
        // From the first row, and the parameter unbound (NULL).
        #expect(try again.step())
        #expect(again.int64(0) == 1)
        #expect(again.int64(1) == 1)
    }

    @Test func twoStatementsOfTheSameSQLInUseAtOnceAreSeparate() throws {
        let directory = TemporaryDirectory()
        let connection = try database(directory)
        let sql = "SELECT x FROM t ORDER BY x"
        let outer = try connection.prepare(sql)
        var pairs: [(Int64, Int64)] = []
        while try outer.step() {
            let inner = try connection.prepare(sql)
            #expect(inner.handle != outer.handle)
            while try inner.step() { pairs.append((outer.int64(0), inner.int64(0))) }
        }
        #expect(pairs.count == 9)
        #expect(pairs.map(\.0) == [1, 1, 1, 2, 2, 2, 3, 3, 3])
        #expect(pairs.map(\.1) == [1, 2, 3, 1, 2, 3, 1, 2, 3])
    }

    @Test func statementsBuiltOnTheFlyDoNotCrowdOutOneInUseMeanwhile() throws {
        let directory = TemporaryDirectory()
        let connection = try database(directory)
        let sql = "SELECT x FROM t WHERE x > ?"
        do {
            let busy = try connection.prepare(sql)
            try busy.bind(1, Int64(0))
            #expect(try busy.step())
            // As many other statements as are kept, each released at once, while this one is in use.
            for index in 0..<Connection.maximumIdleStatements {
                #expect(try connection.prepare("SELECT \(index)").step())
            }
        }
        // Given back last, it is kept (the oldest other one goes), and handed out again.
        #expect(try connection.prepare(sql).runs == 1)
    }

    @Test func aStatementReleasedMidwayDoesNotHoldAnOldSnapshot() throws {
        let directory = TemporaryDirectory()
        let connection = try database(directory)
        do {
            let statement = try connection.prepare("SELECT x FROM t")
            #expect(try statement.step())
        }
        // Were the released statement still stepping, this connection would keep reading before this insert.
        try Connection(path: directory.file("db.sqlite"), mode: .readWrite).execute("INSERT INTO t VALUES (4)")
        #expect(try connection.scalarInt("SELECT count(*) FROM t") == 4)
        #expect(try connection.scalarInt("SELECT count(*) FROM t") == 4)
    }

    @Test func aFailedTransactionLeavesItsStatementsReusable() throws {
        let directory = TemporaryDirectory()
        let connection = try database(directory)
        // BEGIN IMMEDIATE and COMMIT are prepared once: after a rollback, the next transaction uses them again.
        #expect(throws: SQLiteError.self) {
            try connection.immediateTransaction {
                try connection.execute("INSERT INTO t VALUES (5)")
                try connection.execute("INSERT INTO nowhere VALUES (1)")
            }
        }
        try connection.immediateTransaction { try connection.execute("INSERT INTO t VALUES (6)") }
        #expect(try connection.scalarInt("SELECT count(*) FROM t WHERE x IN (5, 6)") == 1)
        #expect(try connection.scalarInt("SELECT max(x) FROM t") == 6)
    }
}
