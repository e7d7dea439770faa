/// The `tasks` table: the task records of every metrics ingestion, by version and environment.
protocol TaskTables {
    /// Inserts task records as rows of the `metrics.summarized` entry `seq`, in their order from the record at
    /// `position` of its file on, each with the id `versions` maps its version to; a record whose task id is
    /// already known (also from earlier in the file) is skipped.
    /// - Returns: the versions and environments of the records, for `countTasks`.
    /// - Throws: `.integrity` for a record whose version `versions` lacks, or that was never recorded.
    @discardableResult
    func insertTasks(
        _ records: some Collection<TaskRecord>, seq: UInt64, from position: Int, versions: [String: String]
    ) throws -> Set<TaskGroup>

    /// The rows of the `metrics.summarized` entry `seq` per version id, in the versions and environments
    /// `insertTasks` returned: only versions with rows.
    func countTasks(seq: UInt64, in groups: Set<TaskGroup>) throws -> [String: Int]

    /// Calls `body` with each task of version `id` in `env` that started at or after `since`, from the
    /// ingestions before entry `seq`, in the order they were ingested; the row holds the values of `columns`
    /// (the task record's fields: `error`, `quality`, `tool_calls`, …), in that order.
    func forEachTask(
        version id: String, env: String, since: String, before seq: UInt64, columns: [String],
        _ body: (any TaskRow) throws -> Void
    ) throws

    /// Calls `body` with each task that `filter` selects, in no particular order, with its version's key, its
    /// group's number and its measures. Tasks are grouped by the task record's field `group` (a task without it in
    /// the group ""); the groups are numbered 0, 1, … as first met; without `group`, every task is in group 0.
    /// - Returns: the groups' values, by number (empty without `group`).
    @discardableResult
    func forEachMeasuredTask(
        _ filter: TaskFilter, groupedBy group: String?,
        _ body: (_ version: Int64, _ group: Int, _ measures: TaskMeasures) throws -> Void
    ) throws -> [String]

    /// The ids of the versions whose keys in the tasks table are `keys` (as `forEachMeasuredTask` gives them); a
    /// key that names no version is missing.
    func versionIDs(keys: [Int64]) throws -> [Int64: String]

    /// Calls `body` with the version id, start and value of `field` (a number or a flag as 0 or 1) of each task
    /// that carries it, started at or after `since` and before `until`, in `env` (any if nil), of `versions`
    /// (ids; any if empty), in no particular order.
    func forEachTaskValue(
        of field: String, since: String, until: String, env: String?, versions: [String],
        _ body: (_ version: String, _ startedAt: String, _ value: Double) throws -> Void
    ) throws
}

/// One task's values, of the columns asked for, by position.
protocol TaskRow {
    /// The value at `position` as a number (a flag as 0 or 1), or nil if the task has none.
    func number(_ position: Int) -> Double?
}

/// A version (its id and its key in the tasks table) and an environment, whose tasks the store keeps together.
struct TaskGroup: Hashable {
    let id: String
    let key: Int64
    let env: String
}

/// Which tasks a metrics report reads: in an environment, of versions (ids), started in a window (`since`
/// inclusive, `until` exclusive); nil or empty for no condition.
struct TaskFilter {
    let env: String?
    let versions: [String]
    let since: String?
    let until: String?
}

/// The measures of a task (those of its record), nil when the record does not carry them.
struct TaskMeasures {
    let durationMS: Double
    let completed: Bool
    let error: Bool
    let inputTokens: Double?
    let outputTokens: Double?
    let costUSD: Double?
    let toolCalls: Double?
    let toolErrors: Double?
    let toolLatencyMS: Double?
    let quality: Double?
}
