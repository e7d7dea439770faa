/// The `evaluations`, `waivers` and `checklist_runs` tables: the evidence and the runs of the release checklist.
protocol ChecklistTables {
    /// Adds the evaluation of `version` by `suite` that entry `seq` recorded.
    func insertEvaluation(seq: Int64, version: String, suite: String, at: String) throws
    /// Adds the waiver of `check` for `version` that entry `seq` granted, until `expires`.
    func insertWaiver(seq: Int64, version: String, check: String, expires: String) throws
    /// Adds the checklist run of entry `seq`.
    func insertChecklistRun(
        seq: Int64, version: String, env: String, allowed: Bool, at: String, validUntil: String) throws
}
