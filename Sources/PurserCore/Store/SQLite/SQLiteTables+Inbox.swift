internal import PurserLedger

extension SQLiteTables: InboxTables {
    func createInbox() throws {
        // AUTOINCREMENT, from a random start: a request's number is never given again, in this file or (but for one
        // chance in 2^61 or so) another, so that the ledger's record of what its entries took (`otlp_summarized`)
        // never names a later request.
        try connection.execute(
            """
            CREATE TABLE IF NOT EXISTS \(schema).otlp_inbox (
                id INTEGER PRIMARY KEY AUTOINCREMENT, received_at TEXT NOT NULL, sender TEXT NOT NULL,
                encoding TEXT NOT NULL, payload BLOB NOT NULL);
            INSERT INTO \(schema).sqlite_sequence (name, seq) SELECT 'otlp_inbox', abs(random() >> 2)
                WHERE NOT EXISTS (SELECT 1 FROM \(schema).sqlite_sequence WHERE name = 'otlp_inbox');
            CREATE TABLE IF NOT EXISTS \(schema).otlp_taken (
                request INTEGER NOT NULL, trace TEXT NOT NULL, PRIMARY KEY (request, trace)) WITHOUT ROWID;
            """)
    }

    func insertInbox(
        id: Int64?, receivedAt: String, sender: String, encoding: String, payload: [UInt8]
    ) throws
        -> Int64
    {
        // A request moved again (`id` given) is there already: ignored, it returns no row.
        let insert = try query(
            """
            INSERT OR IGNORE INTO \(schema).otlp_inbox (id, received_at, sender, encoding, payload)
            VALUES (?, ?, ?, ?, ?) RETURNING id
            """, id.map(Value.int) ?? .null, .text(receivedAt), .text(sender), .text(encoding), .blob(payload))
        guard try insert.step() else {
            guard let id else { throw LedgerError(.internal, "the inbox gave no id to a request") }
            return id
        }
        let kept = insert.int64(0)
        _ = try insert.step()
        return kept
    }

    func forEachInboxPayload(_ body: (InboxPayload) throws -> Void) throws {
        guard try hasTable("otlp_taken") else { return }
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
        // Only of requests still kept: finishing again after a restart must not record traces of one deleted.
        let insert = try connection.prepare(
            """
            INSERT OR IGNORE INTO \(schema).otlp_taken SELECT ?1, ?2 WHERE EXISTS (
                SELECT 1 FROM \(schema).otlp_inbox WHERE id = ?1)
            """)
        for (request, trace) in taken {
            try insert.bind(1, request)
            try insert.bind(2, trace)
            try insert.step()
            insert.reset()
        }
    }

    func dropInbox() throws {
        try connection.execute("DROP TABLE IF EXISTS \(schema).otlp_inbox; DROP TABLE IF EXISTS \(schema).otlp_taken")
    }
}

extension SQLiteTables: SummarizedRequestTables {
    /// Made by the first batch, so that a server that receives no OTLP writes nothing.
    private func createSummarized() throws {
        // `trace` is empty for a request all of whose traces are summarized.
        try connection.execute(
            """
            CREATE TABLE IF NOT EXISTS \(schema).otlp_summarized (
                seq INTEGER NOT NULL, request INTEGER NOT NULL, trace TEXT NOT NULL)
            """)
    }

    func recordSummarized(seq: Int64, done: [Int64], taken: [(request: Int64, trace: String)]) throws {
        try createSummarized()
        let insert = try connection.prepare("INSERT INTO \(schema).otlp_summarized VALUES (?, ?, ?)")
        for (request, trace) in done.map({ ($0, "") }) + taken {
            try insert.bind(1, seq)
            try insert.bind(2, request)
            try insert.bind(3, trace)
            try insert.step()
            insert.reset()
        }
    }

    func summarizedRequests() throws -> (done: [Int64], taken: [(request: Int64, trace: String)], through: Int64?) {
        guard try hasTable("otlp_summarized") else { return ([], [], nil) }
        var (done, taken, through): ([Int64], [(request: Int64, trace: String)], Int64?) = ([], [], nil)
        let rows = try query("SELECT seq, request, trace FROM \(schema).otlp_summarized ORDER BY seq")
        while try rows.step() {
            through = rows.int64(0)
            let trace = rows.string(2)
            if trace.isEmpty { done.append(rows.int64(1)) } else { taken.append((rows.int64(1), trace)) }
        }
        return (done, taken, through)
    }

    func forgetSummarized(through seq: Int64) throws {
        guard try hasTable("otlp_summarized") else { return }
        try run("DELETE FROM \(schema).otlp_summarized WHERE seq <= ?", .int(seq))
    }
}
