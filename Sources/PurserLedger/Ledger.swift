public import Foundation

/// The tamper-evident log: one SQLite file of hash-chained, canonical JSON entries with an RFC 6962
/// Merkle tree over them. Knows nothing about agents.
///
/// A `Ledger` owns one SQLite connection and is used from one thread at a time. Several processes may
/// append to the same file at once: every append is one `BEGIN IMMEDIATE` transaction that reads the
/// current tip inside the lock.
public final class Ledger {
    public let path: String
    let connection: Connection
    /// The origin line of this ledger's checkpoints, from the genesis entry.
    public let origin: String
    /// The key that signs this ledger's checkpoints, from the genesis entry.
    public let verifierKey: VerifierKey
    /// Who the entries appended from now on are attributed to (`recorded_by` in their bodies), or nil: the
    /// server sets the name of the token each request came with.
    public var recordedBy: String?
    /// The clock that dates appends, read once per write transaction: a parameter, so that tests set the time
    /// rather than wait for it.
    public var clock: @Sendable () -> Date = { Date() }
    /// Appends on `connection`, made at the first write.
    private var cachedAppender: Appender?

    /// The appender of this ledger's connection.
    func appender() throws -> Appender {
        if let cachedAppender { return cachedAppender }
        let made = try Appender(connection)
        cachedAppender = made
        return made
    }

    /// The default ledger file, relative to the working directory.
    public static let defaultPath = "ledger/purser.sqlite"

    /// Where `init` writes the verifier key for a signing key file: `.key` replaced by `.pub`.
    public static func publicKeyPath(forKeyAt keyPath: String) -> String {
        (keyPath.hasSuffix(".key") ? String(keyPath.dropLast(".key".count)) : keyPath) + ".pub"
    }

    /// The default signing key file for a ledger: beside it, with the extension `.key`.
    public static func defaultKeyPath(forLedgerAt path: String) -> String {
        (path.hasSuffix(".sqlite") ? String(path.dropLast(".sqlite".count)) : path) + ".key"
    }

    /// Opens an existing ledger.
    /// - Throws: `.notFound` if there is no file; `.notALedger` for a foreign, corrupt or newer file, or
    ///   one whose genesis entry is damaged (`Ledger.verify(at:)` still reports on such a file).
    public init(openingAt path: String) throws(LedgerError) {
        let connection = try Ledger.openConnection(at: path)
        guard let genesis = Ledger.readGenesis(connection) else {
            throw LedgerError(
                .notALedger,
                "\(quoted(path)) has no valid genesis entry (seq 0, kind ledger.created, with origin and public_key); run `purser verify`"
            )
        }
        self.connection = connection
        self.path = path
        self.origin = genesis.origin
        self.verifierKey = genesis.key
        try run { try connection.execute("PRAGMA synchronous = FULL") }
    }

    /// Refuses, as not a ledger, a path that is not a regular file (a device, a pipe) or an empty-looking one whose
    /// first bytes cannot be read (`/proc/self/mem`), which SQLite would report as an I/O error.
    private static func checkIsReadableFile(_ path: String) throws(LedgerError) {
        var info = stat()
        guard stat(path, &info) == 0, info.st_mode & S_IFMT == S_IFREG else {
            throw LedgerError(
                .notALedger,
                "\(quoted(path)) is not a regular file (a device, a pipe or a socket), not a purser ledger")
        }
        // Only a file that says it is empty is read here (`/proc/self/mem` does): closing a descriptor of a file
        // releases every POSIX lock this process holds on it, and a server's other connections to its ledger hold
        // the lock that tells another process the WAL is in use. Without it, a `purser log` run beside the server
        // deletes the server's WAL when it closes, losing what the server commits after.
        guard info.st_size == 0 else { return }
        let descriptor = Foundation.open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC)
        // A file the user cannot read is left for SQLite to report.
        guard descriptor >= 0 else { return }
        defer { close(descriptor) }
        var header = [UInt8](repeating: 0, count: 100)
        guard header.withUnsafeMutableBytes({ Foundation.read(descriptor, $0.baseAddress, $0.count) }) >= 0 else {
            throw LedgerError(
                .notALedger,
                "\(quoted(path)) cannot be read (\(String(cString: strerror(errno)))), so it is not a purser ledger")
        }
    }

    /// Opens the SQLite file at `path` and checks that it is a purser ledger of this schema.
    /// - Parameter altered: given the error for a header rewritten outside purser (`checkUnaltered`), which
    ///   then opens the file as it is instead of throwing (`verify` reports it and reads on).
    static func openConnection(
        at path: String, altered: ((LedgerError) -> Void)? = nil
    ) throws(LedgerError) -> Connection {
        var isFolder: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isFolder) else {
            throw LedgerError(
                .notFound,
                naming:
                    "no ledger at \(quoted(path)) (create one with `purser init`, or pass \(parameter: "ledger") PATH)")
        }
        guard !isFolder.boolValue else {
            throw LedgerError(.notALedger, "\(quoted(path)) is a directory, not a purser ledger file")
        }
        try checkIsReadableFile(path)
        let connection: Connection
        let application: Int64
        let version: Int64
        do {
            // Readers open read-write when they may, so that SQLite removes its WAL files on close;
            // a file the user cannot write (an auditor's copy) is opened read-only.
            connection = try Connection(path: path, mode: access(path, W_OK) == 0 ? .readWrite : .readOnly)
            application = try connection.scalarInt("PRAGMA application_id") ?? 0
            version = try connection.scalarInt("PRAGMA user_version") ?? 0
            _ = try connection.scalarInt("SELECT count(*) FROM (SELECT 1 FROM entries LIMIT 1)")
        } catch {
            if error.message.hasPrefix("no such table") {
                throw LedgerError(.notALedger, "\(quoted(path)) is a SQLite database but not a purser ledger")
            }
            throw LedgerError.sqlite(error, path: path)
        }
        do {
            try checkUnaltered(connection, path: path, application: application, version: version)
        } catch {
            guard let altered else { throw error }
            altered(error)
            return connection
        }
        guard application == Ledger.applicationID else {
            throw LedgerError(
                .notALedger,
                "\(quoted(path)) is a SQLite database but not a purser ledger (application_id \(application))")
        }
        guard version <= Ledger.schemaVersion else {
            throw LedgerError(
                .notALedger,
                "\(quoted(path)) uses ledger schema \(version); this purser reads schema \(Ledger.schemaVersion): upgrade purser"
            )
        }
        guard version >= 1 else {
            throw LedgerError(
                .notALedger,
                "\(quoted(path)) has no ledger schema (user_version \(version)): it was never fully created")
        }
        if version < Ledger.schemaVersion && access(path, W_OK) == 0 {
            try run(path: path) {
                try connection.immediateTransaction {
                    // Another process may have migrated it meanwhile.
                    try migrate(connection, from: connection.scalarInt("PRAGMA user_version") ?? version)
                }
            }
        }
        return connection
    }

    /// The origin and key named by the ledger's genesis entry, or nil if it is missing or invalid.
    static func readGenesis(_ connection: Connection) -> Genesis? {
        guard let statement = try? connection.prepare("SELECT entry FROM entries WHERE seq = 0"),
            (try? statement.step()) == true
        else { return nil }
        return Genesis(statement.bytes(0))
    }

    /// What a valid genesis entry (seq 0, kind `ledger.created`) names: the origin and its verifier key,
    /// whose name must be the origin.
    struct Genesis {
        let origin: String
        /// The `public_key` string exactly as the entry holds it.
        let keyText: String
        let key: VerifierKey

        init?(_ entry: some Collection<UInt8>) {
            guard let genesis = try? JSONValue(parsing: entry), genesis["kind"]?.stringValue == "ledger.created",
                let origin = genesis["body"]?["origin"]?.stringValue,
                let keyText = genesis["body"]?["public_key"]?.stringValue,
                let key = try? VerifierKey(parsing: keyText), key.name == origin
            else { return nil }
            self.origin = origin
            self.keyText = keyText
            self.key = key
        }
    }

    /// Creates a ledger at `path` with a new Ed25519 signing key written to `keyPath` (mode 0600).
    ///
    /// The database is built under a temporary name and linked into place only when complete, so a
    /// crash leaves no half-made ledger, and an existing ledger or key is never overwritten.
    /// - Parameter origin: the checkpoint origin and key name: no whitespace and no '+'.
    public static func create(
        at path: String, origin: String, keyPath: String, now: Date = Date()
    ) throws(LedgerError) -> Ledger {
        // Printable ASCII only: a combining mark next to a '+' or a space would change how key strings
        // and signature lines split.
        guard !origin.isEmpty, origin.utf8.count <= 200,
            origin.utf8.allSatisfy({ (0x21...0x7E).contains($0) && $0 != 0x2B })
        else {
            throw LedgerError(
                .usage,
                "origin \"\(origin)\" must be 1 to 200 printable ASCII characters, with no spaces and no '+' (e.g. example.com/support-agent)"
            )
        }
        let fileManager = FileManager.default
        guard !path.isEmpty else { throw LedgerError(.usage, "the ledger's path is empty") }
        var isFolder: ObjCBool = false
        if fileManager.fileExists(atPath: path, isDirectory: &isFolder), isFolder.boolValue {
            throw LedgerError(
                .alreadyExists, "\(quoted(path)) is a directory; name the ledger's file (\(path)/purser.sqlite)")
        }
        for existing in [path, path + "-wal"] where fileManager.fileExists(atPath: existing) {
            throw LedgerError(.alreadyExists, "a ledger already exists at \(path); refusing to overwrite it")
        }
        if fileManager.fileExists(atPath: keyPath) {
            throw LedgerError(
                .alreadyExists,
                naming:
                    "signing key \(keyPath) already exists; refusing to overwrite it (pass \(parameter: "key") for another path)"
            )
        }
        try OutputFolder.create(URL(fileURLWithPath: path).deletingLastPathComponent().path)
        let key = SigningKey(name: origin)
        let temporary = path + ".creating-\(UInt32.random(in: 0...UInt32.max))"
        defer {
            for suffix in ["", "-wal", "-shm", "-journal"] { try? fileManager.removeItem(atPath: temporary + suffix) }
        }
        // Made here first, so that a place that cannot be written is named as such (SQLite says only "unable to
        // open database file"); SQLite takes an empty file as an empty database.
        let made = Glibc.open(temporary, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0o644)
        guard made >= 0 else { throw OutputFolder.failure(path, errno: errno) }
        close(made)
        try run(path: path) {
            let connection = try Connection(path: temporary, mode: .create)
            try connection.execute("PRAGMA journal_mode = WAL")
            let genesis = try Event(
                kind: "ledger.created",
                body: .object(["origin": .string(origin), "public_key": .string(key.verifierKey.description)]))
            try connection.immediateTransaction {
                try migrate(connection, from: 0)
                _ = try Ledger.append([genesis], to: connection, now: now)
            }
        }
        try key.write(to: keyPath)
        // link(2) fails if `path` appeared meanwhile: never clobber.
        guard link(temporary, path) == 0 else {
            let reason = String(cString: strerror(errno))
            try? fileManager.removeItem(atPath: keyPath)
            if errno == EEXIST {
                throw LedgerError(.alreadyExists, "a ledger already exists at \(path); refusing to overwrite it")
            }
            throw LedgerError(.internal, "cannot create \(path): \(reason)")
        }
        // The verifier key, to hand to auditors (`verify-bundle --key`); public, so no special mode.
        try? Data((key.verifierKey.description + "\n").utf8).write(
            to: URL(fileURLWithPath: publicKeyPath(forKeyAt: keyPath)), options: .withoutOverwriting)
        return try Ledger(openingAt: path)
    }

    /// Runs `body`, turning SQLite and other errors into `LedgerError`s that name this ledger.
    func run<T>(_ body: () throws -> T) throws(LedgerError) -> T {
        try Ledger.run(path: path, body)
    }

    /// Runs `body`, turning SQLite and other errors into `LedgerError`s that name the ledger at `path`.
    static func run<T>(path: String, _ body: () throws -> T) throws(LedgerError) -> T {
        do {
            return try body()
        } catch let error as LedgerError {
            throw error
        } catch let error as SQLiteError {
            throw LedgerError.sqlite(error, path: path)
        } catch {
            throw LedgerError(.internal, "\(path): \(error)")
        }
    }

    // MARK: Appending

    /// Appends one event in its own durable transaction.
    @discardableResult
    public func append(_ event: Event) throws(LedgerError) -> Entry {
        try append([event])[0]
    }

    /// Appends `events` in one transaction: all of them or none.
    @discardableResult
    public func append(_ events: [Event]) throws(LedgerError) -> [Entry] {
        guard !events.isEmpty else { return [] }
        return try write { try $0.append(events) }
    }

    /// Appends `events` in transactions of `batchSize` (an import). Each batch is all or nothing;
    /// `progress` is called with the number appended so far after each commit.
    /// - Returns: the first and last sequence numbers written.
    /// - Throws: the error of the failing batch, saying which events were already appended, so that an
    ///   import can be resumed from there.
    @discardableResult
    public func append(
        contentsOf events: [Event], batchSize: Int = 1_000, progress: (Int) -> Void = { _ in }
    ) throws(LedgerError) -> ClosedRange<UInt64>? {
        var first: UInt64?
        var last: UInt64?
        var done = 0
        while done < events.count {
            let batch = Array(events[done..<min(done + batchSize, events.count)])
            let entries: [Entry]
            do {
                entries = try append(batch)
            } catch  where done > 0 {
                throw LedgerError(
                    error.code,
                    "\(error.message) (the first \(done) events were appended before this failure, as seqs \(first!)…\(last!); resume from event \(done + 1))"
                )
            }
            first = first ?? entries.first?.seq
            last = entries.last?.seq
            done += batch.count
            progress(done)
        }
        guard let first, let last else { return nil }
        return first...last
    }

    /// The append itself, inside a write transaction the caller holds, on a connection of its own (`init`'s).
    static func append(_ events: [Event], to connection: Connection, now: Date) throws -> [Entry] {
        try Appender(connection).append(events, now: now)
    }

    struct Tip {
        var size: UInt64
        var at: String
        var leafHash: Hash
    }

    /// The last entry: its seq, `at` (read from its bytes) and leaf hash.
    static func readTip(_ connection: Connection) throws -> Tip {
        try readTip(using: connection.prepare(tipQuery))
    }

    static let tipQuery = "SELECT seq, leaf_hash, entry FROM entries ORDER BY seq DESC LIMIT 1"

    /// The last entry, read with a prepared `tipQuery`.
    static func readTip(using statement: Statement) throws -> Tip {
        defer { statement.reset() }
        guard try statement.step() else { return Tip(size: 0, at: "", leafHash: .zero) }
        let seq = statement.int64(0)
        guard (0..<maximumSize).contains(seq), let hash = statement.withBlob(1, { Hash(bytes: $0) }),
            let at = statement.withBlob(
                2, { Envelope($0) != nil ? String(decoding: $0[Envelope.atRange], as: UTF8.self) : nil })
        else {
            throw LedgerError(.integrity, "the last entry (seq \(seq)) is malformed; run `purser verify`")
        }
        return Tip(size: UInt64(seq) + 1, at: at, leafHash: hash)
    }

    static func loadFrontier(size: UInt64, connection: Connection) throws -> MerkleFrontier {
        let lookup = nodeLookup(connection)
        let subtrees = try MerkleFrontier.subtreePositions(size: size).map { try lookup($0.level, $0.index) }
        return MerkleFrontier(size: size, subtrees: subtrees)
    }

    /// Reads stored perfect-subtree hashes: leaf hashes from `entries`, higher levels from `tree_nodes`.
    static func nodeLookup(_ connection: Connection) -> MerkleProof.NodeSource {
        let reader = NodeReader(connection: connection)
        return { level, index in try reader.hash(level: level, index: index) }
    }

    // MARK: Reading

    /// The smallest seq whose `at` is at or after `time`, or the size if there is none.
    func firstSeq(atOrAfter time: String) throws -> UInt64 {
        let lookup = try connection.prepare("SELECT at FROM entries WHERE seq >= ? ORDER BY seq LIMIT 1")
        var low: UInt64 = 0
        var high = try Ledger.readTip(connection).size
        while low < high {
            let middle = low + (high - low) / 2
            try lookup.bind(1, Int64(middle))
            let at = try lookup.step() ? lookup.string(0) : ""
            lookup.reset()
            if at >= time { high = middle } else { low = middle + 1 }
        }
        return low
    }

    /// The number of entries.
    public func size() throws(LedgerError) -> UInt64 {
        try run { try Ledger.readTip(connection).size }
    }

    /// The entry at `seq`, or nil.
    public func entry(_ seq: UInt64) throws(LedgerError) -> Entry? {
        var found: Entry?
        try forEachEntry(from: seq, limit: 1) { found = $0 }
        return found?.seq == seq ? found : nil
    }

    /// Calls `body` for each entry matching the filters, oldest first.
    /// - Parameters:
    ///   - since: entries with `at` ≥ this timestamp (ledger form).
    ///   - until: entries with `at` < this timestamp.
    ///   - kinds: entries of any of these kinds (found through the kind index, so a few among many are cheap).
    ///   - containing: entries whose bytes hold these bytes somewhere (SQLite looks, so entries without them are
    ///     never read into Swift): a canonical `"env":"prod"`, to find the entries of one environment.
    public func forEachEntry(
        from seq: UInt64 = 0, kind: String? = nil, kinds: Set<String>? = nil, since: String? = nil,
        until: String? = nil, containing needle: [UInt8]? = nil, limit: Int? = nil, _ body: (Entry) throws -> Void
    ) throws(LedgerError) {
        try run {
            let kinds = kinds.map { $0.sorted() }
            var conditions = ["seq >= ?1", "seq < ?6"]
            if kind != nil { conditions.append("kind = ?2") }
            if let kinds {
                // The seqs from the kind index first, then each row by its seq: with `kind IN (…)` here,
                // SQLite sorted the rows themselves, bodies and all, in a temporary table (for most of a
                // year's ledger, five times as long as reading them).
                let list = kinds.indices.map { "?\($0 + 7)" }.joined(separator: ", ")
                conditions.append("seq IN (SELECT seq FROM entries WHERE kind IN (\(list)) AND seq >= ?1 AND seq < ?6)")
            }
            let needleIndex = Int32(7 + (kinds?.count ?? 0))
            if needle != nil { conditions.append("instr(entry, ?\(needleIndex)) > 0") }
            if since != nil { conditions.append("at >= ?3") }
            if until != nil { conditions.append("at < ?4") }
            let statement = try connection.prepare(
                "SELECT seq, at, kind, leaf_hash, entry FROM entries WHERE \(conditions.joined(separator: " AND ")) ORDER BY seq LIMIT ?5"
            )
            // `at` never decreases along seq: turn the time window into a seq range by binary search.
            let first = try since.map { try firstSeq(atOrAfter: $0) } ?? 0
            let end = try until.map { try firstSeq(atOrAfter: $0) } ?? UInt64(Int64.max)
            try statement.bind(1, Int64(clamping: max(seq, first)))
            try statement.bind(6, Int64(end))
            if let kind { try statement.bind(2, kind) }
            for (index, kind) in (kinds ?? []).enumerated() { try statement.bind(Int32(index + 7), kind) }
            if let needle { try statement.bind(needleIndex, bytes: needle) }
            if let since { try statement.bind(3, since) }
            if let until { try statement.bind(4, until) }
            try statement.bind(5, Int64(limit ?? -1))
            while try statement.step() {
                let leaf = statement.withBlob(3) { Hash(bytes: $0) } ?? .zero
                guard let seq = UInt64(exactly: statement.int64(0)) else {
                    throw LedgerError(
                        .integrity, "\(path) holds an entry with seq \(statement.int64(0)); run `purser verify`")
                }
                try body(
                    Entry(
                        seq: seq, at: statement.string(1), kind: statement.string(2),
                        leafHash: leaf, bytes: statement.bytes(4)))
            }
        }
    }
}

/// Looks up stored node hashes with two statements prepared on first use.
/// Appends entries on one connection. It keeps its prepared statements, and the Merkle frontier its last append
/// ended with, which it reuses while the tip is still that append's last entry: the same size and the same leaf
/// hash mean the same chain, since each entry's hash covers the one before. (After a rollback, or another
/// writer's append, the tip differs and the frontier is read again.)
final class Appender {
    private let connection: Connection
    private let tip: Statement
    private let insertEntry: Statement
    private let insertNode: Statement
    private var last: (tip: Ledger.Tip, frontier: MerkleFrontier)?

    init(_ connection: Connection) throws {
        self.connection = connection
        tip = try connection.prepare(Ledger.tipQuery)
        insertEntry = try connection.prepare(
            "INSERT INTO entries (seq, at, kind, leaf_hash, entry) VALUES (?, ?, ?, ?, ?)")
        insertNode = try connection.prepare("INSERT INTO tree_nodes (position, hash) VALUES (?, ?)")
    }

    /// Appends `events` after the current tip, inside a write transaction the caller holds.
    func append(_ events: [Event], now: Date) throws -> [Entry] {
        let tip = try Ledger.readTip(using: self.tip)
        try Ledger.checkClock(now, after: tip)
        var frontier =
            if let last, last.tip.size == tip.size, last.tip.leafHash == tip.leafHash {
                last.frontier
            } else {
                try Ledger.loadFrontier(size: tip.size, connection: connection)
            }
        let nowText = Timestamp.format(now)
        let at = nowText > tip.at ? nowText : tip.at
        var prev = tip.leafHash
        var entries: [Entry] = []
        entries.reserveCapacity(events.count)
        for event in events {
            let seq = frontier.size
            let bytes = Entry.encode(seq: seq, at: at, event: event, prev: prev)
            let leaf = Hash.leaf(bytes)
            try insertEntry.bind(1, Int64(seq))
            try insertEntry.bind(2, at)
            try insertEntry.bind(3, event.kind)
            try insertEntry.bind(4, bytes: leaf.bytes)
            try insertEntry.bind(5, bytes: bytes)
            defer { insertEntry.reset() }
            try insertEntry.step()
            var nodeError: (any Error)?
            frontier.append(leaf) { node in
                guard node.level >= Ledger.storedNodeLevel else { return }
                do {
                    try insertNode.bind(1, Ledger.nodePosition(level: node.level, index: node.index))
                    try insertNode.bind(2, bytes: node.hash.bytes)
                    defer { insertNode.reset() }
                    try insertNode.step()
                } catch {
                    nodeError = error
                }
            }
            if let nodeError { throw nodeError }
            entries.append(Entry(seq: seq, at: at, kind: event.kind, leafHash: leaf, bytes: bytes))
            prev = leaf
        }
        last = (Ledger.Tip(size: frontier.size, at: at, leafHash: prev), frontier)
        return entries
    }
}

final class NodeReader {
    private let connection: Connection
    private var leaves: Statement?
    private var nodes: Statement?

    init(connection: Connection) {
        self.connection = connection
    }

    func hash(level: Int, index: UInt64) throws -> Hash {
        if level > 0 && level < Ledger.storedNodeLevel {
            return Hash.node(
                try hash(level: level - 1, index: index * 2), try hash(level: level - 1, index: index * 2 + 1))
        }
        let statement: Statement
        if level == 0 {
            if leaves == nil { leaves = try connection.prepare("SELECT leaf_hash FROM entries WHERE seq = ?") }
            statement = leaves!
            try statement.bind(1, Int64(index))
        } else {
            if nodes == nil { nodes = try connection.prepare("SELECT hash FROM tree_nodes WHERE position = ?") }
            statement = nodes!
            try statement.bind(1, Ledger.nodePosition(level: level, index: index))
        }
        defer { statement.reset() }
        guard try statement.step(), let hash = statement.withBlob(0, { Hash(bytes: $0) }) else {
            throw LedgerError(
                .integrity,
                "stored tree node level \(level) index \(index) is missing or malformed; run `purser verify`")
        }
        return hash
    }
}
