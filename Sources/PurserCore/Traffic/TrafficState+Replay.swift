internal import Foundation
internal import PurserLedger

extension TrafficState {
    /// The entry kinds that change an environment's traffic.
    static let changeKinds: Set<String> = [
        "deployment.started", "traffic.shifted", "deployment.promoted", "deployment.drained", "deployment.aborted",
        "rollback.performed",
    ]

    /// The traffic of `env` replayed from its entries alone, and when its last change took effect; nil if it has
    /// none. Only the lifecycle entries naming `env` are parsed (found through the kind index and the canonical
    /// `"env":"<env>"` in their bytes). An entry replay cannot apply (unreadable, an invalid change, or taking
    /// effect before the previous one) is passed over, as the query tables pass over it.
    static func replayed(
        env: EnvironmentName, ledger: Ledger
    ) throws(LedgerError) -> (state: TrafficState, effectiveAt: String)? {
        let env = env.name
        let needle = Array(CanonicalJSON.encode(.object(["env": .string(env)])).dropFirst().dropLast())
        var replayed: (state: TrafficState, effectiveAt: String)?
        try ledger.forEachEntry(kinds: changeKinds, containing: needle) { row in
            guard let entry = try? JSONValue(parsing: row.bytes),
                let kind = entry["kind"]?.stringValue, let at = entry["at"]?.stringValue, let body = entry["body"],
                body["env"]?.stringValue == env, let change = try? TrafficChange(kind: kind, body: body, seq: row.seq)
            else { return }
            let effectiveAt = body["effective_at"]?.stringValue ?? at
            var state = replayed?.state ?? TrafficState()
            guard effectiveAt >= replayed?.effectiveAt ?? "", (try? state.apply(change)) != nil else { return }
            replayed = (state, effectiveAt)
        }
        return replayed
    }
}
