internal import PurserStatistics

/// The samples of one metric in the two arms of a canary.
public enum MetricSamples: Sendable {
    /// Per-task values (quality, duration, cost, tokens, …).
    case continuous(baseline: [Double], canary: [Double])
    /// Successes out of trials (errors out of tasks, completed tasks, successful tool calls).
    case proportion(baseline: (successes: Int, trials: Int), canary: (successes: Int, trials: Int))
}

/// One metric's judgement: the statistic in each arm, the method, its estimate, interval and p-value, and the
/// label.
public struct MetricJudgement: Sendable, Equatable {
    public enum Label: String, Sendable {
        /// No regression shown.
        case pass
        /// Shown, with confidence, to have changed beyond the allowed change in the bad direction.
        case regression
        /// Fewer tasks than the minimum sample size in an arm: never a pass.
        case nodata
    }

    /// How a metric is tested: each method tests the configured statistic itself.
    public enum Method: String, Sendable, CaseIterable {
        /// `rate`: Fisher's exact test of equal rates, and Newcombe's interval of the difference against the
        /// allowed change.
        case fisherNewcombe = "fisher-exact+newcombe"
        /// `mean`: Welch's t test and interval of the difference of means.
        case welch
        /// `p95`: the difference of the p95s with order-statistic standard errors, normal test and interval.
        case orderStatistics = "order-statistics"
        /// `shift`: the Mann–Whitney U test and the Hodges–Lehmann shift with its interval.
        case mannWhitney = "mann-whitney+hodges-lehmann"
    }

    public let metric: String
    public let statistic: CanaryConfig.Statistic
    public let critical: Bool
    /// The direction that counts against the canary, as configured.
    public let bad: CanaryConfig.Direction
    public let method: Method
    public let baselineCount: Int
    public let canaryCount: Int
    /// The statistic in each arm: the rate, the mean, the p95 or (for `shift`) the median.
    public let baseline: Double?
    public let canary: Double?
    /// The allowed change in the metric's unit that the test uses: the larger of `max-absolute-change` and
    /// `max-relative-change` × |baseline|, 0 with neither.
    public let margin: Double?
    /// The method's estimate of canary − baseline (for `shift`, the Hodges–Lehmann shift; otherwise `effect`)
    /// and its interval at `intervalLevel`. Proportions also get each arm's 95% Wilson interval.
    public let estimate: Double?
    public let interval: ClosedRange<Double>?
    public let intervalLevel: Double?
    public let baselineInterval: ClosedRange<Double>?
    public let canaryInterval: ClosedRange<Double>?
    /// The p-value of the method's test (see `CanaryJudge.judge`).
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
///
/// The judge is a pure function of the samples and the configuration: nothing is drawn at random, so an
/// auditor and `purser verify` recompute the same judgement.
public enum CanaryJudge {
    /// The significance level of every test.
    public static let alpha = 0.05

    /// Judges one metric: a `regression` only when the method's test shows, at level α, that the configured
    /// statistic changed beyond the allowed change (`margin`) in the bad direction.
    ///
    /// - `bad: increase` tests H₀: change ≤ margin against change > margin, one-sided at α; `decrease` tests
    ///   change ≥ −margin; `either` runs both and reports min(1, 2·min(p₁, p₂)). The interval is the two-sided
    ///   1 − 2α (90%) interval for one direction, whose bound on the good side is the one-sided bound the test
    ///   uses, and 1 − α (95%) for `either`; for `mean`, `p95` and `shift` p < α exactly when it lies beyond
    ///   the margin (for `shift` with ties, up to the normal approximation's continuity correction).
    /// - `rate`: Fisher's exact test of equal rates in the bad direction (two-sided for `either`) must give
    ///   p < α, and Newcombe's interval must lie beyond the margin.
    /// - Parameter alpha: The significance level (default `CanaryJudge.alpha`); a plan that judges one rollout
    ///   several times can spend a smaller level on each look.
    public static func judge(
        _ metric: CanaryConfig.Metric, _ samples: MetricSamples, alpha: Double = CanaryJudge.alpha
    ) -> MetricJudgement {
        let level = metric.bad == .either ? 1 - alpha : 1 - 2 * alpha
        let minimum = max(metric.minSampleSize, smallestSampleSize(metric), 1)
        switch samples {
        case .continuous(let baseline, let canary):
            let counts = (baseline.count, canary.count)
            guard counts.0 >= minimum, counts.1 >= minimum, baseline.allSatisfy(\.isFinite),
                canary.allSatisfy(\.isFinite)
            else { return nodata(metric, counts) }
            switch metric.statistic {
            case .mean:
                guard let estimate = Welch.estimate(canary: canary, baseline: baseline) else {
                    return nodata(metric, counts)
                }
                let (b, c) = (Welch.moments(baseline).mean, Welch.moments(canary).mean)
                let margin = allowedChange(metric, baseline: b)
                return finish(
                    metric, counts: counts, baseline: b, canary: c, margin: margin, estimate: estimate.value,
                    interval: estimate.interval(level: level), level: level, alpha: alpha,
                    p: test(metric.bad, margin: margin, above: estimate.pAbove, below: estimate.pBelow))
            case .p95:
                let (sortedBaseline, sortedCanary) = (TwoSamples.sorted(baseline), TwoSamples.sorted(canary))
                guard
                    let estimate = QuantileDifference.estimate(
                        canarySorted: sortedCanary, baselineSorted: sortedBaseline, fraction: 0.95)
                else { return nodata(metric, counts) }
                let b = percentile(sortedBaseline, 0.95)
                let margin = allowedChange(metric, baseline: b)
                return finish(
                    metric, counts: counts, baseline: b, canary: percentile(sortedCanary, 0.95), margin: margin,
                    estimate: estimate.value, interval: estimate.interval(level: level), level: level, alpha: alpha,
                    p: test(metric.bad, margin: margin, above: estimate.pAbove, below: estimate.pBelow))
            case .shift:
                guard let samples = TwoSamples(canary: canary, baseline: baseline) else {
                    return nodata(metric, counts)
                }
                let b = percentile(samples.baseline, 0.5)
                let margin = allowedChange(metric, baseline: b)
                // The shift exceeds the margin when the canary's values, less the margin, are still larger.
                func rankTest(_ moved: Double, _ alternative: MannWhitney.Alternative) -> Double {
                    let shifted = TwoSamples(canary: samples.canary.map { $0 + moved }, baseline: samples.baseline)
                    return shifted.map { MannWhitney($0, alternative: alternative).p } ?? 1
                }
                let shift = HodgesLehmann(samples, level: level)
                return finish(
                    metric, counts: counts, baseline: b, canary: percentile(samples.canary, 0.5), margin: margin,
                    estimate: shift.estimate, interval: shift.lower...shift.upper, level: level, alpha: alpha,
                    p: test(
                        metric.bad, margin: margin, above: { rankTest(-$0, .greater) },
                        below: { rankTest(-$0, .less) }))
            case .rate:
                return nodata(metric, counts)
            }
        case .proportion(let baseline, let canary):
            let counts = (baseline.trials, canary.trials)
            guard counts.0 >= minimum, counts.1 >= minimum, metric.statistic == .rate else {
                return nodata(metric, counts)
            }
            let (b, c) = (
                Double(baseline.successes) / Double(baseline.trials), Double(canary.successes) / Double(canary.trials)
            )
            let alternative: FisherExact.Alternative =
                switch metric.bad {
                case .increase: .greater
                case .decrease: .less
                case .either: .twoSided
                }
            let p =
                FisherExact(
                    canarySuccesses: canary.successes, canaryTrials: canary.trials,
                    baselineSuccesses: baseline.successes, baselineTrials: baseline.trials, alternative: alternative)?
                .p ?? 1
            func wilson(_ arm: (successes: Int, trials: Int)) -> ClosedRange<Double>? {
                Wilson(successes: arm.successes, trials: arm.trials).map { $0.lower...$0.upper }
            }
            let interval = Newcombe.interval(canary: canary, baseline: baseline, level: level)
            let margin = allowedChange(metric, baseline: b)
            let beyond =
                interval.map { interval in
                    switch metric.bad {
                    case .increase: interval.lowerBound > margin
                    case .decrease: interval.upperBound < -margin
                    case .either: interval.lowerBound > margin || interval.upperBound < -margin
                    }
                } ?? false
            return finish(
                metric, counts: counts, baseline: b, canary: c, margin: margin, estimate: c - b, interval: interval,
                level: level, alpha: alpha, p: p, intervals: (wilson(baseline), wilson(canary)), beyond: beyond)
        }
    }

    /// The allowed change in the metric's unit: a change must exceed every limit the metric gives, so the
    /// larger of them; a relative limit is taken of the baseline's statistic.
    static func allowedChange(_ metric: CanaryConfig.Metric, baseline: Double) -> Double {
        max(metric.maxAbsoluteChange ?? 0, (metric.maxRelativeChange ?? 0) * abs(baseline))
    }

    /// The p-value in the bad direction(s), from the tests of H₀: θ ≤ margin (`above`) and θ ≥ −margin (`below`).
    private static func test(
        _ bad: CanaryConfig.Direction, margin: Double, above: (Double) -> Double, below: (Double) -> Double
    ) -> Double {
        switch bad {
        case .increase: above(margin)
        case .decrease: below(-margin)
        case .either: min(1, 2 * min(above(margin), below(-margin)))
        }
    }

    /// The smallest number of tasks (or tool calls) per arm with which the metric's test can reach p < α at
    /// all: below it, every judgement would pass whatever the canary does.
    /// - `rate`: 4 (the most extreme table of 3 against 3 has p = 1/C(6, 3) = 1/20, which is not below 0.05);
    /// - `mean`: 2 (a variance needs two values);
    /// - `p95`: the smallest n whose order-statistic interval fits inside the sample (73);
    /// - `shift`: 4 (3 against 3 separated completely has p = 1/20).
    ///
    /// At the first look's α = 0.025 of the plan `spend`, `rate` and `shift` with `bad: either` need 5 (two-sided,
    /// 4 against 4 gives p = 2/70); the others are as above.
    /// - Parameter alpha: The level (default `CanaryJudge.alpha`, the level at which the judge calls a metric
    ///   `nodata`; the configuration check uses its plan's first look).
    public static func smallestSampleSize(_ metric: CanaryConfig.Metric, alpha: Double = CanaryJudge.alpha) -> Int {
        switch metric.statistic {
        case .mean: return 2
        case .p95: return QuantileDifference.smallestSample(fraction: 0.95)
        case .rate:
            return (1...1000).first { n in
                let p =
                    metric.bad == .decrease
                    ? FisherExact(
                        canarySuccesses: 0, canaryTrials: n, baselineSuccesses: n, baselineTrials: n, alternative: .less
                    )
                    : FisherExact(
                        canarySuccesses: n, canaryTrials: n, baselineSuccesses: 0, baselineTrials: n,
                        alternative: metric.bad == .either ? .twoSided : .greater)
                return (p?.p ?? 1) < alpha
            } ?? 1000
        case .shift:
            return (1...1000).first { n in
                let low = (1...n).map(Double.init)
                let high = low.map { $0 + Double(n) }
                let p = MannWhitney(
                    canary: high, baseline: low, alternative: metric.bad == .either ? .twoSided : .greater)
                return (p?.p ?? 1) < alpha
            } ?? 1000
        }
    }

    private static func nodata(_ metric: CanaryConfig.Metric, _ counts: (Int, Int)) -> MetricJudgement {
        MetricJudgement(
            metric: metric.name, statistic: metric.statistic, critical: metric.critical, bad: metric.bad,
            method: method(metric),
            baselineCount: counts.0, canaryCount: counts.1, baseline: nil, canary: nil, margin: nil, estimate: nil,
            interval: nil, intervalLevel: nil, baselineInterval: nil, canaryInterval: nil, pValue: nil, effect: nil,
            relativeEffect: nil, label: .nodata)
    }

    /// The method that tests the metric's statistic.
    public static func method(_ metric: CanaryConfig.Metric) -> MetricJudgement.Method {
        switch metric.statistic {
        case .rate: .fisherNewcombe
        case .mean: .welch
        case .p95: .orderStatistics
        case .shift: .mannWhitney
        }
    }

    private static func finish(
        _ metric: CanaryConfig.Metric, counts: (Int, Int), baseline: Double, canary: Double, margin: Double,
        estimate: Double, interval: ClosedRange<Double>?, level: Double, alpha: Double, p: Double,
        intervals: (ClosedRange<Double>?, ClosedRange<Double>?) = (nil, nil), beyond: Bool = true
    ) -> MetricJudgement {
        let effect = canary - baseline
        let relative = baseline == 0 ? (effect == 0 ? 0 : .infinity * (effect > 0 ? 1 : -1)) : effect / abs(baseline)
        return MetricJudgement(
            metric: metric.name, statistic: metric.statistic, critical: metric.critical, bad: metric.bad,
            method: method(metric),
            baselineCount: counts.0, canaryCount: counts.1, baseline: baseline, canary: canary, margin: margin,
            estimate: estimate, interval: interval, intervalLevel: interval == nil ? nil : level,
            baselineInterval: intervals.0, canaryInterval: intervals.1, pValue: p, effect: effect,
            relativeEffect: relative.isFinite ? relative : nil, label: p < alpha && beyond ? .regression : .pass)
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
