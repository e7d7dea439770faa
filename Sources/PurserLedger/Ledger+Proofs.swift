extension Ledger {
    /// An inclusion proof: the audit path of entry `seq` in the tree of `size` entries.
    public struct InclusionProof: Sendable {
        public let seq: UInt64
        public let size: UInt64
        public let leafHash: Hash
        public let root: Hash
        public let path: [Hash]
    }

    /// A consistency proof between the trees of `from` and `to` entries.
    public struct ConsistencyProof: Sendable {
        public let from: UInt64
        public let to: UInt64
        public let fromRoot: Hash
        public let toRoot: Hash
        public let path: [Hash]
    }

    private func checkSize(_ size: UInt64, current: UInt64, what: String) throws(LedgerError) {
        guard size >= 1, size <= current else {
            throw LedgerError(
                .usage, "\(what) \(size) is out of range: the ledger has \(current) entries (sizes 1…\(current))")
        }
    }

    /// The tree head over the first `size` entries (all of them if nil), from stored nodes.
    public func root(size: UInt64? = nil) throws(LedgerError) -> (size: UInt64, root: Hash) {
        try run {
            try connection.readTransaction {
                let current = try Ledger.readTip(connection).size
                let size = size ?? current
                try checkSize(size, current: current, what: "size")
                return (size, try MerkleProof.root(size: size, nodes: Ledger.nodeLookup(connection)))
            }
        }
    }

    /// The current checkpoint (or the one at `size`), unsigned.
    public func checkpoint(size: UInt64? = nil) throws(LedgerError) -> Checkpoint {
        let head = try root(size: size)
        return Checkpoint(origin: origin, size: head.size, root: head.root)
    }

    /// Signs `checkpoint` with `key`, which must be this ledger's key.
    public func sign(_ checkpoint: Checkpoint, with key: SigningKey) throws(LedgerError) -> String {
        try checkIsOwn(key)
        return try checkpoint.signed(with: key)
    }

    /// A proof built from the stored tree is checked before it is handed out: damaged nodes fail here.
    static let unverifiableProof = LedgerError(
        .integrity, "the stored tree gives a proof that does not verify; run `purser verify`")

    /// Refuses a signing key that is not this ledger's.
    func checkIsOwn(_ key: SigningKey) throws(LedgerError) {
        guard key.verifierKey == verifierKey else {
            throw LedgerError(
                .invalidInput, "the signing key \(key.verifierKey) is not this ledger's key (\(verifierKey))")
        }
    }

    /// Proves that entry `seq` is in the tree of `size` entries (default: the current size).
    /// - Throws: `.integrity` if the stored tree gives a proof that does not verify.
    public func inclusionProof(seq: UInt64, size: UInt64? = nil) throws(LedgerError) -> InclusionProof {
        try run {
            try connection.readTransaction {
                let current = try Ledger.readTip(connection).size
                let size = size ?? current
                try checkSize(size, current: current, what: "size")
                guard seq < size else {
                    throw LedgerError(.usage, "seq \(seq) is not in a tree of \(size) entries (seqs 0…\(size - 1))")
                }
                let nodes = Ledger.nodeLookup(connection)
                let proof = InclusionProof(
                    seq: seq, size: size, leafHash: try nodes(0, seq),
                    root: try MerkleProof.root(size: size, nodes: nodes),
                    path: try MerkleProof.inclusion(index: seq, size: size, nodes: nodes))
                guard
                    MerkleProof.verifyInclusion(
                        leaf: proof.leafHash, index: seq, size: size, proof: proof.path, root: proof.root)
                else { throw Ledger.unverifiableProof }
                return proof
            }
        }
    }

    /// Proves that the tree of `from` entries is a prefix of the tree of `to` entries (default: the current size).
    /// - Throws: `.integrity` if the stored tree gives a proof that does not verify.
    public func consistencyProof(from: UInt64, to: UInt64? = nil) throws(LedgerError) -> ConsistencyProof {
        try run {
            try connection.readTransaction {
                let current = try Ledger.readTip(connection).size
                let to = to ?? current
                try checkSize(to, current: current, what: "size")
                try checkSize(from, current: to, what: "from")
                let nodes = Ledger.nodeLookup(connection)
                let proof = ConsistencyProof(
                    from: from, to: to, fromRoot: try MerkleProof.root(size: from, nodes: nodes),
                    toRoot: try MerkleProof.root(size: to, nodes: nodes),
                    path: try MerkleProof.consistency(from: from, to: to, nodes: nodes))
                guard
                    MerkleProof.verifyConsistency(
                        from: from, to: to, proof: proof.path, fromRoot: proof.fromRoot, toRoot: proof.toRoot)
                else { throw Ledger.unverifiableProof }
                return proof
            }
        }
    }
}
