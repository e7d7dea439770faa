public import Foundation
public import PurserLedger

/// A canary rollout in progress whose `deployment.started` names a canary configuration with `judge-every`: one
/// that `purser serve` judges on its own.
public struct ScheduledCanary: Sendable {
    public let env: EnvironmentName
    public let baseline: String
    public let canary: String
    /// The rollout's `deployment.started` entry.
    public let startSeq: UInt64
    /// The configuration it names, read from its stored bytes.
    public let config: CanaryConfig
    public let configBytes: [UInt8]
    /// The configuration's file name, as the deployment recorded it.
    public let configFile: String
    /// When the rollout was last judged (`at` of its latest `canary.judged`), or started if it never was.
    public let lastJudged: Date

    /// When the next judgement is due: `judge-every` after `lastJudged`.
    public var due: Date { lastJudged.addingTimeInterval(config.judgeEvery ?? .infinity) }
}

extension Canary {
    /// The canary rollouts in progress that ask to be judged on a schedule (a `canary_config` whose file has
    /// `judge-every`), with when each was last judged. Cheap enough to ask once a second: the environments' rows,
    /// then for each canary in progress its start entry and its judgements since (through the kind index).
    /// - Throws: `.integrity` when a start entry, or the configuration it names, is not what the tables say.
    public func scheduled() throws(LedgerError) -> [ScheduledCanary] {
        var found: [ScheduledCanary] = []
        for traffic in try Traffic(ledger).status() {
            guard let rollout = traffic.state.rollout, rollout.strategy == .canary else { continue }
            let env = try EnvironmentName(traffic.env)
            guard let start = try Traffic(ledger).latestStartEntry(in: env),
                start.body["version"]?.stringValue == rollout.candidate,
                let named = start.body["canary_config"],
                let file = named["file"]?.stringValue, let hex = named["digest"]?.stringValue
            else { continue }
            guard let digest = Hash(hex: hex), let bytes = try ledger.intactArtifact(digest) else {
                throw LedgerError(
                    .integrity,
                    "the canary configuration \(file) of deployment.started \(start.seq) is missing or altered; run `purser verify`"
                )
            }
            let config = try CanaryConfig(bytes: bytes, source: file)
            guard config.judgeEvery != nil else { continue }
            var lastJudged = start.at
            let needle = Array(CanonicalJSON.encode(.object(["env": .string(env.name)])).dropFirst().dropLast())
            try ledger.forEachEntry(from: UInt64(start.seq) + 1, kind: "canary.judged", containing: needle) { entry in
                let body = try entry.body
                if body["env"]?.stringValue == env.name, body["canary"]?.stringValue == rollout.candidate {
                    lastJudged = entry.at
                }
            }
            guard let last = Timestamp.parse(lastJudged) else {
                throw LedgerError(.integrity, "entry \(start.seq) is dated \(lastJudged); run `purser verify`")
            }
            found.append(
                ScheduledCanary(
                    env: env, baseline: rollout.baseline, canary: rollout.candidate, startSeq: UInt64(start.seq),
                    config: config, configBytes: bytes, configFile: file, lastJudged: last))
        }
        return found
    }
}
