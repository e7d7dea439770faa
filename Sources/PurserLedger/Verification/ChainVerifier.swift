internal import Foundation

/// Checks entries one at a time, in order, in flat memory: leaf hashes, the `prev` chain, the
/// envelope, time order, the genesis entry, and held checkpoints as the tree grows past their sizes.
///
/// Shared by the database verifier (which also passes the indexed columns to compare) and the bundle
/// verifier (which has only the bytes).
struct ChainVerifier {
    /// One entry as stored.
    struct Row {
        var bytes: UnsafeRawBufferPointer
        /// The `seq` column, if the source has one.
        var storedSeq: Int64?
        /// The `leaf_hash` column, if the source has one.
        var storedLeaf: UnsafeRawBufferPointer?
        /// The `at` and `kind` columns, if the source has them.
        var storedAt: UnsafeRawBufferPointer?
        var storedKind: UnsafeRawBufferPointer?
        /// The leaf hash and envelope of `bytes`, if already computed (on another core).
        var parsed: Parsed?
    }

    /// What can be computed from an entry's bytes alone, in any order.
    struct Parsed: Sendable {
        var leaf: Hash
        var envelope: Envelope?

        init(_ bytes: UnsafeRawBufferPointer) {
            leaf = Hash.leaf(bytes)
            envelope = Envelope(bytes)
        }
    }

    /// A fault, and for a possible swap the leaf hash the next row would have to have.
    struct Finding {
        var fault: Fault
        var swappedWith: Hash?
    }

    private(set) var frontier = MerkleFrontier()
    private var previousLeaf = Hash.zero
    private var leafBeforePrevious: Hash?
    private var previousAt = [UInt8](repeating: 0, count: 24)
    /// Held checkpoints by size, ascending; the next one to check is `held[nextHeld]`.
    private let held: [(size: UInt64, checkpoints: [Checkpoint])]
    private var nextHeld = 0
    /// The size of the largest held checkpoint matched so far.
    private var matchedSize: UInt64 = 0
    /// The genesis public key the source must carry (the bundle's key.pub), if any.
    private let expectedKey: String?

    init(checkpoints: [Checkpoint], expectedKey: String? = nil) {
        self.held = Dictionary(grouping: checkpoints, by: \.size).sorted { $0.key < $1.key }.map { ($0.key, $0.value) }
        self.expectedKey = expectedKey
    }

    /// Checks the next row; nil if it is good, in which case it joins the tree.
    /// - Parameter completedNode: called for each interior node the row completes, to compare with storage.
    mutating func check(_ row: Row, completedNode: (MerkleFrontier.Node) -> Fault? = { _ in nil }) -> Finding? {
        let position = frontier.size
        func finding(_ seq: UInt64, _ kind: Fault.Kind, _ detail: String) -> Finding {
            Finding(fault: Fault(seq: seq, kind: kind, detail: detail), swappedWith: nil)
        }
        if let storedSeq = row.storedSeq, storedSeq != Int64(position) {
            guard storedSeq > Int64(position) else {
                return finding(position, .inserted, "a row with seq \(storedSeq) was inserted before entry \(position)")
            }
            return finding(position, .gap, gapDetail(position, UInt64(storedSeq)))
        }
        let parsed = row.parsed ?? Parsed(row.bytes)
        let leaf = parsed.leaf
        if let stored = row.storedLeaf, Hash(bytes: stored) != leaf {
            return finding(position, .modified, "entry \(position) no longer hashes to its recorded leaf hash")
        }
        guard let envelope = parsed.envelope else {
            return finding(position, .malformed, "entry \(position) is not a canonical ledger entry (v1 envelope)")
        }
        let at = UnsafeRawBufferPointer(rebasing: row.bytes[Envelope.atRange])
        let kind = UnsafeRawBufferPointer(rebasing: row.bytes[envelope.kindRange])
        if let storedAt = row.storedAt, !storedAt.elementsEqual(at) {
            return finding(position, .modified, "entry \(position): the indexed at column disagrees with the entry")
        }
        if let storedKind = row.storedKind, !storedKind.elementsEqual(kind) {
            return finding(position, .modified, "entry \(position): the indexed kind column disagrees with the entry")
        }
        if envelope.seq > position {
            let fault = Fault(
                seq: position, kind: .gap,
                detail: "entry \(position) is missing: the entry in its place says seq \(envelope.seq)")
            // A swap of two entries looks like a gap until the next row turns out to be the missing one.
            return Finding(fault: fault, swappedWith: envelope.prev)
        }
        // An entry that links to the one before the previous: the previous one was slipped in.
        let skipsPrevious = position >= 2 && envelope.prev == leafBeforePrevious
        if envelope.seq < position || envelope.prev != previousLeaf {
            if skipsPrevious {
                return finding(
                    position - 1, .inserted,
                    "entry \(position - 1) was inserted: entry \(position) (seq \(envelope.seq)) links past it")
            }
            if envelope.seq < position {
                return finding(
                    position, .inserted,
                    "the entry at \(position) says seq \(envelope.seq): it was inserted or moved here")
            }
            let detail =
                position == 0
                ? "entry 0 must have prev of 64 zeros"
                : "entry \(position)'s prev is not the leaf hash of entry \(position - 1) (\(previousLeaf.hex.prefix(16))…): entry \(position - 1) was changed or this link was"
            return finding(position, .brokenLink, detail)
        }
        if position > 0, memcmp(at.baseAddress!, previousAt, 24) < 0 {
            return finding(position, .timeOrder, "entry \(position) is dated before entry \(position - 1)")
        }
        if position == 0, let problem = genesisProblem(row.bytes) {
            return finding(0, .genesis, problem)
        }
        var nodeFault: Fault?
        frontier.append(leaf) { node in
            if nodeFault == nil { nodeFault = completedNode(node) }
        }
        if let nodeFault { return Finding(fault: nodeFault, swappedWith: nil) }
        leafBeforePrevious = previousLeaf
        previousLeaf = leaf
        previousAt.withUnsafeMutableBytes { $0.copyMemory(from: at) }
        return checkHeld()
    }

    private func gapDetail(_ position: UInt64, _ storedSeq: UInt64) -> String {
        storedSeq == position + 1
            ? "entry \(position) is missing"
            : "entries \(position)…\(storedSeq - 1) are missing"
    }

    private func genesisProblem(_ bytes: UnsafeRawBufferPointer) -> String? {
        guard let genesis = Ledger.Genesis(bytes) else {
            return "entry 0 is not a ledger.created entry with an origin and a valid public_key named after it"
        }
        if let expectedKey, genesis.keyText != expectedKey {
            return "entry 0 names key \(genesis.keyText), not the expected \(expectedKey)"
        }
        return nil
    }

    /// Compares the tree with every held checkpoint of the current size.
    private mutating func checkHeld() -> Finding? {
        guard nextHeld < held.count, held[nextHeld].size == frontier.size else { return nil }
        let (size, checkpoints) = held[nextHeld]
        nextHeld += 1
        let root = frontier.root
        let roots = Set(checkpoints.map(\.root))
        if roots.count > 1 {
            let matching = roots.contains(root) ? " (this ledger matches one of them)" : ""
            return Finding(
                fault: Fault(
                    seq: matchedSize, kind: .fork,
                    detail:
                        "held checkpoints of size \(size) have \(roots.count) different roots: the log was forked after seq \(matchedSize) at the latest\(matching)"
                ),
                swappedWith: nil)
        }
        guard roots.first == root else {
            return Finding(
                fault: Fault(
                    seq: matchedSize, kind: .rewritten,
                    detail:
                        "the first \(size) entries do not match the held checkpoint of size \(size) (root \(root.hex.prefix(16))…, checkpoint \(checkpoints[0].root.hex.prefix(16))…): history was rewritten or forked at or after seq \(matchedSize)"
                ),
                swappedWith: nil)
        }
        matchedSize = size
        return nil
    }

    /// Classifies a possible swap, given the leaf hash of the row after the suspect one.
    func refine(_ finding: Finding, nextLeaf: Hash?) -> Fault {
        guard let expected = finding.swappedWith, let nextLeaf, nextLeaf == expected else { return finding.fault }
        let seq = finding.fault.seq
        return Fault(
            seq: seq, kind: .reordered,
            detail: "the entry at seq \(seq) links to the entry after it: entries are out of order from seq \(seq)")
    }

    /// After the last row: held checkpoints larger than the ledger mean it was truncated.
    func finish() -> Fault? {
        guard nextHeld < held.count else { return nil }
        let size = held[nextHeld].size
        return Fault(
            seq: frontier.size, kind: .truncated,
            detail:
                "the ledger has \(frontier.size) entries but a held checkpoint has \(size): entries \(frontier.size)…\(size - 1) are gone"
        )
    }

    /// Whether held checkpoints were all matched.
    var trusted: Bool { !held.isEmpty && nextHeld == held.count }
}
