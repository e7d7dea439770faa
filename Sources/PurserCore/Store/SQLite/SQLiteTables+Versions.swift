internal import PurserLedger

extension SQLiteTables: VersionTables {
    static let versionTables = ["versions", "version_labels"]

    static func createVersionTables(_ schema: String) -> String {
        """
        CREATE TABLE IF NOT EXISTS \(schema).versions (
            id TEXT PRIMARY KEY, seq INTEGER NOT NULL, at TEXT NOT NULL, agent TEXT NOT NULL,
            components BLOB NOT NULL);
        CREATE TABLE IF NOT EXISTS \(schema).version_labels (
            label TEXT PRIMARY KEY, id TEXT NOT NULL, seq INTEGER NOT NULL);

        """
    }

    func insertVersion(id: String, seq: Int64, at: String, agent: String, components: [UInt8]) throws {
        try run(
            "INSERT OR IGNORE INTO \(schema).versions VALUES (?, ?, ?, ?, ?)", .text(id), .int(seq), .text(at),
            .text(agent), .blob(components))
    }

    func insertLabel(_ label: String, id: String, seq: Int64) throws {
        try run("INSERT OR IGNORE INTO \(schema).version_labels VALUES (?, ?, ?)", .text(label), .text(id), .int(seq))
    }

    func hasVersion(_ id: String) throws -> Bool {
        try query("SELECT id FROM \(schema).versions WHERE id = ?", .text(id)).step()
    }

    func labelled(_ label: String) throws -> (id: String, seq: Int64)? {
        let select = try query("SELECT id, seq FROM \(schema).version_labels WHERE label = ?", .text(label))
        return try select.step() ? (select.string(0), select.int64(1)) : nil
    }

    func versionIDs(prefix: String, limit: Int) throws -> [String] {
        let select = try query(
            "SELECT id FROM \(schema).versions WHERE id >= ?1 AND id < ?1 || 'g' ORDER BY id LIMIT ?2", .text(prefix),
            .int(Int64(limit)))
        var ids: [String] = []
        while try select.step() { ids.append(select.string(0)) }
        return ids
    }

    func labels(of id: String) throws -> [(label: String, seq: Int64)] {
        let select = try query(
            "SELECT label, seq FROM \(schema).version_labels WHERE id = ? ORDER BY seq, label", .text(id))
        var labels: [(label: String, seq: Int64)] = []
        while try select.step() { labels.append((select.string(0), select.int64(1))) }
        return labels
    }

    func versionRows(id: String?, from seq: Int64, limit: Int?) throws -> [VersionRow] {
        let select = try query(
            """
            SELECT v.id, v.agent, v.components, v.seq, v.at,
                (SELECT group_concat(label, char(10)) FROM (
                    SELECT label FROM \(schema).version_labels l WHERE l.id = v.id ORDER BY l.seq, l.label))
            FROM \(schema).versions v WHERE v.seq >= ?2 \(id == nil ? "" : "AND v.id = ?1")
            ORDER BY v.seq LIMIT ?3
            """, id.map { .text($0) } ?? .null, .int(seq), .int(Int64(limit ?? -1)))
        var rows: [VersionRow] = []
        while try select.step() {
            rows.append(
                VersionRow(
                    id: select.string(0), agent: select.string(1), components: select.bytes(2), seq: select.int64(3),
                    at: select.string(4),
                    labels: select.isNull(5) ? [] : select.string(5).split(separator: "\n").map(String.init)))
        }
        return rows
    }

    func labelsNewestFirst() throws -> [(id: String, label: String)] {
        let select = try query("SELECT id, label FROM \(schema).version_labels ORDER BY seq DESC, label DESC")
        var labels: [(id: String, label: String)] = []
        while try select.step() { labels.append((select.string(0), select.string(1))) }
        return labels
    }
}
