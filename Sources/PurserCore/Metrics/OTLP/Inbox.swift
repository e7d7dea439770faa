package import Foundation
package import PurserLedger

/// The OTLP receiver's inbox: a SQLite file of its own beside the ledger (`purser.sqlite.inbox` beside
/// `purser.sqlite`), where each request's body is kept, durably, before the request is acknowledged. Keeping a
/// request never waits for the ledger's writer, which a batch's transaction holds.
///
/// The file is made by the first request kept, so that a server that receives none writes nothing. An `Inbox` owns
/// one connection and is used from one thread at a time.
package final class Inbox {
    package let path: String
    private var connection: Connection?

    /// The inbox of the ledger at `ledgerPath`: its path and `.inbox`, so that no two ledgers share one.
    package static func path(forLedgerAt ledgerPath: String) -> String { ledgerPath + ".inbox" }

    /// `PRAGMA application_id` of an inbox file: "PURI" in ASCII. A file with another one (a ledger named like an
    /// inbox) is refused.
    static let applicationID: Int64 = 0x5055_5249

    /// The inbox of the ledger at `ledgerPath`; its file is opened, or made, when first needed.
    package init(ledgerAt ledgerPath: String) {
        path = Self.path(forLedgerAt: ledgerPath)
    }

    /// Runs `body` in one write transaction on the inbox's tables, making the file first if there is none.
    private func write<T>(_ body: (any InboxTables) throws -> T) throws(LedgerError) -> T {
        do {
            let connection = try self.connection ?? open(creating: true)!
            return try connection.immediateTransaction { try body(SQLiteTables(connection)) }
        } catch let error as LedgerError {
            throw error
        } catch {
            throw LedgerError(.internal, "the OTLP inbox \(quoted(path)): \(error)")
        }
    }

    /// Opens the file, or makes it if `creating`; nil if it does not exist and not `creating`.
    private func open(creating: Bool) throws -> Connection? {
        guard creating || FileManager.default.fileExists(atPath: path) else { return nil }
        let opened = try Connection(path: path, mode: .create)
        let application = try opened.scalarInt("PRAGMA application_id") ?? 0
        guard application == Self.applicationID || application == 0 else {
            throw LedgerError(
                .notALedger, "\(quoted(path)) is a SQLite file but not an OTLP inbox (application_id \(application))")
        }
        try opened.execute(
            "PRAGMA application_id = \(Self.applicationID); PRAGMA journal_mode = WAL; PRAGMA synchronous = FULL")
        try opened.immediateTransaction { try SQLiteTables(opened).createInbox() }
        connection = opened
        return opened
    }

    /// Keeps the bodies of `requests` in one transaction (a group commit of several senders' requests); once this
    /// returns, they may be acknowledged.
    /// - Returns: each request's number in the inbox and when it was received (`now`).
    package func keep(
        _ requests: [(payload: [UInt8], encoding: String, sender: String)], now: Date = Date()
    ) throws(LedgerError) -> [(request: Int64, receivedAt: String)] {
        let receivedAt = Timestamp.format(now)
        return try write { inbox in
            try requests.map { request in
                let id = try inbox.insertInbox(
                    id: nil, receivedAt: receivedAt, sender: request.sender, encoding: request.encoding,
                    payload: request.payload)
                return (id, receivedAt)
            }
        }
    }

    /// Keeps `requests` under their own numbers: those an earlier purser kept in the ledger file. A request kept
    /// already is left as it is, so that moving them again after a stop halfway changes nothing.
    package func move(_ requests: [InboxPayload]) throws(LedgerError) {
        guard !requests.isEmpty else { return }
        try write { inbox in
            for request in requests {
                _ = try inbox.insertInbox(
                    id: request.id, receivedAt: request.receivedAt, sender: request.sender,
                    encoding: request.encoding, payload: request.payload)
            }
            try inbox.finishInbox(
                done: [], taken: requests.flatMap { request in request.taken.map { (request.id, $0) } })
        }
    }

    /// The requests kept, in the order received: those acknowledged and not yet summarized.
    package func requests() throws(LedgerError) -> [InboxPayload] {
        do {
            guard let connection = try self.connection ?? open(creating: false) else { return [] }
            return try connection.readTransaction {
                var requests: [InboxPayload] = []
                try SQLiteTables(connection).forEachInboxPayload { requests.append($0) }
                return requests
            }
        } catch let error as LedgerError {
            throw error
        } catch {
            throw LedgerError(.internal, "the OTLP inbox \(quoted(path)): \(error)")
        }
    }

    /// Deletes the requests `done`, all of whose spans are summarized, and records which traces of the others are:
    /// after the ledger committed the entry that summarized them (`Metrics.summarize`).
    package func finish(done: [Int64], taken: [(request: Int64, trace: String)]) throws(LedgerError) {
        guard !done.isEmpty || !taken.isEmpty else { return }
        try write { try $0.finishInbox(done: done, taken: taken) }
    }
}
