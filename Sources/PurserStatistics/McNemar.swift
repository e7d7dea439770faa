/// McNemar's exact test of paired pass/fail outcomes: does one version pass where the other fails more often
/// than the reverse?
///
/// Only discordant pairs carry information: b pairs where only the first version passed, c where only the
/// second did. Under the null hypothesis each discordant pair goes either way with probability ½, so the
/// two-sided p-value is min(1, 2·P(X ≤ min(b, c))) for X ~ Binomial(b + c, ½) (Q. McNemar, Psychometrika 12,
/// 1947). Matches statsmodels' `mcnemar([[a, b], [c, d]], exact=True)` and
/// `scipy.stats.binomtest(b, b + c, 0.5).pvalue`; with no discordant pairs p = 1.
public struct McNemar: Sendable, Hashable {
    /// min(b, c), the statistic statsmodels reports.
    let statistic: Int
    /// Pairs where only the first version passed (b).
    public let onlyFirst: Int
    /// Pairs where only the second version passed (c).
    public let onlySecond: Int
    /// The two-sided exact p-value.
    public let p: Double

    /// Tests discordant counts.
    ///
    /// - Parameters:
    ///   - onlyFirst: Pairs where the first version passed and the second failed (b, the table's [0][1]).
    ///   - onlySecond: Pairs where the second version passed and the first failed (c, the table's [1][0]).
    /// - Returns: nil when a count is negative.
    init?(onlyFirst: Int, onlySecond: Int) {
        guard onlyFirst >= 0, onlySecond >= 0 else { return nil }
        self.onlyFirst = onlyFirst
        self.onlySecond = onlySecond
        statistic = min(onlyFirst, onlySecond)
        let discordant = onlyFirst + onlySecond
        p = discordant == 0 ? 1 : min(1, 2 * Distributions.binomialCDF(statistic, trials: discordant, probability: 0.5))
    }

    /// Tests paired outcomes: `first[i]` and `second[i]` are the two versions' results on the same request.
    ///
    /// - Returns: nil when the arrays differ in length.
    public init?(first: [Bool], second: [Bool]) {
        guard first.count == second.count else { return nil }
        var onlyFirst = 0
        var onlySecond = 0
        for (a, b) in zip(first, second) where a != b {
            if a { onlyFirst += 1 } else { onlySecond += 1 }
        }
        self.init(onlyFirst: onlyFirst, onlySecond: onlySecond)
    }
}
