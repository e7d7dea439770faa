/// The `versions` and `version_labels` tables: each recorded behavioral version and its labels.
protocol VersionTables {
    /// Adds a version recorded by entry `seq`, unless one of that id exists.
    func insertVersion(id: String, seq: Int64, at: String, agent: String, components: [UInt8]) throws
    /// Adds `label` for version `id`, recorded by entry `seq`, unless the label exists.
    func insertLabel(_ label: String, id: String, seq: Int64) throws
    /// Whether a version with exactly this id is recorded.
    func hasVersion(_ id: String) throws -> Bool
    /// The version id `label` names and the entry that recorded the label, or nil if no version has it.
    func labelled(_ label: String) throws -> (id: String, seq: Int64)?
    /// The recorded ids that start with `prefix` (lowercase hex), in id order, at most `limit` of them.
    func versionIDs(prefix: String, limit: Int) throws -> [String]
    /// The labels of version `id`, each with the entry that recorded it, oldest first (by seq, then label).
    func labels(of id: String) throws -> [(label: String, seq: Int64)]
    /// The versions recorded from entry `seq` on (only the one of id `id`, if given), in the order they were first
    /// recorded, at most `limit` of them (all if nil).
    func versionRows(id: String?, from seq: Int64, limit: Int?) throws -> [VersionRow]
    /// Every label with the id it names, the newest first (by seq, then label).
    func labelsNewestFirst() throws -> [(id: String, label: String)]
}

/// A `versions` row with its labels.
struct VersionRow {
    let id: String
    let agent: String
    /// The components as the entry listed them (canonical JSON), as stored: they may be unreadable.
    let components: [UInt8]
    /// The entry that first recorded it.
    let seq: Int64
    let at: String
    /// Oldest first (by seq, then label).
    let labels: [String]
}
