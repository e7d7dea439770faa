import Foundation
public import PurserLedger

extension Client {
    /// Performs a listing a page at a time, calling `body` with each page's reply as it comes, until the server
    /// names no next page.
    /// - Throws: what the server reports; `.internal` for a page that names a next one but holds nothing.
    public func forEachPage<P: PagedOperation>(
        _ operation: P, _ body: (Reply) throws(LedgerError) -> Void
    ) throws(LedgerError) {
        var query = operation
        while true {
            let reply = try performPage(query)
            try body(reply)
            guard let next = reply.json["next"]?.numberValue.flatMap(UInt64.init(exactly:)) else { return }
            let count = reply.json[P.listMember]?.arrayValue?.count ?? 0
            guard count > 0 else {
                throw LedgerError(.internal, "the server at \(base.absoluteString) sent an empty page before \(next)")
            }
            query = query.following(next: next, count: count)
        }
    }

    /// Every page of a listing as one reply, as the operation gives it locally: the items of all pages in the
    /// list member, the text of all pages, and no `next`.
    func performAllPages<P: PagedOperation>(_ operation: P) throws(LedgerError) -> Reply {
        var first: Reply?
        var items: [JSONValue] = []
        var text: [String] = []
        try forEachPage(operation) { reply in
            if first == nil { first = reply }
            items += reply.json[P.listMember]?.arrayValue ?? []
            text += reply.text
        }
        guard let first, case .object(var members) = first.json else {
            throw LedgerError(
                .internal, "the server at \(base.absoluteString) sent a \(P.name) reply without an object")
        }
        members[P.listMember] = .array(items)
        members["next"] = nil
        return Reply(json: .object(members), text: text, status: first.status)
    }
}
