import Foundation
import PurserCore
import PurserLedger

/// The ledger's timestamp form of `milliseconds` since 1970 (a tenth of a millisecond added, so that the
/// Double round trip inside `Date` cannot floor it to the millisecond before).
func ledgerTime(milliseconds: Int64) -> String {
    Timestamp.format(Date(timeIntervalSince1970: (Double(milliseconds) + 0.1) / 1000))
}

/// The year that ended a day ago, in milliseconds since 1970: where the benchmarks spread their events.
func lastYear() -> ClosedRange<Int64> {
    let now = Int64(Date().timeIntervalSince1970 * 1000)
    let day: Int64 = 86_400_000
    return (now - day - 365 * day)...(now - day)
}

/// Valid lifecycle entries for many environments over a span of time, as `purser deploy` and `purser
/// rollback` would record them: each environment's changes in effective-time order, each one a valid
/// transition of that environment's traffic (checked with `TrafficState.apply`, the same rule the
/// projection replays). Canaries step 5 → 25 → 50 % and are mostly promoted, sometimes aborted or rolled
/// back; some deployments are blue-green or shadows; drained versions are reported.
struct TrafficTimeline {
    /// The events to append, in effective-time order across environments.
    private(set) var events: [Event] = []
    /// Each environment's traffic after each of its changes, oldest first: what `Traffic.at(_:)` must find.
    private(set) var states: [String: [(effectiveAt: String, state: TrafficState)]] = [:]
    let environments: [String]

    /// - Parameters:
    ///   - versions: recorded version ids to deploy.
    ///   - span: effective times are spread over these milliseconds since 1970; each environment's are distinct.
    init(environments count: Int, events total: Int, versions: [String], span: ClosedRange<Int64>, seed: UInt64) throws
    {
        var random = SeededGenerator(seed: seed)
        environments = (0..<count).map { String(format: "e%02d", $0) }
        var changes: [(time: Int64, env: Int)] = []
        for env in 0..<count {
            let share = total / count + (env < total % count ? 1 : 0)
            var times = Set<Int64>()
            while times.count < share { times.insert(Int64.random(in: span, using: &random)) }
            changes += times.map { ($0, env) }
        }
        changes.sort { ($0.time, $0.env) < ($1.time, $1.env) }

        var current = Array(repeating: TrafficState(), count: count)
        events.reserveCapacity(changes.count)
        for (time, env) in changes {
            let name = environments[env]
            let effectiveAt = ledgerTime(milliseconds: time)
            var (change, body) = TrafficTimeline.next(after: current[env], versions: versions, using: &random)
            do {
                try current[env].apply(change)
            } catch {
                fatalError("the generator made an invalid change of \(name): \(change): \(error.message)")
            }
            body["env"] = .string(name)
            body["effective_at"] = .string(effectiveAt)
            events.append(try Event(kind: change.kind, body: .object(body)))
            states[name, default: []].append((effectiveAt, current[env]))
        }
    }

    /// What `Traffic.at(time)` must answer: each environment that had any change by `time`, by name.
    func expected(at time: String) -> [String: (effectiveAt: String, state: TrafficState)] {
        var found: [String: (effectiveAt: String, state: TrafficState)] = [:]
        for (env, history) in states {
            // The first change after `time`, by binary search; the one before it is in force.
            var low = 0
            var high = history.count
            while low < high {
                let middle = (low + high) / 2
                if history[middle].effectiveAt <= time { low = middle + 1 } else { high = middle }
            }
            if low > 0 { found[env] = history[low - 1] }
        }
        return found
    }

    /// A valid next change of `state` and the body fields its entry carries (without env and effective_at).
    private static func next(
        after state: TrafficState, versions: [String], using random: inout SeededGenerator
    ) -> (TrafficChange, [String: JSONValue]) {
        let roll = Double.random(in: 0..<1, using: &random)
        func start(_ strategy: Strategy, weight: Int) -> (TrafficChange, [String: JSONValue]) {
            let serving = state.serving.first?.version
            var version = versions.randomElement(using: &random)!
            while version == serving { version = versions.randomElement(using: &random)! }
            return (
                .start(version: version, strategy: strategy, weight: weight),
                [
                    "version": .string(version), "strategy": .string(strategy.rawValue),
                    "weight": .number(Double(weight)),
                ]
            )
        }
        func rollback(to target: String, reason: String) -> (TrafficChange, [String: JSONValue]) {
            let from = state.serving.map(\.version).filter { $0 != target }
            return (
                .rollback(to: target),
                ["to": .string(target), "from": .array(from.map(JSONValue.string)), "reason": .string(reason)]
            )
        }
        guard !state.serving.isEmpty else { return start(.blueGreen, weight: 100) }
        if let rollout = state.rollout {
            let candidate = JSONValue.string(rollout.candidate)
            if rollout.strategy == .shadow {
                if roll < 0.5 { return (.abort, ["version": candidate]) }
                let weight = 5
                return (
                    .start(version: rollout.candidate, strategy: .canary, weight: weight),
                    ["version": candidate, "strategy": .string("canary"), "weight": .number(Double(weight))]
                )
            }
            let weight = state.weight(of: rollout.candidate)
            if weight < 50 {
                let next = weight < 25 ? 25 : 50
                return (.shift(weight: next), ["version": candidate, "weight": .number(Double(next))])
            }
            if roll < 0.8 { return (.promote, ["version": candidate]) }
            if roll < 0.9 { return (.abort, ["version": candidate]) }
            return rollback(to: rollout.baseline, reason: "error rate above threshold during the canary")
        }
        if let draining = state.draining.first, roll < 0.7 {
            return (.drained(version: draining), ["version": .string(draining)])
        }
        let again = Double.random(in: 0..<1, using: &random)
        if again < 0.6 { return start(.canary, weight: 5) }
        if again < 0.8 { return start(.blueGreen, weight: 100) }
        if again < 0.9 { return start(.shadow, weight: 0) }
        if let previous = state.previousStable, previous != state.serving.first?.version {
            return rollback(to: previous, reason: "regression reported by customers after the release")
        }
        return start(.canary, weight: 5)
    }
}
