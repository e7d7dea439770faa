public import Foundation

extension Ledger {
    /// A write transaction in progress. Entries, artifacts and the caller's own derived tables written
    /// through it commit together or not at all.
    public struct WriteTransaction {
        /// The ledger's connection, for derived tables (projections) kept in the same file. The
        /// `entries`, `tree_nodes` and `artifacts` tables are written only through `append` and
        /// `storeArtifact`.
        public let connection: Connection
        /// The clock reading of this transaction: entries it appends get this time as `at`, or the
        /// previous entry's if that is later.
        public let now: Date
        /// Who the entries are attributed to (`recorded_by` in their bodies), if anyone: the name of the
        /// server token that asked for them.
        public let recordedBy: String?
        let appender: Appender

        /// Appends `events` after the current tip, as seen inside this transaction.
        @discardableResult
        public func append(_ events: [Event]) throws -> [Entry] {
            guard let recordedBy else { return try appender.append(events, now: now) }
            let attributed = try events.map { event in
                guard case .object(var members) = try JSONValue(parsing: event.body) else { return event }
                members["recorded_by"] = .string(recordedBy)
                return try Event(kind: event.kind, body: .object(members))
            }
            return try appender.append(attributed, now: now)
        }

        /// Stores `bytes` as an immutable artifact under their SHA-256 digest; storing the same bytes
        /// again stores nothing.
        @discardableResult
        public func storeArtifact(_ bytes: [UInt8]) throws -> Hash {
            let digest = Hash.sha256(bytes)
            let insert = try connection.prepare("INSERT OR IGNORE INTO artifacts (digest, bytes) VALUES (?, ?)")
            try insert.bind(1, bytes: digest.bytes)
            try insert.bind(2, bytes: bytes)
            try insert.step()
            return digest
        }
    }

    /// Runs `body` in one `BEGIN IMMEDIATE` transaction: it sees the ledger as no other writer can
    /// change it until it returns, and everything it writes commits together. If it throws, nothing is written.
    /// - Throws: the `LedgerError` `body` throws, or one naming this ledger for SQLite failures.
    public func write<T>(_ body: (WriteTransaction) throws -> T) throws(LedgerError) -> T {
        try run {
            try connection.immediateTransaction {
                try body(
                    WriteTransaction(connection: connection, now: clock(), recordedBy: recordedBy, appender: appender())
                )
            }
        }
    }

    /// Runs `body` in one read transaction, so that all its queries see one snapshot.
    public func read<T>(_ body: (Connection) throws -> T) throws(LedgerError) -> T {
        try run { try connection.readTransaction { try body(connection) } }
    }

    /// Runs `body`, and every `write` it makes, in one transaction (a group commit): each `write` inside is a
    /// savepoint that a failure undoes alone, and everything the others wrote becomes durable with one commit.
    /// If the commit fails, none of it is written.
    public func group<T>(_ body: () throws -> T) throws(LedgerError) -> T {
        try run { try connection.immediateTransaction { try body() } }
    }

    /// True when the file could not be opened for writing (an auditor's read-only copy).
    public var isReadOnly: Bool { access(path, W_OK) != 0 }

    /// The bytes stored under `digest`, or nil if there are none. The caller checks their hash when it
    /// matters (`verify` does).
    public func artifact(_ digest: Hash) throws(LedgerError) -> [UInt8]? {
        try run {
            let select = try connection.prepare("SELECT bytes FROM artifacts WHERE digest = ?")
            try select.bind(1, bytes: digest.bytes)
            return try select.step() ? select.bytes(0) : nil
        }
    }

    /// The bytes stored under `digest` if they still hash to it; nil if they are missing or were altered.
    public func intactArtifact(_ digest: Hash) throws(LedgerError) -> [UInt8]? {
        guard let bytes = try artifact(digest), Hash.sha256(bytes) == digest else { return nil }
        return bytes
    }
}
