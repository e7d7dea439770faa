/// The `versions` and `version_labels` tables: each recorded behavioral version and its labels.
protocol VersionTables {
    /// Adds a version recorded by entry `seq`, unless one of that id exists.
    func insertVersion(id: String, seq: Int64, at: String, agent: String, components: [UInt8]) throws
    /// Adds `label` for version `id`, recorded by entry `seq`, unless the label exists.
    func insertLabel(_ label: String, id: String, seq: Int64) throws
    /// The first label recorded for version `id`, or nil.
    func firstLabel(of id: String) throws -> String?
}
