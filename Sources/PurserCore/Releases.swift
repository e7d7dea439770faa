public import Foundation
public import PurserLedger

/// The release domain over one ledger, one feature per type: each checks a change against the current state and
/// records it as entries (`Ledger.record`), in the same transaction that updates the query tables that answer
/// queries, and reads only its own group of those tables (`Store/`), asking the other features for the rest.
public final class Releases {
    public let ledger: Ledger

    /// Behavioral versions: recording, finding by id, prefix or label, listing, diffing, materializing.
    public var versions: Versions { Versions(ledger) }
    /// Environments and their traffic: deployments, shifts, promotions, rollbacks, drills; what ran when.
    public var traffic: Traffic { Traffic(ledger) }
    /// The release checklist: evaluations, waivers, checklist runs and the deploy gate.
    public var checklist: Checklist { Checklist(ledger) }
    /// Agent metrics: ingesting task records, reports per version, drift.
    public var metrics: Metrics { Metrics(ledger) }
    /// Canary judgements, with the automatic rollback.
    public var canary: Canary { Canary(ledger) }
    /// Shadow comparisons.
    public var shadow: Shadow { Shadow(ledger) }
    /// Compliance reports.
    public var audit: Audit { Audit(ledger) }

    /// The time the release domain judges by: the ledger's clock (`Ledger.clock`), the one that dates its entries.
    /// Expiries, freshness limits, "now" in queries and the verifier's time all read it, so that a test sets the
    /// time by setting `ledger.clock` instead of waiting for it.
    public var now: Date { ledger.clock() }

    /// Opens the release domain of `ledger`. Writes nothing, unless the projection tables are missing,
    /// were made by another purser version, or miss entries they derive from (appended by other means):
    /// then it brings them up to date first. `purser init` creates them, so that a failed command on a
    /// ledger leaves the file as it was.
    /// - Throws: `.notALedger` if a read-only ledger's projections are out of date.
    public init(ledger: Ledger) throws(LedgerError) {
        self.ledger = ledger
        let current = try ledger.readTables { tables in
            guard let progress = try tables.progress(), progress.version == Projection.version else { return false }
            var missed = false
            try ledger.forEachEntry(from: UInt64(progress.appliedSeq + 1), kinds: Projection.kinds, limit: 1) { _ in
                missed = true
            }
            return !missed
        }
        guard !current else { return }
        guard !ledger.isReadOnly else {
            throw LedgerError(
                .notALedger,
                "\(ledger.path) is read-only and its query tables are out of date; run `purser reindex` on a writable copy"
            )
        }
        try ledger.write { transaction in
            let tables = transaction.tables
            // Tables of another projection version, or without their progress row, are rebuilt whole.
            if try tables.progress()?.version != Projection.version {
                try tables.dropTables()
            }
            try tables.createTables()
            try Projection(ledger, tables).catchUp(skippingUnreplayable: true)
        }
    }

    /// Rebuilds every projection table from the entries. Needs no up-to-date projection to start from
    /// (unlike `init`), so it repairs whatever `verify` found.
    /// - Parameter progress: called every 10,000 entries with the seq reached.
    /// - Returns: the number of entries read.
    @discardableResult
    public static func reindex(_ ledger: Ledger, progress: (UInt64) -> Void = { _ in }) throws(LedgerError) -> UInt64 {
        try ledger.write { transaction in
            let tables = transaction.tables
            try tables.dropTables()
            try tables.createTables()
            try Projection(ledger, tables).catchUp(skippingUnreplayable: true, progress: progress)
            return try ledger.size()
        }
    }
}

extension Ledger {
    /// Checks a change against the current query tables, appends its entries and applies them, all in one
    /// transaction. `body` returns the events to append and a result; nothing is written if it throws.
    func record<T>(
        _ body: (Ledger.WriteTransaction, Projection) throws -> (events: [Event], result: T)
    ) throws(LedgerError) -> (result: T, entries: [Entry]) {
        try write { transaction in
            let projection = Projection(self, transaction.tables)
            try projection.catchUp(skippingUnreplayable: true)
            let (events, result) = try body(transaction, projection)
            let entries = try transaction.append(events)
            try projection.catchUp()
            return (result, entries)
        }
    }
}
