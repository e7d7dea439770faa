public import PurserCore
public import PurserLedger

// What an auditor reads: entries, proofs.

/// Entries with their exact bytes, oldest first: at most `limit`, and no more once their text passes
/// `Paging.maximumBytes` (one at least). `next` is the seq of the following entry, or null after the last.
public struct EntriesQuery: LedgerOperation {
    public static let name = "entries"
    public static let summary =
        "Entries from a sequence number on, each with its exact stored bytes (at most 1,000 and 4 MiB of text)."
    public static let role = Role.reader

    public var from: UInt64
    public var limit: Int

    public init(from: UInt64, limit: Int) {
        self.from = from
        self.limit = limit
    }

    public func perform(on releases: Releases) throws(LedgerError) -> Reply {
        guard (1...1_000).contains(limit) else { throw LedgerError(.usage, "limit must be 1 to 1000, not \(limit)") }
        var entries: [JSONValue] = []
        var text: [String] = []
        var bytes = 0
        var next: UInt64?
        try Paging.forEachEntry(in: releases.ledger, from: from, limit: limit + 1) { entry in
            guard entries.count < limit, bytes < Paging.maximumBytes else {
                next = entry.seq
                return false
            }
            let exact = String(decoding: entry.bytes, as: UTF8.self)
            entries.append(
                .object(["seq": .int(entry.seq), "leaf_hash": .string(entry.leafHash.hex), "entry": .string(exact)]))
            text.append(exact)
            bytes += entry.bytes.count
            return true
        }
        return Reply(json: .object(["entries": .array(entries), "next": Paging.next(next)]), text: text)
    }
}

/// `purser proof inclusion`.
public struct InclusionProofQuery: LedgerOperation {
    public static let name = "proofs/inclusion"
    public static let summary = "An inclusion proof of one entry in the tree of a given size (RFC 9162)."
    public static let role = Role.reader
    public static let isQuick = true

    public var seq: UInt64
    public var size: UInt64?

    public init(seq: UInt64, size: UInt64?) {
        self.seq = seq
        self.size = size
    }

    public func perform(on releases: Releases) throws(LedgerError) -> Reply {
        let proof = try releases.ledger.inclusionProof(seq: seq, size: size)
        return Reply(
            json: .object([
                "seq": .int(proof.seq), "size": .int(proof.size), "leaf_hash": .string(proof.leafHash.hex),
                "root": .string(proof.root.hex), "proof": .hashes(proof.path),
            ]),
            text: [
                "entry \(proof.seq) (leaf \(proof.leafHash.hex)) is in the tree of \(proof.size) entries, root \(proof.root.hex)"
            ] + proof.path.map { "  \($0.hex)" })
    }
}

/// `purser proof consistency`.
public struct ConsistencyProofQuery: LedgerOperation {
    public static let name = "proofs/consistency"
    public static let summary = "A consistency proof that an older tree is a prefix of a newer one (RFC 9162)."
    public static let role = Role.reader
    public static let isQuick = true

    public var from: UInt64
    public var to: UInt64?

    public init(from: UInt64, to: UInt64?) {
        self.from = from
        self.to = to
    }

    public func perform(on releases: Releases) throws(LedgerError) -> Reply {
        let proof = try releases.ledger.consistencyProof(from: from, to: to)
        return Reply(
            json: .object([
                "from": .int(proof.from), "to": .int(proof.to), "from_root": .string(proof.fromRoot.hex),
                "to_root": .string(proof.toRoot.hex), "proof": .hashes(proof.path),
            ]),
            text: [
                "the tree of \(proof.from) entries (root \(proof.fromRoot.hex))",
                "is a prefix of the tree of \(proof.to) entries (root \(proof.toRoot.hex))",
            ] + proof.path.map { "  \($0.hex)" })
    }
}
