internal import PurserLedger

extension TrafficState {
    /// The state as the projection tables store it (canonical JSON, so equal states are equal bytes).
    var json: JSONValue {
        func optional(_ text: String?) -> JSONValue { text.map(JSONValue.string) ?? .null }
        return .object([
            "serving": .array(
                serving.map { .object(["version": .string($0.version), "weight": .number(Double($0.weight))]) }),
            "draining": .array(draining.map(JSONValue.string)),
            "rollout": rollout.map {
                .object([
                    "strategy": .string($0.strategy.rawValue), "candidate": .string($0.candidate),
                    "baseline": .string($0.baseline),
                ])
            } ?? .null,
            "stable": optional(stable),
            "previous_stable": optional(previousStable),
        ])
    }

    init?(json: JSONValue) {
        guard case .array(let serving) = json["serving"] ?? .null, case .array(let draining) = json["draining"] ?? .null
        else { return nil }
        for share in serving {
            guard let version = share["version"]?.stringValue, let weight = share["weight"]?.numberValue else {
                return nil
            }
            self.serving.append(Share(version: version, weight: Int(weight)))
        }
        self.draining = draining.compactMap(\.stringValue)
        if let rollout = json["rollout"], rollout != .null {
            guard let strategy = rollout["strategy"]?.stringValue.flatMap(Strategy.init(rawValue:)),
                let candidate = rollout["candidate"]?.stringValue, let baseline = rollout["baseline"]?.stringValue
            else { return nil }
            self.rollout = Rollout(strategy: strategy, candidate: candidate, baseline: baseline)
        }
        self.stable = json["stable"]?.stringValue
        self.previousStable = json["previous_stable"]?.stringValue
    }
}

extension TrafficChange {
    /// Reads the change a lifecycle entry records, or nil if `kind` is not a traffic change.
    /// - Throws: `.integrity` if the body lacks what its kind needs.
    init?(kind: String, body: JSONValue, seq: UInt64) throws(LedgerError) {
        func field(_ name: String) throws(LedgerError) -> String {
            guard let value = body[name]?.stringValue else {
                throw LedgerError(.integrity, "entry \(seq) (\(kind)) has no \(name); run `purser verify`")
            }
            return value
        }
        func weight() throws(LedgerError) -> Int {
            guard let weight = body["weight"]?.numberValue, let whole = Int(exactly: weight) else {
                throw LedgerError(.integrity, "entry \(seq) (\(kind)) has no whole weight; run `purser verify`")
            }
            return whole
        }
        switch kind {
        case "deployment.started":
            guard let strategy = Strategy(rawValue: try field("strategy")) else {
                throw LedgerError(.integrity, "entry \(seq) (\(kind)) has an unknown strategy; run `purser verify`")
            }
            self = .start(version: try field("version"), strategy: strategy, weight: try weight())
        case "traffic.shifted": self = .shift(weight: try weight())
        case "deployment.promoted": self = .promote
        case "deployment.drained": self = .drained(version: try field("version"))
        case "deployment.aborted": self = .abort
        case "rollback.performed": self = .rollback(to: try field("to"))
        default: return nil
        }
    }
}
