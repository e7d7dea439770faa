import Dispatch
import Foundation
import Logging
import Metrics
import PurserCore
import PurserLedger
import PurserOperations
import ServiceLifecycle

/// `purser serve`'s canary judge: once a second it looks at the canary rollouts in progress, and judges each whose
/// `deployment.started` names a configuration with `judge-every` once that long has passed since the later of the
/// rollout's start and its latest judgement. Judgements are recorded as any other (`Canary.judge`), attributed to
/// `actor`; after one that rolled the canary back, `onRollback` moves the real traffic. It judges one rollout at a
/// time, so never one rollout twice at once. Errors are logged and counted, never fatal: a rollout whose judgement
/// failed is tried again `judge-every` later.
struct CanaryScheduler: Service {
    static let actor = "purser serve (judge-every)"
    /// How often it looks at the environments.
    static let lookInterval = Duration.seconds(1)

    let access: LedgerAccess
    let onRollback: RollbackHook?
    let metrics: ServerMetrics
    let logger: Logger

    func run() async throws {
        // Cancelled at shutdown: the look in progress ends, and the loop with it.
        await cancelWhenGracefulShutdown {
            // A rollout whose judgement failed, by its start entry: when to try it again.
            var retry: [UInt64: Date] = [:]
            // Why the rollouts could not be read last time: logged once, not every second.
            var readError: String?
            while !Task.isCancelled {
                await look(retry: &retry, readError: &readError)
                try? await Task.sleep(for: Self.lookInterval)
            }
        }
    }

    /// Judges every rollout that is due now.
    private func look(retry: inout [UInt64: Date], readError: inout String?) async {
        let rollouts: [ScheduledCanary]
        do {
            rollouts = try await access.read { releases in try releases.canary.scheduled() }
            readError = nil
        } catch {
            if readError != "\(error)" {
                metrics.failedScheduledJudgements.increment()
                logger.error("canary schedule: cannot read the rollouts in progress: \(error)")
                readError = "\(error)"
            }
            return
        }
        let now = Date()
        retry = retry.filter { start, _ in rollouts.contains { $0.startSeq == start } }
        for rollout in rollouts where rollout.due <= now && retry[rollout.startSeq].map({ $0 <= now }) ?? true {
            if await judge(rollout) {
                retry[rollout.startSeq] = nil
            } else {
                retry[rollout.startSeq] = now.addingTimeInterval(rollout.config.judgeEvery ?? 60)
            }
        }
    }

    /// Judges `rollout` if it is still in progress; returns whether nothing failed.
    private func judge(_ rollout: ScheduledCanary) async -> Bool {
        let judgement: CanaryJudgement?
        do {
            judgement = try await access.write(actor: Self.actor) { releases -> CanaryJudgement? in
                // Promoted, aborted or rolled back since it was read: nothing to judge.
                let now = try releases.traffic.status(env: rollout.env).first?.state.rollout
                guard now?.strategy == .canary, now?.candidate == rollout.canary, now?.baseline == rollout.baseline
                else { return nil }
                return try releases.canary.judge(
                    env: rollout.env, baseline: rollout.baseline, canary: rollout.canary, config: rollout.config,
                    configBytes: rollout.configBytes, configSource: rollout.configFile)
            }
        } catch {
            metrics.failedScheduledJudgements.increment()
            logger.error(
                "canary schedule: judging \(rollout.canary.prefix(12)) in \(rollout.env) failed: \(error)")
            return false
        }
        guard let judgement else { return true }
        metrics.scheduledJudgements.increment()
        logger.info(
            "canary schedule: \(judgement.canary.prefix(12)) in \(judgement.env): \(judgement.verdict.rawValue) (look \(judgement.look), seq \(judgement.seq))"
        )
        if let rollbackSeq = judgement.rollbackSeq, let onRollback {
            // On a thread of its own: a slow command must not hold up the judging of other rollouts.
            let (metrics, logger) = (metrics, logger)
            DispatchQueue.global().async {
                do {
                    let status = try onRollback.run(
                        env: judgement.env, baseline: judgement.baseline, canary: judgement.canary)
                    guard status != 0 else { return }
                    metrics.failedRollbackHooks.increment()
                    logger.error(
                        "canary schedule: the rollback is recorded (seq \(rollbackSeq)), but --on-rollback exited \(status): shift the traffic by hand"
                    )
                } catch {
                    metrics.failedRollbackHooks.increment()
                    logger.error(
                        "canary schedule: the rollback is recorded (seq \(rollbackSeq)), but --on-rollback did not start (\(error)): shift the traffic by hand"
                    )
                }
            }
        }
        return true
    }
}
