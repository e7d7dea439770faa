internal import PurserLedger

extension SQLiteTables: ChecklistTables {
    static let checklistTables = ["evaluations", "waivers", "checklist_runs"]

    static func createChecklistTables(_ schema: String) -> String {
        """
        CREATE TABLE IF NOT EXISTS \(schema).evaluations (
            seq INTEGER PRIMARY KEY, version TEXT NOT NULL, suite TEXT NOT NULL, at TEXT NOT NULL);
        CREATE TABLE IF NOT EXISTS \(schema).waivers (
            seq INTEGER PRIMARY KEY, version TEXT NOT NULL, check_id TEXT NOT NULL, expires TEXT NOT NULL);
        CREATE TABLE IF NOT EXISTS \(schema).checklist_runs (
            seq INTEGER PRIMARY KEY, version TEXT NOT NULL, env TEXT NOT NULL, allowed INTEGER NOT NULL,
            at TEXT NOT NULL, valid_until TEXT NOT NULL);

        """
    }

    func insertEvaluation(seq: Int64, version: String, suite: String, at: String) throws {
        try run(
            "INSERT INTO \(schema).evaluations VALUES (?, ?, ?, ?)", .int(seq), .text(version), .text(suite), .text(at))
    }

    func insertWaiver(seq: Int64, version: String, check: String, expires: String) throws {
        try run(
            "INSERT INTO \(schema).waivers VALUES (?, ?, ?, ?)", .int(seq), .text(version), .text(check),
            .text(expires))
    }

    func insertChecklistRun(
        seq: Int64, version: String, env: String, allowed: Bool, at: String, validUntil: String
    ) throws {
        try run(
            "INSERT INTO \(schema).checklist_runs VALUES (?, ?, ?, ?, ?, ?)", .int(seq), .text(version), .text(env),
            .int(allowed ? 1 : 0), .text(at), .text(validUntil))
    }
}
