/// The Wilcoxon signed-rank test of paired values: are the differences first − second centred on 0 (two-sided),
/// or above (`greater`) or below it (`less`)?
///
/// Matches `scipy.stats.wilcoxon(first, second, zero_method='wilcox', correction=True,
/// alternative='two-sided', method='auto')` as of scipy 1.17 (F. Wilcoxon, Biometrics Bulletin 1, 1945):
/// - differences dᵢ = firstᵢ − secondᵢ equal to 0 are dropped; the others are ranked by |dᵢ|, ties averaged, and
///   R⁺ is the sum of the ranks of positive differences;
/// - with n pairs (zeros included): n ≤ 50 without ties or zeros → exact; n ≤ 13 with ties or zeros → exact over
///   all 2ⁿ sign assignments (scipy's exhaustive permutation test); otherwise the normal approximation
///   z = (R⁺ − n'(n' + 1)/4 ∓ ½)/σ, σ² = (n'(n' + 1)(2n' + 1) − Σ(t³ − t)/2)/24 for the n' nonzero
///   differences, with the ½ taken towards the mean;
/// - exact p = min(1, 2·min(P(R⁺ ≥ r), P(R⁺ ≤ r))), asymptotic p = 2·P(Z ≥ |z|); one-sided, P(R⁺ ≥ r) or
///   P(R⁺ ≤ r), and asymptotically z = (R⁺ − n'(n' + 1)/4 − ½)/σ with p = P(Z ≥ z) for `greater`,
///   z = (R⁺ − n'(n' + 1)/4 + ½)/σ with p = P(Z ≤ z) for `less` (scipy's `alternative=`).
///
/// scipy's default is `correction=False`; purser corrects for continuity as the Mann–Whitney test does. Where
/// scipy returns NaN (more than 13 pairs, all differences 0) p is 1: no pair is evidence of a difference.
public struct WilcoxonSignedRank: Sendable, Hashable {
    /// Which departure the test looks for.
    public enum Alternative: String, Sendable, Hashable {
        /// The differences tend to be positive.
        case greater
        /// The differences tend to be negative.
        case less
        case twoSided = "two-sided"
    }

    /// min(R⁺, R⁻), the statistic scipy reports for the two-sided test.
    let statistic: Double
    /// R⁺, the sum of the ranks of the positive differences.
    public let rankSumPositive: Double
    /// The number of nonzero differences that were ranked.
    public let count: Int
    /// The p-value.
    public let p: Double
    /// Whether `p` is exact or from the normal approximation.
    let method: TestMethod

    /// Tests paired values: `first[i]` and `second[i]` are the two versions' values for the same request.
    ///
    /// - Returns: nil when the arrays are empty, differ in length, or hold a NaN or an infinity.
    public init?(first: [Double], second: [Double], alternative: Alternative = .twoSided) {
        guard !first.isEmpty, first.count == second.count, first.allSatisfy(\.isFinite),
            second.allSatisfy(\.isFinite)
        else { return nil }
        let differences = zip(first, second).map { $0 - $1 }.filter { $0 != 0 }
        let hasZeros = differences.count < first.count
        let ranked = differences.sorted { abs($0) < abs($1) }
        // Ranks doubled so that averaged ranks stay integers for the exact distribution.
        var doubledRanks: [Int] = []
        doubledRanks.reserveCapacity(ranked.count)
        var doubledPositive = 0
        var tieTerm = 0.0
        var start = 0
        while start < ranked.count {
            var end = start + 1
            while end < ranked.count && abs(ranked[end]) == abs(ranked[start]) { end += 1 }
            let doubledRank = start + 1 + end  // 2 · (start + 1 + end) / 2
            for value in ranked[start..<end] {
                doubledRanks.append(doubledRank)
                if value > 0 { doubledPositive += doubledRank }
            }
            let tied = Double(end - start)
            tieTerm += tied * tied * tied - tied
            start = end
        }
        let n = Double(ranked.count)
        let rankTotal = n * (n + 1) / 2
        rankSumPositive = Double(doubledPositive) / 2
        statistic = min(rankSumPositive, rankTotal - rankSumPositive)
        count = ranked.count
        let hasTies = tieTerm > 0
        let exact = first.count <= 50 && !hasTies && !hasZeros || first.count <= 13
        if exact {
            method = .exact
            let (atMost, atLeast) = Self.exactTails(doubledRanks: doubledRanks, doubledObserved: doubledPositive)
            p =
                switch alternative {
                case .greater: atLeast
                case .less: atMost
                case .twoSided: min(1, 2 * min(atMost, atLeast))
                }
        } else {
            method = .asymptotic
            let sigma = ((n * (n + 1) * (2 * n + 1) - tieTerm / 2) / 24).squareRoot()
            guard sigma > 0 else {
                p = 1
                return
            }
            var z = (rankSumPositive - n * (n + 1) / 4) / sigma
            switch alternative {
            case .greater: p = Distributions.normalSurvival(z - 0.5 / sigma)
            case .less: p = Distributions.normalCDF(z + 0.5 / sigma)
            case .twoSided:
                if z != 0 { z -= (z > 0 ? 0.5 : -0.5) / sigma }
                p = min(1, 2 * Distributions.normalSurvival(abs(z)))
            }
        }
    }

    /// (P(S ≤ s), P(S ≥ s)) for S the sum of the doubled ranks that get a positive sign, each sign independently
    /// ½: the distribution by dynamic programming over the ranks.
    private static func exactTails(doubledRanks: [Int], doubledObserved: Int) -> (atMost: Double, atLeast: Double) {
        let total = doubledRanks.reduce(0, +)
        var probabilities = [Double](repeating: 0, count: total + 1)
        probabilities[0] = 1
        var reach = 0
        for rank in doubledRanks {
            reach += rank
            for s in stride(from: reach, through: rank, by: -1) {
                probabilities[s] = (probabilities[s] + probabilities[s - rank]) / 2
            }
            for s in 0..<rank { probabilities[s] /= 2 }
        }
        let atMost = probabilities[...doubledObserved].reduce(0, +)
        let atLeast = probabilities[doubledObserved...].reduce(0, +)
        return (atMost, atLeast)
    }
}
