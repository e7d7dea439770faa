/// The one-sided Fisher exact test of two proportions: did the canary's rate rise (or fall) against the
/// baseline's?
///
/// The table is laid out as scipy's `fisher_exact` reads it, one row per arm:
///
///     [[canarySuccesses,  canaryTrials − canarySuccesses],
///      [baselineSuccesses, baselineTrials − baselineSuccesses]]
///
/// and the p-value is `scipy.stats.fisher_exact(table, alternative=...).pvalue`: with all margins fixed, the
/// canary's successes X follow the hypergeometric distribution (population = all trials, successes = all
/// successes, draws = the canary's trials), and p = P(X ≥ canarySuccesses) for `.greater` (the canary's rate is
/// higher: for an error rate, a regression) or P(X ≤ canarySuccesses) for `.less` (R. A. Fisher, 1935).
/// Probabilities come from log-gamma and are summed outwards from the largest term, so 100,000 trials per arm
/// are exact to rounding. An empty row or column (no trials in an arm, no successes or no failures at all) fixes
/// X, so p = 1, as scipy returns.
public struct FisherExact: Sendable, Hashable {
    /// Which departure from equal rates the test looks for.
    public enum Alternative: String, Sendable, Hashable, CaseIterable {
        /// The canary's rate is greater than the baseline's (scipy's `alternative='greater'`).
        case greater
        /// The canary's rate is less than the baseline's (scipy's `alternative='less'`).
        case less
    }

    /// The one-sided p-value.
    public let p: Double
    /// The alternative tested.
    public let alternative: Alternative

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
        p = Distributions.hypergeometricTail(
            canarySuccesses, population: population, successes: successes, draws: canaryTrials,
            upper: alternative == .greater)
    }
}
