internal import Foundation

/// Fisher's exact test of two proportions: did the canary's rate rise, fall, or change against the baseline's?
///
/// The table is laid out as scipy's `fisher_exact` reads it, one row per arm:
///
///     [[canarySuccesses,  canaryTrials − canarySuccesses],
///      [baselineSuccesses, baselineTrials − baselineSuccesses]]
///
/// and the p-value is `scipy.stats.fisher_exact(table, alternative=...).pvalue`: with all margins fixed, the
/// canary's successes X follow the hypergeometric distribution (population = all trials, successes = all
/// successes, draws = the canary's trials), and p = P(X ≥ canarySuccesses) for `.greater` (the canary's rate is
/// higher: for an error rate, a regression), P(X ≤ canarySuccesses) for `.less`, and for `.twoSided` the sum of
/// P(X = x) over every x no more likely than the observed count (R. A. Fisher, 1935; the "minimum likelihood"
/// two-sided test, not a doubled one-sided p, which can exceed the real error rate).
///
/// Precision: when C(population, draws) < 2⁵³ (up to 28 trials per arm, or 1,000 against 5), every
/// probability is a ratio of whole numbers computed exactly, and the p-value is that ratio correctly rounded:
/// a p of exactly 1/20 is the double nearest 0.05, so it is not below α = 0.05. Larger tables sum terms from
/// log-gamma outwards from the largest term, exact to about 1e-12 relative for 100,000 trials per arm; two-sided
/// tests there count a term as no more likely than the observed one within a relative 1e-7, as scipy does.
/// An empty row or column (no trials in an arm, no successes or no failures at all) fixes X, so p = 1.
public struct FisherExact: Sendable, Hashable {
    /// Which departure from equal rates the test looks for.
    public enum Alternative: String, Sendable, Hashable, CaseIterable {
        /// The canary's rate is greater than the baseline's (scipy's `alternative='greater'`).
        case greater
        /// The canary's rate is less than the baseline's (scipy's `alternative='less'`).
        case less
        /// The rates differ (scipy's `alternative='two-sided'`).
        case twoSided = "two-sided"
    }

    /// The p-value.
    public let p: Double
    /// The alternative tested.
    let alternative: Alternative
    /// Whether `p` is an exact ratio of whole numbers (small tables) rather than a sum of floating-point terms.
    let rational: Bool

    /// Tests the canary's rate against the baseline's.
    ///
    /// - Returns: nil when a count is negative or successes exceed trials.
    public init?(
        canarySuccesses: Int, canaryTrials: Int, baselineSuccesses: Int, baselineTrials: Int,
        alternative: Alternative
    ) {
        guard canarySuccesses >= 0, baselineSuccesses >= 0, canarySuccesses <= canaryTrials,
            baselineSuccesses <= baselineTrials
        else { return nil }
        self.alternative = alternative
        let population = canaryTrials + baselineTrials
        let successes = canarySuccesses + baselineSuccesses
        let draws = canaryTrials
        let low = max(0, draws - (population - successes))
        let high = min(draws, successes)
        if let total = Self.choose(population, draws), total < 1 << 53 {
            rational = true
            let counts = (low...high).map {
                Self.choose(successes, $0)! * Self.choose(population - successes, draws - $0)!
            }
            let observed = counts[canarySuccesses - low]
            let selected: [UInt64] =
                switch alternative {
                case .greater: Array(counts[(canarySuccesses - low)...])
                case .less: Array(counts[...(canarySuccesses - low)])
                case .twoSided: counts.filter { $0 <= observed }
                }
            p = min(1, Double(selected.reduce(0, +)) / Double(total))
            return
        }
        rational = false
        switch alternative {
        case .greater, .less:
            p = Distributions.hypergeometricTail(
                canarySuccesses, population: population, successes: successes, draws: draws,
                upper: alternative == .greater)
        case .twoSided:
            func logPMF(_ x: Int) -> Double {
                Distributions.hypergeometricLogPMF(x, population: population, successes: successes, draws: draws)
            }
            let observed = logPMF(canarySuccesses) + log1p(1e-7)
            let mode = Int((Double(draws + 1) * Double(successes + 1) / Double(population + 2)).rounded(.down))
            // The terms no more likely than the observed one are the two tails beyond where the pmf, rising to
            // its mode and falling after it, crosses the observed probability.
            var total = 0.0
            if canarySuccesses <= mode {
                var x = high
                while x > mode, logPMF(x) <= observed { x -= 1 }
                total += Distributions.hypergeometricTail(
                    canarySuccesses, population: population, successes: successes, draws: draws, upper: false)
                if x < high {
                    total += Distributions.hypergeometricTail(
                        x + 1, population: population, successes: successes, draws: draws, upper: true)
                }
            } else {
                var x = low
                while x < mode, logPMF(x) <= observed { x += 1 }
                total += Distributions.hypergeometricTail(
                    canarySuccesses, population: population, successes: successes, draws: draws, upper: true)
                if x > low {
                    total += Distributions.hypergeometricTail(
                        x - 1, population: population, successes: successes, draws: draws, upper: false)
                }
            }
            p = min(1, total)
        }
    }

    /// C(n, k) as a whole number, or nil when it does not fit in 64 bits.
    static func choose(_ n: Int, _ k: Int) -> UInt64? {
        guard k >= 0, k <= n else { return 0 }
        let k = min(k, n - k)
        var result: UInt64 = 1
        for i in stride(from: 0, to: k, by: 1) {
            // result · (n − i) / (i + 1) is a whole number: C(n, i + 1) · (i + 1)! / i! … computed in 128 bits.
            let product = result.multipliedFullWidth(by: UInt64(n - i))
            guard product.high < UInt64(i + 1) else { return nil }
            result = UInt64(i + 1).dividingFullWidth(product).quotient
        }
        return result
    }
}
