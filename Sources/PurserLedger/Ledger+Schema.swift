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

extension Ledger {
    /// The tables of the entries and what guards them; the projection tables of the release domain are not
    /// among them (`verify` rebuilds those).
    static let ledgerTables = ["entries", "tree_nodes", "artifacts"]

    /// The schema objects (tables, indexes, triggers) on the ledger's own tables, as SQLite keeps their SQL.
    static func schemaObjects(_ connection: Connection) throws -> [String: String] {
        let tables = ledgerTables.map { "'\($0)'" }.joined(separator: ", ")
        let select = try connection.prepare(
            "SELECT type, name, coalesce(sql, '') FROM main.sqlite_master WHERE tbl_name IN (\(tables))")
        var objects: [String: String] = [:]
        while try select.step() { objects["\(select.string(0)) \(select.string(1))"] = select.string(2) }
        return objects
    }

    /// The schema objects `migrations` up to `version` make, from a database made in memory.
    static func expectedSchemaObjects(version: Int64) throws -> [String: String] {
        let memory = try Connection(path: ":memory:", mode: .create)
        for step in migrations.prefix(Int(clamping: max(version, 0))) { try memory.execute(step) }
        return try schemaObjects(memory)
    }

    /// What differs between the schema objects of `connection` and those of schema `version`, one sentence
    /// each, by object name.
    static func schemaDifferences(_ connection: Connection, version: Int64) throws -> [String] {
        let expected = try expectedSchemaObjects(version: version)
        let actual = try schemaObjects(connection)
        var differences: [String] = []
        for (name, sql) in expected.sorted(by: { $0.key < $1.key }) {
            if actual[name] == nil {
                differences.append("\(name) is missing")
            } else if actual[name] != sql {
                differences.append("\(name) is not the one purser made (its SQL reads: \(actual[name]!))")
            }
        }
        for name in actual.keys.sorted() where expected[name] == nil {
            differences.append("\(name) was added (purser makes no such object)")
        }
        return differences
    }

    /// Checks that `application_id` and `user_version` were not rewritten. Another application id, or a schema
    /// version outside 1…`schemaVersion`, on a file that holds a purser ledger all the same (a valid genesis
    /// entry; for a version too high, exactly this purser's schema objects, which a newer purser's migrations
    /// would have changed) means the header was edited; so does a version whose file already has objects of a
    /// later version (migrating it would fail half way). Foreign, unfinished and newer files pass here, for
    /// `openConnection` to refuse as such.
    /// - Throws: `.integrity` naming what was rewritten.
    static func checkUnaltered(
        _ connection: Connection, path: String, application: Int64, version: Int64
    ) throws(LedgerError) {
        // The usual case, without reading anything.
        if application == applicationID && version == schemaVersion { return }
        guard readGenesis(connection) != nil else { return }
        func altered(_ what: String) -> LedgerError {
            LedgerError(
                .integrity,
                "\(path) holds a purser ledger, but \(what): the file was altered outside purser; run `purser verify`")
        }
        guard application == applicationID else {
            throw altered("its application_id is \(application), not \(applicationID) (\"PURS\")")
        }
        guard version >= 1 else { throw altered("its user_version is \(version), not a schema version") }
        if version > schemaVersion {
            let ours = (try? schemaDifferences(connection, version: schemaVersion).isEmpty) ?? false
            if ours {
                throw altered(
                    "its user_version says schema \(version) while its tables are those of schema \(schemaVersion)")
            }
        } else if version < schemaVersion {
            let later = try run(path: path) {
                let actual = try schemaObjects(connection)
                let earlier = try expectedSchemaObjects(version: version)
                return try expectedSchemaObjects(version: schemaVersion).keys.sorted().first {
                    earlier[$0] == nil && actual[$0] != nil
                }
            }
            if let later {
                throw altered("its user_version says schema \(version), yet it has \(later) of a later schema")
            }
        }
    }

    /// Compares the ledger's schema with the one purser made: the tables, indexes and append-only triggers
    /// of the entries, tree nodes and artifacts. A dropped trigger leaves the chain intact, and is the first
    /// step of every edit with SQL.
    /// - Returns: a `schema` fault at seq 0 per difference.
    public func schemaFaults() throws(LedgerError) -> [Fault] {
        try run {
            let version = try connection.scalarInt("PRAGMA user_version") ?? 0
            return try Ledger.schemaDifferences(connection, version: version).map {
                Fault(seq: 0, kind: .schema, detail: "\($0); the ledger's SQL schema was altered outside purser")
            }
        }
    }
}
