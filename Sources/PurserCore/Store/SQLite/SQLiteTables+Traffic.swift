internal import PurserLedger

extension SQLiteTables: TrafficTables {
    static let trafficTables = ["environments", "traffic_events", "rollback_drills"]

    static func createTrafficTables(_ schema: String) -> String {
        """
        CREATE TABLE IF NOT EXISTS \(schema).environments (
            env TEXT PRIMARY KEY, state BLOB NOT NULL, effective_at TEXT NOT NULL, seq INTEGER NOT NULL);
        CREATE TABLE IF NOT EXISTS \(schema).traffic_events (
            seq INTEGER PRIMARY KEY, env TEXT NOT NULL, effective_at TEXT NOT NULL, kind TEXT NOT NULL,
            state BLOB NOT NULL);
        CREATE INDEX IF NOT EXISTS \(schema).traffic_events_by_env ON traffic_events(env, effective_at, seq);
        CREATE TABLE IF NOT EXISTS \(schema).rollback_drills (
            seq INTEGER PRIMARY KEY, env TEXT NOT NULL, from_version TEXT NOT NULL, to_version TEXT NOT NULL,
            result TEXT NOT NULL, at TEXT NOT NULL);

        """
    }

    func environment(_ env: String) throws -> (state: [UInt8], effectiveAt: String)? {
        let select = try query("SELECT state, effective_at FROM \(schema).environments WHERE env = ?", .text(env))
        guard try select.step() else { return nil }
        return (select.bytes(0), select.string(1))
    }

    func insertTrafficEvent(seq: Int64, env: String, effectiveAt: String, kind: String, state: [UInt8]) throws {
        try run(
            "INSERT INTO \(schema).traffic_events VALUES (?, ?, ?, ?, ?)", .int(seq), .text(env), .text(effectiveAt),
            .text(kind), .blob(state))
        try run(
            "INSERT OR REPLACE INTO \(schema).environments VALUES (?, ?, ?, ?)", .text(env), .blob(state),
            .text(effectiveAt), .int(seq))
    }

    func insertDrill(seq: Int64, env: String, from: String, to: String, result: String, at: String) throws {
        try run(
            "INSERT INTO \(schema).rollback_drills VALUES (?, ?, ?, ?, ?, ?)", .int(seq), .text(env), .text(from),
            .text(to), .text(result), .text(at))
    }
}
