extension Ledger {
    /// Rows read per batch by `verify`.
    static let verifyBatchSize = 4_096

    /// A held checkpoint: the signed note's text and where it came from (for messages).
    public struct HeldCheckpoint: Sendable {
        public let source: String
        public let text: String

        public init(source: String, text: String) {
            self.source = source
            self.text = text
        }
    }

    /// Opens held checkpoints with `key`: the verified ones, and the first bad signature as a fault.
    /// - Throws: `.invalidInput` for a malformed note or one for another origin.
    static func open(
        _ held: [HeldCheckpoint], key: VerifierKey
    ) throws(LedgerError) -> (verified: [Checkpoint], fault: Fault?) {
        var verified: [Checkpoint] = []
        var fault: Fault?
        for note in held {
            switch try Checkpoint.open(note.text, source: note.source, key: key) {
            case .verified(let checkpoint):
                verified.append(checkpoint)
            case .badSignature(let checkpoint, let reason):
                fault = fault ?? Fault(seq: checkpoint.size, kind: .badSignature, detail: "\(note.source): \(reason)")
            }
        }
        return (verified, fault)
    }

    /// Recomputes every leaf hash, link and the tree head, compares the stored index columns and tree
    /// nodes, and checks the ledger against held checkpoints. Streams: memory stays flat.
    /// - Parameter progress: called every 100,000 entries with the number read.
    /// - Throws: `.invalidInput` for a malformed checkpoint or one for another origin; faults in the
    ///   ledger are not thrown but reported.
    public func verify(
        checkpoints held: [HeldCheckpoint] = [], progress: (UInt64) -> Void = { _ in }
    ) throws(LedgerError) -> VerificationReport {
        try Ledger.verify(connection: connection, path: path, key: verifierKey, held: held, progress: progress)
    }

    /// Verifies the ledger file at `path`, including one whose genesis entry is damaged, or whose
    /// `application_id` or `user_version` was rewritten, which `init(openingAt:)` refuses: the first is
    /// reported as a fault at seq 0, the others as a `schema` fault after the chain's, not thrown.
    public static func verify(
        at path: String, checkpoints held: [HeldCheckpoint] = [], progress: (UInt64) -> Void = { _ in }
    ) throws(LedgerError) -> VerificationReport {
        var header: Fault?
        let connection = try openConnection(at: path) { header = Fault(seq: 0, kind: .schema, detail: $0.message) }
        // Without a readable genesis entry there is no key to check checkpoints with; the scan then
        // reports the damaged genesis entry at seq 0 before any checkpoint would matter.
        let key = readGenesis(connection)?.key
        let report = try verify(
            connection: connection, path: path, key: key, held: key == nil ? [] : held, progress: progress)
        return header.map { report.with(fault: $0) } ?? report
    }

    private static func verify(
        connection: Connection, path: String, key: VerifierKey?, held: [HeldCheckpoint], progress: (UInt64) -> Void
    ) throws(LedgerError) -> VerificationReport {
        let (checkpoints, signatureFault) =
            try key.map { (key) throws(LedgerError) in try open(held, key: key) } ?? ([], nil)
        var verifier = ChainVerifier(checkpoints: checkpoints)
        let fault: Fault? = try run(path: path) {
            try connection.readTransaction {
                let entries = try connection.prepare("SELECT seq, at, kind, leaf_hash, entry FROM entries ORDER BY seq")
                let nodes = try connection.prepare("SELECT position, hash FROM tree_nodes ORDER BY position")
                func compareStoredNode(_ node: MerkleFrontier.Node) -> Fault? {
                    guard node.level >= Ledger.storedNodeLevel else { return nil }
                    let position = Ledger.nodePosition(level: node.level, index: node.index)
                    let lastLeaf = ((node.index + 1) << UInt64(node.level)) - 1
                    guard (try? nodes.step()) == true, nodes.int64(0) == position,
                        nodes.withBlob(1, { Hash(bytes: $0) }) == node.hash
                    else {
                        let firstLeaf = node.index << UInt64(node.level)
                        return Fault(
                            seq: lastLeaf, kind: .treeNode,
                            detail:
                                "the stored tree node over entries \(firstLeaf)…\(lastLeaf) (level \(node.level)) is missing or disagrees with them: one of those entries changed after it was appended, or the node did"
                        )
                    }
                    return nil
                }
                // Double buffering: one batch is hashed and parsed on another core while the next is read.
                var next = RowBatch()
                var more = try next.fill(from: entries, limit: Ledger.verifyBatchSize)
                while next.count > 0 {
                    let parsing = BatchParsing(next)
                    next = RowBatch()
                    if more { more = try next.fill(from: entries, limit: Ledger.verifyBatchSize) }
                    let batch = parsing.wait()
                    for index in 0..<batch.count {
                        let finding = batch.withRow(index) { verifier.check($0, completedNode: compareStoredNode) }
                        if let finding {
                            let nextLeaf: Hash? =
                                index + 1 < batch.count
                                ? batch.leaf(index + 1) : next.count > 0 ? next.leafOfRow(0) : nil
                            return verifier.refine(finding, nextLeaf: nextLeaf)
                        }
                        if verifier.frontier.size % 100_000 == 0 { progress(verifier.frontier.size) }
                    }
                }
                if verifier.frontier.size == 0 {
                    return Fault(seq: 0, kind: .gap, detail: "the ledger has no entries, not even the genesis entry")
                }
                if try nodes.step() {
                    let lastLeaf = nodes.int64(0) >> 6
                    guard lastLeaf >= Int64(verifier.frontier.size) else {
                        return Fault(
                            seq: verifier.frontier.size - 1, kind: .treeNode,
                            detail:
                                "a stored tree node (position \(nodes.int64(0))) belongs to no subtree of the entries")
                    }
                    return Fault(
                        seq: verifier.frontier.size, kind: .truncated,
                        detail:
                            "stored tree nodes cover entries up to seq \(lastLeaf), but the last entry is seq \(verifier.frontier.size - 1)"
                    )
                }
                return verifier.finish()
            }
        }
        let reported = signatureFault ?? fault
        return VerificationReport(
            size: verifier.frontier.size, root: verifier.frontier.root, trusted: verifier.trusted && reported == nil,
            fault: reported, checkpoints: checkpoints)
    }
}
