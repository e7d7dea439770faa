public import PurserLedger

/// One environment's traffic as of some instant, and the change that made it so.
public struct EnvironmentTraffic: Sendable {
    public let env: String
    public let state: TrafficState
    /// When the last change before the instant took effect.
    public let effectiveAt: String
    /// The entry that recorded that change.
    public let seq: UInt64
}

/// One version's part in an environment's traffic.
public struct TrafficShare: Sendable, Equatable {
    public enum Role: String, Sendable {
        case serving, draining, shadow
    }

    public let version: String
    public let weight: Int
    public let role: Role

    public init(version: String, weight: Int, role: Role) {
        self.version = version
        self.weight = weight
        self.role = role
    }
}

/// A recorded change of an environment's traffic, with the traffic before and after it.
public struct TrafficEvent: Sendable {
    public let seq: UInt64
    /// When it was recorded.
    public let at: String
    /// When it took effect.
    public let effectiveAt: String
    public let env: String
    public let kind: String
    /// The entry's body (version, strategy, weight, reason, …).
    public let body: JSONValue
    public let before: TrafficState
    public let after: TrafficState
}

extension TrafficState {
    /// Who takes part in the traffic: versions serving a share, then shadows, then draining versions.
    public var shares: [TrafficShare] {
        var shares = serving.filter { $0.weight > 0 }.map {
            TrafficShare(version: $0.version, weight: $0.weight, role: .serving)
        }
        if let rollout, rollout.strategy == .shadow {
            shares.append(TrafficShare(version: rollout.candidate, weight: 0, role: .shadow))
        }
        shares += draining.map { TrafficShare(version: $0, weight: 0, role: .draining) }
        return shares
    }

    /// Every version the state mentions.
    public var versions: Set<String> {
        Set(serving.map(\.version) + draining + [rollout?.candidate, rollout?.baseline].compactMap { $0 })
    }
}

extension EnvironmentTraffic {
    /// The traffic of `row`, its stored state read.
    init(_ row: StoredTraffic) throws(LedgerError) {
        self.init(
            env: row.env, state: try TrafficState(stored: row.state, what: row.env), effectiveAt: row.effectiveAt,
            seq: UInt64(row.seq))
    }
}

extension Traffic {
    /// Each environment's current traffic (or only `env`'s), by name.
    public func status(env: EnvironmentName? = nil) throws(LedgerError) -> [EnvironmentTraffic] {
        try ledger.readTables { (tables: any TrafficTables) in
            try tables.currentTraffic(env: env?.name).map(EnvironmentTraffic.init)
        }
    }

    /// The traffic in force at `time` (ledger timestamp form) in each environment that had any by then:
    /// the state after the last change that took effect at or before `time`.
    public func at(_ time: String, env: EnvironmentName? = nil) throws(LedgerError) -> [EnvironmentTraffic] {
        try ledger.readTables { (tables: any TrafficTables) in
            try tables.traffic(at: time, env: env?.name).map(EnvironmentTraffic.init)
        }
    }

    /// The changes of traffic, oldest first by effective time (then by seq), filtered by environment, by a
    /// version taking part before or after the change, and by effective time (`since` inclusive, `until`
    /// exclusive). `offset` and `limit` choose a page of that list; only its events' entries are read.
    public func history(
        env: EnvironmentName? = nil, version: String? = nil, since: String? = nil, until: String? = nil,
        offset: Int = 0,
        limit: Int? = nil
    ) throws(LedgerError) -> [TrafficEvent] {
        let versionID = try version.map { (reference) throws(LedgerError) in try Versions(ledger).find(reference).id }
        let rows: [(seq: UInt64, env: String, effectiveAt: String, kind: String, state: TrafficState)] =
            try ledger.readTables { (tables: any TrafficTables) in
                try tables.trafficEvents(env: env?.name).map { (row) throws(LedgerError) in
                    (
                        UInt64(row.seq), row.env, row.effectiveAt, row.kind,
                        try TrafficState(stored: row.state, what: row.env)
                    )
                }
            }
        var previous: [String: TrafficState] = [:]
        var matching:
            [(
                row: (seq: UInt64, env: String, effectiveAt: String, kind: String, state: TrafficState),
                before: TrafficState
            )] = []
        for row in rows {
            let before = previous[row.env] ?? TrafficState()
            previous[row.env] = row.state
            if let since, row.effectiveAt < since { continue }
            if let until, row.effectiveAt >= until { continue }
            if let versionID, !before.versions.contains(versionID) && !row.state.versions.contains(versionID) {
                continue
            }
            matching.append((row, before))
        }
        matching.sort { ($0.row.effectiveAt, $0.row.seq) < ($1.row.effectiveAt, $1.row.seq) }
        var events: [TrafficEvent] = []
        for (row, before) in matching.dropFirst(max(0, offset)).prefix(max(0, limit ?? .max)) {
            guard let entry = try ledger.entry(row.seq) else {
                throw LedgerError(.integrity, "traffic event \(row.seq) has no entry; run `purser verify`")
            }
            events.append(
                TrafficEvent(
                    seq: row.seq, at: entry.at, effectiveAt: row.effectiveAt, env: row.env, kind: row.kind,
                    body: try entry.body, before: before, after: row.state))
        }
        return events
    }

    /// The latest `deployment.started` entry of `env` (the start of a rollout in progress there), checked
    /// against its `traffic_events` row; nil if `env` had none.
    func latestStartEntry(in env: EnvironmentName) throws(LedgerError) -> SourceEntry? {
        try ledger.readTables { (tables: any TrafficTables) in
            guard let (seq, effectiveAt) = try tables.latestStarts(in: env.name).first else { return nil }
            let source = try SourceEntry(
                seq, kinds: ["deployment.started"], row: "traffic_events row \(seq)", ledger: ledger)
            try source.require("env", env.name, equals: source.body["env"]?.stringValue)
            try source.require(
                "effective_at", effectiveAt, equals: source.body["effective_at"]?.stringValue ?? source.at)
            return source
        }
    }

    /// When the latest deployment of `candidate` (an id) in `env` took effect, or nil if it was never deployed
    /// there. Each row read is checked against its entry, and a later start of the candidate may not be missing.
    func latestStart(of candidate: String, in env: EnvironmentName) throws(LedgerError) -> String? {
        let env = env.name
        return try ledger.readTables { (tables: any TrafficTables) in
            let kind = "deployment.started"
            func isStart(_ body: JSONValue) -> Bool {
                body["env"]?.stringValue == env && body["version"]?.stringValue == candidate
            }
            for (seq, effectiveAt) in try tables.latestStarts(in: env) {
                let row = "traffic_events row \(seq)"
                let source = try SourceEntry(seq, kinds: [kind], row: row, ledger: ledger)
                try source.require("env", env, equals: source.body["env"]?.stringValue)
                try source.require(
                    "effective_at", effectiveAt, equals: source.body["effective_at"]?.stringValue ?? source.at)
                guard isStart(source.body) else { continue }
                try SourceEntry.requireNoLater(
                    kind, after: seq, row: row, what: "a start of \(candidate.prefix(12)) in \(env)",
                    ledger: ledger, isStart)
                return effectiveAt
            }
            try SourceEntry.requireNoLater(
                kind, after: -1, row: "the traffic_events table", what: "a start of \(candidate.prefix(12)) in \(env)",
                ledger: ledger, isStart)
            return nil
        }
    }
}
