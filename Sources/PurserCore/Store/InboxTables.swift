/// The OTLP receiver's inbox: request bodies acknowledged to their senders and not yet summarized into a
/// `metrics.summarized` entry. Unlike the query tables, nothing here derives from the entries: `reindex` leaves it
/// alone and `verify` does not compare it. A batch's entry and the inbox rows it empties commit in one
/// transaction, so that a span is summarized once, whenever the server stops.
protocol InboxTables {
    /// Creates the inbox, if missing (before the first request is kept: until then there is none).
    func createInbox() throws
    /// Keeps a request's body; returns its number.
    func insertInbox(receivedAt: String, sender: String, encoding: String, payload: [UInt8]) throws -> Int64
    /// Calls `body` with every request kept, in the order received, with the traces of it already summarized; with
    /// none if there is no inbox yet.
    func forEachInboxPayload(_ body: (InboxPayload) throws -> Void) throws
    /// Deletes the requests `done`, all of whose spans are summarized; records of the others which traces are.
    func finishInbox(done: [Int64], taken: [(request: Int64, trace: String)]) throws
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
