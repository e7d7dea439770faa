import Foundation
public import PurserCore
public import PurserLedger

/// `purser reindex`: rebuilds the query tables from the entries; on a server, only an admin token may.
public struct ReindexLedger: LedgerOperation {
    public static let name = "reindex"
    public static let summary = "Rebuild the query tables (versions, traffic timeline, drills, tasks) from the entries."
    public static let role = Role.admin

    public init() {}

    public func perform(on releases: Releases) throws(LedgerError) -> Reply {
        // Elapsed time on the machine's own clock: a measurement for the operator, not a time the ledger judges by.
        let started = Date()
        let size = try Releases.reindex(releases.ledger)
        return reindexReply(entries: size, seconds: Date().timeIntervalSince(started))
    }
}

/// What `reindex` prints.
public func reindexReply(entries: UInt64, seconds: Double) -> Reply {
    Reply(
        json: .object(["entries": .int(entries), "seconds": .number((seconds * 1000).rounded() / 1000)]),
        text: ["rebuilt the query tables from \(entries) entries in \(String(format: "%.2f", seconds)) s"])
}
