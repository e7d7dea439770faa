/// The first thing verification found wrong.
public struct Fault: Sendable, Equatable, CustomStringConvertible {
    /// What kind of fault. Names are stable: they appear in `purser verify --json`.
    public struct Kind: Hashable, Sendable, CustomStringConvertible {
        public let name: String

        /// A kind of fault found by a layer above the ledger (in the derived tables or artifacts).
        public init(name: String) {
            self.name = name
        }

        /// The entry's bytes no longer hash to its recorded leaf hash, or its indexed columns disagree with its bytes.
        public static let modified = Kind(name: "modified")
        /// The entry's `prev` is not the leaf hash of the entry before it.
        public static let brokenLink = Kind(name: "broken-link")
        /// An entry is missing: sequence numbers skip.
        public static let gap = Kind(name: "gap")
        /// An entry was inserted that the chain does not link.
        public static let inserted = Kind(name: "inserted")
        /// Two entries are out of order.
        public static let reordered = Kind(name: "reordered")
        /// The entry is not in the canonical envelope form.
        public static let malformed = Kind(name: "malformed")
        /// The entry's `at` is earlier than the previous entry's.
        public static let timeOrder = Kind(name: "time-order")
        /// Entry 0 is not a valid `ledger.created` genesis entry, or its key is not the expected one.
        public static let genesis = Kind(name: "genesis")
        /// A stored Merkle tree node disagrees with the entries (proofs built from it would fail).
        public static let treeNode = Kind(name: "tree-node")
        /// The ledger has fewer entries than a held checkpoint.
        public static let truncated = Kind(name: "truncated")
        /// The ledger's first N entries do not hash to a held checkpoint of size N.
        public static let rewritten = Kind(name: "rewritten")
        /// Two held checkpoints of the same size have different roots.
        public static let fork = Kind(name: "fork")
        /// A held checkpoint is not signed by the ledger's key.
        public static let badSignature = Kind(name: "bad-signature")

        public var description: String { name }
    }

    /// The first bad sequence number. For checkpoint faults where no single entry can be named, the
    /// lowest sequence number at which the difference can start.
    public let seq: UInt64
    public let kind: Kind
    public let detail: String

    public init(seq: UInt64, kind: Kind, detail: String) {
        self.seq = seq
        self.kind = kind
        self.detail = detail
    }

    public var description: String { "\(kind) at seq \(seq): \(detail)" }
}

/// The verdict of `verify` or `verify-bundle`.
public struct VerificationReport: Sendable {
    /// Entries read.
    public let size: UInt64
    /// The tree head recomputed from the entries read.
    public let root: Hash
    /// True when at least one held checkpoint was checked and the ledger agrees with all of them.
    /// Without one, a ledger that passes is only self-consistent.
    public let trusted: Bool
    public let fault: Fault?
    /// The held checkpoints that were checked.
    public let checkpoints: [Checkpoint]

    public var ok: Bool { fault == nil }

    /// The same report with `fault` found by a later check (which also withdraws trust).
    public func with(fault: Fault) -> VerificationReport {
        VerificationReport(size: size, root: root, trusted: false, fault: fault, checkpoints: checkpoints)
    }
}
