internal import PurserLedger

extension SQLiteTables: TaskTables {
    static let taskTables = ["tasks"]

    static func createTaskTables(_ schema: String) -> String {
        """
        CREATE TABLE IF NOT EXISTS \(schema).tasks (
            version INTEGER NOT NULL, env TEXT NOT NULL, started_at TEXT NOT NULL, seq INTEGER NOT NULL,
            position INTEGER NOT NULL, task_id TEXT NOT NULL UNIQUE, task_type TEXT NOT NULL, model TEXT,
            duration_ms REAL NOT NULL, completed INTEGER NOT NULL, error INTEGER NOT NULL, input_tokens REAL,
            output_tokens REAL, cost_usd REAL, tool_calls REAL, tool_errors REAL, tool_latency_ms REAL,
            quality REAL,
            PRIMARY KEY (version, env, seq, position)) WITHOUT ROWID;

        """
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
        _ records: some Collection<TaskRecord>, seq: UInt64, from position: Int, versions: [String: String]
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

    func forEachTask(
        version id: String, env: String, since: String, before seq: UInt64, columns: [String],
        _ body: (any TaskRow) throws -> Void
    ) throws {
        // The tasks of a version in an environment are one range of the table.
        let select = try query(
            """
            SELECT \(columns.isEmpty ? "NULL" : columns.joined(separator: ", ")) FROM \(schema).tasks
            WHERE version = (SELECT seq FROM \(schema).versions WHERE id = ?) AND env = ? AND seq < ?
                AND started_at >= ?
            """, .text(id), .text(env), .int(Int64(clamping: seq)), .text(since))
        while try select.step() { try body(select) }
    }

    /// The rows come in the table's order, a version's (and mostly a group's) one after another, so a row's group
    /// is first compared with the previous row's; making a string of every one of a million rows' groups cost
    /// more than the rest.
    @discardableResult
    func forEachMeasuredTask(
        _ filter: TaskFilter, groupedBy group: String?,
        _ body: (_ version: Int64, _ group: Int, _ measures: TaskMeasures) throws -> Void
    ) throws -> [String] {
        var conditions = [
            "(?1 IS NULL OR env = ?1)", "(?2 IS NULL OR started_at >= ?2)", "(?3 IS NULL OR started_at < ?3)",
        ]
        if !filter.versions.isEmpty {
            let ids = filter.versions.indices.map { "?\($0 + 4)" }.joined(separator: ", ")
            conditions.append("version IN (SELECT seq FROM \(schema).versions WHERE id IN (\(ids)))")
        }
        let row = try connection.prepare(
            """
            SELECT version, \(group.map { "coalesce(\($0), '')" } ?? "NULL"), duration_ms, completed, error,
                input_tokens, output_tokens, cost_usd, tool_calls, tool_errors, tool_latency_ms, quality
            FROM \(schema).tasks WHERE \(conditions.joined(separator: " AND "))
            """)
        if let env = filter.env { try row.bind(1, env) }
        if let since = filter.since { try row.bind(2, since) }
        if let until = filter.until { try row.bind(3, until) }
        for (index, version) in filter.versions.enumerated() { try row.bind(Int32(index + 4), version) }
        func value(_ column: Int32) -> Double? { row.isNull(column) ? nil : row.double(column) }
        var names: [String] = []
        var numbers: [[UInt8]: Int] = [:]
        var last: (bytes: [UInt8], number: Int)?
        while try row.step() {
            var number = 0
            if group != nil {
                let sameAsLast =
                    last.map { last in
                        row.withBlob(1) { bytes in
                            last.bytes.count == bytes.count && last.bytes.withUnsafeBytes { $0.elementsEqual(bytes) }
                        }
                    } ?? false
                if sameAsLast {
                    number = last!.number
                } else {
                    let bytes = row.bytes(1)
                    if let known = numbers[bytes] {
                        number = known
                    } else {
                        number = names.count
                        numbers[bytes] = number
                        names.append(String(decoding: bytes, as: UTF8.self))
                    }
                    last = (bytes, number)
                }
            }
            let measures = TaskMeasures(
                durationMS: row.double(2), completed: row.int64(3) != 0, error: row.int64(4) != 0,
                inputTokens: value(5), outputTokens: value(6), costUSD: value(7), toolCalls: value(8),
                toolErrors: value(9), toolLatencyMS: value(10), quality: value(11))
            try body(row.int64(0), number, measures)
        }
        return names
    }

    func versionIDs(keys: [Int64]) throws -> [Int64: String] {
        let recorded = try connection.prepare("SELECT id FROM \(schema).versions WHERE seq = ?")
        var ids: [Int64: String] = [:]
        for key in keys {
            try recorded.bind(1, key)
            if try recorded.step() { ids[key] = recorded.string(0) }
            recorded.reset()
        }
        return ids
    }

    func forEachTaskValue(
        of field: String, since: String, until: String, env: String?, versions: [String],
        _ body: (_ version: String, _ startedAt: String, _ value: Double) throws -> Void
    ) throws {
        var conditions = ["started_at >= ?1", "started_at < ?2", "\(field) IS NOT NULL", "(?3 IS NULL OR env = ?3)"]
        if !versions.isEmpty {
            let ids = versions.indices.map { "?\($0 + 4)" }.joined(separator: ", ")
            conditions.append("version IN (SELECT seq FROM \(schema).versions WHERE id IN (\(ids)))")
        }
        let select = try connection.prepare(
            """
            SELECT versions.id, started_at, \(field)
            FROM \(schema).tasks JOIN \(schema).versions ON versions.seq = version
            WHERE \(conditions.joined(separator: " AND "))
            """)
        try select.bind(1, since)
        try select.bind(2, until)
        if let env { try select.bind(3, env) }
        for (index, version) in versions.enumerated() { try select.bind(Int32(index + 4), version) }
        while try select.step() { try body(select.string(0), select.string(1), select.double(2)) }
    }
}

extension Statement: TaskRow {
    func number(_ position: Int) -> Double? {
        isNull(Int32(position)) ? nil : double(Int32(position))
    }
}
