public import Foundation
public import PurserLedger

/// What a lifecycle command recorded.
public struct LifecycleOutcome: Sendable {
    public let seq: UInt64
    public let kind: String
    public let env: String
    /// When the change took effect (ledger timestamp form).
    public let effectiveAt: String
    /// The environment's traffic after the change.
    public let state: TrafficState
}

/// The outcome of a rollback drill.
public enum DrillResult: String, NamedChoice {
    case passed, failed
}

/// Environments and their traffic: deployments and the changes of a rollout (shift, promote, drained, abort),
/// rollbacks and their drills. Each change is checked against the environment's current traffic and recorded as one
/// entry; what ran when is answered by `status`, `at` and `history`. Reaches only the traffic tables
/// (`TrafficTables`); asks `Versions` to resolve version references and name versions, and `Checklist` for the
/// deployment gate.
public struct Traffic {
    let ledger: Ledger

    init(_ ledger: Ledger) { self.ledger = ledger }

    /// Starts deploying `version` to `env`. A blue-green or canary deployment needs an allowing
    /// checklist run for this version and environment (the gate) unless `breakGlass` overrides it, which is
    /// recorded; a shadow serves no traffic and needs none.
    /// - Parameters:
    ///   - weight: the canary's first share in percent (default 5); blue-green takes 100 and shadow 0, and refuse
    ///     any other weight.
    ///   - canaryConfig: a canary's configuration, for `purser serve` to judge the rollout by (`judge-every`):
    ///     checked as the release checklist checks it, stored, and named by `deployment.started`
    ///     (`canary_config`).
    /// - Throws: `.blocked` when the gate refuses; `.usage` for a canary configuration with another strategy;
    ///   `.invalidInput` for a configuration that does not read or has problems (`CanaryConfig.problems()`).
    public func deploy(
        _ version: String, env: EnvironmentName, strategy: Strategy, weight: Int? = nil, effectiveAt: Date? = nil,
        breakGlass: BreakGlass? = nil, canaryConfig: InputFile? = nil
    ) throws(LedgerError) -> LifecycleOutcome {
        if let canaryConfig {
            guard strategy == .canary else {
                throw LedgerError(
                    .usage,
                    naming:
                        "\(parameter: "canaryConfig") applies to canary deployments, not to a \(strategy.rawValue) deployment"
                )
            }
            let problems = try CanaryConfig(bytes: canaryConfig.bytes, source: canaryConfig.source).problems()
            guard problems.isEmpty else {
                throw LedgerError(.invalidInput, "\(canaryConfig.source): \(problems.joined(separator: " "))")
            }
        }
        let target = try Versions(ledger).find(version)
        let defaultWeight = [Strategy.blueGreen: 100, .canary: 5, .shadow: 0][strategy]!
        if let weight, strategy != .canary, weight != defaultWeight {
            throw LedgerError(
                .usage,
                naming:
                    "\(parameter: "weight") applies to canary deployments; a \(strategy.rawValue) deployment takes \(defaultWeight)"
            )
        }
        let weight = weight ?? defaultWeight
        if let breakGlass {
            guard strategy != .shadow else {
                throw LedgerError(.usage, "break-glass overrides the checklist gate, and a shadow is not gated")
            }
            for (name, value) in [("breakGlassReason", breakGlass.reason), ("breakGlassApprover", breakGlass.approver)]
            where value.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty {
                throw LedgerError(
                    .usage, naming: "a break-glass override needs \(parameter: name): it must say who and why")
            }
        }
        let gated = breakGlass == nil && strategy != .shadow
        return try change(
            env: env, effectiveAt: effectiveAt, storing: canaryConfig?.bytes,
            gate: gated
                ? { transaction in
                    try Checklist(ledger).checkGate(
                        version: target.id, env: env, now: transaction.now, tables: transaction.tables)
                } : nil
        ) { _ in
            var body: [String: JSONValue] = [
                "version": .string(target.id), "strategy": .string(strategy.rawValue),
                "weight": .number(Double(weight)),
            ]
            if let breakGlass {
                body["break_glass"] = .object([
                    "reason": .string(breakGlass.reason), "approver": .string(breakGlass.approver),
                ])
            }
            if let canaryConfig {
                body["canary_config"] = .object([
                    "file": .string(canaryConfig.fileName), "digest": .string(Hash.sha256(canaryConfig.bytes).hex),
                ])
            }
            return (.start(version: target.id, strategy: strategy, weight: weight), body)
        }
    }

    /// Moves the canary in progress in `env` to `weight` percent.
    public func shift(
        env: EnvironmentName, weight: Int, effectiveAt: Date? = nil
    ) throws(LedgerError) -> LifecycleOutcome {
        try change(env: env, effectiveAt: effectiveAt) { state in
            (.shift(weight: weight), ["version": candidate(state), "weight": .number(Double(weight))])
        }
    }

    /// Gives the canary in progress all traffic; the baseline starts draining.
    public func promote(env: EnvironmentName, effectiveAt: Date? = nil) throws(LedgerError) -> LifecycleOutcome {
        try change(env: env, effectiveAt: effectiveAt) { state in (.promote, ["version": candidate(state)]) }
    }

    /// Records that `version` finished its in-flight tasks in `env` and is decommissioned there.
    public func drained(
        env: EnvironmentName, version: String, effectiveAt: Date? = nil
    ) throws(LedgerError) -> LifecycleOutcome {
        let target = try Versions(ledger).find(version)
        return try change(env: env, effectiveAt: effectiveAt) { _ in
            (.drained(version: target.id), ["version": .string(target.id)])
        }
    }

    /// Ends the rollout in progress: a canary's baseline takes all traffic back; a shadow stops.
    public func abort(env: EnvironmentName, effectiveAt: Date? = nil) throws(LedgerError) -> LifecycleOutcome {
        try change(env: env, effectiveAt: effectiveAt) { state in (.abort, ["version": candidate(state)]) }
    }

    /// Rolls `env` back to a whole behavioral version: by default the one that last had all traffic
    /// before the current rollout.
    public func rollback(
        env: EnvironmentName, to version: String? = nil, reason: String, effectiveAt: Date? = nil
    ) throws(LedgerError) -> LifecycleOutcome {
        guard !reason.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty else {
            throw LedgerError(.usage, naming: "a rollback needs a \(parameter: "reason") a reader can understand later")
        }
        let target = try version.map { (reference) throws(LedgerError) in try Versions(ledger).find(reference).id }
        return try change(env: env, effectiveAt: effectiveAt) { state in
            guard let to = target ?? state.defaultRollbackTarget else {
                throw LedgerError(
                    .invalidInput,
                    naming:
                        "\(env) has no earlier version that had all traffic; name the version to go back to (\(parameter: "version"))"
                )
            }
            let from = state.serving.map(\.version).filter { $0 != to }
            return (
                .rollback(to: to),
                ["to": .string(to), "from": .array(from.map(JSONValue.string)), "reason": .string(reason)]
            )
        }
    }

    /// The `rollback.performed` event of rolling `env` back to `version` (an id), for a rollback recorded with
    /// another entry in one transaction (a canary judgement's automatic rollback): checked, as every rollback is,
    /// against `env`'s traffic as `projection` sees it inside that transaction.
    func rollbackEvent(
        env: EnvironmentName, to version: String, reason: String, projection: Projection
    ) throws -> Event {
        let current = try projection.state(of: env.name)?.state ?? TrafficState()
        var next = current
        try next.apply(.rollback(to: version))
        let from = current.serving.map(\.version).filter { $0 != version }
        return try Event(
            kind: "rollback.performed",
            body: .object([
                "env": .string(env.name), "to": .string(version), "from": .array(from.map(JSONValue.string)),
                "reason": .string(reason),
            ]))
    }

    /// Records a rehearsal of rolling `env` back from one version to another (`rollback.drilled`). The
    /// evidence file, if any, is stored as an artifact.
    public func recordDrill(
        env: EnvironmentName, from: String, to: String, result: DrillResult, evidence: String? = nil,
        duration: Double? = nil
    ) throws(LedgerError) -> UInt64 {
        try recordDrill(
            env: env, from: from, to: to, result: result,
            evidence: evidence.map { (path) throws(LedgerError) in try InputFile.read(path) }, duration: duration)
    }

    /// Records a drill with an evidence file already read.
    public func recordDrill(
        env: EnvironmentName, from: String, to: String, result: DrillResult, evidence: InputFile?,
        duration: Double? = nil
    ) throws(LedgerError) -> UInt64 {
        let (fromVersion, toVersion) = (try Versions(ledger).find(from), try Versions(ledger).find(to))
        guard fromVersion.id != toVersion.id else {
            throw LedgerError(.invalidInput, "a drill rolls back from one version to another; both are \(from)")
        }
        if let duration, !(duration >= 0 && duration.isFinite) {
            throw LedgerError(
                .usage, naming: "\(parameter: "duration") must be a number of seconds ≥ 0, not \(duration)")
        }
        let (_, entries) = try ledger.record { (transaction, _) throws -> ([Event], Void) in
            var body: [String: JSONValue] = [
                "env": .string(env.name), "from": .string(fromVersion.id), "to": .string(toVersion.id),
                "result": .string(result.rawValue),
            ]
            if let duration { body["duration_s"] = .number(duration) }
            if let evidence {
                let digest = try transaction.storeArtifact(evidence.bytes)
                body["evidence"] = .object([
                    "file": .string(evidence.fileName), "digest": .string(digest.hex),
                    "size": .number(Double(evidence.bytes.count)),
                ])
            }
            return ([try Event(kind: "rollback.drilled", body: .object(body))], ())
        }
        return entries[0].seq
    }

    private func candidate(_ state: TrafficState) -> JSONValue {
        state.rollout.map { .string($0.candidate) } ?? .null
    }

    /// Checks `make`'s change against `env`'s current traffic, then `gate` (if any), and records it, in
    /// one transaction: an invalid change is reported as such before the gate is asked. `storing` is a file the
    /// entry names by digest, stored as an artifact in the same transaction.
    private func change(
        env: EnvironmentName, effectiveAt: Date?, storing artifact: [UInt8]? = nil,
        gate: ((Ledger.WriteTransaction) throws -> Void)? = nil,
        _ make: (TrafficState) throws -> (change: TrafficChange, body: [String: JSONValue])
    ) throws(LedgerError) -> LifecycleOutcome {
        let effective = effectiveAt.map(Timestamp.format)
        let (after, entries) = try ledger.record { (transaction, projection) throws -> ([Event], TrafficState) in
            let stored = try projection.state(of: env.name)
            try Traffic.checkTraffic(of: env, stored: stored, ledger: ledger)
            let (state, previous) = stored ?? (TrafficState(), "")
            let (change, fields) = try make(state)
            var next = state
            do {
                try next.apply(change, short: shortName)
            } catch let error as LedgerError {
                throw LedgerError(error.code, "\(env): \(error.message)")
            }
            var body = fields
            body["env"] = .string(env.name)
            if let effective {
                let now = Timestamp.format(transaction.now)
                guard effective <= now else {
                    throw LedgerError(
                        .invalidInput, naming: "\(parameter: "effectiveAt") \(effective) is in the future (now \(now))")
                }
                guard effective >= previous else {
                    throw LedgerError(
                        .invalidInput,
                        naming:
                            "\(parameter: "effectiveAt") \(effective) precedes the previous event in \(env), which took effect at \(previous)"
                    )
                }
                body["effective_at"] = .string(effective)
            }
            try gate?(transaction)
            if let artifact { _ = try transaction.storeArtifact(artifact) }
            return ([try Event(kind: change.kind, body: .object(body))], next)
        }
        let entry = entries[0]
        return LifecycleOutcome(
            seq: entry.seq, kind: entry.kind, env: env.name, effectiveAt: effective ?? entry.at, state: after)
    }

    /// The current traffic of `env` (nil if it never had any), checked against the entries that made it: what a
    /// decision that depends on it (a checklist check, a canary judgement) rests on.
    /// - Throws: `.integrity` if the `environments` row is not the traffic its entries give.
    func checkedStatus(of env: EnvironmentName) throws(LedgerError) -> EnvironmentTraffic? {
        let stored = try status(env: env).first
        try Traffic.checkTraffic(of: env, stored: stored.map { ($0.state, $0.effectiveAt) }, ledger: ledger)
        return stored
    }

    /// Checks the `environments` row of `env` (its traffic and when it last changed) against the traffic its
    /// entries give, so that a change is never judged, nor its entry written, against an edited row.
    /// - Throws: `.integrity` if they differ.
    private static func checkTraffic(
        of env: EnvironmentName, stored: (state: TrafficState, effectiveAt: String)?, ledger: Ledger
    ) throws(LedgerError) {
        let replayed = try TrafficState.replayed(env: env, ledger: ledger)
        guard replayed?.effectiveAt == stored?.effectiveAt,
            replayed.map({ CanonicalJSON.encode($0.state.json) }) == stored.map({ CanonicalJSON.encode($0.state.json) })
        else {
            throw SourceEntry.tampered(
                "the environments row of \(env) is not the traffic its entries give (last change effective \(replayed?.effectiveAt ?? "never"))"
            )
        }
    }

    /// A version id as messages show it: 12 hex characters and its first label (`Versions.labels(of:)`, which
    /// inside a write transaction reads what it sees).
    private func shortName(_ id: String) -> String {
        let label = (try? Versions(ledger).labels(of: [id]))?[id]
        return label.map { "\(id.prefix(12)) (\($0))" } ?? String(id.prefix(12))
    }
}
