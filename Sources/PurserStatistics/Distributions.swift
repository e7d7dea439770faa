internal import Foundation

/// The standard normal, binomial and hypergeometric distributions that purser's tests are built on.
///
/// Probabilities come from `erfc` and `lgamma`, so that tails far from the mean keep their relative precision
/// (`normalSurvival(20)` is 2.75e-89, not 0) and a hypergeometric probability with 100,000 draws needs no big
/// integers. References: W. J. Cody's `erfc` as shipped in the C library; P. J. Acklam, "An algorithm for
/// computing the inverse normal cumulative distribution function" (2003).
public enum Distributions {
    /// P(Z ≤ z) for a standard normal Z.
    static func normalCDF(_ z: Double) -> Double {
        0.5 * erfc(-z / 2.0.squareRoot())
    }

    /// P(Z > z) for a standard normal Z, computed directly (not as 1 − CDF) so that upper tails stay precise.
    public static func normalSurvival(_ z: Double) -> Double {
        0.5 * erfc(z / 2.0.squareRoot())
    }

    /// The z with P(Z ≤ z) = p for a standard normal Z: Acklam's rational approximation refined by one Halley
    /// step, accurate to about 1e-15 relative over (0, 1).
    ///
    /// - Returns: −∞ for 0, +∞ for 1 and NaN outside [0, 1].
    static func normalQuantile(_ p: Double) -> Double {
        guard p >= 0, p <= 1 else { return .nan }
        if p == 0 { return -.infinity }
        if p == 1 { return .infinity }
        // 1 − p is exact for p ≥ 0.5, and the lower half is where the approximation and refinement are precise.
        if p > 0.5 { return -lowerQuantile(1 - p) }
        return lowerQuantile(p)
    }

    /// The quantile for 0 < p ≤ 0.5.
    private static func lowerQuantile(_ p: Double) -> Double {
        let a = [
            -3.969683028665376e+01, 2.209460984245205e+02, -2.759285104469687e+02, 1.383577518672690e+02,
            -3.066479806614716e+01, 2.506628277459239e+00,
        ]
        let b = [
            -5.447609879822406e+01, 1.615858368580409e+02, -1.556989798598866e+02, 6.680131188771972e+01,
            -1.328068155288572e+01,
        ]
        let c = [
            -7.784894002430293e-03, -3.223964580411365e-01, -2.400758277161838e+00, -2.549732539343734e+00,
            4.374664141464968e+00, 2.938163982698783e+00,
        ]
        let d = [7.784695709041462e-03, 3.224671290700398e-01, 2.445134137142996e+00, 3.754408661907416e+00]
        var x: Double
        if p < 0.02425 {
            let q = (-2 * log(p)).squareRoot()
            x =
                (((((c[0] * q + c[1]) * q + c[2]) * q + c[3]) * q + c[4]) * q + c[5])
                / ((((d[0] * q + d[1]) * q + d[2]) * q + d[3]) * q + 1)
        } else {
            let q = p - 0.5
            let r = q * q
            x =
                (((((a[0] * r + a[1]) * r + a[2]) * r + a[3]) * r + a[4]) * r + a[5]) * q
                / (((((b[0] * r + b[1]) * r + b[2]) * r + b[3]) * r + b[4]) * r + 1)
        }
        // Halley's step on f(x) = Φ(x) − p; e / φ(x) is formed in logs so that it neither overflows nor
        // underflows for p near the smallest doubles.
        let e = normalCDF(x) - p
        if e != 0 {
            let magnitude = exp(log(abs(e)) + x * x / 2 + 0.5 * log(2 * Double.pi))
            let u = e < 0 ? -magnitude : magnitude
            x -= u / (1 + x * u / 2)
        }
        return x
    }

    /// log C(n, k), the logarithm of the binomial coefficient; −∞ when k is outside 0...n.
    static func logChoose(_ n: Int, _ k: Int) -> Double {
        guard k >= 0, k <= n else { return -.infinity }
        if k == 0 || k == n { return 0 }
        return lgamma(Double(n) + 1) - lgamma(Double(k) + 1) - lgamma(Double(n - k) + 1)
    }

    /// log P(X = k) for X ~ Binomial(n, p).
    ///
    /// - Parameters:
    ///   - k: The number of successes.
    ///   - n: The number of trials.
    ///   - p: The probability of success of each trial, in [0, 1].
    static func binomialLogPMF(_ k: Int, trials n: Int, probability p: Double) -> Double {
        guard k >= 0, k <= n else { return -.infinity }
        if p == 0 { return k == 0 ? 0 : -.infinity }
        if p == 1 { return k == n ? 0 : -.infinity }
        return logChoose(n, k) + Double(k) * log(p) + Double(n - k) * log1p(-p)
    }

    /// log P(X = k) for X ~ Hypergeometric: the number of successes in `draws` items drawn without replacement
    /// from a `population` that holds `successes` successes (scipy's `hypergeom.logpmf(k, M, n, N)` with
    /// M = population, n = successes, N = draws).
    static func hypergeometricLogPMF(_ k: Int, population: Int, successes: Int, draws: Int) -> Double {
        logChoose(successes, k) + logChoose(population - successes, draws - k) - logChoose(population, draws)
    }

    /// P(X ≤ k) for X ~ Binomial(n, p).
    static func binomialCDF(_ k: Int, trials n: Int, probability p: Double) -> Double {
        if k < 0 { return 0 }
        if k >= n { return 1 }
        if p == 0 { return 1 }
        if p == 1 { return 0 }
        let mode = Int((Double(n + 1) * p).rounded(.down))
        return unimodalSum(
            over: 0...k, mode: mode, logPMF: { binomialLogPMF($0, trials: n, probability: p) },
            ratio: { Double(n - $0) / Double($0 + 1) * (p / (1 - p)) })
    }

    /// P(X ≥ k) (`upper`) or P(X ≤ k) for X ~ Hypergeometric(population, successes, draws).
    static func hypergeometricTail(_ k: Int, population: Int, successes: Int, draws: Int, upper: Bool) -> Double {
        let low = max(0, draws - (population - successes))
        let high = min(draws, successes)
        let range = upper ? max(k, low)...high : low...min(k, high)
        if range.isEmpty { return 0 }
        if range == low...high { return 1 }
        let mode = Int((Double(draws + 1) * Double(successes + 1) / Double(population + 2)).rounded(.down))
        let failures = population - successes
        return unimodalSum(
            over: range, mode: mode,
            logPMF: { hypergeometricLogPMF($0, population: population, successes: successes, draws: draws) },
            ratio: {
                Double(successes - $0) * Double(draws - $0) / (Double($0 + 1) * Double(failures - draws + $0 + 1))
            })
    }

    /// Σ pmf(k) over `range` for a unimodal distribution: starts at the largest term in the range and walks
    /// outwards with the ratio pmf(k + 1) / pmf(k), stopping once terms no longer change the sum, so a tail that
    /// starts at a term too small for a double (e⁻⁸⁰⁰) is still summed from the terms that matter.
    private static func unimodalSum(
        over range: ClosedRange<Int>, mode: Int, logPMF: (Int) -> Double, ratio: (Int) -> Double
    ) -> Double {
        let peak = min(max(mode, range.lowerBound), range.upperBound)
        var sum = 1.0
        var term = 1.0
        var k = peak
        while k < range.upperBound {
            term *= ratio(k)
            k += 1
            sum += term
            if term < sum * 1e-17 { break }
        }
        term = 1
        k = peak
        while k > range.lowerBound {
            k -= 1
            term /= ratio(k)
            sum += term
            if term < sum * 1e-17 { break }
        }
        return min(1, exp(logPMF(peak) + log(sum)))
    }
}
