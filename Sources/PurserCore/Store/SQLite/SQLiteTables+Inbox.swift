internal import PurserLedger

extension SQLiteTables: InboxTables {
    func createInbox() throws {
        try connection.execute(
            """
            CREATE TABLE IF NOT EXISTS \(schema).otlp_inbox (
                id INTEGER PRIMARY KEY, received_at TEXT NOT NULL, sender TEXT NOT NULL, encoding TEXT NOT NULL,
                payload BLOB NOT NULL);
            CREATE TABLE IF NOT EXISTS \(schema).otlp_taken (
                request INTEGER NOT NULL, trace TEXT NOT NULL, PRIMARY KEY (request, trace)) WITHOUT ROWID;
            """)
    }

    func insertInbox(receivedAt: String, sender: String, encoding: String, payload: [UInt8]) throws -> Int64 {
        let insert = try query(
            """
            INSERT INTO \(schema).otlp_inbox (received_at, sender, encoding, payload) VALUES (?, ?, ?, ?)
            RETURNING id
            """, .text(receivedAt), .text(sender), .text(encoding), .blob(payload))
        guard try insert.step() else { throw LedgerError(.internal, "the inbox gave no id to a request") }
        let id = insert.int64(0)
        _ = try insert.step()
        return id
    }

    func forEachInboxPayload(_ body: (InboxPayload) throws -> Void) throws {
        let exists = try connection.scalarInt(
            "SELECT count(*) FROM \(schema).sqlite_master WHERE type = 'table' AND name = 'otlp_taken'")
        guard exists == 1 else { return }
        var taken: [Int64: Set<String>] = [:]
        let traces = try query("SELECT request, trace FROM \(schema).otlp_taken")
        while try traces.step() { taken[traces.int64(0), default: []].insert(traces.string(1)) }
        let requests = try query(
            "SELECT id, received_at, sender, encoding, payload FROM \(schema).otlp_inbox ORDER BY id")
        while try requests.step() {
            let id = requests.int64(0)
            try body(
                InboxPayload(
                    id: id, receivedAt: requests.string(1), sender: requests.string(2), encoding: requests.string(3),
                    payload: requests.bytes(4), taken: taken[id] ?? []))
        }
    }

    func finishInbox(done: [Int64], taken: [(request: Int64, trace: String)]) throws {
        let delete = try connection.prepare("DELETE FROM \(schema).otlp_inbox WHERE id = ?")
        let untake = try connection.prepare("DELETE FROM \(schema).otlp_taken WHERE request = ?")
        for id in done {
            for statement in [delete, untake] {
                try statement.bind(1, id)
                try statement.step()
                statement.reset()
            }
        }
        let insert = try connection.prepare("INSERT OR IGNORE INTO \(schema).otlp_taken VALUES (?, ?)")
        for (request, trace) in taken {
            try insert.bind(1, request)
            try insert.bind(2, trace)
            try insert.step()
            insert.reset()
        }
    }
}
