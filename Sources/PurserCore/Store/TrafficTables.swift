/// The `environments`, `traffic_events` and `rollback_drills` tables: each environment's current traffic, every
/// change of it, and the rollback drills.
protocol TrafficTables {
    /// The stored traffic of `env` (its state's canonical JSON) and when its last change took effect, or nil.
    func environment(_ env: String) throws -> (state: [UInt8], effectiveAt: String)?
    /// Records the change of entry `seq` (of `kind`) to `env`: its state after it (canonical JSON), effective at
    /// `effectiveAt`, and makes that the environment's current state.
    func insertTrafficEvent(seq: Int64, env: String, effectiveAt: String, kind: String, state: [UInt8]) throws
    /// Adds the rollback drill of entry `seq`.
    func insertDrill(seq: Int64, env: String, from: String, to: String, result: String, at: String) throws
}
