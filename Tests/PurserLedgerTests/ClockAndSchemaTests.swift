import Foundation
import Testing

@testable import PurserLedger

/// A writer's clock far ahead pinned the time of every later entry; a dropped trigger or a rewritten header went
/// unreported, or was taken for a foreign file (exit 65). The clock is a parameter here: no test waits for time.
/// Later than the genesis entry, which the real clock dated.
private let now = Date().addingTimeInterval(60)
private let farAhead = Timestamp.parse("9999-12-31T23:59:59Z")!

@Suite struct ClockAndSchemaTests {
    @Test func aWriterBehindTheLastEntryIsRefusedAndVerifyReportsTheLateEntry() throws {
        let test = try TestLedger(entries: 3)
        let ledger = try test.open()
        ledger.clock = { farAhead }
        let pinned = try ledger.append(try TestLedger.event(4))
        #expect(pinned.at == "9999-12-31T23:59:59.000Z")

        ledger.clock = { now }
        let size = try ledger.size()
        let error = try #require(throws: LedgerError.self) { try ledger.append(try TestLedger.event(5)) }
        #expect(error.code == .integrity)
        #expect(error.message.contains("seq \(pinned.seq)") && error.message.contains("9999-12-31T23:59:59.000Z"))
        #expect(try ledger.size() == size, "nothing was appended")

        let fault = try #require(try ledger.clockFault(now: now))
        #expect(fault.kind == .clock && fault.seq == pinned.seq, "\(fault)")
        #expect(try ledger.clockFault(now: farAhead) == nil)
    }

    @Test func aClockWithinTheToleranceAppendsAtThePreviousTime() throws {
        let test = try TestLedger()
        let ledger = try test.open()
        ledger.clock = { now.addingTimeInterval(Ledger.clockTolerance - 1) }
        let ahead = try ledger.append(try TestLedger.event(1))
        ledger.clock = { now }
        let next = try ledger.append(try TestLedger.event(2))
        #expect(next.at == ahead.at, "at never goes back")
        #expect(try ledger.clockFault(now: now) == nil)
        // The verifier's clock 2 s further behind: the first entry beyond the tolerance is named.
        let fault = try #require(try ledger.clockFault(now: now.addingTimeInterval(-2)))
        #expect(fault.seq == ahead.seq, "\(fault)")
    }

    @Test func aClockOutsideTheYears1To9999IsRefused() throws {
        let test = try TestLedger()
        let ledger = try test.open()
        ledger.clock = { Timestamp.range.upperBound.addingTimeInterval(1) }
        #expect(throws: LedgerError.self) { try ledger.append(try TestLedger.event(1)) }
        #expect(try ledger.size() == 1)
    }

    @Test func droppedOrReplacedTriggersAreSchemaFaults() throws {
        let test = try TestLedger(entries: 3)
        #expect(try test.open().schemaFaults().isEmpty)
        let attacker = try test.attacker()
        try attacker.execute(
            """
            CREATE TRIGGER tree_nodes_append_only_update BEFORE UPDATE ON tree_nodes WHEN 0
                BEGIN SELECT RAISE(ABORT, 'purser ledger tree nodes are append-only'); END;
            """)
        let faults = try test.open().schemaFaults()
        #expect(faults.allSatisfy { $0.kind == .schema && $0.seq == 0 })
        let details = faults.map(\.detail).joined(separator: "\n")
        #expect(faults.count == 4, "\(details)")
        for name in ["entries_append_only_update", "entries_append_only_delete", "tree_nodes_append_only_delete"] {
            #expect(details.contains("trigger \(name) is missing"), "\(details)")
        }
        #expect(details.contains("trigger tree_nodes_append_only_update is not the one purser made"), "\(details)")
        // The chain itself is intact.
        #expect(try Ledger.verify(at: test.path).ok)
    }

    @Test(arguments: [
        "PRAGMA application_id = 1", "PRAGMA user_version = 0", "PRAGMA user_version = 99",
        "PRAGMA user_version = 1",
    ])
    func aRewrittenHeaderIsAnIntegrityFault(_ edit: String) throws {
        let test = try TestLedger(entries: 3)
        try Connection(path: test.path, mode: .readWrite).execute(edit)
        let error = try #require(throws: LedgerError.self) { try test.open() }
        #expect(error.code == .integrity, "\(error)")
        #expect(error.message.contains("altered outside purser"), "\(error)")
        let report = try Ledger.verify(at: test.path)
        #expect(report.size == 4 && report.chainIntact, "the chain is still read")
        #expect(report.fault?.kind == .schema, "\(String(describing: report.fault))")
    }

    @Test func aForeignOrNewerFileIsStillNotALedger() throws {
        let test = try TestLedger(entries: 1)
        let attacker = try test.attacker()
        // A newer purser's schema: user_version 3 and a table this purser does not make.
        try attacker.execute("PRAGMA user_version = 3; CREATE INDEX entries_by_at ON entries(at)")
        let newer = try #require(throws: LedgerError.self) { try test.open() }
        #expect(newer.code == .notALedger && newer.message.contains("upgrade purser"), "\(newer)")

        let directory = TemporaryDirectory()
        let foreign = directory.file("foreign.sqlite")
        try Connection(path: foreign, mode: .create).execute(
            "CREATE TABLE entries (seq INTEGER PRIMARY KEY, entry BLOB); PRAGMA application_id = 7")
        let error = try #require(throws: LedgerError.self) { try Ledger(openingAt: foreign) }
        #expect(error.code == .notALedger, "\(error)")
    }
}
