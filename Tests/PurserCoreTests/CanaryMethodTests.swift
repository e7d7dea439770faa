import PurserCore
import PurserLedger
import PurserStatistics
import Testing

/// Each metric's test is a test of its configured statistic, with reference values from scipy 1.17.1.
@Suite("Canary judge: the method tests the configured statistic")
struct CanaryMethodTests {
    static func metric(
        _ name: String, _ statistic: CanaryConfig.Statistic, _ bad: CanaryConfig.Direction, relative: Double? = nil,
        absolute: Double? = nil, minimum: Int = 4
    ) -> CanaryConfig.Metric {
        CanaryConfig.Metric(
            name: name, statistic: statistic, bad: bad, maxRelativeChange: relative, maxAbsoluteChange: absolute,
            minSampleSize: minimum)
    }

    static func close(_ value: Double?, _ reference: Double, _ tolerance: Double = 1e-12) -> Bool {
        guard let value else { return false }
        return abs(value - reference) <= tolerance * max(1, abs(reference))
    }

    @Test("mean: two arms of one constant that sums inexactly (0.1) are no change, never a regression")
    func constantArms() throws {
        let metric = Self.metric("cost_usd", .mean, .increase, minimum: 2)
        let judgement = CanaryJudge.judge(
            metric, .continuous(baseline: Array(repeating: 0.1, count: 80), canary: Array(repeating: 0.1, count: 30)))
        #expect(judgement.label != .regression, "summed in order, the means differed by 2e-16 with a tiny variance")
        #expect(judgement.pValue == 1)
    }

    @Test("task values past 10^15 are refused as they are ingested: 1e80 made Welch's degrees of freedom NaN")
    func hugeTaskValuesAreRefused() throws {
        var values: [String: JSONValue] = [
            "task_id": .string("t1"), "version": .string("v"), "env": .string("prod"),
            "started_at": .string("2026-12-01T00:00:00Z"), "duration_ms": .number(1e15), "completed": .bool(true),
            "error": .bool(false),
        ]
        #expect(try TaskRecord(values).durationMS == 1e15)
        values["duration_ms"] = .number(1e80)
        #expect(throws: LedgerError.self) { try TaskRecord(values) }
        values["duration_ms"] = .number(1000)
        values["cost_usd"] = .number(2e80)
        #expect(throws: LedgerError.self) { try TaskRecord(values) }
    }

    @Test("mean: Welch's test against the margin and its 90% interval")
    func welch() throws {
        let canary = [1.2, 3.4, 2.2, 5.1, 4.4, 3.9, 2.8]
        let baseline = [1.0, 1.9, 2.1, 2.5, 1.7, 2.2]
        let metric = Self.metric("duration_ms", .mean, .increase, absolute: 0.3, minimum: 2)
        let judgement = CanaryJudge.judge(metric, .continuous(baseline: baseline, canary: canary))
        #expect(judgement.method == .welch)
        #expect(judgement.margin == 0.3)
        // scipy.stats.ttest_ind(numpy.array(canary) - 0.3, baseline, equal_var=False, alternative='greater').pvalue
        #expect(Self.close(judgement.pValue, 0.0412127495749898, 1e-10))
        // scipy.stats.ttest_ind(canary, baseline, equal_var=False).confidence_interval(0.9)
        let interval = try #require(judgement.interval)
        #expect(Self.close(interval.lowerBound, 0.3685556747993137, 1e-10))
        #expect(Self.close(interval.upperBound, 2.4028728966292565, 1e-10))
        #expect(judgement.intervalLevel == 0.9)
        #expect(judgement.label == .regression, "p < 0.05: the 90% interval lies above the margin 0.3")
    }

    @Test("mean: a canary mostly faster, whose mean a few outliers raise past the allowance, is not rolled back")
    func outliersDoNotMakeAFasterCanaryARegression() {
        let baseline = (0..<1000).map { 950 + Double($0 % 101) }
        let canary = (0..<1000).map { $0 % 100 < 3 ? 10_000 : 850 + Double($0 % 101) }
        // The old judge: Mann-Whitney says the canary is shifted (down), the mean rose 17% against 10% allowed.
        #expect(MannWhitney(canary: canary, baseline: baseline)!.p < 1e-10)
        let judgement = CanaryJudge.judge(
            Self.metric("duration_ms", .mean, .increase, relative: 0.1), .continuous(baseline: baseline, canary: canary)
        )
        #expect(judgement.relativeEffect! > 0.1)
        #expect(judgement.interval!.lowerBound < judgement.margin!, "the rise beyond 10% is not shown with confidence")
        #expect(judgement.label == .pass && judgement.pValue! > 0.05)
        // Its shift is downwards: faster, as a shift statistic says.
        let shift = CanaryJudge.judge(
            Self.metric("duration_ms", .shift, .increase, relative: 0.1),
            .continuous(baseline: baseline, canary: canary))
        #expect(shift.label == .pass && shift.estimate! < 0)
    }

    @Test("shift: a canary mostly slower is a regression even when outliers of the baseline lower its mean")
    func mostlySlowerIsARegressionOfTheShift() {
        let baseline = (0..<1000).map { $0 % 100 < 5 ? 20_000 : 950 + Double($0 % 101) }
        let canary = (0..<1000).map { 1150 + Double($0 % 101) }
        let mean = CanaryJudge.judge(
            Self.metric("duration_ms", .mean, .increase, relative: 0.1), .continuous(baseline: baseline, canary: canary)
        )
        #expect(mean.effect! < 0 && mean.label == .pass, "the mean fell: by the mean, no regression")
        let shift = CanaryJudge.judge(
            Self.metric("duration_ms", .shift, .increase, relative: 0.1),
            .continuous(baseline: baseline, canary: canary))
        #expect(shift.method == .mannWhitney)
        #expect(abs(shift.canary! - shift.baseline! - 200) < 10, "the medians")
        #expect(abs(shift.margin! - 100) < 5 && abs(shift.estimate! - 200) < 10)
        #expect(shift.interval!.lowerBound > shift.margin! && shift.label == .regression)
    }

    @Test("p95: a p95 that doubles on 1,000 tasks a side is a regression though most tasks look alike")
    func p95ThatDoubles() {
        let body = (0..<900).map { 100 + Double($0) }
        let baseline = body + (0..<100).map { 2000 + 10 * Double($0) }
        let canary = body + (0..<100).map { 4000 + 20 * Double($0) }
        #expect(MannWhitney(canary: canary, baseline: baseline)!.p > 0.5, "ranks barely move")
        let judgement = CanaryJudge.judge(
            Self.metric("duration_ms", .p95, .increase, relative: 0.2), .continuous(baseline: baseline, canary: canary))
        #expect(judgement.method == .orderStatistics)
        #expect(judgement.canary! / judgement.baseline! > 1.9)
        #expect(judgement.label == .regression && judgement.interval!.lowerBound > judgement.margin!)
    }

    @Test("p95: the order-statistic standard errors and the normal test, against scipy")
    func p95Reference() throws {
        let baseline: [Double] = [
            734, 566, 969, 1353, 1935, 1158, 832, 741, 1595, 2483, 1257, 592, 679, 2441, 1214, 461, 1052, 613, 801, 859,
            768, 1446, 1063, 817, 1346, 1661, 482, 965, 672, 1006, 576, 1108, 1076, 942, 649, 900, 635, 557, 1227, 630,
            1969, 1569, 404, 1256, 632, 1115, 1121, 406, 976, 965, 1774, 607, 1586, 633, 929, 720, 2263, 1457, 3699,
            1512, 1673, 1670, 810, 1059, 2154, 899, 1205, 1085, 1487, 914, 1016, 1238, 1155, 712, 1716, 573, 602, 578,
            1778, 916, 675, 621, 1354, 647, 581, 1491, 603, 933, 1093, 878, 1067, 2142, 847, 584, 438, 990, 920, 1252,
            869, 863, 765, 846, 1188, 907, 1153, 2837, 1393, 499, 2609, 1305, 685, 1726, 1106, 806, 799, 667, 1123,
            1871, 932, 1353, 2801, 597, 1247, 941, 646, 657, 1088, 1362, 841, 1127, 1574, 1272, 1693, 1381, 1400, 2733,
            1498, 1170, 1564, 693, 926, 1630, 1503, 2378, 1102, 528, 2903, 1894, 646, 2182, 1115, 443, 889, 850, 2429,
            738, 966, 955, 907, 694, 1224, 1879, 1498, 690, 617, 1164, 770, 800, 474, 2908, 1734, 674, 1727, 2146, 332,
            833, 903, 1516, 1032, 977, 1065, 2770, 3229, 844, 690, 4214, 672, 823, 1117, 1396, 1834, 1333, 709, 1413,
            1243, 2803, 1088, 562, 650, 2264,
        ]
        let canary: [Double] = [
            1022, 468, 1002, 1339, 2427, 807, 1869, 1994, 944, 1220, 3245, 3166, 2054, 1581, 2366, 1248, 1277, 871,
            1343, 1286, 5361, 1216, 2529, 2592, 1220, 2404, 451, 1405, 2056, 404, 750, 2271, 1178, 773, 1111, 1021,
            1924, 1681, 1164, 960, 1304, 2598, 1595, 1844, 1242, 702, 939, 1855, 1410, 852, 596, 1416, 1130, 1124, 1136,
            1544, 1552, 2167, 2131, 2607, 2005, 1133, 1304, 1715, 1147, 1763, 2385, 897, 553, 2433, 1351, 1909, 688,
            3186, 1938, 1258, 1123, 1418, 1232, 1165, 765, 2518, 1313, 1390, 1403, 412, 1743, 1136, 1159, 1387, 824,
            2042, 946, 852, 870, 1450, 1945, 995, 629, 2278, 786, 2434, 1304, 945, 973, 1687, 2090, 1213, 2151, 3803,
            1207, 754, 791, 668, 973, 933, 691, 1746, 363, 692, 3669, 2250, 1740, 1683, 3247, 1751, 1392, 724, 1291,
            928, 941, 937, 1310, 1136, 2071, 690, 1231, 3394, 1366, 2439, 2365, 2587, 1937, 672, 1172, 1107, 617, 1062,
            717, 582,
        ]
        let judgement = CanaryJudge.judge(
            Self.metric("duration_ms", .p95, .increase, absolute: 100), .continuous(baseline: baseline, canary: canary))
        // Per arm, x sorted, n values, q = 0.95, h = 1.959963984540054 * sqrt(n*q*(1-q)):
        // l, u = floor(n*q - h), ceil(n*q + h); g = scipy.stats.binom.cdf(u-1, n, q) - scipy.stats.binom.cdf(l-1, n, q);
        // se = (x[u-1] - x[l-1]) / (2 * scipy.stats.norm.ppf((1+g)/2)); d = numpy.percentile(c, 95) - numpy.percentile(b, 95)
        #expect(Self.close(judgement.estimate, 299.24999999999227, 1e-9))
        // scipy.stats.norm.sf((d - 100) / numpy.hypot(se_b, se_c))
        #expect(Self.close(judgement.pValue, 0.2651335916729147, 1e-9))
        let interval = try #require(judgement.interval)
        #expect(Self.close(interval.lowerBound, -222.95844694357186, 1e-9))
        #expect(Self.close(interval.upperBound, 821.4584469435564, 1e-9))
        #expect(judgement.label == .pass)
    }

    @Test("rate: Fisher's test and Newcombe's interval against the margin")
    func rateAgainstMargin() throws {
        let errors = CanaryJudge.judge(
            Self.metric("error_rate", .rate, .increase, absolute: 0.01),
            .proportion(baseline: (10, 500), canary: (30, 500))
        )
        #expect(errors.label == .regression && errors.method == .fisherNewcombe)
        // Significant (Fisher), but the interval does not show a rise beyond 3 points.
        let wide = CanaryJudge.judge(
            Self.metric("error_rate", .rate, .increase, absolute: 0.03),
            .proportion(baseline: (10, 500), canary: (30, 500))
        )
        #expect(wide.pValue! < 0.001 && wide.label == .pass)
    }

    @Test("either on a rate: Fisher's two-sided test, not a doubled one-sided p")
    func eitherIsTwoSided() {
        // scipy.stats.fisher_exact([[2, 18], [20, 40]]).pvalue = 0.047884858665448456; doubling the smaller
        // one-sided p gives 0.0716.
        let judgement = CanaryJudge.judge(
            Self.metric("completion_rate", .rate, .either), .proportion(baseline: (20, 60), canary: (2, 20)))
        #expect(Self.close(judgement.pValue, 0.047884858665448456, 1e-12))
        #expect(judgement.intervalLevel == 0.95 && judgement.interval!.upperBound < 0)
        #expect(judgement.label == .regression)
    }

    @Test(
        "the smallest samples that can show anything",
        arguments: [
            (CanaryConfig.Statistic.rate, CanaryConfig.Direction.increase, 4), (.rate, .either, 4),
            (.rate, .decrease, 4),
            (.mean, .increase, 2), (.p95, .increase, 73), (.shift, .increase, 4), (.shift, .either, 4),
        ])
    func smallestSampleSize(statistic: CanaryConfig.Statistic, bad: CanaryConfig.Direction, smallest: Int) {
        let name = statistic == .rate ? "error_rate" : "duration_ms"
        #expect(CanaryJudge.smallestSampleSize(Self.metric(name, statistic, bad)) == smallest)
    }

    @Test("a configuration whose sample size can never reach significance is refused, naming the size that can")
    func unreachableSampleSize() throws {
        let config = try CanaryConfig(
            bytes: Array(
                """
                steps: [5, 100]
                min-sample-size: 3
                metrics:
                  - {name: error_rate, statistic: rate, bad: increase, critical: true}
                  - {name: quality, statistic: mean, bad: decrease, max-relative-change: 0.05}
                  - {name: duration_ms, statistic: p95, bad: increase, min-sample-size: 50}
                scoring: {pass: 0.9, marginal: 0.5}
                auto-rollback: true
                """.utf8), source: "canary.yaml")
        let problems = config.problems()
        #expect(problems.count == 2, "\(problems)")
        #expect(problems.contains { $0.contains("error_rate") && $0.contains("at least 4") })
        #expect(problems.contains { $0.contains("duration_ms") && $0.contains("at least 73") })
        #expect(!problems.contains { $0.contains("quality") }, "a mean needs 2 per arm")
    }
}
