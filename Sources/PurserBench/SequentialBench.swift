import Foundation
import PurserCore

/// 14. Judging one rollout again and again, by simulation: a pipeline judges the canary after every 100 more
/// tasks per arm, from 300 to 2,200 (20 looks), on a critical error rate (baseline 2%, `bad: increase`, no
/// allowed change). With two identical arms, any rollback is wrong: at a fixed α = 0.05 per look the chance
/// of one over 20 looks is far above 5%. The canary configuration's default plan (`looks: {plan: spend}`) tests
/// look k at α/(k(k + 1)), levels that sum to less than α over any number of looks, and keeps it below 5%. With a
/// real regression (4% errors), the look that first rolls back. Each look is judged by `CanaryJudge.judge` at the
/// level `CanaryConfig.LookPlan.alpha(look:)` gives, as `canary judge` does.
func benchmarkSequential() {
    let rollouts = 1_000
    let looks = 20
    let metric = CanaryConfig.Metric(
        name: "error_rate", statistic: .rate, bad: .increase, critical: true, minSampleSize: 300)
    var generator = SeededGenerator(seed: 5)
    /// The first look (1...looks) that finds a regression, or nil.
    func firstRollback(canaryRate: Double, plan: CanaryConfig.LookPlan) -> Int? {
        var errors = (baseline: 0, canary: 0)
        var tasks = 0
        for look in 1...looks {
            let batch = look == 1 ? 300 : 100
            for _ in 0..<batch {
                if generator.uniform() < 0.02 { errors.baseline += 1 }
                if generator.uniform() < canaryRate { errors.canary += 1 }
            }
            tasks += batch
            let alpha = plan.alpha(look: look)
            let judgement = CanaryJudge.judge(
                metric, .proportion(baseline: (errors.baseline, tasks), canary: (errors.canary, tasks)), alpha: alpha)
            if judgement.label == .regression { return look }
        }
        return nil
    }
    for plan in [CanaryConfig.LookPlan.fixed, .spend] {
        let falseRollbacks = (0..<rollouts).filter { _ in firstRollback(canaryRate: 0.02, plan: plan) != nil }
        let detected = (0..<rollouts).compactMap { _ in firstRollback(canaryRate: 0.04, plan: plan) }
        let name = "plan \(plan.rawValue)"
        let delay = detected.isEmpty ? Double.nan : percentile(detected.map(Double.init), 0.5)
        report(
            "20 looks, identical arms, \(name)",
            "false rollbacks \(String(format: "%.1f", 100 * Double(falseRollbacks.count) / Double(rollouts)))%",
            target: plan == .spend ? "target ≤ 5% (\(rollouts) rollouts)" : "(\(rollouts) rollouts)")
        report(
            "20 looks, errors 2% -> 4%, \(name)",
            "detected \(format(100 * Double(detected.count) / Double(rollouts)))%",
            target: "median first look \(format(delay)) (\(200 + 100 * Int(delay)) tasks per arm)")
    }
}
