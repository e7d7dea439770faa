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

    func firstLabel(of id: String) throws -> String? {
        let select = try query(
            "SELECT label FROM \(schema).version_labels WHERE id = ? ORDER BY seq, label LIMIT 1", .text(id))
        return try select.step() ? select.string(0) : nil
    }
}
