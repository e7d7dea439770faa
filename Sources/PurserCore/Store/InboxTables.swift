/// The OTLP receiver's inbox: request bodies acknowledged to their senders and not yet summarized into a
/// `metrics.summarized` entry. It lives in a SQLite file of its own beside the ledger (`Inbox`), so that keeping a
/// request never waits for the ledger's writer. Nothing here derives from the entries: `reindex` leaves it alone
/// and `verify` does not compare it.
protocol InboxTables {
    /// Creates the inbox, if missing.
    func createInbox() throws
    /// Keeps a request's body; returns its number. `id` gives the number, for a request moved from another inbox.
    func insertInbox(id: Int64?, receivedAt: String, sender: String, encoding: String, payload: [UInt8]) throws -> Int64
    /// Calls `body` with every request kept, in the order received, with the traces of it already summarized; with
    /// none if there is no inbox.
    func forEachInboxPayload(_ body: (InboxPayload) throws -> Void) throws
    /// Deletes the requests `done`, all of whose spans are summarized; records of the others which traces are.
    func finishInbox(done: [Int64], taken: [(request: Int64, trace: String)]) throws
    /// Drops the inbox: one an earlier purser kept in the ledger file, once moved (`Metrics.forgetInbox`).
    func dropInbox() throws
}

/// What the ledger file says of the inbox: which requests and traces each `metrics.summarized` entry took, written
/// in the entry's transaction. The inbox is another file, so it can only follow once that transaction commits; a
/// server stopped in between finishes the inbox from these rows when it starts again, and a span is summarized
/// once. The rows are forgotten once the inbox has followed.
protocol SummarizedRequestTables {
    /// Records what the entry `seq` took: the requests `done` and the traces `taken` of the others.
    func recordSummarized(seq: Int64, done: [Int64], taken: [(request: Int64, trace: String)]) throws
    /// Every request and trace recorded, and the last entry that recorded any (nil when none did).
    func summarizedRequests() throws -> (done: [Int64], taken: [(request: Int64, trace: String)], through: Int64?)
    /// Forgets what the entries up to `seq` took.
    func forgetSummarized(through seq: Int64) throws
}

/// A request's body in the inbox.
package struct InboxPayload: Sendable {
    package let id: Int64
    package let receivedAt: String
    /// The name of the token it came with.
    package let sender: String
    /// `protobuf` or `json`: the body as received, after any `Content-Encoding` was undone.
    package let encoding: String
    package let payload: [UInt8]
    /// The trace ids whose spans of this request are summarized already.
    package let taken: Set<String>
}
