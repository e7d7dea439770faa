import Testing

@testable import PurserStatistics

/// The tests behind the canary judge's methods and the drift check, with reference values from scipy 1.17.1.
@Suite("The judge's and drift's tests agree with scipy")
struct MethodReferenceTests {
    static func close(_ value: Double?, _ reference: Double, _ tolerance: Double = 1e-12) -> Bool {
        guard let value else { return false }
        return abs(value - reference) <= tolerance * max(1, abs(reference))
    }

    @Test("Student's t matches scipy.stats.t.sf and t.ppf")
    func studentT() {
        // scipy.stats.t.sf(t, df)
        for (t, df, sf) in [
            (2.0, 3.0, 0.06966298427942152), (-1.3, 7.5, 0.8839366105921956), (4.2, 150_000, 1.3353441534745966e-05),
            (0.5, 1, 0.35241638234956674), (10, 2.5, 0.0022207478836537117),
        ] {
            #expect(Self.close(StudentT.survival(t, degreesOfFreedom: df), sf, 1e-11), "t = \(t), df = \(df)")
        }
        // scipy.stats.t.ppf(p, df)
        for (p, df, quantile) in [
            (0.95, 3.0, 2.3533634348018233), (0.975, 12.3, 2.172933481758962), (0.95, 150_000, 1.6448637854755765),
            (0.975, 1, 12.706204736174694),
        ] {
            #expect(Self.close(StudentT.quantile(p, degreesOfFreedom: df), quantile, 1e-10), "p = \(p), df = \(df)")
        }
    }

    @Test("Welch: arms of one constant that sums inexactly (0.1) differ by exactly 0, with no standard error")
    func welchConstantArms() throws {
        let estimate = try #require(Welch.estimate(canary: [0.1, 0.1, 0.1], baseline: [0.1, 0.1]))
        #expect(estimate.value == 0 && estimate.standardError == 0)
    }

    @Test("Newcombe's interval against scipy's Wilson intervals")
    func newcombe() throws {
        // d ± sqrt of Wilson distances, each from scipy.stats.binomtest(k, n).proportion_ci(0.9, method='wilson')
        let interval = try #require(Newcombe.interval(canary: (30, 500), baseline: (10, 500), level: 0.9))
        #expect(Self.close(interval.lowerBound, 0.019874483439462517, 1e-12))
        #expect(Self.close(interval.upperBound, 0.06149762238725664, 1e-12))
    }

    @Test("Fisher: one- and two-sided p-values against scipy, exact for small tables")
    func fisher() {
        // scipy.stats.fisher_exact(table, alternative=...).pvalue, table [[kc, nc - kc], [kb, nb - kb]]
        for (kc, nc, kb, nb, greater, less, twoSided) in [
            (7, 27, 2, 27, 0.0707656808207024, 0.9878470055224017, 0.14153136164140484),
            (30, 500, 10, 500, 0.0009041746595489167, 0.9997348117672821, 0.0018083493190978333),
            (1200, 100_000, 1000, 100_000, 9.819753401194035e-06, 0.9999919076053769, 1.9639506802388064e-05),
            (2, 20, 20, 60, 0.9935824516278595, 0.035819030423627544, 0.047884858665448456),
        ] {
            for (alternative, reference) in [
                (FisherExact.Alternative.greater, greater), (.less, less), (.twoSided, twoSided),
            ] {
                let p = FisherExact(
                    canarySuccesses: kc, canaryTrials: nc, baselineSuccesses: kb, baselineTrials: nb,
                    alternative: alternative)?
                    .p
                #expect(Self.close(p, reference, 1e-9), "\(kc)/\(nc) against \(kb)/\(nb), \(alternative)")
            }
        }
        // 3 of 3 against 0 of 3: p = 1/C(6, 3) = 1/20 exactly (scipy prints 0.05000000000000001), not below 0.05.
        let boundary = FisherExact(
            canarySuccesses: 3, canaryTrials: 3, baselineSuccesses: 0, baselineTrials: 3, alternative: .greater)!
        #expect(boundary.p == 0.05 && boundary.rational)
    }

    @Test("Mann-Whitney: small samples with ties take the exact permutation distribution")
    func exactWithTies() throws {
        let canary: [Double] = [3, 4, 4, 5, 7, 7, 8]
        let baseline: [Double] = [1, 2, 2, 3, 4, 5]
        // scipy.stats.permutation_test((canary, baseline), lambda x, y: scipy.stats.mannwhitneyu(x, y).statistic,
        //     permutation_type='independent', n_resamples=numpy.inf, alternative=...).pvalue
        // (scipy.stats.mannwhitneyu(canary, baseline).pvalue, the normal approximation, is 0.0362)
        for (alternative, reference) in [
            (MannWhitney.Alternative.twoSided, 0.037296037296037296), (.greater, 0.018648018648018648),
            (.less, 0.9889277389277389),
        ] {
            let test = try #require(MannWhitney(canary: canary, baseline: baseline, alternative: alternative))
            #expect(test.method == .exact && test.u == 36)
            #expect(Self.close(test.p, reference, 1e-14), "\(alternative)")
        }
    }

    @Test("Sen's slope with times matches scipy.stats.theilslopes(x, t)")
    func slopeWithTimes() throws {
        // scipy.stats.theilslopes([3.1, 2.0, 5.5, 4.0, 6.2, 7.7, 6.9], [0, 1, 3, 4, 5, 8, 10]).slope
        let test = try #require(MannKendall([3.1, 2.0, 5.5, 4.0, 6.2, 7.7, 6.9], times: [0, 1, 3, 4, 5, 8, 10]))
        #expect(test.slope == 0.5)
        #expect(MannKendall([1, 2], times: [1, 1]) == nil)
    }
}
