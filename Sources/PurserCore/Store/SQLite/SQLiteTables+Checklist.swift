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

    func latestEvaluation(version: String, suite: String?) throws -> (seq: Int64, suite: String)? {
        let select = try query(
            "SELECT seq, suite FROM \(schema).evaluations WHERE version = ?1 AND (?2 IS NULL OR suite = ?2) ORDER BY seq DESC LIMIT 1",
            .text(version), suite.map { .text($0) } ?? .null)
        return try select.step() ? (select.int64(0), select.string(1)) : nil
    }

    func activeWaivers(version: String, now: String) throws -> [String: Int64] {
        let select = try query(
            "SELECT check_id, max(seq) FROM \(schema).waivers WHERE version = ? AND expires > ? GROUP BY check_id",
            .text(version), .text(now))
        var active: [String: Int64] = [:]
        while try select.step() { active[select.string(0)] = select.int64(1) }
        return active
    }

    func latestChecklistRun(version: String, env: String) throws -> ChecklistRunRow? {
        let select = try query(
            "SELECT seq, allowed, at, valid_until FROM \(schema).checklist_runs WHERE version = ? AND env = ? ORDER BY seq DESC LIMIT 1",
            .text(version), .text(env))
        guard try select.step() else { return nil }
        return ChecklistRunRow(
            seq: select.int64(0), version: version, env: env, allowed: select.int64(1) == 1, at: select.string(2),
            validUntil: select.string(3))
    }
}
