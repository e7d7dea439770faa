public import PurserLedger

/// How a new behavioral version is brought into an environment.
public enum Strategy: String, NamedChoice {
    /// The new version takes every new task at once; the previous one drains its in-flight tasks.
    case blueGreen = "blue-green"
    /// The new version takes a small share first, then more in steps, then all (promote).
    case canary
    /// The new version receives a copy of the traffic and serves none.
    case shadow
}

/// One change to an environment's traffic, as a lifecycle entry records it.
public enum TrafficChange: Sendable, Equatable {
    case start(version: String, strategy: Strategy, weight: Int)
    case shift(weight: Int)
    case promote
    case drained(version: String)
    case abort
    case rollback(to: String)

    /// The entry kind that records this change.
    public var kind: String {
        switch self {
        case .start: "deployment.started"
        case .shift: "traffic.shifted"
        case .promote: "deployment.promoted"
        case .drained: "deployment.drained"
        case .abort: "deployment.aborted"
        case .rollback: "rollback.performed"
        }
    }
}

/// An environment's traffic at one instant: the split over behavioral versions (percent, summing to
/// 100), the versions still draining in-flight tasks, and the rollout in progress.
///
/// `apply` is the one definition of what each lifecycle entry does: commands check a change against
/// the current state with it before recording anything, and projections replay entries through it.
public struct TrafficState: Sendable, Equatable {
    public struct Share: Sendable, Equatable {
        public var version: String
        public var weight: Int
    }

    /// A canary or shadow rollout in progress.
    public struct Rollout: Sendable, Equatable {
        public var strategy: Strategy
        public var candidate: String
        /// The version that had all traffic when the rollout started.
        public var baseline: String
    }

    /// Versions taking new tasks, with their weights; the stable version first.
    public internal(set) var serving: [Share] = []
    /// Versions that no longer take new tasks but are finishing in-flight ones, oldest first.
    public internal(set) var draining: [String] = []
    public internal(set) var rollout: Rollout?
    /// The version that last had all traffic, and the one before it (the default rollback target when
    /// no rollout is in progress).
    public internal(set) var stable: String?
    public internal(set) var previousStable: String?

    public init() {}

    /// The weight `version` serves, 0 if none.
    public func weight(of version: String) -> Int {
        serving.first { $0.version == version }?.weight ?? 0
    }

    /// Where `rollback` goes without `--to`: the version that last had all traffic before the current
    /// rollout (the canary's baseline, or the version before the one now serving everything).
    public var defaultRollbackTarget: String? {
        rollout?.baseline ?? previousStable
    }

    /// Applies `change`, or says why it is not a valid transition (`short` abbreviates version ids in
    /// messages). Leaves the state unchanged when it throws.
    /// - Throws: `LedgerError.invalidInput` with a reason a person can act on.
    public mutating func apply(
        _ change: TrafficChange, short: (String) -> String = { String($0.prefix(12)) }
    )
        throws(LedgerError)
    {
        func refuse(_ reason: String) -> LedgerError { LedgerError(.invalidInput, reason) }
        var next = self
        switch change {
        case .start(let version, let strategy, let weight):
            if let rollout {
                // Starting a canary or blue-green deployment of the version being shadowed ends the shadow.
                guard rollout.strategy == .shadow, rollout.candidate == version, strategy != .shadow else {
                    throw refuse(
                        rollout.strategy == .shadow
                            ? "a shadow of \(short(rollout.candidate)) is in progress; end it with `purser deploy abort`, or start a canary or blue-green deployment of that version"
                            : "a canary rollout of \(short(rollout.candidate)) is in progress; promote, abort or roll it back first"
                    )
                }
                next.rollout = nil
            }
            if serving.count == 1 && serving[0].version == version {
                throw refuse("\(short(version)) already serves all traffic")
            }
            switch strategy {
            case .blueGreen:
                guard weight == 100 else { throw refuse("a blue-green deployment takes all traffic (weight 100)") }
                next.serveAll(version)
            case .canary, .shadow:
                guard let baseline = serving.first?.version else {
                    throw refuse("nothing serves traffic yet: the first deployment is blue-green")
                }
                if strategy == .canary {
                    guard (1...99).contains(weight) else {
                        throw refuse("a canary starts with a weight from 1 to 99 percent, not \(weight)")
                    }
                    next.serving = [
                        Share(version: baseline, weight: 100 - weight), Share(version: version, weight: weight),
                    ]
                    next.draining.removeAll { $0 == version }
                } else {
                    guard weight == 0 else { throw refuse("a shadow serves no traffic (weight 0)") }
                }
                next.rollout = Rollout(strategy: strategy, candidate: version, baseline: baseline)
            }
        case .shift(let weight):
            let canary = try canaryInProgress(for: "shift traffic")
            guard (0...100).contains(weight) else { throw refuse("weight \(weight) is outside 0–100 percent") }
            guard weight != self.weight(of: canary.candidate) else {
                throw refuse("the canary \(short(canary.candidate)) already has \(weight)%")
            }
            next.serving = [
                Share(version: canary.baseline, weight: 100 - weight), Share(version: canary.candidate, weight: weight),
            ]
        case .promote:
            let canary = try canaryInProgress(for: "promote")
            next.serveAll(canary.candidate)
        case .drained(let version):
            guard draining.contains(version) else {
                let now = draining.isEmpty ? "none" : draining.map(short).joined(separator: ", ")
                throw refuse("\(short(version)) is not draining (draining now: \(now))")
            }
            next.draining.removeAll { $0 == version }
        case .abort:
            guard let rollout else { throw refuse("no rollout in progress to abort") }
            next.rollout = nil
            if rollout.strategy == .canary {
                next.serving = [Share(version: rollout.baseline, weight: 100)]
                next.startDraining(rollout.candidate)
            }
        case .rollback(let target):
            if let rollout, rollout.strategy == .shadow {
                throw refuse(
                    "a shadow of \(short(rollout.candidate)) is in progress and serves no traffic; end it with `purser deploy abort`"
                )
            }
            guard !serving.isEmpty else { throw refuse("nothing serves traffic, so there is nothing to roll back") }
            if serving.count == 1 && serving[0].version == target {
                throw refuse("\(short(target)) already serves all traffic")
            }
            next.rollout = nil
            next.serveAll(target)
            // Rolled back: the version it left is not a target for another rollback without --to.
            next.previousStable = nil
        }
        self = next
    }

    private func canaryInProgress(for action: String) throws(LedgerError) -> Rollout {
        guard let rollout else {
            throw LedgerError(.invalidInput, "no canary rollout in progress to \(action)")
        }
        guard rollout.strategy == .canary else {
            throw LedgerError(
                .invalidInput,
                "the rollout in progress is a shadow, which serves no traffic; cannot \(action) (start a canary of it instead)"
            )
        }
        return rollout
    }

    /// `version` takes all traffic; every other serving version starts draining.
    private mutating func serveAll(_ version: String) {
        for share in serving where share.version != version { startDraining(share.version) }
        serving = [Share(version: version, weight: 100)]
        draining.removeAll { $0 == version }
        rollout = nil
        if stable != version {
            previousStable = stable
            stable = version
        }
    }

    private mutating func startDraining(_ version: String) {
        if !draining.contains(version) { draining.append(version) }
    }
}
