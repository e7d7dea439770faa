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
        /// The ledger's SQLite schema is not the one purser made: an append-only trigger dropped or changed, a
        /// table or index changed, or `application_id`/`user_version` rewritten.
        public static let schema = Kind(name: "schema")
        /// An entry is dated after the verifier's clock by more than `Ledger.clockTolerance`.
        public static let clock = Kind(name: "clock")

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
    /// Every fault found, in the order of the checks. The checks of the chain stop at their first fault; the
    /// checks after them (the schema, the clock, what is derived from the entries) report each fault and go on.
    public let faults: [Fault]
    /// True when the chain checks passed (every entry, link, stored node and held checkpoint): the checks of what
    /// lies beside the entries can then be trusted to read them.
    public let chainIntact: Bool
    /// The held checkpoints that were checked.
    public let checkpoints: [Checkpoint]

    init(size: UInt64, root: Hash, trusted: Bool, fault: Fault?, checkpoints: [Checkpoint]) {
        self.size = size
        self.root = root
        self.trusted = trusted
        self.faults = fault.map { [$0] } ?? []
        self.chainIntact = fault == nil
        self.checkpoints = checkpoints
    }

    private init(_ report: VerificationReport, adding faults: [Fault]) {
        size = report.size
        root = report.root
        trusted = report.trusted && faults.isEmpty
        self.faults = report.faults + faults
        chainIntact = report.chainIntact
        checkpoints = report.checkpoints
    }

    /// The first fault.
    public var fault: Fault? { faults.first }

    /// How many entries, from the first, the held checkpoints vouch for: the largest one's size when the report is
    /// trusted, else 0. Entries after it (`trustedSize..<size`) are only self-consistent: a rewrite of them would
    /// not show.
    public var trustedSize: UInt64 { trusted ? min(checkpoints.map(\.size).max() ?? 0, size) : 0 }

    public var ok: Bool { faults.isEmpty }

    /// The same report with `fault` found by a later check (which also withdraws trust).
    public func with(fault: Fault) -> VerificationReport {
        VerificationReport(self, adding: [fault])
    }

    /// The same report with `faults` found by later checks (any of which withdraws trust).
    public func with(faults: [Fault]) -> VerificationReport {
        VerificationReport(self, adding: faults)
    }
}
