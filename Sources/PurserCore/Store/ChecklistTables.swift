/// The `evaluations`, `waivers` and `checklist_runs` tables: the evidence and the runs of the release checklist.
protocol ChecklistTables {
    /// Adds the evaluation of `version` by `suite` that entry `seq` recorded.
    func insertEvaluation(seq: Int64, version: String, suite: String, at: String) throws
    /// Adds the waiver of `check` for `version` that entry `seq` granted, until `expires`.
    func insertWaiver(seq: Int64, version: String, check: String, expires: String) throws
    /// Adds the checklist run of entry `seq`.
    func insertChecklistRun(
        seq: Int64, version: String, env: String, allowed: Bool, at: String, validUntil: String) throws

    /// The latest evaluation of `version` (by `suite`, if given): its seq and suite, or nil if there is none.
    func latestEvaluation(version: String, suite: String?) throws -> (seq: Int64, suite: String)?
    /// The latest waiver of each check for `version` that expires after `now`: its seq, by check id.
    func activeWaivers(version: String, now: String) throws -> [String: Int64]
    /// The latest checklist run of `version` in `env`, or nil if there is none.
    func latestChecklistRun(version: String, env: String) throws -> ChecklistRunRow?
}

/// A row of the `checklist_runs` table: one run of the checklist, as the gate decides on it.
struct ChecklistRunRow {
    let seq: Int64
    let version: String
    let env: String
    let allowed: Bool
    let at: String
    /// When the run stops allowing a deployment: `at` plus its policy's `max-age`.
    let validUntil: String
}
