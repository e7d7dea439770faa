internal import Foundation
public import PurserLedger

/// A recorded canary judgement.
public struct CanaryJudgement: Sendable {
    public let env: String
    public let baseline: String
    public let canary: String
    /// Tasks started at or after this time count (the start of the canary's rollout, by default).
    public let since: String
    public let metrics: [MetricJudgement]
    public let score: Double
    public let verdict: CanaryVerdict
    /// The look: 1 + the judgements of this canary in `env` since its latest `deployment.started` there.
    public let look: Int
    /// The plan that set the level of this look, and that level (every metric's test is at `alpha`).
    public let plan: CanaryConfig.LookPlan
    public let alpha: Double
    /// The `canary.judged` entry.
    public let seq: UInt64
    /// The `rollback.performed` entry written with it, when the configuration rolls back automatically.
    public let rollbackSeq: UInt64?
}

/// Canary judgements: a new version judged against the one it would replace in an environment, metric by metric,
/// from their tasks, and recorded; with an automatic rollback when the configuration asks for one. Reads only the
/// tasks (`TaskTables`, through `CanarySamples`) and the entries; asks `Versions` to resolve version references and
/// `Traffic` for the rollout in progress, when it started, and the rollback's entry.
public struct Canary {
    let ledger: Ledger

    init(_ ledger: Ledger) { self.ledger = ledger }

    /// Judges a canary against its baseline in `env` from their tasks, and records the judgement
    /// (`canary.judged`) with every metric's statistics. With `auto-rollback` on and a rollback verdict,
    /// the rollback is recorded in the same transaction. Each judgement of a rollout is a look: look k tests at
    /// the level the configuration's plan gives it (`CanaryConfig.LookPlan`), so that judging one rollout again
    /// and again keeps the configured error rate.
    /// - Parameters:
    ///   - baseline, canary: versions (default: those of the canary rollout in progress in `env`).
    ///   - since: only tasks started at or after it (default: when the rollout of the current canary
    ///     version started, so that samples of an earlier canary version do not count).
    ///   - configSource: how the entry names the configuration (its file), recorded with its digest.
    public func judge(
        env environment: EnvironmentName, baseline: String? = nil, canary: String? = nil, config: CanaryConfig,
        configBytes: [UInt8], configSource: String, since: String? = nil
    ) throws(LedgerError) -> CanaryJudgement {
        let env = environment.name
        // The rollout (and an automatic rollback) is decided on the environments row: checked against the entries.
        let stored = try Traffic(ledger).checkedStatus(of: environment)
        let state = stored?.state
        let rollout = state?.rollout?.strategy == .canary ? state?.rollout : nil
        let versions = Versions(ledger)
        guard
            let baselineID = try baseline.map({ (reference) throws(LedgerError) in try versions.find(reference).id })
                ?? rollout?.baseline,
            let canaryID = try canary.map({ (reference) throws(LedgerError) in try versions.find(reference).id })
                ?? rollout?.candidate
        else {
            throw LedgerError(
                .invalidInput,
                naming:
                    "no canary rollout in progress in \(env); name \(parameter: "baseline") and \(parameter: "canary") versions"
            )
        }
        guard baselineID != canaryID else {
            throw LedgerError(.usage, "the baseline and the canary are the same version (\(canaryID.prefix(12)))")
        }
        let problems = config.problems()
        guard problems.isEmpty else {
            throw LedgerError(.invalidInput, "\(configSource): \(problems.joined(separator: " "))")
        }
        let start: String
        if let since { start = since } else { start = try rolloutStart(env: environment, candidate: canaryID) }
        let samples = try canarySamples(
            env: env, versions: [baselineID, canaryID], since: start, metrics: config.metrics)
        let look = try CanaryLooks.next(ledger, env: env, canary: canaryID)
        let alpha = config.looks.alpha(look: look)
        let (judgements, score, verdict) = samples.judge(config, alpha: alpha)
        // Automatic rollback only of the rollout in progress, to its own baseline.
        let rollingBack =
            verdict == .rollback && config.autoRollback && rollout?.candidate == canaryID
            && rollout?.baseline == baselineID
        let (_, entries) = try ledger.record { (transaction, projection) throws -> ([Event], Void) in
            // Another judgement of this rollout recorded meanwhile would make this look's number and level wrong.
            let now = try CanaryLooks.next(ledger, env: env, canary: canaryID)
            guard now == look else {
                throw LedgerError(
                    .invalidInput,
                    "another judgement of \(canaryID.prefix(12)) in \(env) was recorded while this one was made (look \(look), now \(now)); judge again"
                )
            }
            let digest = try transaction.storeArtifact(configBytes)
            var events = [
                try Event(
                    kind: "canary.judged",
                    body: .object([
                        "env": .string(env), "baseline": .string(baselineID), "canary": .string(canaryID),
                        "since": .string(start), "score": .number(score), "verdict": .string(verdict.rawValue),
                        "look": .number(Double(look)), "plan": .string(config.looks.rawValue), "alpha": .number(alpha),
                        "config": .object(["file": .string(configSource), "digest": .string(digest.hex)]),
                        "metrics": .array(judgements.map(\.json)),
                    ]))
            ]
            if rollingBack {
                let failing = judgements.filter { $0.label != .pass }.map { "\($0.metric) \($0.label.rawValue)" }
                let reason =
                    "canary judge: rollback (score \(Figure.percent(score)); \(failing.joined(separator: ", ")))"
                events.append(
                    try Traffic(ledger).rollbackEvent(
                        env: environment, to: baselineID, reason: reason, projection: projection))
            }
            return (events, ())
        }
        return CanaryJudgement(
            env: env, baseline: baselineID, canary: canaryID, since: start, metrics: judgements, score: score,
            verdict: verdict, look: look, plan: config.looks, alpha: alpha, seq: entries[0].seq,
            rollbackSeq: entries.count > 1 ? entries[1].seq : nil)
    }

    /// When the latest deployment of `candidate` in `env` took effect: the start of its rollout.
    private func rolloutStart(env: EnvironmentName, candidate: String) throws(LedgerError) -> String {
        // The start decides which tasks are judged: `Traffic` checks it against its entry.
        guard let start = try Traffic(ledger).latestStart(of: candidate, in: env) else {
            throw LedgerError(
                .invalidInput,
                naming: "\(candidate.prefix(12)) was never deployed to \(env); pass \(parameter: "since")")
        }
        return start
    }

    /// The columns the metrics need of the versions' tasks in `env` since `start` (`CanarySamples.read`).
    private func canarySamples(
        env: String, versions: [String], since start: String, metrics: [CanaryConfig.Metric]
    ) throws(LedgerError) -> CanarySamples {
        try ledger.readTables { (tables: any TaskTables) in
            try CanarySamples.read(tables, env: env, versions: versions, since: start, metrics: metrics)
        }
    }
}

extension MetricJudgement {
    /// The metric as `canary.judged` records it and `canary judge --json` prints it.
    public var json: JSONValue {
        func number(_ value: Double?) -> JSONValue { value.map(JSONValue.number) ?? .null }
        func range(_ value: ClosedRange<Double>?) -> JSONValue {
            value.map { .array([.number($0.lowerBound), .number($0.upperBound)]) } ?? .null
        }
        return .object([
            "metric": .string(metric), "statistic": .string(statistic.rawValue), "critical": .bool(critical),
            "method": .string(method.rawValue),
            "n": .object(["baseline": .number(Double(baselineCount)), "canary": .number(Double(canaryCount))]),
            "baseline": number(baseline), "canary": number(canary), "margin": number(margin),
            "estimate": number(estimate), "interval": range(interval), "interval_level": number(intervalLevel),
            "baseline_interval": range(baselineInterval),
            "canary_interval": range(canaryInterval), "p": number(pValue), "effect": number(effect),
            "relative_effect": number(relativeEffect), "label": .string(label.rawValue),
        ])
    }
}
