/// The Hodges–Lehmann estimate of the shift between canary and baseline, with its confidence interval.
///
/// The estimate is the median of the m·n differences canaryᵢ − baselineⱼ (J. L. Hodges and E. L. Lehmann,
/// Ann. Math. Statist. 34, 1963). The interval is the one that inverts the Mann–Whitney test (L. E. Moses, 1953;
/// D. F. Bauer, JASA 67, 1972), as R's `wilcox.test(x, y, conf.int = TRUE)` computes it for exact cases:
/// with q the smallest integer such that P(U ≤ q) ≥ α/2 (α = 1 − level), at least 1, the interval runs from the
/// q-th smallest difference to the q-th largest (the (mn − q + 1)-th smallest).
/// - P(U ≤ q) is exact when either sample has at most 8 values and no value repeats.
/// - Otherwise q = ⌈mn/2 − 0.5 − z₁₋α/₂ · σ⌉, the same condition with the continuity-corrected normal
///   approximation and the tie-corrected σ of the Mann–Whitney test.
///
/// q is capped at ⌊(mn + 1)/2⌋ so that the bounds never cross. When the level cannot be reached (2 vs 2 values
/// allow at most 67%), the interval is the whole range of differences. Differences are never listed:
/// see `PairwiseDifferences`, which makes 100,000 against 100,000 values take milliseconds.
public struct HodgesLehmann: Sendable, Hashable {
    /// The median of the pairwise differences canary − baseline.
    public let estimate: Double
    /// The lower bound of the interval.
    public let lower: Double
    /// The upper bound of the interval.
    public let upper: Double
    /// The confidence level asked for.
    let level: Double

    /// The shift of the canary against the baseline.
    ///
    /// - Parameter level: The confidence level, strictly between 0 and 1.
    /// - Returns: nil when either sample is empty or holds a NaN or an infinity.
    init?(canary: [Double], baseline: [Double], level: Double = 0.95) {
        guard let samples = TwoSamples(canary: canary, baseline: baseline) else { return nil }
        self.init(samples, level: level)
    }

    /// The shift, from samples already sorted and ranked for the Mann–Whitney test.
    ///
    /// - Parameter level: The confidence level, strictly between 0 and 1.
    public init(_ samples: TwoSamples, level: Double = 0.95) {
        precondition(level > 0 && level < 1, "confidence level \(level) outside (0, 1)")
        var differences = samples.differences
        let pairs = differences.count
        let middle = differences.kthSmallest((pairs + 1) / 2)
        if pairs % 2 == 1 {
            estimate = middle
        } else {
            // The other middle difference is the same value when it repeats, else the next one above it.
            let probe = differences.probe(middle)
            estimate = (middle + (probe.count > pairs / 2 ? middle : probe.next ?? middle)) / 2
        }
        let rank = min(max(Self.criticalRank(samples, alpha: 1 - level), 1), (pairs + 1) / 2)
        lower = differences.kthSmallest(rank)
        upper = differences.kthSmallest(pairs - rank + 1)
        self.level = level
    }

    /// The smallest q with P(U ≤ q) ≥ α/2, before capping.
    static func criticalRank(_ samples: TwoSamples, alpha: Double) -> Int {
        let (m, n) = (samples.canary.count, samples.baseline.count)
        switch min(m, n) <= 8 && !samples.hasTies ? TestMethod.exact : .asymptotic {
        case .exact:
            let cdf = MannWhitney.exactCDF(m, n, through: m * n / 2)
            return cdf.firstIndex { $0 >= alpha / 2 } ?? m * n / 2
        case .asymptotic:
            let sigma = MannWhitney.standardDeviation(samples)
            let z = -Distributions.normalQuantile(alpha / 2)
            return Int((Double(m) * Double(n) / 2 - 0.5 - z * sigma).rounded(.up))
        }
    }
}
