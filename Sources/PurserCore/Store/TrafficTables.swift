/// The `environments`, `traffic_events` and `rollback_drills` tables: each environment's current traffic, every
/// change of it, and the rollback drills.
protocol TrafficTables {
    /// Records the change of entry `seq` (of `kind`) to `env`: its state after it (canonical JSON), effective at
    /// `effectiveAt`, and makes that the environment's current state.
    func insertTrafficEvent(seq: Int64, env: String, effectiveAt: String, kind: String, state: [UInt8]) throws
    /// Adds the rollback drill of entry `seq`.
    func insertDrill(seq: Int64, env: String, from: String, to: String, result: String, at: String) throws

    /// The current traffic of every environment, or only of `env`, by name.
    func currentTraffic(env: String?) throws -> [StoredTraffic]
    /// The traffic in force at `time` in every environment (or only `env`) changed by then, by name: the state
    /// after its last change effective at or before `time` (the latest effective time, then the highest seq).
    func traffic(at time: String, env: String?) throws -> [StoredTraffic]
    /// Every change of traffic, in all environments or only in `env`, in seq order.
    func trafficEvents(env: String?) throws -> [StoredTrafficChange]
    /// The seq and effective time of each `deployment.started` change in `env`, the latest seq first.
    func latestStarts(in env: String) throws -> [(seq: Int64, effectiveAt: String)]
}

/// An environment's traffic as the tables keep it: its state (canonical JSON), when the change that made it took
/// effect, and that change's entry.
struct StoredTraffic {
    let env: String
    let state: [UInt8]
    let effectiveAt: String
    let seq: Int64
}

/// One change of an environment's traffic as the tables keep it, with the state after it (canonical JSON).
struct StoredTrafficChange {
    let seq: Int64
    let env: String
    let effectiveAt: String
    let kind: String
    let state: [UInt8]
}
