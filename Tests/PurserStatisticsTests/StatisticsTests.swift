import Foundation
import Testing

@testable import PurserStatistics

// Reference values below come from scipy 1.17.1 (numpy 2.4), each table naming the exact call. Samples written as
// `ReferenceSequence.values(...)` were generated in Python by the same generator, so both sides see the same
// doubles. Hodges–Lehmann references were computed independently by brute force: every difference listed and
// sorted, the median taken with numpy, and the interval read at ranks q and mn − q + 1 of the sorted differences,
// with q from the exact distribution of U (enumerated by the recurrence f(u; m, n) = f(u − n; m − 1, n) +
// f(u; m, n − 1) in integers) or, when scipy's test is asymptotic, q = ⌈mn/2 − 0.5 − z·σ⌉ with
// z = scipy.stats.norm.ppf(1 − α/2) and the tie-corrected σ.

/// Whether `actual` agrees with `expected` to 1e-6 relative (p-values of 1e-16 included), or both are below 1e-300.
private func isClose(_ actual: Double, _ expected: Double, tolerance: Double = 1e-6) -> Bool {
    abs(actual - expected) <= tolerance * abs(expected) + 1e-300
}

/// Knuth's MMIX linear congruential generator, as in the reference script:
/// `state = state * 6364136223846793005 + 1442695040888963407 mod 2⁶⁴`, each value
/// `Double((state >> 33) % modulus + offset) / scale`.
private enum ReferenceSequence {
    static func values(
        seed: UInt64, count: Int, modulus: UInt64, offset: UInt64 = 0, scale: Double = 1000
    )
        -> [Double]
    {
        var state = seed
        return (0..<count).map { _ in
            state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
            return Double((state >> 33) % modulus + offset) / scale
        }
    }
}

@Suite("Statistics agree with scipy 1.17.1 and with brute force")
struct StatisticsTests {
    // MARK: Mann–Whitney U and Hodges–Lehmann

    struct RankCase: Sendable, CustomTestStringConvertible {
        let name: String
        let canary: [Double]
        let baseline: [Double]
        let u: Double
        let p: Double
        let method: TestMethod
        let estimate: Double
        let lower: Double
        let upper: Double
        var testDescription: String { name }
    }

    /// `scipy.stats.mannwhitneyu(canary, baseline)` (use_continuity=True, alternative='two-sided',
    /// method='auto'): statistic and pvalue. Estimate and 95% interval by brute force (see the top of the file).
    static let rankCases: [RankCase] = [
        RankCase(
            name: "issue example", canary: [10, 20, 30, 40], baseline: [1, 2, 3, 4], u: 16, p: 0.02857142857142857,
            method: .exact, estimate: 22.5, lower: 6, upper: 39),
        RankCase(
            name: "reversed", canary: [1, 2, 3, 4], baseline: [10, 20, 30, 40], u: 0, p: 0.02857142857142857,
            method: .exact, estimate: -22.5, lower: -39, upper: -6),
        RankCase(
            name: "interleaved, exact", canary: [1.1, 2.5, 3.3, 4.8, 6.0], baseline: [2.0, 3.0, 5.5, 7.1, 8.2, 9.0],
            u: 8, p: 0.24675324675324672, method: .exact, estimate: -2.25, lower: -6, upper: 1.7999999999999998),
        RankCase(
            name: "4 vs 11: exact because one sample has at most 8 values", canary: [10, 20, 30, 40],
            baseline: [1, 2, 3, 4, 5, 6, 7, 8, 9, 10.5, 11], u: 42, p: 0.005860805860805861, method: .exact,
            estimate: 19, lower: 5, upper: 33),
        RankCase(
            name: "8 vs 8, exact", canary: [0.5, 1.7, 2.2, 3.9, 4.1, 5.6, 7.3, 8.8],
            baseline: [0.1, 0.9, 1.2, 2.0, 2.8, 3.3, 4.4, 5.0], u: 44, p: 0.23449883449883446, method: .exact,
            estimate: 1.4500000000000002, lower: -0.9000000000000004, upper: 4.4),
        RankCase(
            name: "9 vs 9, asymptotic", canary: [0.5, 1.7, 2.2, 3.9, 4.1, 5.6, 7.3, 8.8, 9.5],
            baseline: [0.1, 0.9, 1.2, 2.0, 2.8, 3.3, 4.4, 5.0, 6.1], u: 55, p: 0.21637300805763748,
            method: .asymptotic, estimate: 1.9, lower: -1.0999999999999996, upper: 5.1),
        RankCase(
            // scipy.stats.permutation_test((canary, baseline), lambda x, y: scipy.stats.mannwhitneyu(x, y).statistic,
            //     permutation_type='independent', n_resamples=numpy.inf).pvalue (mannwhitneyu's own: 0.1139, normal)
            name: "small with ties: exact permutation", canary: [1, 2, 2, 3, 4], baseline: [2, 3, 3, 5, 6, 7], u: 6,
            p: 0.12121212121212122, method: .exact, estimate: -2, lower: -5, upper: 1),
        RankCase(
            name: "identical samples", canary: [1, 2, 3], baseline: [1, 2, 3], u: 4.5, p: 1, method: .exact,
            estimate: 0, lower: -2, upper: 2),
        RankCase(
            name: "all values equal", canary: [5, 5, 5], baseline: [5, 5, 5, 5], u: 6, p: 1, method: .exact,
            estimate: 0, lower: 0, upper: 0),
        RankCase(
            name: "one against one", canary: [1], baseline: [2], u: 0, p: 1, method: .exact, estimate: -1, lower: -1,
            upper: -1),
        RankCase(
            name: "5 vs 200, exact",
            canary: ReferenceSequence.values(seed: 11, count: 5, modulus: 100_000, offset: 20_000),
            baseline: ReferenceSequence.values(seed: 12, count: 200, modulus: 100_000), u: 801,
            p: 0.018356919170144675, method: .exact, estimate: 32.289500000000004, lower: 7.1370000000000005,
            upper: 60.867999999999995),
        RankCase(
            name: "1000 vs 1200, continuous",
            canary: ReferenceSequence.values(seed: 1, count: 1000, modulus: 100_000, offset: 3000),
            baseline: ReferenceSequence.values(seed: 2, count: 1200, modulus: 100_000), u: 647692.5,
            p: 0.0013059752807816271, method: .asymptotic, estimate: 4.032, lower: 1.5720000000000027,
            upper: 6.592999999999996),
        RankCase(
            name: "300 vs 250, many ties",
            canary: ReferenceSequence.values(seed: 3, count: 300, modulus: 50, offset: 2, scale: 1),
            baseline: ReferenceSequence.values(seed: 4, count: 250, modulus: 50, scale: 1), u: 38818.5,
            p: 0.47744955594210536, method: .asymptotic, estimate: 1, lower: -2, upper: 3),
    ]

    @Test(arguments: rankCases)
    func mannWhitneyMatchesScipy(_ reference: RankCase) throws {
        let test = try #require(MannWhitney(canary: reference.canary, baseline: reference.baseline))
        #expect(test.u == reference.u)
        #expect(isClose(test.p, reference.p), "p = \(test.p), scipy \(reference.p)")
        #expect(test.method == reference.method)
    }

    @Test(arguments: rankCases)
    func hodgesLehmannMatchesBruteForce(_ reference: RankCase) throws {
        let shift = try #require(HodgesLehmann(canary: reference.canary, baseline: reference.baseline))
        #expect(isClose(shift.estimate, reference.estimate), "estimate \(shift.estimate)")
        #expect(isClose(shift.lower, reference.lower), "lower \(shift.lower)")
        #expect(isClose(shift.upper, reference.upper), "upper \(shift.upper)")
        #expect(shift.level == 0.95)
    }

    struct LevelCase: Sendable, CustomTestStringConvertible {
        let name: String
        let canary: [Double]
        let baseline: [Double]
        let level: Double
        let lower: Double
        let upper: Double
        var testDescription: String { "\(name) at \(level)" }
    }

    static let levelCases: [LevelCase] = {
        let exact = ([0.5, 1.7, 2.2, 3.9, 4.1, 5.6, 7.3, 8.8], [0.1, 0.9, 1.2, 2.0, 2.8, 3.3, 4.4, 5.0])
        let asymptotic = (
            ReferenceSequence.values(seed: 1, count: 1000, modulus: 100_000, offset: 3000),
            ReferenceSequence.values(seed: 2, count: 1200, modulus: 100_000)
        )
        return [
            LevelCase(
                name: "8 vs 8, exact", canary: exact.0, baseline: exact.1, level: 0.90, lower: -0.5999999999999996,
                upper: 4.0),
            LevelCase(
                name: "8 vs 8, exact", canary: exact.0, baseline: exact.1, level: 0.99, lower: -2.2,
                upper: 6.000000000000001),
            LevelCase(
                name: "1000 vs 1200, asymptotic", canary: asymptotic.0, baseline: asymptotic.1, level: 0.90,
                lower: 1.9600000000000009, upper: 6.165999999999997),
            LevelCase(
                name: "1000 vs 1200, asymptotic", canary: asymptotic.0, baseline: asymptotic.1, level: 0.99,
                lower: 0.8039999999999994, upper: 7.393999999999998),
        ]
    }()

    @Test(arguments: levelCases)
    func hodgesLehmannIntervalFollowsTheLevel(_ reference: LevelCase) throws {
        let shift = try #require(
            HodgesLehmann(canary: reference.canary, baseline: reference.baseline, level: reference.level))
        #expect(isClose(shift.lower, reference.lower), "lower \(shift.lower)")
        #expect(isClose(shift.upper, reference.upper), "upper \(shift.upper)")
    }

    @Test func swappingTheSamplesMirrorsUAndTheShift() throws {
        let canary = ReferenceSequence.values(seed: 7, count: 40, modulus: 30, scale: 1)
        let baseline = ReferenceSequence.values(seed: 8, count: 55, modulus: 30, offset: 4, scale: 1)
        let forward = try #require(MannWhitney(canary: canary, baseline: baseline))
        let backward = try #require(MannWhitney(canary: baseline, baseline: canary))
        #expect(forward.u + backward.u == 40 * 55)
        #expect(forward.p == backward.p)
        let shift = try #require(HodgesLehmann(canary: canary, baseline: baseline))
        let mirrored = try #require(HodgesLehmann(canary: baseline, baseline: canary))
        #expect(shift.estimate == -mirrored.estimate)
        #expect(shift.lower == -mirrored.upper && shift.upper == -mirrored.lower)
    }

    @Test func uCountsThePairsWhereTheCanaryIsLarger() throws {
        var generator = SeededGenerator(seed: 42)
        for _ in 0..<20 {
            let canary = (0..<Int.random(in: 1...60, using: &generator)).map { _ in
                Double(Int.random(in: 0...20, using: &generator))
            }
            let baseline = (0..<Int.random(in: 1...60, using: &generator)).map { _ in
                Double(Int.random(in: 0...20, using: &generator))
            }
            var pairs = 0.0
            for x in canary {
                for y in baseline { pairs += x > y ? 1 : (x == y ? 0.5 : 0) }
            }
            #expect(try #require(MannWhitney(canary: canary, baseline: baseline)).u == pairs)
        }
    }

    @Test func samplesWithoutARankAreRejected() {
        #expect(MannWhitney(canary: [], baseline: [1]) == nil)
        #expect(MannWhitney(canary: [1], baseline: []) == nil)
        #expect(MannWhitney(canary: [1, .nan], baseline: [2]) == nil)
        #expect(HodgesLehmann(canary: [1], baseline: [.infinity]) == nil)
        #expect(TwoSamples(canary: [1, 2], baseline: [3]) != nil)
    }

    // MARK: Fast selection of pairwise differences against brute force

    struct SelectionCase: Sendable, CustomTestStringConvertible {
        let name: String
        let sizes: (Int, Int)
        /// A value from a random source.
        let draw: @Sendable (inout SeededGenerator) -> Double
        var testDescription: String { "\(name), \(sizes.0)×\(sizes.1)" }
    }

    static let selectionCases: [SelectionCase] = {
        let continuous: @Sendable (inout SeededGenerator) -> Double = { Double.random(in: -50...50, using: &$0) }
        let ties: @Sendable (inout SeededGenerator) -> Double = { Double(Int.random(in: 0...6, using: &$0)) }
        let counts: @Sendable (inout SeededGenerator) -> Double = { Double(Int.random(in: 0...400, using: &$0)) }
        let skewed: @Sendable (inout SeededGenerator) -> Double = { exp(Double.random(in: -30...30, using: &$0)) }
        let mixed: @Sendable (inout SeededGenerator) -> Double = {
            Bool.random(using: &$0)
                ? 0 : Double.random(in: -1e-3...1e3, using: &$0) * (Bool.random(using: &$0) ? 1 : -1e-9)
        }
        return [
            SelectionCase(name: "continuous", sizes: (300, 300), draw: continuous),
            SelectionCase(name: "continuous", sizes: (299, 257), draw: continuous),
            SelectionCase(name: "continuous", sizes: (1, 300), draw: continuous),
            SelectionCase(name: "continuous", sizes: (300, 1), draw: continuous),
            SelectionCase(name: "continuous", sizes: (7, 13), draw: continuous),
            SelectionCase(name: "few distinct values", sizes: (300, 300), draw: ties),
            SelectionCase(name: "few distinct values", sizes: (120, 290), draw: ties),
            SelectionCase(name: "whole numbers, each about twice", sizes: (1000, 900), draw: counts),
            SelectionCase(name: "values over 26 orders of magnitude", sizes: (300, 280), draw: skewed),
            SelectionCase(name: "zeros and tiny and large values", sizes: (250, 300), draw: mixed),
        ]
    }()

    @Test(arguments: selectionCases)
    func selectionEqualsSortingAllDifferences(_ selection: SelectionCase) throws {
        var generator = SeededGenerator(seed: 2024)
        let canary = (0..<selection.sizes.0).map { _ in selection.draw(&generator) }
        let baseline = (0..<selection.sizes.1).map { _ in selection.draw(&generator) }
        let all = canary.flatMap { x in baseline.map { x - $0 } }.sorted()
        let samples = try #require(TwoSamples(canary: canary, baseline: baseline))

        var differences = samples.differences
        var ranks = [1, all.count, (all.count + 1) / 2, all.count / 2 + 1, max(1, all.count / 40)]
        ranks += (0..<10).map { _ in Int.random(in: 1...all.count, using: &generator) }
        for rank in ranks {
            #expect(differences.kthSmallest(rank) == all[rank - 1], "rank \(rank)")
        }

        let middle = all.count % 2 == 1 ? all[all.count / 2] : (all[all.count / 2 - 1] + all[all.count / 2]) / 2
        let shift = HodgesLehmann(samples, level: 0.9)
        #expect(shift.estimate == middle)
        let rank = min(max(HodgesLehmann.criticalRank(samples, alpha: 0.1), 1), (all.count + 1) / 2)
        #expect(shift.lower == all[rank - 1])
        #expect(shift.upper == all[all.count - rank])
    }

    @Test func orderStatisticsSelectAndTakeTheMedianAsNumpy() {
        var generator = SeededGenerator(seed: 9)
        for count in [1, 2, 3, 10, 101, 1000] {
            let values = (0..<count).map { _ in Double(Int.random(in: 0...50, using: &generator)) }
            let sorted = values.sorted()
            for k in Set([1, count, (count + 1) / 2, Int.random(in: 1...count, using: &generator)]) {
                var copy = values
                #expect(OrderStatistics.kthSmallest(&copy, k) == sorted[k - 1])
            }
            var copy = values
            let median = count % 2 == 1 ? sorted[count / 2] : (sorted[count / 2 - 1] + sorted[count / 2]) / 2
            #expect(OrderStatistics.median(&copy) == median)
        }
    }

    @Test func radixSortOrdersLikeTheStandardLibrary() {
        var generator = SeededGenerator(seed: 5)
        let values = (0..<5000).map { index -> Double in
            switch index % 4 {
            case 0: Double.random(in: -1e6...1e6, using: &generator)
            case 1: Double(Int.random(in: -3...3, using: &generator))
            case 2: exp(Double.random(in: -700...700, using: &generator)) * (Bool.random(using: &generator) ? 1 : -1)
            default: -0.0
            }
        }
        #expect(TwoSamples.sorted(values) == values.sorted())
    }

    // MARK: Fisher exact test and Wilson interval

    struct FisherCase: Sendable, CustomTestStringConvertible {
        let canary: (successes: Int, trials: Int)
        let baseline: (successes: Int, trials: Int)
        let greater: Double
        let less: Double
        var testDescription: String {
            "\(canary.successes)/\(canary.trials) vs \(baseline.successes)/\(baseline.trials)"
        }
    }

    /// `scipy.stats.fisher_exact([[cs, cn - cs], [bs, bn - bs]], alternative='greater' / 'less').pvalue`.
    static let fisherCases: [FisherCase] = [
        FisherCase(canary: (30, 500), baseline: (10, 500), greater: 0.0009041746595489167, less: 0.9997348117672821),
        FisherCase(canary: (12, 1000), baseline: (5, 1000), greater: 0.07088029152326587, less: 0.975950395804087),
        FisherCase(canary: (0, 500), baseline: (0, 500), greater: 1, less: 1),
        FisherCase(canary: (0, 0), baseline: (3, 10), greater: 1, less: 1),
        FisherCase(canary: (500, 500), baseline: (500, 500), greater: 1, less: 1),
        FisherCase(canary: (5, 10), baseline: (5, 10), greater: 0.6718591006516703, less: 0.6718591006516703),
        FisherCase(
            canary: (3000, 100_000), baseline: (2800, 100_000), greater: 0.004001446191770697,
            less: 0.9963035297920319),
        FisherCase(canary: (1, 100_000), baseline: (0, 100_000), greater: 0.4999999999885329, less: 1),
        FisherCase(canary: (100_000, 100_000), baseline: (99990, 100_000), greater: 0.0009763427877467903, less: 1),
        FisherCase(canary: (0, 100_000), baseline: (50, 100_000), greater: 1, less: 8.827536146269125e-16),
        FisherCase(canary: (10, 20), baseline: (0, 30), greater: 1.798588365135755e-05, less: 1),
        FisherCase(canary: (7, 13), baseline: (2, 40), greater: 0.000313807822886542, less: 0.9999882221228428),
    ]

    @Test(arguments: fisherCases)
    func fisherMatchesScipy(_ reference: FisherCase) throws {
        for (alternative, expected) in [(FisherExact.Alternative.greater, reference.greater), (.less, reference.less)] {
            let test = try #require(
                FisherExact(
                    canarySuccesses: reference.canary.successes, canaryTrials: reference.canary.trials,
                    baselineSuccesses: reference.baseline.successes, baselineTrials: reference.baseline.trials,
                    alternative: alternative))
            #expect(test.alternative == alternative)
            #expect(isClose(test.p, expected), "\(alternative): p = \(test.p), scipy \(expected)")
        }
    }

    @Test func theIssuesFisherExamplesHold() throws {
        let tripled = try #require(
            FisherExact(
                canarySuccesses: 30, canaryTrials: 500, baselineSuccesses: 10, baselineTrials: 500,
                alternative: .greater))
        #expect((tripled.p * 1e5).rounded() / 1e5 == 0.00090)
        let small = try #require(
            FisherExact(
                canarySuccesses: 12, canaryTrials: 1000, baselineSuccesses: 5, baselineTrials: 1000,
                alternative: .greater))
        #expect((small.p * 1e4).rounded() / 1e4 == 0.0709)
    }

    @Test func fisherRejectsImpossibleCounts() {
        #expect(
            FisherExact(
                canarySuccesses: 6, canaryTrials: 5, baselineSuccesses: 0, baselineTrials: 5, alternative: .greater)
                == nil)
        #expect(
            FisherExact(
                canarySuccesses: 0, canaryTrials: 5, baselineSuccesses: -1, baselineTrials: 5, alternative: .less)
                == nil)
    }

    struct WilsonCase: Sendable, CustomTestStringConvertible {
        let successes: Int
        let trials: Int
        let level: Double
        let lower: Double
        let upper: Double
        var testDescription: String { "\(successes)/\(trials) at \(level)" }
    }

    /// `scipy.stats.binomtest(k, n).proportion_ci(confidence_level=level, method='wilson')`.
    static let wilsonCases: [WilsonCase] = [
        WilsonCase(successes: 0, trials: 500, level: 0.95, lower: 0, upper: 0.007624340461552241),
        WilsonCase(successes: 30, trials: 500, level: 0.95, lower: 0.04234835648094619, upper: 0.08436106312521978),
        WilsonCase(successes: 500, trials: 500, level: 0.95, lower: 0.9923756595384479, upper: 1),
        WilsonCase(successes: 1, trials: 1, level: 0.95, lower: 0.20654931437723745, upper: 1),
        WilsonCase(successes: 12, trials: 1000, level: 0.95, lower: 0.006877647806403521, upper: 0.020857268475498278),
        WilsonCase(successes: 30, trials: 500, level: 0.99, lower: 0.03798062291389122, upper: 0.09354386749936329),
        WilsonCase(successes: 5, trials: 10, level: 0.90, lower: 0.26927182113826725, upper: 0.7307281788617328),
        WilsonCase(
            successes: 3000, trials: 100_000, level: 0.95, lower: 0.028960629210983642, upper: 0.031075479114844415),
    ]

    @Test(arguments: wilsonCases)
    func wilsonMatchesScipy(_ reference: WilsonCase) throws {
        let interval = try #require(
            Wilson(successes: reference.successes, trials: reference.trials, level: reference.level))
        #expect(isClose(interval.lower, reference.lower), "lower \(interval.lower)")
        #expect(isClose(interval.upper, reference.upper), "upper \(interval.upper)")
        #expect(interval.estimate == Double(reference.successes) / Double(reference.trials))
    }

    @Test func wilsonNeedsTrials() {
        #expect(Wilson(successes: 0, trials: 0) == nil)
        #expect(Wilson(successes: 3, trials: 2) == nil)
    }

    // MARK: Wilcoxon signed-rank test and McNemar's test

    struct SignedRankCase: Sendable, CustomTestStringConvertible {
        let name: String
        let first: [Double]
        let second: [Double]
        let statistic: Double
        let rankSumPositive: Double
        let p: Double
        let method: TestMethod
        var testDescription: String { name }
    }

    /// `scipy.stats.wilcoxon(first, second, zero_method='wilcox', correction=True, alternative='two-sided',
    /// method='auto')`: statistic (min(R⁺, R⁻)) and pvalue; R⁺ from `scipy.stats.rankdata` of the nonzero |d|.
    static let signedRankCases: [SignedRankCase] = [
        SignedRankCase(
            name: "10 pairs without ties: exact", first: [1.83, 0.5, 1.62, 2.48, 1.68, 1.88, 1.55, 3.06, 1.3, 2.01],
            second: [0.878, 0.647, 0.598, 2.05, 1.06, 1.29, 1.06, 3.14, 1.29, 1.7], statistic: 5,
            rankSumPositive: 50, p: 0.01953125, method: .exact),
        SignedRankCase(
            name: "6 pairs with a zero: exact over all signs", first: [1, 2, 3, 4, 5, 6],
            second: [1, 2.5, 1, 6, 2, 9], statistic: 7, rankSumPositive: 7, p: 1, method: .exact),
        SignedRankCase(
            name: "12 pairs with ties: exact over all signs", first: [3, 5, 2, 8, 7, 6, 9, 4, 10, 12, 11, 1],
            second: [1, 3, 4, 6, 5, 4, 7, 7, 8, 9, 13, 3], statistic: 28, rankSumPositive: 50, p: 0.48388671875,
            method: .exact),
        SignedRankCase(
            name: "20 pairs with ties and zeros: asymptotic",
            first: ReferenceSequence.values(seed: 21, count: 20, modulus: 10, scale: 1),
            second: ReferenceSequence.values(seed: 22, count: 20, modulus: 10, scale: 1), statistic: 80,
            rankSumPositive: 80, p: 0.3588216927453268, method: .asymptotic),
        SignedRankCase(
            name: "60 pairs: asymptotic",
            first: ReferenceSequence.values(seed: 23, count: 60, modulus: 100_000, offset: 500),
            second: ReferenceSequence.values(seed: 24, count: 60, modulus: 100_000), statistic: 706,
            rankSumPositive: 706, p: 0.12480981210652492, method: .asymptotic),
        SignedRankCase(
            name: "50 pairs without ties: exact",
            first: ReferenceSequence.values(seed: 25, count: 50, modulus: 100_000, offset: 300),
            second: ReferenceSequence.values(seed: 26, count: 50, modulus: 100_000), statistic: 612,
            rankSumPositive: 663, p: 0.8109402812359416, method: .exact),
        SignedRankCase(
            name: "all differences zero", first: [1, 2, 3, 4, 5], second: [1, 2, 3, 4, 5], statistic: 0,
            rankSumPositive: 0, p: 1, method: .exact),
        SignedRankCase(
            name: "a single pair", first: [2], second: [1], statistic: 0, rankSumPositive: 1, p: 1, method: .exact),
        SignedRankCase(
            name: "14 pairs with a zero: asymptotic", first: (0..<14).map(Double.init),
            second: [0.5, -0.5, 4.5, 3.0, 8.5, -0.5, 12.5, -0.5, 16.5, -0.5, 20.5, -0.5, 24.5, -0.5], statistic: 44,
            rankSumPositive: 47, p: 0.9442846702411258, method: .asymptotic),
        SignedRankCase(
            name: "8 equal differences: exact over all signs", first: [2, 3, 4, 5, 6, 7, 8, 9],
            second: [1, 2, 3, 4, 5, 6, 7, 8], statistic: 0, rankSumPositive: 36, p: 0.0078125, method: .exact),
        SignedRankCase(
            name: "13 pairs with ties: exact over all signs", first: [3, 5, 2, 8, 7, 6, 9, 4, 10, 12, 11, 1, 14],
            second: [1, 3, 4, 6, 5, 4, 7, 7, 8, 9, 13, 3, 10], statistic: 28, rankSumPositive: 63, p: 0.256103515625,
            method: .exact),
        SignedRankCase(
            name: "51 pairs without ties: asymptotic",
            first: ReferenceSequence.values(seed: 27, count: 51, modulus: 100_000, offset: 300),
            second: ReferenceSequence.values(seed: 28, count: 51, modulus: 100_000), statistic: 391,
            rankSumPositive: 935, p: 0.01093102094237214, method: .asymptotic),
        SignedRankCase(
            name: "16 pairs with three zeros and ties: asymptotic", first: (0..<16).map(Double.init),
            second: [0, 1, 2, 2, 5, 3, 4, 5, 11, 5, 5, 17, 5, 6, 22, 6], statistic: 28.5, rankSumPositive: 62.5,
            p: 0.24799581483148547, method: .asymptotic),
    ]

    @Test(arguments: signedRankCases)
    func wilcoxonMatchesScipy(_ reference: SignedRankCase) throws {
        let test = try #require(WilcoxonSignedRank(first: reference.first, second: reference.second))
        #expect(test.statistic == reference.statistic)
        #expect(test.rankSumPositive == reference.rankSumPositive)
        #expect(isClose(test.p, reference.p), "p = \(test.p), scipy \(reference.p)")
        #expect(test.method == reference.method)
    }

    @Test func wilcoxonRejectsUnpairedInput() {
        #expect(WilcoxonSignedRank(first: [1, 2], second: [1]) == nil)
        #expect(WilcoxonSignedRank(first: [], second: []) == nil)
        #expect(WilcoxonSignedRank(first: [1, .nan], second: [1, 2]) == nil)
    }

    /// `scipy.stats.binomtest(b, b + c, 0.5).pvalue`, equal to statsmodels'
    /// `mcnemar([[a, b], [c, d]], exact=True).pvalue` = min(1, 2·binom.cdf(min(b, c), b + c, 0.5)); (0, 0) has p = 1
    /// by the statsmodels formula (binomtest needs a trial).
    static let mcNemarCases: [(Int, Int, Double)] = [
        (0, 0, 1), (5, 5, 1), (10, 2, 0.03857421875), (2, 10, 0.03857421875), (0, 7, 0.015625),
        (100, 130, 0.05561357778139238), (3000, 3200, 0.011488253770871584), (1, 0, 1),
        (40000, 41000, 0.0004478218231375636), (0, 25, 5.960464477539063e-08),
    ]

    @Test(arguments: mcNemarCases)
    func mcNemarMatchesScipy(_ onlyFirst: Int, _ onlySecond: Int, _ p: Double) throws {
        let test = try #require(McNemar(onlyFirst: onlyFirst, onlySecond: onlySecond))
        #expect(isClose(test.p, p), "p = \(test.p), scipy \(p)")
        #expect(test.statistic == min(onlyFirst, onlySecond))
    }

    @Test func mcNemarCountsDiscordantPairs() throws {
        // 10 pairs only the first passed, 2 only the second, 5 both and 3 neither.
        let first =
            Array(repeating: true, count: 10) + Array(repeating: false, count: 2) + [true, true, true, true, true]
            + [false, false, false]
        let second =
            Array(repeating: false, count: 10) + Array(repeating: true, count: 2) + [true, true, true, true, true]
            + [false, false, false]
        let test = try #require(McNemar(first: first, second: second))
        #expect(test.onlyFirst == 10 && test.onlySecond == 2)
        #expect(isClose(test.p, 0.03857421875))
        #expect(McNemar(first: [true], second: []) == nil)
        #expect(McNemar(onlyFirst: -1, onlySecond: 0) == nil)
    }

    // MARK: Mann–Kendall trend test and Sen's slope

    struct TrendCase: Sendable, CustomTestStringConvertible {
        let name: String
        let series: [Double]
        let s: Int
        let variance: Double
        let z: Double
        let p: Double
        let slope: Double
        var testDescription: String { name }
    }

    /// Noise of ±5% around 0, from the reference generator as in the script: (v − 50000)/100000 · 0.1.
    static let noise = ReferenceSequence.values(seed: 31, count: 28, modulus: 100_000, scale: 1).map {
        ($0 - 50000) / 100_000 * 0.1
    }

    /// S, Var S with the tie correction, Z = (S ∓ 1)/√Var S and p = 2·`scipy.stats.norm.sf(|Z|)`, computed in
    /// Python over all pairs (S cross-checked against `scipy.stats.kendalltau(range(n), x)`: S = τ_b·√(n₀(n₀ − n₂)));
    /// slope = `scipy.stats.theilslopes(x).slope`.
    static let trendCases: [TrendCase] = [
        TrendCase(
            name: "increasing", series: [1, 2, 3, 4, 5], s: 10, variance: 16.666666666666668, z: 2.2045407685048604,
            p: 0.02748633611151033, slope: 1),
        TrendCase(
            name: "decreasing with noise", series: [9.1, 8.7, 8.9, 7.2, 7.5, 6.1, 6.4, 5.0, 4.2, 4.9], s: -37,
            variance: 125, z: -3.219937887599697, p: 0.0012821837418053048, slope: -0.5714285714285714),
        TrendCase(name: "all equal", series: [3, 3, 3, 3], s: 0, variance: 0, z: 0, p: 1, slope: 0),
        TrendCase(
            name: "ties", series: [1, 2, 2, 3, 3, 3, 4], s: 17, variance: 39.666666666666664, z: 2.540429395319823,
            p: 0.011071644553191878, slope: 0.5),
        TrendCase(
            name: "flat noisy quality, 4 weeks", series: noise.map { 0.8 + $0 }, s: -58, variance: 2562,
            z: -1.1261216110633794, p: 0.2601140477282804, slope: -0.0007075899209486162),
        TrendCase(
            name: "quality declining 2% a week, 4 weeks",
            series: noise.enumerated().map { 0.8 - 0.02 / 7 * Double($0.offset) + $0.element }, s: -190,
            variance: 2562, z: -3.733982184052258, p: 0.00018847583240616875, slope: -0.0035647327780914755),
        TrendCase(name: "two values", series: [1, 2], s: 1, variance: 1, z: 0, p: 1, slope: 1),
        TrendCase(name: "three values", series: [2, 1, 2], s: 0, variance: 2.6666666666666665, z: 0, p: 1, slope: 0),
    ]

    @Test(arguments: trendCases)
    func mannKendallMatchesReference(_ reference: TrendCase) throws {
        let test = try #require(MannKendall(reference.series))
        #expect(test.s == reference.s)
        #expect(isClose(test.variance, reference.variance))
        #expect(isClose(test.z, reference.z), "z = \(test.z)")
        #expect(isClose(test.p, reference.p), "p = \(test.p)")
        #expect(isClose(test.slope, reference.slope), "slope = \(test.slope)")
    }

    @Test func mannKendallNeedsTwoValues() {
        #expect(MannKendall([]) == nil)
        #expect(MannKendall([1]) == nil)
        #expect(MannKendall([1, .nan, 3]) == nil)
    }

    // MARK: Distributions

    /// `scipy.special.ndtr(z)` and `scipy.stats.norm.sf(z)`.
    static let normalCases: [(Double, Double, Double)] = [
        (-38, 0, 1), (-5, 2.866515718791933e-07, 0.9999997133484281),
        (-1.96, 0.024997895148220435, 0.9750021048517795), (0, 0.5, 0.5), (1, 0.8413447460685429, 0.15865525393145707),
        (1.96, 0.9750021048517795, 0.024997895148220435), (8, 0.9999999999999993, 6.22096057427174e-16),
        (20, 1, 2.7536241186061556e-89),
    ]

    @Test(arguments: normalCases)
    func normalMatchesScipy(_ z: Double, _ cdf: Double, _ survival: Double) {
        #expect(isClose(Distributions.normalCDF(z), cdf), "cdf \(Distributions.normalCDF(z))")
        #expect(isClose(Distributions.normalSurvival(z), survival), "sf \(Distributions.normalSurvival(z))")
    }

    /// `scipy.special.ndtri(p)`.
    static let quantileCases: [(Double, Double)] = [
        (1e-300, -37.0470962993612), (1e-10, -6.361340902404056), (0.001, -3.090232306167813),
        (0.025, -1.9599639845400545), (0.3, -0.5244005127080409), (0.5, 0), (0.7, 0.5244005127080407),
        (0.975, 1.959963984540054), (0.999, 3.090232306167813), (0.9999999999, 6.361340889697422),
    ]

    @Test(arguments: quantileCases)
    func normalQuantileMatchesScipy(_ p: Double, _ z: Double) {
        let quantile = Distributions.normalQuantile(p)
        #expect(abs(quantile - z) <= 1e-12 * max(1, abs(z)), "quantile \(quantile)")
    }

    @Test func normalQuantileEdges() {
        #expect(Distributions.normalQuantile(0) == -.infinity)
        #expect(Distributions.normalQuantile(1) == .infinity)
        #expect(Distributions.normalQuantile(1.5).isNaN)
        #expect(Distributions.normalQuantile(-0.1).isNaN)
        #expect(Distributions.normalQuantile(Double.leastNonzeroMagnitude).isFinite)
    }

    /// `scipy.stats.binom.logpmf(k, n, p)`.
    static let binomialCases: [(Int, Int, Double, Double)] = [
        (0, 10, 0.5, -6.931471805599453), (3, 10, 0.3, -1.321151277766889), (50000, 100_000, 0.5, -5.982256585310097),
        (10, 100_000, 0.001, -69.0931890825064), (0, 5, 0, 0), (5, 5, 1, 0),
    ]

    @Test(arguments: binomialCases)
    func binomialMatchesScipy(_ k: Int, _ n: Int, _ p: Double, _ logPMF: Double) {
        let value = Distributions.binomialLogPMF(k, trials: n, probability: p)
        #expect(isClose(value, logPMF) || abs(value - logPMF) < 1e-12, "log pmf \(value)")
    }

    /// `scipy.stats.hypergeom.logpmf(k, M, n, N)`: population M, successes n, draws N.
    static let hypergeometricCases: [(Int, Int, Int, Int, Double)] = [
        (30, 1000, 40, 500, -7.355627345079029), (0, 10, 3, 4, -1.7917594692280545),
        (2, 10, 3, 4, -1.203972804325936), (3000, 200_000, 5800, 100_000, -8.095277525600977),
    ]

    @Test(arguments: hypergeometricCases)
    func hypergeometricMatchesScipy(_ k: Int, _ population: Int, _ successes: Int, _ draws: Int, _ logPMF: Double) {
        let value = Distributions.hypergeometricLogPMF(k, population: population, successes: successes, draws: draws)
        #expect(isClose(value, logPMF), "log pmf \(value)")
    }

    @Test func exactMannWhitneyDistributionSumsToOne() {
        for (m, n) in [(1, 1), (3, 5), (8, 8), (4, 30), (8, 1000)] {
            let cdf = MannWhitney.exactCDF(m, n, through: m * n)
            #expect(abs(cdf[m * n] - 1) < 1e-12, "\(m)×\(n)")
            // Symmetric: P(U ≤ u) = P(U ≥ mn − u) = 1 − P(U ≤ mn − u − 1).
            for u in [0, 1, m * n / 3] where m * n - u - 1 >= 0 {
                #expect(abs(cdf[u] - (1 - cdf[m * n - u - 1])) < 1e-12, "\(m)×\(n) at \(u)")
            }
        }
    }
}
