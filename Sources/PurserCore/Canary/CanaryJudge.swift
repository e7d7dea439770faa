/// The samples of one metric in the two arms of a canary.
public enum MetricSamples: Sendable {
    /// Per-task values (quality, duration, cost, tokens, …).
    case continuous(baseline: [Double], canary: [Double])
    /// Successes out of trials (errors out of tasks, completed tasks, successful tool calls).
    case proportion(baseline: (successes: Int, trials: Int), canary: (successes: Int, trials: Int))
}

/// One metric's judgement: the statistic in each arm, the test, the effect and its label.
public struct MetricJudgement: Sendable, Equatable {
    public enum Label: String, Sendable {
        /// No regression shown.
        case pass
        /// Significant, and beyond the allowed change in the bad direction.
        case regression
        /// Fewer tasks than the minimum sample size in an arm: never a pass.
        case nodata
    }

    public let metric: String
    public let statistic: CanaryConfig.Statistic
    public let critical: Bool
    public let baselineCount: Int
    public let canaryCount: Int
    /// The statistic (rate, mean or p95) in each arm.
    public let baseline: Double?
    public let canary: Double?
    /// Continuous metrics: the Hodges–Lehmann shift (canary − baseline) and its 95% interval.
    /// Proportions: the difference of rates, with each arm's Wilson interval in `baselineInterval` and
    /// `canaryInterval`.
    public let estimate: Double?
    public let interval: ClosedRange<Double>?
    public let baselineInterval: ClosedRange<Double>?
    public let canaryInterval: ClosedRange<Double>?
    public let pValue: Double?
    /// canary − baseline of the statistic, and that relative to the baseline.
    public let effect: Double?
    public let relativeEffect: Double?
    public let label: Label
}

/// What the judge decides.
public enum CanaryVerdict: String, Sendable {
    case promote, hold, rollback
}

/// Compares a canary with its baseline metric by metric, as the canary configuration says.
public enum CanaryJudge {
    /// The significance level of every test.
    public static let alpha = 0.05

    /// Judges one metric.
    public static func judge(_ metric: CanaryConfig.Metric, _ samples: MetricSamples) -> MetricJudgement {
        switch samples {
        case .continuous(let baseline, let canary):
            let counts = (baseline.count, canary.count)
            guard counts.0 >= metric.minSampleSize, counts.1 >= metric.minSampleSize, counts.0 > 0, counts.1 > 0
            else { return nodata(metric, counts) }
            guard let samples = TwoSamples(canary: canary, baseline: baseline) else { return nodata(metric, counts) }
            // The p95 from the samples TwoSamples has already sorted.
            let statistic: ([Double], [Double]) -> Double =
                metric.statistic == .p95
                ? { percentile($1, 0.95) } : { values, _ in values.reduce(0, +) / Double(values.count) }
            let shift = HodgesLehmann(samples)
            return finish(
                metric, counts: counts, baseline: statistic(baseline, samples.baseline),
                canary: statistic(canary, samples.canary),
                estimate: shift.estimate, interval: shift.lower...shift.upper, intervals: (nil, nil),
                p: MannWhitney(samples).p)
        case .proportion(let baseline, let canary):
            let counts = (baseline.trials, canary.trials)
            guard counts.0 >= metric.minSampleSize, counts.1 >= metric.minSampleSize, counts.0 > 0, counts.1 > 0
            else { return nodata(metric, counts) }
            let (b, c) = (
                Double(baseline.successes) / Double(baseline.trials), Double(canary.successes) / Double(canary.trials)
            )
            func fisher(_ alternative: FisherExact.Alternative) -> Double {
                FisherExact(
                    canarySuccesses: canary.successes, canaryTrials: canary.trials,
                    baselineSuccesses: baseline.successes, baselineTrials: baseline.trials, alternative: alternative)?
                    .p ?? 1
            }
            // One-sided in the bad direction; both sides (doubled) when either direction is bad.
            let p =
                switch metric.bad {
                case .increase: fisher(.greater)
                case .decrease: fisher(.less)
                case .either: min(1, 2 * min(fisher(.greater), fisher(.less)))
                }
            func wilson(_ arm: (successes: Int, trials: Int)) -> ClosedRange<Double>? {
                Wilson(successes: arm.successes, trials: arm.trials).map { $0.lower...$0.upper }
            }
            return finish(
                metric, counts: counts, baseline: b, canary: c, estimate: c - b, interval: nil,
                intervals: (wilson(baseline), wilson(canary)), p: p)
        }
    }

    private static func nodata(_ metric: CanaryConfig.Metric, _ counts: (Int, Int)) -> MetricJudgement {
        MetricJudgement(
            metric: metric.name, statistic: metric.statistic, critical: metric.critical, baselineCount: counts.0,
            canaryCount: counts.1, baseline: nil, canary: nil, estimate: nil, interval: nil, baselineInterval: nil,
            canaryInterval: nil, pValue: nil, effect: nil, relativeEffect: nil, label: .nodata)
    }

    private static func finish(
        _ metric: CanaryConfig.Metric, counts: (Int, Int), baseline: Double, canary: Double, estimate: Double?,
        interval: ClosedRange<Double>?, intervals: (ClosedRange<Double>?, ClosedRange<Double>?), p: Double
    ) -> MetricJudgement {
        let effect = canary - baseline
        let relative = baseline == 0 ? (effect == 0 ? 0 : .infinity * (effect > 0 ? 1 : -1)) : effect / abs(baseline)
        // How far the change goes in the bad direction (negative: the good direction).
        let (bad, badRelative): (Double, Double) =
            switch metric.bad {
            case .increase: (effect, relative)
            case .decrease: (-effect, -relative)
            case .either: (abs(effect), abs(relative))
            }
        let beyond =
            bad > 0 && (metric.maxAbsoluteChange.map { bad > $0 } ?? true)
            && (metric.maxRelativeChange.map { badRelative > $0 } ?? true)
        let label: MetricJudgement.Label = p < alpha && beyond ? .regression : .pass
        return MetricJudgement(
            metric: metric.name, statistic: metric.statistic, critical: metric.critical, baselineCount: counts.0,
            canaryCount: counts.1, baseline: baseline, canary: canary, estimate: estimate, interval: interval,
            baselineInterval: intervals.0, canaryInterval: intervals.1, pValue: p, effect: effect,
            relativeEffect: relative.isFinite ? relative : nil, label: label)
    }

    /// The score (share of passing metrics) and the verdict: any critical regression or critical
    /// `nodata` rolls back; otherwise the score against the configuration's thresholds.
    public static func verdict(
        _ judgements: [MetricJudgement], config: CanaryConfig
    ) -> (score: Double, verdict: CanaryVerdict) {
        let passing = judgements.filter { $0.label == .pass }.count
        let score = judgements.isEmpty ? 0 : Double(passing) / Double(judgements.count)
        if judgements.contains(where: { $0.critical && $0.label != .pass }) { return (score, .rollback) }
        if score >= config.pass { return (score, .promote) }
        if score >= config.marginal { return (score, .hold) }
        return (score, .rollback)
    }
}
