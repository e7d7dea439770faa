/// RFC 6962 / RFC 9162 proofs: generation from stored perfect-subtree hashes, and verification.
public enum MerkleProof {
    /// Looks up the hash of the perfect subtree at `level`, `index` (level 0 is a leaf hash).
    public typealias NodeSource = (_ level: Int, _ index: UInt64) throws -> Hash

    static func largestPowerOfTwo(below n: UInt64) -> UInt64 {
        precondition(n > 1)
        return 1 << UInt64(63 - (n - 1).leadingZeroBitCount)
    }

    /// MTH of the `count` leaves starting at `start`, where `start` is aligned as RFC 6962's recursion makes it.
    public static func subtreeHash(start: UInt64, count: UInt64, nodes: NodeSource) throws -> Hash {
        if count.nonzeroBitCount == 1 {
            let level = count.trailingZeroBitCount
            return try nodes(level, start >> UInt64(level))
        }
        let k = largestPowerOfTwo(below: count)
        return Hash.node(
            try subtreeHash(start: start, count: k, nodes: nodes),
            try subtreeHash(start: start + k, count: count - k, nodes: nodes))
    }

    /// The tree head of the first `size` leaves.
    public static func root(size: UInt64, nodes: NodeSource) throws -> Hash {
        size == 0 ? Hash.emptyRoot : try subtreeHash(start: 0, count: size, nodes: nodes)
    }

    /// The audit path of leaf `index` in the tree of the first `size` leaves (RFC 6962 §2.1.1).
    public static func inclusion(index: UInt64, size: UInt64, nodes: NodeSource) throws -> [Hash] {
        precondition(index < size)
        func path(_ m: UInt64, _ start: UInt64, _ n: UInt64) throws -> [Hash] {
            if n == 1 { return [] }
            let k = largestPowerOfTwo(below: n)
            if m < k {
                return try path(m, start, k) + [subtreeHash(start: start + k, count: n - k, nodes: nodes)]
            }
            return try path(m - k, start + k, n - k) + [subtreeHash(start: start, count: k, nodes: nodes)]
        }
        return try path(index, 0, size)
    }

    /// The consistency proof between the trees of the first `from` and `to` leaves (RFC 6962 §2.1.2).
    public static func consistency(from: UInt64, to: UInt64, nodes: NodeSource) throws -> [Hash] {
        precondition(0 < from && from <= to)
        if from == to { return [] }
        func subproof(_ m: UInt64, _ start: UInt64, _ n: UInt64, _ complete: Bool) throws -> [Hash] {
            if m == n {
                return complete ? [] : [try subtreeHash(start: start, count: n, nodes: nodes)]
            }
            let k = largestPowerOfTwo(below: n)
            if m <= k {
                return try subproof(m, start, k, complete)
                    + [subtreeHash(start: start + k, count: n - k, nodes: nodes)]
            }
            return try subproof(m - k, start + k, n - k, false) + [subtreeHash(start: start, count: k, nodes: nodes)]
        }
        return try subproof(from, 0, to, true)
    }

    /// Verifies an inclusion proof (RFC 9162 §2.1.3.2).
    public static func verifyInclusion(leaf: Hash, index: UInt64, size: UInt64, proof: [Hash], root: Hash) -> Bool {
        guard index < size else { return false }
        var fn = index
        var sn = size - 1
        var hash = leaf
        for sibling in proof {
            if sn == 0 { return false }
            if fn & 1 == 1 || fn == sn {
                hash = Hash.node(sibling, hash)
                while fn & 1 == 0 && fn != 0 {
                    fn >>= 1
                    sn >>= 1
                }
            } else {
                hash = Hash.node(hash, sibling)
            }
            fn >>= 1
            sn >>= 1
        }
        return sn == 0 && hash == root
    }

    /// Verifies a consistency proof (RFC 9162 §2.1.4.2), with the degenerate cases made explicit:
    /// a proof from the empty tree proves nothing and is refused (RFC 9162 needs 0 < first size);
    /// equal sizes need an empty proof and equal roots.
    public static func verifyConsistency(
        from size1: UInt64, to size2: UInt64, proof: [Hash], fromRoot root1: Hash, toRoot root2: Hash
    ) -> Bool {
        if size1 == 0 || size2 < size1 { return false }
        if size1 == size2 { return proof.isEmpty && root1 == root2 }
        if proof.isEmpty { return false }
        var path = proof
        if size1.nonzeroBitCount == 1 { path.insert(root1, at: 0) }
        var fn = size1 - 1
        var sn = size2 - 1
        while fn & 1 == 1 {
            fn >>= 1
            sn >>= 1
        }
        var fr = path[0]
        var sr = path[0]
        for node in path.dropFirst() {
            if sn == 0 { return false }
            if fn & 1 == 1 || fn == sn {
                fr = Hash.node(node, fr)
                sr = Hash.node(node, sr)
                while fn & 1 == 0 && fn != 0 {
                    fn >>= 1
                    sn >>= 1
                }
            } else {
                sr = Hash.node(sr, node)
            }
            fn >>= 1
            sn >>= 1
        }
        return fr == root1 && sr == root2 && sn == 0
    }
}
