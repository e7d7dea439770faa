/// The two-sided Mann–Whitney U test: is the canary's distribution shifted against the baseline's?
///
/// Matches `scipy.stats.mannwhitneyu(canary, baseline)` with its defaults (`use_continuity=True`,
/// `alternative='two-sided'`, `method='auto'`):
/// - `u` is U of the canary: its rank sum in the pooled sample (ties averaged) minus m(m + 1)/2, i.e. the number
///   of (canary, baseline) pairs where the canary is larger, counting equal pairs as one half;
/// - when either sample has at most 8 values and no value occurs twice in the pooled sample, p is exact:
///   2·P(U ≤ min(U, mn − U)) under the null distribution of U, which is the Gaussian binomial coefficient
///   [m+n choose m]_q (H. B. Mann and D. R. Whitney, Ann. Math. Statist. 18, 1947);
/// - otherwise p is 2·P(Z ≥ (max(U, mn − U) − mn/2 − 0.5)/σ) with the tie-corrected
///   σ² = mn/12 · ((N + 1) − Σ(t³ − t)/(N(N − 1))), N = m + n.
///
/// p is at most 1, and 1 when all values are equal.
public struct MannWhitney: Sendable, Hashable {
    /// U of the canary sample, in 0...mn.
    public let u: Double
    /// The two-sided p-value.
    public let p: Double
    /// Whether `p` is exact or from the normal approximation.
    public let method: TestMethod

    /// Tests the canary against the baseline.
    ///
    /// - Returns: nil when either sample is empty or holds a NaN or an infinity.
    public init?(canary: [Double], baseline: [Double]) {
        guard let samples = TwoSamples(canary: canary, baseline: baseline) else { return nil }
        self.init(samples)
    }

    /// Tests samples already sorted and ranked, so that the Hodges–Lehmann shift can reuse them.
    public init(_ samples: TwoSamples) {
        let (m, n) = (samples.canary.count, samples.baseline.count)
        let mn = Double(m) * Double(n)
        u = samples.canaryRankSum - Double(m) * Double(m + 1) / 2
        method = Self.method(samples)
        switch method {
        case .exact:
            let smaller = Int(min(u, mn - u))
            p = min(1, 2 * Self.exactCDF(m, n, through: smaller)[smaller])
        case .asymptotic:
            let sigma = Self.standardDeviation(samples)
            let z = (max(u, mn - u) - mn / 2 - 0.5) / sigma
            p = sigma > 0 ? min(1, 2 * Distributions.normalSurvival(z)) : 1
        }
    }

    /// scipy's rule: asymptotic when both samples have more than 8 values or there are ties, exact otherwise.
    static func method(_ samples: TwoSamples) -> TestMethod {
        min(samples.canary.count, samples.baseline.count) <= 8 && !samples.hasTies ? .exact : .asymptotic
    }

    /// σ of U under the null hypothesis, corrected for ties.
    static func standardDeviation(_ samples: TwoSamples) -> Double {
        let (m, n) = (Double(samples.canary.count), Double(samples.baseline.count))
        let total = m + n
        let variance = m * n / 12 * ((total + 1) - samples.tieTerm / (total * (total - 1)))
        return variance > 0 ? variance.squareRoot() : 0
    }

    /// P(U ≤ u) for u in 0...maxU when there are no ties, from the coefficients of the Gaussian binomial
    /// ∏ᵢ₌₁ˢ (1 − q^(l+i)) / (1 − q^i), s = min(m, n), l = max(m, n): each step multiplies by (1 − q^(l+i)) and
    /// divides by (1 − q^i), after which the coefficients are again the counts of [l+i choose i]_q, so nothing
    /// grows beyond the final counts. O(s · maxU) time, O(maxU) memory.
    static func exactCDF(_ m: Int, _ n: Int, through maxU: Int) -> [Double] {
        let (s, l) = (min(m, n), max(m, n))
        var counts = [Double](repeating: 0, count: maxU + 1)
        counts[0] = 1
        var total = 1.0
        for i in stride(from: 1, through: s, by: 1) {
            if l + i <= maxU {
                for u in stride(from: maxU, through: l + i, by: -1) { counts[u] -= counts[u - l - i] }
            }
            if i <= maxU {
                for u in i...maxU { counts[u] += counts[u - i] }
            }
            total = total * Double(l + i) / Double(i)
        }
        var cumulative = 0.0
        return counts.map { count in
            cumulative += count
            return min(1, cumulative / total)
        }
    }
}
