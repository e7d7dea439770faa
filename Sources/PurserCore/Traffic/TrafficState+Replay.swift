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
    static func replayed(env: String, connection: Connection) throws -> (state: TrafficState, effectiveAt: String)? {
        let kinds = changeKinds.sorted()
        let select = try connection.prepare(
            """
            SELECT seq, entry FROM main.entries WHERE seq IN (
                SELECT seq FROM main.entries WHERE kind IN (\(kinds.map { _ in "?" }.joined(separator: ", "))))
            AND instr(entry, ?) > 0 ORDER BY seq
            """)
        for (index, kind) in kinds.enumerated() { try select.bind(Int32(index + 1), kind) }
        try select.bind(
            Int32(kinds.count + 1),
            bytes: Array(CanonicalJSON.encode(.object(["env": .string(env)])).dropFirst().dropLast()))
        var replayed: (state: TrafficState, effectiveAt: String)?
        while try select.step() {
            let seq = UInt64(select.int64(0))
            guard let entry = try? JSONValue(parsing: select.bytes(1)), let kind = entry["kind"]?.stringValue,
                let at = entry["at"]?.stringValue, let body = entry["body"], body["env"]?.stringValue == env,
                let change = try? TrafficChange(kind: kind, body: body, seq: seq)
            else { continue }
            let effectiveAt = body["effective_at"]?.stringValue ?? at
            var state = replayed?.state ?? TrafficState()
            guard effectiveAt >= replayed?.effectiveAt ?? "", (try? state.apply(change)) != nil else { continue }
            replayed = (state, effectiveAt)
        }
        return replayed
    }
}
