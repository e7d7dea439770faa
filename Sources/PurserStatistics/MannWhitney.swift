/// The Mann–Whitney U test: is the canary's distribution shifted against the baseline's?
///
/// Two-sided, matches `scipy.stats.mannwhitneyu(canary, baseline)` with its defaults (`use_continuity=True`,
/// `alternative='two-sided'`, `method='auto'`), except for small samples with ties (below); one-sided, the same
/// call with `alternative='greater'` (P(U ≥ u)) or `'less'` (P(U ≤ u)):
/// - `u` is U of the canary: its rank sum in the pooled sample (ties averaged) minus m(m + 1)/2, i.e. the number
///   of (canary, baseline) pairs where the canary is larger, counting equal pairs as one half;
/// - when either sample has at most 8 values and no value occurs twice in the pooled sample, p is exact:
///   2·P(U ≤ min(U, mn − U)) under the null distribution of U, which is the Gaussian binomial coefficient
///   [m+n choose m]_q (H. B. Mann and D. R. Whitney, Ann. Math. Statist. 18, 1947);
/// - when values tie and N = m + n ≤ 40, p is exact too: the permutation distribution of U over all C(N, m)
///   ways to split the pooled values (with their averaged ranks) into the two arms, counted by dynamic
///   programming, two-sided 2·min(P(U ≥ u), P(U ≤ u)). This is `scipy.stats.permutation_test((canary, baseline),
///   statistic, permutation_type='independent', n_resamples=numpy.inf)` with U as the statistic; scipy's own
///   `method='auto'` would use the normal approximation, which is poor for so few values;
/// - otherwise p is 2·P(Z ≥ (max(U, mn − U) − mn/2 − 0.5)/σ) with the tie-corrected
///   σ² = mn/12 · ((N + 1) − Σ(t³ − t)/(N(N − 1))), N = m + n (one-sided: P(Z ≥ (U − mn/2 − 0.5)/σ) for
///   `greater`, P(Z ≥ (mn − U − mn/2 − 0.5)/σ) for `less`).
///
/// p is at most 1, and 1 when all values are equal.
public struct MannWhitney: Sendable, Hashable {
    /// Which departure the test looks for.
    public enum Alternative: String, Sendable, Hashable {
        /// The canary's values tend to be larger.
        case greater
        /// The canary's values tend to be smaller.
        case less
        case twoSided = "two-sided"
    }

    /// U of the canary sample, in 0...mn.
    let u: Double
    /// The p-value.
    public let p: Double
    /// Whether `p` is exact or from the normal approximation.
    let method: TestMethod

    /// Tests the canary against the baseline.
    ///
    /// - Returns: nil when either sample is empty or holds a NaN or an infinity.
    public init?(canary: [Double], baseline: [Double], alternative: Alternative = .twoSided) {
        guard let samples = TwoSamples(canary: canary, baseline: baseline) else { return nil }
        self.init(samples, alternative: alternative)
    }

    /// Tests samples already sorted and ranked, so that the Hodges–Lehmann shift can reuse them.
    public init(_ samples: TwoSamples, alternative: Alternative = .twoSided) {
        let (m, n) = (samples.canary.count, samples.baseline.count)
        let mn = Double(m) * Double(n)
        u = samples.canaryRankSum - Double(m) * Double(m + 1) / 2
        method = Self.method(samples)
        switch method {
        case .exact where samples.hasTies:
            let (atMost, atLeast) = Self.permutationTails(samples)
            p =
                switch alternative {
                case .greater: atLeast
                case .less: atMost
                case .twoSided: min(1, 2 * min(atMost, atLeast))
                }
        case .exact:
            let (low, high) = (Int(u), Int(mn - u))
            p =
                switch alternative {
                case .greater: Self.exactCDF(m, n, through: high)[high]
                case .less: Self.exactCDF(m, n, through: low)[low]
                case .twoSided: min(1, 2 * Self.exactCDF(m, n, through: min(low, high))[min(low, high)])
                }
        case .asymptotic:
            let sigma = Self.standardDeviation(samples)
            let statistic =
                switch alternative {
                case .greater: u
                case .less: mn - u
                case .twoSided: max(u, mn - u)
                }
            let z = (statistic - mn / 2 - 0.5) / sigma
            let tail = Distributions.normalSurvival(z)
            p = sigma > 0 ? min(1, alternative == .twoSided ? 2 * tail : tail) : 1
        }
    }

    /// Exact when either sample has at most 8 values and no value repeats (scipy's rule), or when values
    /// repeat and there are at most 40 in all (the permutation distribution); asymptotic otherwise.
    static func method(_ samples: TwoSamples) -> TestMethod {
        let (m, n) = (samples.canary.count, samples.baseline.count)
        if samples.hasTies { return m + n <= 40 ? .exact : .asymptotic }
        return min(m, n) <= 8 ? .exact : .asymptotic
    }

    /// (P(U ≤ u), P(U ≥ u)) over the C(N, m) splits of the pooled values, with ties: the canary's sum of doubled
    /// averaged ranks (whole numbers) counted by dynamic programming over the pooled values, a count per
    /// (values taken, sum). The counts stay below C(40, 20) < 2⁵³, exact in doubles.
    static func permutationTails(_ samples: TwoSamples) -> (atMost: Double, atLeast: Double) {
        let pooled = (samples.canary + samples.baseline).sorted()
        let m = samples.canary.count
        var doubledRanks: [Int] = []
        var start = 0
        while start < pooled.count {
            var end = start + 1
            while end < pooled.count && pooled[end] == pooled[start] { end += 1 }
            doubledRanks += Array(repeating: start + 1 + end, count: end - start)
            start = end
        }
        let total = doubledRanks.reduce(0, +)
        // ways[k][s]: splits of the values so far with k taken for the canary, their doubled ranks summing to s.
        var ways = [[Double]](repeating: [Double](repeating: 0, count: total + 1), count: m + 1)
        ways[0][0] = 1
        for rank in doubledRanks {
            for k in stride(from: m, through: 1, by: -1) {
                for s in stride(from: total, through: rank, by: -1) where ways[k - 1][s - rank] > 0 {
                    ways[k][s] += ways[k - 1][s - rank]
                }
            }
        }
        let observed = Int((2 * samples.canaryRankSum).rounded())
        let all = ways[m].reduce(0, +)
        return (ways[m][...observed].reduce(0, +) / all, ways[m][observed...].reduce(0, +) / all)
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
