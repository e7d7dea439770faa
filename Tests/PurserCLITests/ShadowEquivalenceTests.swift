import Foundation
import PurserLedger
import Testing

/// Equivalence within a margin by two one-sided tests, with reference values from scipy 1.17.1.
@Suite struct ShadowEquivalenceTests {
    /// A ledger with two versions, and `lines` as pairs.jsonl.
    func prepare(_ workspace: Workspace, _ lines: [String]) throws {
        try workspace.recordTwoVersions()
        workspace.write("pairs.jsonl", lines.joined(separator: "\n"))
    }

    func compare(_ workspace: Workspace, _ extra: [String] = []) throws -> (status: Int32, metrics: [String: JSONValue])
    {
        let result = try workspace.run(
            [
                "shadow", "compare", "--env", "prod", "--primary", "agent@1", "--shadow", "agent@2", "--pairs",
                "pairs.jsonl",
                "--json",
            ] + extra)
        guard case .array(let metrics) = try workspace.json(result.stdout)["metrics"] ?? .null else {
            Issue.record("no metrics: \(result.stderr)")
            return (result.status, [:])
        }
        return (result.status, Dictionary(uniqueKeysWithValues: metrics.map { ($0["metric"]!.stringValue!, $0) }))
    }

    static let differences = [10, -10, 5, 0, -5, 15, -12, 8, -3, 2]

    static func durations(_ differences: [Int]) -> [String] {
        differences.enumerated().map { index, difference in
            #"{"request_id":"r\#(index)","primary":{"duration_ms":\#(1000 + index)},"shadow":{"duration_ms":\#(1000 + index + difference)}}"#
        }
    }

    @Test("small differences within the margin on 30 pairs are equivalent (TOST), exit 0")
    func equivalent() throws {
        let workspace = Workspace()
        try prepare(workspace, Self.durations(Self.differences + Self.differences + Self.differences))
        let (status, metrics) = try compare(workspace, ["--margin", "duration_ms=20"])
        #expect(status == 0)
        let duration = try #require(metrics["duration_ms"])
        #expect(duration["verdict"] == .string("equivalent") && duration["margin"] == .number(20))
        // d = the 30 differences: scipy.stats.wilcoxon(d + 20, alternative='greater', correction=True,
        // method='approx').pvalue, the same for (d - 20, 'less'); and scipy.stats.wilcoxon(d, correction=True,
        // method='approx').pvalue for the difference.
        #expect(abs(duration["equivalence_p"]!.numberValue! - 8.900484730774818e-07) < 1e-15)
        #expect(abs(duration["p"]!.numberValue! - 0.6212218745398027) < 1e-12)
        #expect(metrics["quality"]?["verdict"] == .string("inconclusive") && metrics["quality"]?["pairs"] == .number(0))
    }

    @Test("no significant difference on 10 noisy pairs is not equivalence: inconclusive, exit 2")
    func inconclusive() throws {
        let workspace = Workspace()
        try prepare(workspace, Self.durations(Self.differences))
        let (status, metrics) = try compare(workspace, ["--margin", "duration_ms=5"])
        #expect(status == 2)
        let duration = try #require(metrics["duration_ms"])
        #expect(duration["p"]!.numberValue! >= 0.05, "not shown to differ")
        #expect(duration["verdict"] == .string("inconclusive"), "nor shown equivalent within 5 ms")
    }

    @Test("all-zero differences: p = 1 for a difference, equivalent within the default margin")
    func allZero() throws {
        let workspace = Workspace()
        try prepare(workspace, Self.durations(Array(repeating: 0, count: 20)))
        let (status, metrics) = try compare(workspace)
        #expect(status == 0)
        let duration = try #require(metrics["duration_ms"])
        #expect(duration["p"] == .number(1) && duration["verdict"] == .string("equivalent"))
        // scipy.stats.wilcoxon(numpy.full(20, margin), alternative='greater', correction=True, method='approx')
        #expect(abs(duration["equivalence_p"]!.numberValue! - 4.276751325720873e-06) < 1e-15)
    }

    @Test("passed: Agresti and Min's interval for the TOST; a bad --margin is a usage error")
    func passed() throws {
        let workspace = Workspace()
        let lines = (0..<200).map { index in
            // 3 pairs where only the shadow passed, 2 where only the primary did.
            let (primary, shadow) = index < 3 ? (false, true) : index < 5 ? (true, false) : (true, true)
            return #"{"request_id":"r\#(index)","primary":{"passed":\#(primary)},"shadow":{"passed":\#(shadow)}}"#
        }
        try prepare(workspace, lines)
        let (_, metrics) = try compare(workspace)
        let passed = try #require(metrics["passed"])
        // b, c, n = 3.5, 2.5, 202; d = (b - c)/n; se = sqrt((b + c) - (b - c)**2/n)/n;
        // max(scipy.stats.norm.sf((d + 0.05)/se), scipy.stats.norm.sf((0.05 - d)/se))
        #expect(abs(passed["equivalence_p"]!.numberValue! - 0.00010096366406445666) < 1e-15)
        #expect(passed["verdict"] == .string("equivalent"))
        let size = workspace.ledgerSnapshot()
        for bad in ["happiness=1", "quality", "quality=-1", "quality=abc%"] {
            let result = try workspace.run(
                [
                    "shadow", "compare", "--env", "prod", "--primary", "agent@1", "--shadow", "agent@2", "--pairs",
                    "pairs.jsonl", "--margin", bad,
                ])
            #expect(result.status == 64, "\(bad): \(result.stderr)")
        }
        #expect(workspace.ledgerSnapshot() == size)
    }
}
