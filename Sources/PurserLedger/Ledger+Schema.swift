extension Ledger {
    /// `PRAGMA application_id` of every purser ledger: "PURS" in ASCII.
    static let applicationID: Int64 = 0x5055_5253

    /// The schema version this purser writes and reads (`PRAGMA user_version`): the number of
    /// `migrations` applied.
    static var schemaVersion: Int64 { Int64(migrations.count) }

    /// The schema, one step per version. A new ledger runs them all in one transaction with its genesis
    /// entry; a ledger of an older version is brought up to date when it is opened for writing.
    ///
    /// Version 1: `entries` holds the exact canonical bytes of each entry; `at`, `kind` and `leaf_hash`
    /// repeat what the bytes say, for lookups, and `verify` checks that they agree. `at` needs no index:
    /// it never decreases along `seq`, so a time is found by binary search. `tree_nodes` stores the hash
    /// of every complete perfect subtree of level ≥ `storedNodeLevel` (16 leaves), keyed by
    /// `(last leaf index << 6) | level`, so that rows are in the order appends complete them; lower
    /// subtrees are rehashed from at most 16 leaf hashes. Proofs are O(log² n) lookups.
    ///
    /// Version 2: `artifacts` holds immutable, content-addressed byte strings (SHA-256 of the bytes)
    /// that entries refer to by digest, such as the components of a behavioral version.
    static let migrations = [
        """
        CREATE TABLE entries (
            seq INTEGER PRIMARY KEY CHECK (seq >= 0 AND seq < \(maximumSize)),
            at TEXT NOT NULL,
            kind TEXT NOT NULL,
            leaf_hash BLOB NOT NULL,
            entry BLOB NOT NULL
        );
        CREATE INDEX entries_by_kind ON entries(kind, seq);
        CREATE TABLE tree_nodes (
            position INTEGER PRIMARY KEY CHECK (position >= 0),
            hash BLOB NOT NULL
        );
        CREATE TRIGGER entries_append_only_update BEFORE UPDATE ON entries
            BEGIN SELECT RAISE(ABORT, 'purser ledger entries are append-only'); END;
        CREATE TRIGGER entries_append_only_delete BEFORE DELETE ON entries
            BEGIN SELECT RAISE(ABORT, 'purser ledger entries are append-only'); END;
        CREATE TRIGGER tree_nodes_append_only_update BEFORE UPDATE ON tree_nodes
            BEGIN SELECT RAISE(ABORT, 'purser ledger tree nodes are append-only'); END;
        CREATE TRIGGER tree_nodes_append_only_delete BEFORE DELETE ON tree_nodes
            BEGIN SELECT RAISE(ABORT, 'purser ledger tree nodes are append-only'); END;
        PRAGMA application_id = \(applicationID);
        """,
        """
        CREATE TABLE artifacts (
            digest BLOB PRIMARY KEY CHECK (length(digest) = 32),
            bytes BLOB NOT NULL
        );
        CREATE TRIGGER artifacts_immutable_update BEFORE UPDATE ON artifacts
            BEGIN SELECT RAISE(ABORT, 'purser artifacts are immutable'); END;
        CREATE TRIGGER artifacts_immutable_delete BEFORE DELETE ON artifacts
            BEGIN SELECT RAISE(ABORT, 'purser artifacts are immutable'); END;
        """,
    ]

    /// Applies the migrations after `version`, inside the caller's write transaction.
    static func migrate(_ connection: Connection, from version: Int64) throws {
        for (index, step) in migrations.enumerated() where Int64(index) >= version {
            try connection.execute(step)
            try connection.execute("PRAGMA user_version = \(index + 1)")
        }
    }

    /// Entries a ledger can hold: 2^57, so that a tree node's key `(last leaf << 6) | level` fits in 63 bits.
    static let maximumSize: Int64 = 1 << 57

    /// The lowest level of the tree stored in `tree_nodes`: subtrees of 16 leaves and up. Storing every
    /// level would cost one more row per entry; this costs about one per eight.
    static let storedNodeLevel = 4

    /// The `tree_nodes` key of the perfect subtree at `level`, `index`.
    static func nodePosition(level: Int, index: UInt64) -> Int64 {
        let lastLeaf = ((index + 1) << UInt64(level)) - 1
        return Int64(lastLeaf << 6 | UInt64(level))
    }
}
