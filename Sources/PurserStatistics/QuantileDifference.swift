internal import Foundation

/// The difference of a quantile (the p95) between two samples, canary − baseline, with a standard error from
/// order statistics.
///
/// For each arm of n values sorted x₍₁₎ ≤ … ≤ x₍ₙ₎ and the quantile q (0.95): with h = z·√(nq(1 − q)) and
/// z = 1.959963984540054, the distribution-free interval [x₍ₗ₎, x₍ᵤ₎], l = ⌊nq − h⌋ and u = ⌈nq + h⌉, covers
/// the true quantile with probability γ = P(l ≤ B ≤ u − 1) for B ~ Binomial(n, q), computed exactly. Its width
/// gives the arm's standard error (x₍ᵤ₎ − x₍ₗ₎) / (2·Φ⁻¹((1 + γ)/2)): the order-statistic standard error of
/// J. W. McKean and R. M. Schrader (Commun. Statist. B 13, 1984) with the exact coverage of R. M. Price and
/// D. G. Bonett (J. Statist. Comput. Simul. 68, 2001), taken at q instead of the median. The difference's
/// standard error is √(se²_c + se²_b), and its interval and tests are normal, as Price and Bonett (J. Statist.
/// Comput. Simul. 72, 2002) form them for the difference of medians.
///
/// Nothing is resampled: one sort per arm, so 100,000 values per arm take milliseconds, and the result is a
/// pure function of the values. An arm too small for l ≥ 1 and u ≤ n has no standard error:
/// `smallestSample(fraction:)`.
public enum QuantileDifference {
    /// The z of each arm's order-statistic interval.
    static let z = 1.959963984540054

    /// The difference of the `fraction` quantiles (numpy's linear interpolation, §15.4) of the sorted samples.
    ///
    /// - Returns: nil when either arm is too small for its order-statistic interval.
    public static func estimate(canarySorted: [Double], baselineSorted: [Double], fraction: Double) -> Estimate? {
        guard let c = standardError(canarySorted, fraction), let b = standardError(baselineSorted, fraction) else {
            return nil
        }
        return Estimate(
            value: percentile(canarySorted, fraction) - percentile(baselineSorted, fraction),
            standardError: (c * c + b * b).squareRoot())
    }

    /// The order-statistic ranks (from 1) and their exact coverage for n values.
    static func ranks(count n: Int, fraction q: Double) -> (lower: Int, upper: Int, coverage: Double)? {
        let center = Double(n) * q
        let h = z * (center * (1 - q)).squareRoot()
        let (lower, upper) = (Int((center - h).rounded(.down)), Int((center + h).rounded(.up)))
        guard lower >= 1, upper <= n, lower < upper else { return nil }
        let coverage =
            Distributions.binomialCDF(upper - 1, trials: n, probability: q)
            - Distributions.binomialCDF(lower - 1, trials: n, probability: q)
        return (lower, upper, coverage)
    }

    /// The smallest number of values per arm with an order-statistic interval for the quantile.
    public static func smallestSample(fraction q: Double) -> Int {
        (1...100_000).first { ranks(count: $0, fraction: q) != nil } ?? 100_000
    }

    static func standardError(_ sorted: [Double], _ q: Double) -> Double? {
        guard let (lower, upper, coverage) = ranks(count: sorted.count, fraction: q), coverage > 0 else { return nil }
        return (sorted[upper - 1] - sorted[lower - 1]) / (2 * Distributions.normalQuantile((1 + coverage) / 2))
    }
}
