internal import Foundation
internal import PurserLedger

/// The tables derived from the entries, kept in the ledger file and updated in the same transaction as
/// each append: recorded versions and labels, each environment's current traffic, its timeline, and
/// rollback drills. They answer queries fast; the entries remain the truth. `purser reindex` rebuilds
/// them and `purser verify` checks them against a rebuild.
///
/// All SQL names its schema (`main`, or `temp` for the rebuild `verify` compares against).
final class Projection {
    /// Bumped whenever the tables or what `apply` writes change: an older projection is then rebuilt.
    static let version: Int64 = 5

    /// The derived tables, each with a `seq` column naming the entry that wrote the row.
    static let tables = [
        "versions", "version_labels", "environments", "traffic_events", "rollback_drills", "evaluations", "waivers",
        "checklist_runs", "tasks",
    ]

    /// The entry kinds `apply` derives rows from; entries of other kinds change no table.
    static let kinds: Set<String> = [
        "version.recorded", "rollback.drilled", "evaluation.recorded", "waiver.granted", "checklist.evaluated",
        "deployment.started", "traffic.shifted", "deployment.promoted", "deployment.drained", "deployment.aborted",
        "rollback.performed", "metrics.summarized",
    ]

    let connection: Connection
    let schema: String
    /// Thrown inside `catchUp` to read the entries again after one it left out.
    private static let readAgain = LedgerError.Code(name: "read-again")
    /// The `metrics.summarized` entry whose task rows an ingestion in this transaction already inserted
    /// (before appending it, to count the new ones in its body), so that applying it inserts nothing.
    var insertedTasks: UInt64?
    /// The entry `catchUp` was applying when it threw.
    private(set) var failedSeq: UInt64?
    /// The entries `catchUp(skippingUnreplayable: true)` could not apply, with why, in seq order.
    private(set) var unreplayable: [(seq: UInt64, reason: String)] = []
    /// Environment states read or written in this transaction.
    private var states: [String: (state: TrafficState, effectiveAt: String)] = [:]

    init(_ connection: Connection, schema: String = "main") {
        self.connection = connection
        self.schema = schema
    }

    /// Creates the tables if missing.
    func create() throws {
        try connection.execute(
            """
            CREATE TABLE IF NOT EXISTS \(schema).projection_meta (key TEXT PRIMARY KEY, value INTEGER NOT NULL);
            CREATE TABLE IF NOT EXISTS \(schema).versions (
                id TEXT PRIMARY KEY, seq INTEGER NOT NULL, at TEXT NOT NULL, agent TEXT NOT NULL,
                components BLOB NOT NULL);
            CREATE TABLE IF NOT EXISTS \(schema).version_labels (
                label TEXT PRIMARY KEY, id TEXT NOT NULL, seq INTEGER NOT NULL);
            CREATE TABLE IF NOT EXISTS \(schema).environments (
                env TEXT PRIMARY KEY, state BLOB NOT NULL, effective_at TEXT NOT NULL, seq INTEGER NOT NULL);
            CREATE TABLE IF NOT EXISTS \(schema).traffic_events (
                seq INTEGER PRIMARY KEY, env TEXT NOT NULL, effective_at TEXT NOT NULL, kind TEXT NOT NULL,
                state BLOB NOT NULL);
            CREATE INDEX IF NOT EXISTS \(schema).traffic_events_by_env ON traffic_events(env, effective_at, seq);
            CREATE TABLE IF NOT EXISTS \(schema).rollback_drills (
                seq INTEGER PRIMARY KEY, env TEXT NOT NULL, from_version TEXT NOT NULL, to_version TEXT NOT NULL,
                result TEXT NOT NULL, at TEXT NOT NULL);
            CREATE TABLE IF NOT EXISTS \(schema).evaluations (
                seq INTEGER PRIMARY KEY, version TEXT NOT NULL, suite TEXT NOT NULL, at TEXT NOT NULL);
            CREATE TABLE IF NOT EXISTS \(schema).waivers (
                seq INTEGER PRIMARY KEY, version TEXT NOT NULL, check_id TEXT NOT NULL, expires TEXT NOT NULL);
            CREATE TABLE IF NOT EXISTS \(schema).checklist_runs (
                seq INTEGER PRIMARY KEY, version TEXT NOT NULL, env TEXT NOT NULL, allowed INTEGER NOT NULL,
                at TEXT NOT NULL, valid_until TEXT NOT NULL);
            CREATE TABLE IF NOT EXISTS \(schema).tasks (
                version INTEGER NOT NULL, env TEXT NOT NULL, started_at TEXT NOT NULL, seq INTEGER NOT NULL,
                position INTEGER NOT NULL, task_id TEXT NOT NULL UNIQUE, task_type TEXT NOT NULL, model TEXT,
                duration_ms REAL NOT NULL, completed INTEGER NOT NULL, error INTEGER NOT NULL, input_tokens REAL,
                output_tokens REAL, cost_usd REAL, tool_calls REAL, tool_errors REAL, tool_latency_ms REAL,
                quality REAL,
                PRIMARY KEY (version, env, seq, position)) WITHOUT ROWID;
            INSERT OR IGNORE INTO \(schema).projection_meta VALUES ('version', \(Projection.version)), ('applied_seq', -1);
            """)
    }

    func drop() throws {
        for table in ["projection_meta"] + Projection.tables {
            try connection.execute("DROP TABLE IF EXISTS \(schema).\(table)")
        }
    }

    /// The projection's version and the last seq applied, or nil if there are no tables.
    func progress() throws -> (version: Int64, appliedSeq: Int64)? {
        let exists = try connection.scalarInt(
            "SELECT count(*) FROM \(schema).sqlite_master WHERE type = 'table' AND name = 'projection_meta'")
        guard exists == 1 else { return nil }
        let version = try connection.scalarInt("SELECT value FROM \(schema).projection_meta WHERE key = 'version'")
        let applied = try connection.scalarInt("SELECT value FROM \(schema).projection_meta WHERE key = 'applied_seq'")
        return (version ?? 0, applied ?? -1)
    }

    /// Applies every entry after the last one applied.
    /// - Parameter skipping: whether an entry that cannot be replayed is left out (its rows undone, its seq and
    ///   the reason added to `unreplayable`) rather than thrown: one such entry, written around purser, must not
    ///   stop every command, nor hide what verification finds after it. Entries a command has just appended are
    ///   applied without it, so that the command fails instead.
    /// - Throws: `.integrity` for an entry that cannot be replayed, when not skipping (its seq is then
    ///   `failedSeq`).
    func catchUp(
        _ ledger: Ledger, skippingUnreplayable skipping: Bool = false, progress report: (UInt64) -> Void = { _ in }
    ) throws {
        let applied = try progress()?.appliedSeq ?? -1
        var last = applied
        var applying = 0
        var next: UInt64? = UInt64(applied + 1)
        while let from = next {
            next = nil
            do {
                // Only the kinds the tables derive from: on a ledger of many other entries, those are never read.
                try ledger.forEachEntry(from: from, kinds: Projection.kinds) { entry in
                    failedSeq = entry.seq
                    var replayed = true
                    if skipping {
                        replayed = try applyOrLeaveOut(entry)
                    } else {
                        try apply(entry)
                    }
                    failedSeq = nil
                    last = Int64(entry.seq)
                    guard replayed else {
                        // `ROLLBACK TO` aborts the reads open in a transaction that changed a schema (a rebuild
                        // makes its tables in the same one): read on from the next entry afresh.
                        next = entry.seq + 1
                        throw LedgerError(Projection.readAgain, "")
                    }
                    applying += 1
                    if applying % 10_000 == 0 { report(entry.seq) }
                }
            } catch {
                guard error.code == Projection.readAgain else { throw error }
            }
        }
        if last != applied {
            try connection.execute("UPDATE \(schema).projection_meta SET value = \(last) WHERE key = 'applied_seq'")
        }
    }

    /// Applies `entry`; if it cannot be replayed, undoes what it wrote and adds it to `unreplayable`.
    ///
    /// Only an ingestion writes rows before it can fail (its file is inserted a piece at a time), so only it is
    /// applied in a savepoint: every other kind is checked whole before its rows are written. (A savepoint per
    /// entry made rebuilding 100,000 evaluation entries half as slow again.)
    /// - Returns: whether it was applied.
    private func applyOrLeaveOut(_ entry: Entry) throws -> Bool {
        let guarded = entry.kind == "metrics.summarized"
        if guarded { try connection.prepare("SAVEPOINT replay").step() }
        do {
            try apply(entry)
        } catch let error as LedgerError where error.code != .internal {
            if guarded {
                try connection.prepare("ROLLBACK TO replay").step()
                try connection.prepare("RELEASE replay").step()
            }
            unreplayable.append((entry.seq, error.message))
            return false
        }
        if guarded { try connection.prepare("RELEASE replay").step() }
        return true
    }

    /// Updates the tables for one entry; entries of other kinds change nothing.
    func apply(_ entry: Entry) throws {
        guard Projection.kinds.contains(entry.kind) else { return }
        let body = try entry.body
        switch entry.kind {
        case "version.recorded":
            guard let id = body["id"]?.stringValue, let agent = body["agent"]?.stringValue,
                let components = body["components"]
            else { throw malformed(entry, "id, agent or components") }
            try insert(
                "INSERT OR IGNORE INTO \(schema).versions VALUES (?, ?, ?, ?, ?)",
                .text(id), .int(Int64(entry.seq)), .text(entry.at), .text(agent),
                .blob(CanonicalJSON.encode(components)))
            if let label = body["label"]?.stringValue {
                try insert(
                    "INSERT OR IGNORE INTO \(schema).version_labels VALUES (?, ?, ?)", .text(label), .text(id),
                    .int(Int64(entry.seq)))
            }
        case "rollback.drilled":
            guard let env = body["env"]?.stringValue, let from = body["from"]?.stringValue,
                let to = body["to"]?.stringValue, let result = body["result"]?.stringValue
            else { throw malformed(entry, "env, from, to or result") }
            try insert(
                "INSERT INTO \(schema).rollback_drills VALUES (?, ?, ?, ?, ?, ?)", .int(Int64(entry.seq)),
                .text(env), .text(from), .text(to), .text(result), .text(entry.at))
        case "metrics.summarized":
            try applyMetrics(entry, body)
        case "evaluation.recorded":
            guard let version = body["version"]?.stringValue, let suite = body["suite"]?.stringValue else {
                throw malformed(entry, "version or suite")
            }
            try insert(
                "INSERT INTO \(schema).evaluations VALUES (?, ?, ?, ?)", .int(Int64(entry.seq)), .text(version),
                .text(suite), .text(entry.at))
        case "waiver.granted":
            guard let version = body["version"]?.stringValue, let check = body["check"]?.stringValue,
                let expires = body["expires"]?.stringValue
            else { throw malformed(entry, "version, check or expires") }
            try insert(
                "INSERT INTO \(schema).waivers VALUES (?, ?, ?, ?)", .int(Int64(entry.seq)), .text(version),
                .text(check), .text(expires))
        case "checklist.evaluated":
            guard let version = body["version"]?.stringValue, let env = body["env"]?.stringValue,
                case .bool(let allowed) = body["allowed"] ?? .null,
                let validFor = body["policy"]?["max_age_s"]?.numberValue
            else { throw malformed(entry, "version, env, allowed or policy.max_age_s") }
            guard let at = Timestamp.parse(entry.at) else { throw malformed(entry, "a readable at") }
            try insert(
                "INSERT INTO \(schema).checklist_runs VALUES (?, ?, ?, ?, ?, ?)", .int(Int64(entry.seq)),
                .text(version), .text(env), .int(allowed ? 1 : 0), .text(entry.at),
                .text(Timestamp.format(at.addingTimeInterval(validFor))))
        default:
            guard let change = try TrafficChange(kind: entry.kind, body: body, seq: entry.seq) else { return }
            guard let env = body["env"]?.stringValue else { throw malformed(entry, "env") }
            let effectiveAt = body["effective_at"]?.stringValue ?? entry.at
            var (state, previous) = try self.state(of: env) ?? (TrafficState(), "")
            guard effectiveAt >= previous else {
                throw LedgerError(
                    .integrity,
                    "entry \(entry.seq) (\(entry.kind)) takes effect at \(effectiveAt), before the previous event in \(env) (\(previous)); run `purser verify`"
                )
            }
            do {
                try state.apply(change)
            } catch {
                throw LedgerError(
                    .integrity, "entry \(entry.seq) (\(entry.kind)) is not a valid change of \(env): \(error.message)")
            }
            let bytes = CanonicalJSON.encode(state.json)
            try insert(
                "INSERT INTO \(schema).traffic_events VALUES (?, ?, ?, ?, ?)", .int(Int64(entry.seq)), .text(env),
                .text(effectiveAt), .text(entry.kind), .blob(bytes))
            try insert(
                "INSERT OR REPLACE INTO \(schema).environments VALUES (?, ?, ?, ?)", .text(env), .blob(bytes),
                .text(effectiveAt), .int(Int64(entry.seq)))
            states[env] = (state, effectiveAt)
        }
    }

    /// Inserts the task records of an ingestion, from the stored file, with the version ids the entry
    /// resolved; records whose task id is known are skipped.
    private func applyMetrics(_ entry: Entry, _ body: JSONValue) throws {
        guard let digest = body["digest"]?.stringValue.flatMap({ Hash(hex: $0) }),
            let format = body["format"]?.stringValue.flatMap(MetricsFormat.init(rawValue:)),
            case .object(let versions) = body["versions"] ?? .null
        else { throw malformed(entry, "digest, format or versions") }
        guard entry.seq != insertedTasks else { return }
        let select = try connection.prepare("SELECT bytes FROM main.artifacts WHERE digest = ?")
        try select.bind(1, bytes: digest.bytes)
        guard try select.step(), Hash.sha256(select.bytes(0)) == digest else {
            throw LedgerError(
                .integrity,
                "entry \(entry.seq) (metrics.summarized): its stored metrics file is missing or no longer hashes to \(digest.hex)"
            )
        }
        let ids = versions.compactMapValues(\.stringValue)
        var records = 0
        try MetricsFile.forEachPiece(select.bytes(0), format: format, source: "entry \(entry.seq)") { piece in
            try insertTasks(piece.map(\.record), seq: entry.seq, from: records, versions: ids)
            records += piece.count
        }
    }

    /// Inserts task records as rows of the `metrics.summarized` entry `seq`, in their order from the
    /// record at `position` of its file on, each with the id `versions` maps its version to; a record whose
    /// task id is already known (also from earlier in the file) is skipped.
    ///
    /// A task row names its version by the seq of the version's `version.recorded` entry (`versions.seq`), and
    /// the rows are stored in the order of (version, env, seq, position): the tasks of a version in an
    /// environment, which the canary judge reads, are one range of the table, and a file's rows go at the end
    /// of their version's range. A 64-character id in every row and a covering index beside the table made
    /// inserting them cost twice as much.
    ///
    /// Rows go in by statements of up to 64: a statement per row spent more on starting and ending it than on
    /// the row itself.
    /// - Returns: the versions and environments of the records, for `countTasks`.
    /// - Throws: `.integrity` for a record whose version `versions` lacks, or that was never recorded.
    @discardableResult
    func insertTasks(
        _ records: some Collection<TaskRecord>, seq: UInt64, from position: Int = 0, versions: [String: String]
    ) throws -> Set<TaskGroup> {
        let recorded = try connection.prepare("SELECT seq FROM \(schema).versions WHERE id = ?")
        var statements: [Int: Statement] = [:]
        func insert(rows: Int) throws -> Statement {
            if let statement = statements[rows] { return statement }
            let row = "(" + Array(repeating: "?", count: 18).joined(separator: ", ") + ")"
            let statement = try connection.prepare(
                "INSERT OR IGNORE INTO \(schema).tasks VALUES "
                    + Array(repeating: row, count: rows).joined(separator: ", "))
            statements[rows] = statement
            return statement
        }
        // The id and key of each version the file names.
        var known: [String: (id: String, key: Int64)] = [:]
        func version(_ name: String) throws -> (id: String, key: Int64) {
            if let found = known[name] { return found }
            guard let id = versions[name] else {
                throw LedgerError(
                    .integrity, "entry \(seq) (metrics.summarized) lacks a version for \(name); run `purser verify`")
            }
            try recorded.bind(1, id)
            defer { recorded.reset() }
            guard try recorded.step() else {
                throw LedgerError(
                    .integrity,
                    "entry \(seq) (metrics.summarized) names version \(id.prefix(12)), which was never recorded; run `purser verify`"
                )
            }
            known[name] = (id, recorded.int64(0))
            return known[name]!
        }
        var groups = Set<TaskGroup>()
        // Files name few versions and environments, mostly one after another: the last ones are kept at hand.
        var last: (name: String, group: TaskGroup)?
        var offset = position
        var start = records.startIndex
        while start != records.endIndex {
            let end = records.index(start, offsetBy: 64, limitedBy: records.endIndex) ?? records.endIndex
            let statement = try insert(rows: records.distance(from: start, to: end))
            func bind(_ index: Int32, _ value: Double?) throws {
                if let value { try statement.bind(index, value) } else { try statement.bindNull(index) }
            }
            for (row, record) in records[start..<end].enumerated() {
                if last?.name != record.version || last?.group.env != record.env {
                    let (id, key) = try version(record.version)
                    let group = TaskGroup(id: id, key: key, env: record.env)
                    groups.insert(group)
                    last = (record.version, group)
                }
                let base = Int32(row * 18)
                try statement.bind(base + 1, last!.group.key)
                try statement.bind(base + 2, record.env)
                try statement.bind(base + 3, record.startedAt)
                try statement.bind(base + 4, Int64(seq))
                try statement.bind(base + 5, Int64(offset))
                try statement.bind(base + 6, record.taskID)
                try statement.bind(base + 7, record.taskType)
                if let model = record.model {
                    try statement.bind(base + 8, model)
                } else {
                    try statement.bindNull(base + 8)
                }
                try statement.bind(base + 9, record.durationMS)
                try statement.bind(base + 10, Int64(record.completed ? 1 : 0))
                try statement.bind(base + 11, Int64(record.error ? 1 : 0))
                try bind(base + 12, record.inputTokens)
                try bind(base + 13, record.outputTokens)
                try bind(base + 14, record.costUSD)
                try bind(base + 15, record.toolCalls)
                try bind(base + 16, record.toolErrors)
                try bind(base + 17, record.toolLatencyMS)
                try bind(base + 18, record.quality)
                offset += 1
            }
            try statement.step()
            statement.reset()
            start = end
        }
        return groups
    }

    /// The rows of the `metrics.summarized` entry `seq` per version id, in the versions and environments
    /// `insertTasks` returned (each one range of the table): only versions with rows.
    func countTasks(seq: UInt64, in groups: Set<TaskGroup>) throws -> [String: Int] {
        let count = try connection.prepare(
            "SELECT count(*) FROM \(schema).tasks WHERE version = ? AND env = ? AND seq = ?")
        var counts: [String: Int] = [:]
        for group in groups {
            try count.bind(1, group.key)
            try count.bind(2, group.env)
            try count.bind(3, Int64(seq))
            if try count.step(), count.int64(0) > 0 { counts[group.id, default: 0] += Int(count.int64(0)) }
            count.reset()
        }
        return counts
    }

    /// The current traffic of `env` and when its last change took effect, or nil if it never had any.
    func state(of env: String) throws -> (state: TrafficState, effectiveAt: String)? {
        if let cached = states[env] { return cached }
        let select = try connection.prepare("SELECT state, effective_at FROM \(schema).environments WHERE env = ?")
        try select.bind(1, env)
        guard try select.step() else { return nil }
        let state = try TrafficState(stored: select.bytes(0), what: "environment \(env)")
        let found = (state, select.string(1))
        states[env] = found
        return found
    }

    private func malformed(_ entry: Entry, _ fields: String) -> LedgerError {
        LedgerError(.integrity, "entry \(entry.seq) (\(entry.kind)) lacks \(fields); run `purser verify`")
    }

    enum Value {
        case int(Int64)
        case text(String)
        case blob([UInt8])
    }

    private var statements: [String: Statement] = [:]

    private func insert(_ sql: String, _ values: Value...) throws {
        let statement = try statements[sql] ?? connection.prepare(sql)
        statements[sql] = statement
        defer { statement.reset() }
        for (index, value) in values.enumerated() {
            let position = Int32(index + 1)
            switch value {
            case .int(let number): try statement.bind(position, number)
            case .text(let text): try statement.bind(position, text)
            case .blob(let bytes): try statement.bind(position, bytes: bytes)
            }
        }
        try statement.step()
    }
}

extension TrafficState {
    /// Reads a state stored by the projection.
    /// - Throws: `.integrity` naming `what` if the bytes are not a state.
    init(stored bytes: [UInt8], what: String) throws(LedgerError) {
        guard let json = try? JSONValue(parsing: bytes), let state = TrafficState(json: json) else {
            throw LedgerError(.integrity, "the stored traffic of \(what) is unreadable; run `purser reindex`")
        }
        self = state
    }
}

/// A version (its id and its key in `tasks`) and an environment, whose tasks are one range of `tasks`.
struct TaskGroup: Hashable {
    let id: String
    let key: Int64
    let env: String
}
