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

    func currentTraffic(env: String?) throws -> [StoredTraffic] {
        let select = try query(
            "SELECT env, state, effective_at, seq FROM \(schema).environments WHERE ?1 IS NULL OR env = ?1 ORDER BY env",
            env.map { .text($0) } ?? .null)
        var found: [StoredTraffic] = []
        while try select.step() {
            found.append(
                StoredTraffic(
                    env: select.string(0), state: select.bytes(1), effectiveAt: select.string(2),
                    seq: select.int64(3)))
        }
        return found
    }

    func traffic(at time: String, env: String?) throws -> [StoredTraffic] {
        let environments = try query(
            "SELECT env FROM \(schema).environments WHERE ?1 IS NULL OR env = ?1 ORDER BY env",
            env.map { .text($0) } ?? .null)
        let latest = try query(
            """
            SELECT state, effective_at, seq FROM \(schema).traffic_events
            WHERE env = ? AND effective_at <= ? ORDER BY effective_at DESC, seq DESC LIMIT 1
            """)
        var found: [StoredTraffic] = []
        while try environments.step() {
            let name = environments.string(0)
            try latest.bind(1, name)
            try latest.bind(2, time)
            defer { latest.reset() }
            guard try latest.step() else { continue }
            found.append(
                StoredTraffic(env: name, state: latest.bytes(0), effectiveAt: latest.string(1), seq: latest.int64(2)))
        }
        return found
    }

    func trafficEvents(env: String?) throws -> [StoredTrafficChange] {
        let select = try query(
            "SELECT seq, env, effective_at, kind, state FROM \(schema).traffic_events WHERE ?1 IS NULL OR env = ?1 ORDER BY seq",
            env.map { .text($0) } ?? .null)
        var found: [StoredTrafficChange] = []
        while try select.step() {
            found.append(
                StoredTrafficChange(
                    seq: select.int64(0), env: select.string(1), effectiveAt: select.string(2),
                    kind: select.string(3), state: select.bytes(4)))
        }
        return found
    }

    func latestStarts(in env: String) throws -> [(seq: Int64, effectiveAt: String)] {
        let select = try query(
            "SELECT seq, effective_at FROM \(schema).traffic_events WHERE env = ? AND kind = 'deployment.started' ORDER BY seq DESC",
            .text(env))
        var found: [(seq: Int64, effectiveAt: String)] = []
        while try select.step() { found.append((select.int64(0), select.string(1))) }
        return found
    }
}
