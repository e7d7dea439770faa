/// The Mann–Kendall test for a monotonic trend in a series, with Sen's slope.
///
/// For a series x₁…xₙ at equal time steps (H. B. Mann, Econometrica 13, 1945; M. G. Kendall, 1975):
/// - S = Σᵢ<ⱼ sign(xⱼ − xᵢ), positive when later values tend to be larger;
/// - Var S = (n(n − 1)(2n + 5) − Σ t(t − 1)(2t + 5))/18, summing over groups of t equal values;
/// - Z = (S − 1)/√Var S for S > 0, (S + 1)/√Var S for S < 0, 0 for S = 0 (continuity correction);
/// - p = 2·P(Z' ≥ |Z|), two-sided;
/// - Sen's slope = the median of (xⱼ − xᵢ)/(tⱼ − tᵢ) over i < j (P. K. Sen, JASA 63, 1968), per unit of t: the
///   same as `scipy.stats.theilslopes(x, t).slope`. With values at t = 0, 1, 2, … it is the change per step;
///   with gaps (periods without tasks, such as weekends), the times keep the slope per unit of time, where
///   counting only the values present would overstate it.
///
/// The conventions are those of pymannkendall's `original_test` (M. Hussain and I. Mahmud, JOSS 4, 2019). The
/// pairs are enumerated, O(n²) time and, for the slope, O(n²) memory: meant for per-period aggregates (a few years
/// of daily values), not raw samples.
public struct MannKendall: Sendable, Hashable {
    /// S, the number of increasing pairs minus the number of decreasing pairs.
    let s: Int
    /// The variance of S under the null hypothesis of no trend, corrected for ties.
    let variance: Double
    /// The standardized statistic with continuity correction.
    let z: Double
    /// The two-sided p-value.
    public let p: Double
    /// Sen's slope: the median change per unit of time.
    public let slope: Double

    /// Tests `series`, whose values are taken at equal time steps.
    ///
    /// - Returns: nil with fewer than 2 values, or when a value is NaN or infinite.
    public init?(_ series: [Double]) {
        self.init(series, times: series.indices.map(Double.init))
    }

    /// Tests `series`, whose values are taken at `times` (increasing strictly); the slope is per unit of time.
    ///
    /// - Returns: nil with fewer than 2 values, a value that is NaN or infinite, or times that are not finite
    ///   and strictly increasing.
    public init?(_ series: [Double], times: [Double]) {
        let n = series.count
        guard n >= 2, series.allSatisfy(\.isFinite), times.count == n, times.allSatisfy(\.isFinite),
            zip(times, times.dropFirst()).allSatisfy({ $0 < $1 })
        else { return nil }
        var s = 0
        var slopes: [Double] = []
        slopes.reserveCapacity(n * (n - 1) / 2)
        for i in 0..<(n - 1) {
            for j in (i + 1)..<n {
                let difference = series[j] - series[i]
                s += difference > 0 ? 1 : (difference < 0 ? -1 : 0)
                slopes.append(difference / (times[j] - times[i]))
            }
        }
        var tieTerm = 0.0
        let sorted = series.sorted()
        var start = 0
        while start < n {
            var end = start + 1
            while end < n && sorted[end] == sorted[start] { end += 1 }
            let t = Double(end - start)
            tieTerm += t * (t - 1) * (2 * t + 5)
            start = end
        }
        let count = Double(n)
        variance = (count * (count - 1) * (2 * count + 5) - tieTerm) / 18
        let correction = s > 0 ? -1.0 : (s < 0 ? 1.0 : 0)
        z = s == 0 || variance <= 0 ? 0 : (Double(s) + correction) / variance.squareRoot()
        p = min(1, 2 * Distributions.normalSurvival(abs(z)))
        self.s = s
        slope = OrderStatistics.median(&slopes)
    }
}
