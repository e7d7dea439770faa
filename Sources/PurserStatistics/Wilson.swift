internal import Foundation

/// The Wilson score interval for a proportion (E. B. Wilson, JASA 22, 1927).
///
/// Unlike the Wald interval p̂ ± z·√(p̂(1 − p̂)/n), it stays inside [0, 1] and does not collapse to a point at
/// 0 or n successes, which matters for error rates that are often 0 in small arms. Matches
/// `scipy.stats.binomtest(k, n).proportion_ci(confidence_level=level, method='wilson')`:
/// center (p̂ + z²/2n)/(1 + z²/n), half-width z/(1 + z²/n) · √(p̂(1 − p̂)/n + z²/4n²), z = Φ⁻¹(1 − α/2).
public struct Wilson: Sendable, Hashable {
    /// The observed proportion successes / trials.
    let estimate: Double
    /// The lower bound, 0 when there are no successes.
    public let lower: Double
    /// The upper bound, 1 when every trial succeeded.
    public let upper: Double
    /// The confidence level asked for.
    let level: Double

    /// The interval for `successes` out of `trials`.
    ///
    /// - Parameter level: The confidence level, strictly between 0 and 1.
    /// - Returns: nil without trials, or when successes are negative or exceed trials.
    public init?(successes: Int, trials: Int, level: Double = 0.95) {
        precondition(level > 0 && level < 1, "confidence level \(level) outside (0, 1)")
        guard trials > 0, successes >= 0, successes <= trials else { return nil }
        let n = Double(trials)
        let proportion = Double(successes) / n
        let z = -Distributions.normalQuantile((1 - level) / 2)
        let z2 = z * z
        let center = (proportion + z2 / (2 * n)) / (1 + z2 / n)
        let half = z / (1 + z2 / n) * (proportion * (1 - proportion) / n + z2 / (4 * n * n)).squareRoot()
        estimate = proportion
        lower = successes == 0 ? 0 : max(0, center - half)
        upper = successes == trials ? 1 : min(1, center + half)
        self.level = level
    }
}
