public import PurserLedger

/// A listing the server answers a page at a time: at most `page` items (and, for entries, about
/// `Paging.maximumBytes` of their text) from the cursor `from`, with the cursor of the next page in the reply's
/// `next` (null on the last page). The CLI's client follows the pages, so a command prints the same through a
/// server as locally, where there are no pages.
public protocol PagedOperation: LedgerOperation {
    /// The most items one reply holds; nil: every item, with no `next` (a local command). The server sets it to
    /// the size asked for, up to `Paging.maximumSize`, or `Paging.defaultSize`.
    var page: Int? { get set }
    /// Where the page starts: the `next` of the page before; nil: at the first item.
    var from: UInt64? { get set }
    /// The member of the reply's JSON that holds the items.
    static var listMember: String { get }
    /// The query of the page after one that held `count` items and named `next`.
    func following(next: UInt64, count: Int) -> Self
}

extension PagedOperation {
    public func following(next: UInt64, count: Int) -> Self {
        var query = self
        query.from = next
        return query
    }

    /// The query with the page size the server answers with: the one asked for, at most `Paging.maximumSize`, or
    /// `Paging.defaultSize`.
    /// - Throws: `.usage` for a page size below 1.
    public func limitedToPage() throws(LedgerError) -> Self {
        var query = self
        if let page, page < 1 { throw LedgerError(.usage, "page must be 1 or more, not \(page)") }
        query.page = min(page ?? Paging.defaultSize, Paging.maximumSize)
        return query
    }
}

/// The page sizes of the server's listings.
public enum Paging {
    /// Items in a page when the request names no size.
    public static let defaultSize = 1_000
    /// The most items a page holds, whatever the request asks.
    public static let maximumSize = 10_000
    /// A page of entries ends once their text passes this many bytes (it holds one entry at least).
    public static let maximumBytes = 4 << 20

    /// Calls `body` with the entries `Ledger.forEachEntry` reads, until it returns false.
    static func forEachEntry(
        in ledger: Ledger, from seq: UInt64, kind: String? = nil, since: String? = nil, until: String? = nil,
        limit: Int?, _ body: (Entry) -> Bool
    ) throws(LedgerError) {
        let stop = LedgerError.Code(name: "page-full")
        do {
            try ledger.forEachEntry(from: seq, kind: kind, since: since, until: until, limit: limit) { entry in
                if !body(entry) { throw LedgerError(stop, "the page is full") }
            }
        } catch {
            if error.code != stop { throw error }
        }
    }

    /// The reply's `next` member: where the following page starts, or null on the last page.
    public static func next(_ cursor: UInt64?) -> JSONValue {
        cursor.map(JSONValue.int) ?? .null
    }
}
