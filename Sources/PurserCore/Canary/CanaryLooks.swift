internal import PurserLedger

/// The look number of each judgement of a rollout: fed the `deployment.started` and `canary.judged` entries in
/// seq order, it counts the judgements of each canary in each environment since that canary's latest
/// `deployment.started` there. `canary judge` and `verify` count the same way.
struct CanaryLooks {
    static let kinds: Set<String> = ["deployment.started", "canary.judged"]

    private struct Rollout: Hashable {
        let env: String
        let canary: String
    }

    private var judged: [Rollout: Int] = [:]

    /// The look number the next judgement of `canary` in `env` gets: 1 + the judgements since its latest start.
    func next(env: String, canary: String) -> Int {
        (judged[Rollout(env: env, canary: canary)] ?? 0) + 1
    }

    /// Takes in the next entry of `kinds`: a start of a version resets its count, a judgement adds one.
    mutating func add(kind: String, body: JSONValue) {
        switch kind {
        case "deployment.started":
            if let env = body["env"]?.stringValue, let version = body["version"]?.stringValue {
                judged[Rollout(env: env, canary: version)] = nil
            }
        case "canary.judged":
            if let env = body["env"]?.stringValue, let canary = body["canary"]?.stringValue {
                judged[Rollout(env: env, canary: canary), default: 0] += 1
            }
        default: break
        }
    }

    /// The look number the next judgement of `canary` in `env` gets, from every entry of the ledger.
    static func next(_ ledger: Ledger, env: String, canary: String) throws(LedgerError) -> Int {
        var looks = CanaryLooks()
        try ledger.forEachEntry(kinds: kinds) { entry in looks.add(kind: entry.kind, body: try entry.body) }
        return looks.next(env: env, canary: canary)
    }
}
