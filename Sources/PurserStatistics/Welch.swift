/// Welch's t test and interval for the difference of two means, canary − baseline (B. L. Welch, Biometrika 34,
/// 1947).
///
/// The standard error is √(s²_c/m + s²_b/n) with each arm's unbiased variance, and the degrees of freedom
/// Welch–Satterthwaite's (s²_c/m + s²_b/n)² / ((s²_c/m)²/(m − 1) + (s²_b/n)²/(n − 1)). It does not assume
/// equal variances, and the mean of a few hundred tasks is close to normal even for skewed values such as
/// durations and costs (the central limit theorem), which is where purser judges. A margin test against 0 is
/// `scipy.stats.ttest_ind(canary, baseline, equal_var=False, alternative=...)`, and the interval that test's
/// `confidence_interval(level)`.
public enum Welch {
    /// The difference of means with its standard error and degrees of freedom.
    ///
    /// - Returns: nil when an arm has fewer than 2 values (no variance) or a value is not finite.
    public static func estimate(canary: [Double], baseline: [Double]) -> Estimate? {
        guard canary.count >= 2, baseline.count >= 2, canary.allSatisfy(\.isFinite), baseline.allSatisfy(\.isFinite)
        else { return nil }
        let (c, b) = (moments(canary), moments(baseline))
        let (vc, vb) = (c.variance / Double(canary.count), b.variance / Double(baseline.count))
        let se2 = vc + vb
        let denominator = vc * vc / Double(canary.count - 1) + vb * vb / Double(baseline.count - 1)
        return Estimate(
            value: c.mean - b.mean, standardError: se2.squareRoot(),
            degreesOfFreedom: denominator > 0 ? se2 * se2 / denominator : nil)
    }

    /// The mean (summed in order, as the judge's arm means are) and the unbiased variance (two passes).
    /// An arm whose values are all equal has that value as its mean and a variance of exactly 0: summing 0.1 eighty
    /// times leaves rounding noise that would read as a significant difference from another arm of 0.1s.
    /// One value has a variance of 0; no values give a NaN mean.
    public static func moments(_ values: [Double]) -> (mean: Double, variance: Double) {
        if let first = values.first, values.allSatisfy({ $0 == first }) { return (first, 0) }
        let mean = values.reduce(0, +) / Double(values.count)
        var squares = 0.0
        for value in values {
            let deviation = value - mean
            squares += deviation * deviation
        }
        return (mean, squares / Double(values.count - 1))
    }
}
