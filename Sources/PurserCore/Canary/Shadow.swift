internal import Foundation
public import PurserLedger
internal import PurserStatistics

/// One metric of a shadow comparison: paired results of the same requests by both versions.
public struct ShadowMetric: Sendable, Equatable {
    public enum Verdict: String, Sendable {
        /// Shown to differ (p < 0.05), for the better.
        case better
        /// Shown, with 95% confidence, to differ by less than the margin either way (TOST).
        case equivalent
        /// Shown to differ, for the worse, and not shown equivalent.
        case worse
        /// Neither shown to differ nor shown equivalent: too few pairs, or too much noise, for the margin.
        case inconclusive
    }

    public let metric: String
    /// How it was tested: `wilcoxon` (with two one-sided Wilcoxon tests against ± margin) or `mcnemar`
    /// (with two one-sided tests of Agresti and Min's interval).
    public let method: String
    /// Pairs where both versions report the metric.
    public let pairs: Int
    /// The mean difference shadow − primary (for `passed`: the difference of pass rates).
    public let meanDifference: Double?
    /// The largest difference either way that still counts as equivalent, in the metric's unit.
    public let margin: Double?
    /// The two-sided p-value of a difference.
    public let pValue: Double?
    /// The p-value of the two one-sided tests against ± margin (the larger of the two).
    public let equivalenceP: Double?
    public let verdict: Verdict
}

/// The margin of equivalence of one shadow metric: a number in the metric's unit, or a percentage of the
/// primary's mean (`10%`).
public struct ShadowMargin: Sendable, Hashable {
    public let value: Double
    public let relative: Bool

    /// `quality` 0.02, `passed` 0.05 (five points of pass rate), `cost_usd` and `duration_ms` 10 % of the
    /// primary's mean.
    public static let defaults: [String: ShadowMargin] = [
        "quality": ShadowMargin(value: 0.02, relative: false), "passed": ShadowMargin(value: 0.05, relative: false),
        "cost_usd": ShadowMargin(value: 0.1, relative: true), "duration_ms": ShadowMargin(value: 0.1, relative: true),
    ]

    public init(value: Double, relative: Bool) {
        self.value = value
        self.relative = relative
    }

    /// Reads `0.02` or `10%`.
    ///
    /// - Returns: nil unless a finite number ≥ 0, optionally followed by `%`.
    public init?(_ text: String) {
        let relative = text.hasSuffix("%")
        guard let number = Double(relative ? String(text.dropLast()) : text), number.isFinite, number >= 0 else {
            return nil
        }
        self.init(value: relative ? number / 100 : number, relative: relative)
    }

    /// Reads `NAME=MARGIN` settings, checking the names and values.
    ///
    /// - Throws: `.usage` naming the setting that is malformed, names an unknown metric, or repeats one.
    public static func parse(_ settings: [String]) throws(LedgerError) -> [String: ShadowMargin] {
        var margins = defaults
        var seen: Set<String> = []
        for setting in settings {
            let parts = setting.split(separator: "=", maxSplits: 1).map(String.init)
            guard parts.count == 2, let margin = ShadowMargin(parts[1]) else {
                throw LedgerError(
                    .usage,
                    naming:
                        "\(parameter: "margins") \(setting): expected NAME=NUMBER or NAME=PERCENT%, such as quality=0.02"
                )
            }
            guard defaults[parts[0]] != nil else {
                throw LedgerError(
                    .usage,
                    naming:
                        "\(parameter: "margins") \(setting): unknown metric \(parts[0]); expected \(Shadow.metrics.map(\.name).joined(separator: ", "))"
                )
            }
            guard seen.insert(parts[0]).inserted else {
                throw LedgerError(.usage, naming: "\(parameter: "margins") \(parts[0]) is given twice")
            }
            margins[parts[0]] = margin
        }
        return margins
    }
}

/// A recorded shadow comparison.
public struct ShadowComparison: Sendable {
    public let env: String
    public let primary: String
    public let shadow: String
    public let pairs: Int
    public let metrics: [ShadowMetric]
    /// The `shadow.compared` entry.
    public let seq: UInt64
}

/// Shadow comparisons: a shadow version compared with the primary one on paired results of the same requests, and
/// recorded. Reads no query tables; asks `Versions` to resolve version references.
public struct Shadow {
    let ledger: Ledger

    init(_ ledger: Ledger) { self.ledger = ledger }

    /// The metrics a shadow comparison reads from each side of a pair, and whether higher is better.
    static let metrics: [(name: String, higherIsBetter: Bool)] = [
        ("quality", true), ("passed", true), ("cost_usd", false), ("duration_ms", false),
    ]

    /// Compares a shadow version with the primary one on pairs of results of the same requests, and
    /// records it (`shadow.compared`, the pairs file stored as an artifact). Continuous metrics by a
    /// Wilcoxon signed-rank test, pass/fail by McNemar's exact test; equivalence within each metric's
    /// margin by two one-sided tests (TOST). A metric is better when the difference test gives p < 0.05 in the
    /// good direction; else equivalent when both one-sided tests reject at 0.05; else worse when the difference
    /// test gives p < 0.05; else inconclusive.
    ///
    /// The pairs file is JSON Lines: `{"request_id": …, "primary": {"quality", "passed", "cost_usd",
    /// "duration_ms"}, "shadow": {…}}`, every member of a side optional.
    /// - Throws: `.invalidInput` naming the line and field of a bad pair; nothing is recorded then.
    public func compare(
        env: EnvironmentName, primary: String, shadow: String, pairs path: String, margins: [String] = []
    ) throws(LedgerError) -> ShadowComparison {
        try compare(env: env, primary: primary, shadow: shadow, pairs: InputFile.read(path), margins: margins)
    }

    /// Compares a shadow version with the primary one on a pairs file already read.
    /// - Parameter margins: `NAME=MARGIN` settings over `ShadowMargin.defaults`.
    public func compare(
        env environment: EnvironmentName, primary: String, shadow: String, pairs file: InputFile,
        margins settings: [String] = []
    ) throws(LedgerError) -> ShadowComparison {
        let env = environment.name
        let margins = try ShadowMargin.parse(settings)
        let versions = Versions(ledger)
        let (primaryID, shadowID) = (try versions.find(primary).id, try versions.find(shadow).id)
        guard primaryID != shadowID else {
            throw LedgerError(.usage, "the primary and the shadow are the same version (\(primaryID.prefix(12)))")
        }
        let bytes = file.bytes
        let source = file.source
        var sides: [String: [(primary: JSONValue, shadow: JSONValue)]] = [:]
        var seen: Set<String> = []
        let count = try Inputs.jsonObjectLines(bytes, source: source) { (pair, line) throws(LedgerError) in
            guard let request = pair["request_id"]?.stringValue, !request.isEmpty else {
                throw LedgerError(
                    .invalidInput,
                    "\(line): request_id: \(pair["request_id"] == nil ? "missing" : "expected a non-empty string")")
            }
            guard seen.insert(request).inserted else {
                throw LedgerError(.invalidInput, "\(line): request_id \(request) appears twice")
            }
            guard case .object = pair["primary"] ?? .null, case .object = pair["shadow"] ?? .null else {
                throw LedgerError(.invalidInput, "\(line): expected objects primary and shadow")
            }
            for (name, _) in Self.metrics {
                let valid: (JSONValue) -> Bool =
                    name == "passed"
                    ? { if case .bool = $0 { true } else { false } }
                    : { ($0.numberValue ?? -1) >= 0 && (name != "quality" || ($0.numberValue ?? 2) <= 1) }
                // Each side's value is checked, whether or not the other side has one.
                for side in ["primary", "shadow"] {
                    if let value = pair[side]?[name], value != .null, !valid(value) {
                        throw LedgerError(
                            .invalidInput,
                            "\(line): \(side).\(name): expected \(name == "passed" ? "true or false" : name == "quality" ? "a number from 0 to 1" : "a number ≥ 0")"
                        )
                    }
                }
                guard let a = pair["primary"]?[name], let b = pair["shadow"]?[name], a != .null, b != .null else {
                    continue
                }
                sides[name, default: []].append((a, b))
            }
        }.count
        guard count > 0 else { throw LedgerError(.invalidInput, "\(source): no pairs") }
        let metrics = Self.metrics.map { metric in
            Self.compare(
                metric.name, higherIsBetter: metric.higherIsBetter, sides[metric.name] ?? [],
                margin: margins[metric.name]!)
        }
        let (_, entries) = try ledger.record { (transaction, _) throws -> ([Event], Void) in
            let digest = try transaction.storeArtifact(bytes)
            let body: JSONValue = .object([
                "env": .string(env), "primary": .string(primaryID), "shadow": .string(shadowID),
                "pairs": .object([
                    "file": .string(file.fileName),
                    "digest": .string(digest.hex), "count": .number(Double(count)),
                ]),
                "metrics": .array(metrics.map(\.json)),
            ])
            return ([try Event(kind: "shadow.compared", body: body)], ())
        }
        return ShadowComparison(
            env: env, primary: primaryID, shadow: shadowID, pairs: count, metrics: metrics, seq: entries[0].seq)
    }

    /// One metric's comparison over the pairs that report it on both sides, with `margin` of equivalence.
    static func compare(
        _ name: String, higherIsBetter: Bool, _ pairs: [(primary: JSONValue, shadow: JSONValue)], margin: ShadowMargin
    ) -> ShadowMetric {
        let method = name == "passed" ? "mcnemar" : "wilcoxon"
        guard !pairs.isEmpty else {
            return ShadowMetric(
                metric: name, method: method, pairs: 0, meanDifference: nil, margin: nil, pValue: nil,
                equivalenceP: nil, verdict: .inconclusive)
        }
        let alpha = CanaryJudge.alpha
        let difference: Double
        let p: Double
        let equivalence: Double
        let width: Double
        // Which way the shadow differs, by the test's own statistic: the discordant pairs, or the signed
        // ranks (a mean could point the other way on one outlier).
        let higher: Bool
        if name == "passed" {
            let primary = pairs.map { $0.primary == .bool(true) }
            let shadow = pairs.map { $0.shadow == .bool(true) }
            let test = McNemar(first: shadow, second: primary)
            p = test?.p ?? 1
            let (b, c) = (Double(test?.onlyFirst ?? 0), Double(test?.onlySecond ?? 0))
            higher = b > c
            difference = (b - c) / Double(pairs.count)
            width =
                margin.relative
                ? margin.value * Double(primary.filter { $0 }.count) / Double(pairs.count) : margin.value
            // Agresti and Min (Statist. Med. 24, 2005): a half added to each cell of the paired table.
            let n = Double(pairs.count) + 2
            let (b1, c1) = (b + 0.5, c + 0.5)
            let adjusted = (b1 - c1) / n
            let se = ((b1 + c1) - (b1 - c1) * (b1 - c1) / n).squareRoot() / n
            equivalence = max(
                Distributions.normalSurvival((adjusted + width) / se),
                Distributions.normalSurvival((width - adjusted) / se))
        } else {
            let primary = pairs.map { $0.primary.numberValue ?? 0 }
            let shadow = pairs.map { $0.shadow.numberValue ?? 0 }
            let test = WilcoxonSignedRank(first: shadow, second: primary)
            p = test?.p ?? 1
            let total = test.map { Double($0.count * ($0.count + 1)) / 2 } ?? 0
            higher = (test?.rankSumPositive ?? 0) > total - (test?.rankSumPositive ?? 0)
            difference = zip(shadow, primary).map { $0 - $1 }.reduce(0, +) / Double(pairs.count)
            width =
                margin.relative ? margin.value * abs(primary.reduce(0, +) / Double(primary.count)) : margin.value
            // Two one-sided tests: the differences are above −margin, and below +margin.
            let above = WilcoxonSignedRank(first: shadow, second: primary.map { $0 - width }, alternative: .greater)
            let below = WilcoxonSignedRank(first: shadow, second: primary.map { $0 + width }, alternative: .less)
            equivalence = max(above?.p ?? 1, below?.p ?? 1)
        }
        // Better whenever shown better; worse only when shown worse and not shown within the margin.
        let verdict: ShadowMetric.Verdict
        if p < alpha && higher == higherIsBetter {
            verdict = .better
        } else if equivalence < alpha {
            verdict = .equivalent
        } else {
            verdict = p < alpha ? .worse : .inconclusive
        }
        return ShadowMetric(
            metric: name, method: method, pairs: pairs.count, meanDifference: difference, margin: width, pValue: p,
            equivalenceP: equivalence, verdict: verdict)
    }
}

extension ShadowMetric {
    /// The metric as `shadow.compared` records it and `shadow compare --json` prints it.
    public var json: JSONValue {
        .object([
            "metric": .string(metric), "method": .string(method), "pairs": .number(Double(pairs)),
            "mean_difference": meanDifference.map(JSONValue.number) ?? .null,
            "margin": margin.map(JSONValue.number) ?? .null, "p": pValue.map(JSONValue.number) ?? .null,
            "equivalence_p": equivalenceP.map(JSONValue.number) ?? .null, "verdict": .string(verdict.rawValue),
        ])
    }
}
