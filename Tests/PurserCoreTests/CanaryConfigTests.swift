import Foundation
import PurserCore
import PurserLedger
import Testing

/// The repository's root, found from this file's path (Tests/PurserCoreTests/CanaryConfigTests.swift).
private let repositoryRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
    .deletingLastPathComponent().path

@Suite("Canary configuration: shape errors name the field, problems say what to change")
struct CanaryConfigTests {
    /// A sane configuration that the cases below change one line of.
    static let sane = """
        steps: [5, 25, 50, 100]
        min-sample-size: 200
        metrics:
          - {name: error_rate, statistic: rate, bad: increase, max-absolute-change: 0.01, critical: true}
          - {name: quality, statistic: mean, bad: decrease, max-relative-change: 0.05}
        scoring: {pass: 0.9, marginal: 0.6}
        auto-rollback: true

        """

    func config(_ text: String) throws -> CanaryConfig {
        try CanaryConfig(json: try YAML.parse(text, source: "canary.yaml"), source: "canary.yaml")
    }

    /// `sane` with `original` replaced by `replacement`, after checking that it occurs there.
    func changed(_ original: String, _ replacement: String) throws -> String {
        let text = Self.sane.replacingOccurrences(of: original, with: replacement)
        try #require(text != Self.sane, "\(original) is not in the sane configuration")
        return text
    }

    @Test("the template loads, as the judge needs it, with no problems")
    func template() throws {
        let config = try CanaryConfig.load(at: repositoryRoot + "/templates/canary.yaml")
        #expect(config.problems() == [])
        #expect(config.steps == [5, 25, 50, 100])
        #expect(config.minSampleSize == 300)
        #expect((config.pass, config.marginal, config.autoRollback) == (0.9, 0.6, true))
        let errors = try #require(config.metrics.first { $0.name == "error_rate" })
        #expect((errors.statistic, errors.bad, errors.critical, errors.kind) == (.rate, .increase, true, .proportion))
        #expect(errors.maxAbsoluteChange == 0.01 && errors.maxRelativeChange == nil)
        #expect(errors.minSampleSize == 300)
        let quality = try #require(config.metrics.first { $0.name == "quality" })
        #expect(
            (quality.statistic, quality.bad, quality.critical, quality.kind) == (.mean, .decrease, false, .continuous))
        #expect(quality.maxRelativeChange == 0.05 && quality.maxAbsoluteChange == nil)
        #expect(quality.minSampleSize == 100)
        #expect(config.metrics.allSatisfy { CanaryConfig.knownMetrics[$0.name] != nil })
    }

    @Test("the sane configuration reads as written and has no problems")
    func sane() throws {
        let config = try config(Self.sane)
        #expect(config.problems() == [])
        #expect(config.metrics.map(\.name) == ["error_rate", "quality"])
        #expect(config.metrics.map(\.minSampleSize) == [200, 200])
    }

    @Test(
        "each problem yields exactly its sentence",
        arguments: [
            (
                "steps: [5, 25, 50, 100]", "steps: [5, 50, 25, 100]",
                "steps [5, 50, 25, 100] do not increase strictly: list each weight once, smallest first, such as "
                    + "[5, 25, 50, 100]."
            ),
            (
                "steps: [5, 25, 50, 100]", "steps: [5, 25, 25, 100]",
                "steps [5, 25, 25, 100] do not increase strictly: list each weight once, smallest first, such as "
                    + "[5, 25, 50, 100]."
            ),
            (
                "steps: [5, 25, 50, 100]", "steps: [0, 25, 50, 100]",
                "step 0 is outside (0, 100]: each step is the canary's share of traffic in percent, above 0 and at "
                    + "most 100."
            ),
            (
                "steps: [5, 25, 50, 100]", "steps: [5, 25, 50, 101]",
                "step 101 is outside (0, 100]: each step is the canary's share of traffic in percent, above 0 and at "
                    + "most 100."
            ),
            (
                "steps: [5, 25, 50, 100]", "steps: []",
                "steps is empty: list the canary's traffic weights in percent, such as [5, 25, 50, 100]."
            ),
            (
                "min-sample-size: 200", "min-sample-size: 0",
                "min-sample-size is 0: each arm needs at least 1 task before a metric is judged (a few hundred for "
                    + "rates)."
            ),
            (
                "max-relative-change: 0.05}", "max-relative-change: 0.05, min-sample-size: 0}",
                "metric quality has min-sample-size 0: each arm needs at least 1 task before it is judged."
            ),
            (
                "pass: 0.9, marginal: 0.6", "pass: 0.6, marginal: 0.6",
                "scoring.pass 0.6 is not above scoring.marginal 0.6: a canary scoring between them is held, so pass "
                    + "must be the higher."
            ),
            (
                "pass: 0.9, marginal: 0.6", "pass: 0.5, marginal: 0.6",
                "scoring.pass 0.5 is not above scoring.marginal 0.6: a canary scoring between them is held, so pass "
                    + "must be the higher."
            ),
            (
                "pass: 0.9", "pass: 1.5",
                "scoring.pass 1.5 is outside [0, 1]: the score is the share of metrics that pass."
            ),
            (
                "marginal: 0.6", "marginal: -0.1",
                "scoring.marginal -0.1 is outside [0, 1]: the score is the share of metrics that pass."
            ),
            (
                "critical: true", "critical: false",
                "no critical error-rate metric: add {name: error_rate, statistic: rate, bad: increase, critical: "
                    + "true} so that a canary that fails more often is rolled back."
            ),
            ("bad: increase, max-absolute-change: 0.01", "bad: either, max-absolute-change: 0.01", nil),
            (
                "bad: increase, max-absolute-change: 0.01", "bad: decrease, max-absolute-change: 0.01",
                "no critical error-rate metric: add {name: error_rate, statistic: rate, bad: increase, critical: "
                    + "true} so that a canary that fails more often is rolled back."
            ),
            (
                "  - {name: error_rate, statistic: rate, bad: increase, max-absolute-change: 0.01, critical: true}\n",
                "",
                "no critical error-rate metric: add {name: error_rate, statistic: rate, bad: increase, critical: "
                    + "true} so that a canary that fails more often is rolled back."
            ),
            (
                ", max-relative-change: 0.05}", "}",
                "no quality metric with a threshold: add {name: quality, statistic: mean, bad: decrease, "
                    + "max-relative-change: 0.05} (or a max-absolute-change) so that a drop in quality beyond it "
                    + "counts against the canary."
            ),
            (
                "  - {name: quality, statistic: mean, bad: decrease, max-relative-change: 0.05}\n", "",
                "no quality metric with a threshold: add {name: quality, statistic: mean, bad: decrease, "
                    + "max-relative-change: 0.05} (or a max-absolute-change) so that a drop in quality beyond it "
                    + "counts against the canary."
            ),
            (
                "max-relative-change: 0.05}", "max-absolute-change: 0.02}",
                nil
            ),
            (
                "auto-rollback: true", "auto-rollback: false",
                "auto-rollback is off: a canary judged to roll back keeps its traffic until someone acts; set "
                    + "auto-rollback: true."
            ),
        ] as [(String, String, String?)])
    func problem(_ original: String, _ replacement: String, _ sentence: String?) throws {
        let config = try config(try changed(original, replacement))
        #expect(config.problems() == (sentence.map { [$0] } ?? []))
    }

    @Test("problems are listed together, in the order of the file")
    func severalProblems() throws {
        let text = try changed("steps: [5, 25, 50, 100]", "steps: [50, 0]")
            .replacingOccurrences(of: "auto-rollback: true", with: "auto-rollback: false")
        let problems = try config(text).problems()
        #expect(problems.count == 3)
        #expect(problems.first?.hasPrefix("step 0 is outside (0, 100]") == true)
        #expect(problems.dropFirst().first?.hasPrefix("steps [50, 0] do not increase strictly") == true)
        #expect(problems.last?.hasPrefix("auto-rollback is off") == true)
    }

    @Test(
        "a malformed configuration is refused, naming the file and the field",
        arguments: [
            ("steps: [5, 25, 50, 100]", "steps: 5", "steps: expected a list"),
            ("steps: [5, 25, 50, 100]", "steps: [5, 2.5]", "steps[1]: expected a whole number"),
            ("steps: [5, 25, 50, 100]", "steps: [5, ten]", "steps[1]: expected a whole number"),
            ("steps: [5, 25, 50, 100]\n", "", "steps: missing"),
            ("min-sample-size: 200\n", "", "min-sample-size: missing"),
            ("min-sample-size: 200", "min-sample-size: many", "min-sample-size: expected a whole number"),
            ("auto-rollback: true", "auto-rollback: 1", "auto-rollback: expected true or false"),
            ("auto-rollback: true\n", "", "auto-rollback: missing"),
            ("auto-rollback: true", "auto-rollback: true\ncanary: 5", "canary: unknown field"),
            (
                "metrics:\n"
                    + "  - {name: error_rate, statistic: rate, bad: increase, max-absolute-change: 0.01, critical: true}\n"
                    + "  - {name: quality, statistic: mean, bad: decrease, max-relative-change: 0.05}\n",
                "metrics: {}\n", "metrics: expected a list"
            ),
            ("critical: true}", "critical: true, threshold: 0.1}", "metrics[0].threshold: unknown field"),
            ("name: quality", "name: qualty", "metrics[1].name: expected one of"),
            ("{name: quality, ", "{", "metrics[1].name: missing"),
            ("statistic: mean", "statistic: median", "metrics[1].statistic: expected rate, mean, p95 or shift"),
            ("statistic: mean", "statistic: rate", "metrics[1].statistic: quality is a value per task"),
            ("statistic: rate", "statistic: p95", "metrics[0].statistic: error_rate is a share of tasks"),
            ("bad: decrease", "bad: down", "metrics[1].bad: expected increase, decrease or either"),
            ("max-relative-change: 0.05", "max-relative-change: -0.05", "metrics[1].max-relative-change: expected"),
            ("max-absolute-change: 0.01", "max-absolute-change: '1%'", "metrics[0].max-absolute-change: expected"),
            ("critical: true", "critical: 'yes'", "metrics[0].critical: expected true or false"),
            ("critical: true}", "critical: true, min-sample-size: 1.5}", "metrics[0].min-sample-size: expected"),
            ("metrics:\n", "metrics:\n  - error_rate\n", "metrics[0]: expected a mapping"),
            (
                "metrics:\n", "metrics:\n  - {name: quality, statistic: mean, bad: decrease}\n",
                "metrics[2]: quality mean is already metrics[0]"
            ),
            ("pass: 0.9, ", "", "scoring.pass: missing"),
            ("pass: 0.9", "pass: high", "scoring.pass: expected a number"),
            ("marginal: 0.6}", "marginal: 0.6, fail: 0.3}", "scoring.fail: unknown field"),
            ("scoring: {pass: 0.9, marginal: 0.6}", "scoring: 0.9", "scoring: expected a mapping"),
        ])
    func malformed(_ original: String, _ replacement: String, _ expected: String) throws {
        let text = try changed(original, replacement)
        let error = #expect(throws: LedgerError.self) { try config(text) }
        #expect(error?.code == .invalidInput)
        #expect(error?.message.hasPrefix("canary.yaml: " + expected) == true, "\(error?.message ?? "")")
        #expect(error?.message.contains("\n") == false)
    }

    @Test("a document that is not a mapping is refused")
    func notAMapping() {
        let error = #expect(throws: LedgerError.self) { try config("- 5\n- 25\n") }
        #expect(error?.message == "canary.yaml: expected a mapping")
    }

    @Test("loading a configuration that does not exist says so")
    func missingFile() {
        let error = #expect(throws: LedgerError.self) {
            try CanaryConfig.load(at: NSTemporaryDirectory() + "no-such-" + UUID().uuidString + ".yaml")
        }
        #expect(error?.code == .notFound)
    }
}
