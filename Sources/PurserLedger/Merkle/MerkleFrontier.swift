/// The right edge of an RFC 6962 Merkle tree: the roots of its perfect subtrees, left to right.
///
/// Appending a leaf costs amortized one node hash; the root of the whole tree is a fold of at most
/// log2(size) hashes. This is what lets the ledger and its verifier stream entries in flat memory.
public struct MerkleFrontier: Sendable {
    /// A perfect subtree completed by an append: `level` ≥ 1, covering leaves
    /// `index << level ..< (index + 1) << level`.
    public struct Node: Sendable, Equatable {
        public let level: Int
        public let index: UInt64
        public let hash: Hash
    }

    public private(set) var size: UInt64 = 0
    private var subtrees: [Hash] = []

    public init() {}

    /// A frontier for a tree of `size` leaves from the hashes of its perfect subtrees, largest first.
    public init(size: UInt64, subtrees: [Hash]) {
        precondition(subtrees.count == size.nonzeroBitCount)
        self.size = size
        self.subtrees = subtrees
    }

    /// Where the perfect subtrees of a tree of `size` leaves sit, largest first: (level, index).
    public static func subtreePositions(size: UInt64) -> [(level: Int, index: UInt64)] {
        var positions: [(level: Int, index: UInt64)] = []
        var start: UInt64 = 0
        for level in stride(from: 63, through: 0, by: -1) where size & (1 << UInt64(level)) != 0 {
            positions.append((level, start >> UInt64(level)))
            start += 1 << UInt64(level)
        }
        return positions
    }

    /// Adds a leaf hash; calls `completed` for every interior node this append completes.
    public mutating func append(_ leaf: Hash, completed: (Node) -> Void = { _ in }) {
        var hash = leaf
        var level = 0
        var remaining = size
        while remaining & 1 == 1 {
            hash = Hash.node(subtrees.removeLast(), hash)
            level += 1
            completed(Node(level: level, index: size >> UInt64(level), hash: hash))
            remaining >>= 1
        }
        subtrees.append(hash)
        size += 1
    }

    /// The RFC 6962 tree head of all leaves appended so far.
    public var root: Hash {
        guard var hash = subtrees.last else { return Hash.emptyRoot }
        for left in subtrees.dropLast().reversed() {
            hash = Hash.node(left, hash)
        }
        return hash
    }
}
