import Foundation
public import PurserCore
public import PurserLedger

// Judging a new version against the one it would replace, and recording the judgement.

/// `purser canary judge`: records canary.judged, and with auto-rollback and a rollback verdict, rollback.performed
/// in the same transaction. Promote, hold and rollback are done, inconclusive and blocked (exit 0, 2, 1). The
/// `--on-rollback` hook is not part of it: the command runs it where it was typed, when the reply's
/// `rollback_seq` is not null.
public struct JudgeCanary: LedgerOperation {
    public static let name = "canary/judge"
    public static let summary =
        "Judge a canary against its baseline, metric by metric, and record it (canary.judged; rollback.performed with auto-rollback)."
    public static let role = Role.writer

    public var env: EnvironmentName
    public var baseline: String?
    public var canary: String?
    /// The canary configuration (YAML), parsed where it is performed; its bytes are recorded by digest.
    public var config: InputFile
    public var since: String?

    public init(env: EnvironmentName, baseline: String?, canary: String?, config: InputFile, since: String?) {
        self.env = env
        self.baseline = baseline
        self.canary = canary
        self.config = config
        self.since = since
    }

    public func perform(on releases: Releases) throws(LedgerError) -> Reply {
        let since = try ledgerTimestamp(since, parameter: "since")
        let configuration = try CanaryConfig(bytes: config.bytes, source: config.source)
        let judgement = try releases.canary.judge(
            env: env, baseline: baseline, canary: canary, config: configuration, configBytes: config.bytes,
            configSource: config.fileName, since: since)
        let labels = try releases.versions.labels(of: [judgement.baseline, judgement.canary])
        func name(_ id: String) -> String { "\(id.prefix(12))\(labels[id].map { " (\($0))" } ?? "")" }
        var text = [
            "canary \(name(judgement.canary)) against \(name(judgement.baseline)) in \(env), tasks since \(judgement.since)",
            "look \(judgement.look) of this rollout: each test at alpha \(Figure.value(judgement.alpha)) (plan \(judgement.plan.rawValue))",
        ]
        for metric in judgement.metrics {
            let values =
                metric.label == .nodata
                ? "n = \(metric.baselineCount) / \(metric.canaryCount), below the minimum sample size"
                : Self.describe(metric)
            text.append(
                "  \(padded(metric.label.rawValue.uppercased(), 10)) \(padded(metric.metric + (metric.critical ? "*" : ""), 18)) \(values)"
            )
        }
        if judgement.metrics.contains(where: \.critical) {
            text.append(
                "  * critical: a regression, or too few tasks to judge it, rolls the canary back whatever the score")
        }
        text.append(
            "\(judgement.verdict.rawValue.uppercased()): score \(Figure.percent(judgement.score)) (recorded as seq \(judgement.seq))"
                + (judgement.rollbackSeq.map { "; rolled back to \(name(judgement.baseline)) as seq \($0)" } ?? ""))
        let status: Reply.Status =
            switch judgement.verdict {
            case .promote: .done
            case .hold: .inconclusive
            case .rollback: .blocked
            }
        return Reply(
            json: .object([
                "env": .string(judgement.env), "baseline": .string(judgement.baseline),
                "canary": .string(judgement.canary), "since": .string(judgement.since),
                "score": .number(judgement.score), "verdict": .string(judgement.verdict.rawValue),
                "look": .int(UInt64(judgement.look)), "plan": .string(judgement.plan.rawValue),
                "alpha": .number(judgement.alpha), "seq": .int(judgement.seq),
                "rollback_seq": judgement.rollbackSeq.map(JSONValue.int) ?? .null,
                "metrics": .array(judgement.metrics.map(\.json)),
            ]),
            text: text, status: status)
    }

    /// A judged metric on one line: the statistic in each arm, the method's estimate with its interval, the
    /// allowed change in the bad direction, p and the sample sizes.
    static func describe(_ metric: MetricJudgement) -> String {
        let rate = metric.statistic == .rate
        let allowed =
            switch metric.bad {
            case .increase: "+"
            case .decrease: "-"
            case .either: "±"
            }
        let interval = metric.interval.map {
            "[\(Figure.change($0.lowerBound, rate: rate)), \(Figure.change($0.upperBound, rate: rate))]"
        }
        return
            "\(Figure.quantity(metric.baseline, rate: rate)) -> \(Figure.quantity(metric.canary, rate: rate)) "
            + "(\(Figure.percent(metric.relativeEffect, signed: true))), "
            + "\(metric.statistic == .shift ? "shift" : "change") \(Figure.change(metric.estimate, rate: rate)) "
            + "\(interval ?? "") at \(Figure.percent(metric.intervalLevel)), "
            + "allowed \(allowed)\(Figure.change(metric.margin, rate: rate, signed: false)), "
            + "\(Figure.p(metric.pValue)), n = \(metric.baselineCount) / \(metric.canaryCount)"
    }
}

/// `purser shadow compare`: records shadow.compared with the pairs file; blocked (exit 1) when a metric is worse,
/// inconclusive (exit 2) when a metric with pairs is neither shown equivalent nor shown to differ.
public struct CompareShadow: LedgerOperation {
    public static let name = "shadow/compare"
    public static let summary =
        "Compare a shadow version with the primary one on paired results of the same requests (shadow.compared)."
    public static let role = Role.writer

    public var env: EnvironmentName
    public var primary: String
    public var shadow: String
    /// JSON Lines, one request handled by both versions per line.
    public var pairs: InputFile
    /// `NAME=MARGIN` equivalence margins (`quality=0.02`, `cost_usd=10%`) over the defaults.
    public var margins: [String]?

    public init(env: EnvironmentName, primary: String, shadow: String, pairs: InputFile, margins: [String] = []) {
        self.env = env
        self.primary = primary
        self.shadow = shadow
        self.pairs = pairs
        self.margins = margins
    }

    public func perform(on releases: Releases) throws(LedgerError) -> Reply {
        let comparison = try releases.shadow.compare(
            env: env, primary: primary, shadow: shadow, pairs: pairs, margins: margins ?? [])
        var text: [String] = []
        for metric in comparison.metrics {
            // `passed` is a rate: its differences are in percentage points.
            let rate = metric.method == "mcnemar"
            let detail =
                metric.pairs == 0
                ? "no pairs report it"
                : "mean difference \(Figure.change(metric.meanDifference, rate: rate)) over \(metric.pairs) pairs, "
                    + "margin ±\(Figure.change(metric.margin, rate: rate, signed: false)), "
                    + "\(Figure.p(metric.pValue)), \(Figure.p(metric.equivalenceP, named: "equivalence p"))"
            text.append("  \(padded(metric.verdict.rawValue.uppercased(), 11)) \(padded(metric.metric, 12)) \(detail)")
        }
        text.append("compared \(comparison.pairs) pairs (recorded as seq \(comparison.seq))")
        return Reply(
            json: .object([
                "env": .string(env.name), "primary": .string(comparison.primary), "shadow": .string(comparison.shadow),
                "pairs": .number(Double(comparison.pairs)), "seq": .int(comparison.seq),
                "metrics": .array(comparison.metrics.map(\.json)),
            ]),
            text: text,
            status: comparison.metrics.contains(where: { $0.verdict == .worse })
                ? .blocked
                : comparison.metrics.contains(where: { $0.verdict == .inconclusive && $0.pairs > 0 })
                    ? .inconclusive : .done)
    }
}
