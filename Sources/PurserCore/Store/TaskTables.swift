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
