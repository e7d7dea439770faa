internal import Foundation
public import PurserLedger

/// One metric of a shadow comparison: paired results of the same requests by both versions.
public struct ShadowMetric: Sendable, Equatable {
    public enum Verdict: String, Sendable {
        case better, equivalent, worse
    }

    public let metric: String
    /// Pairs where both versions report the metric.
    public let pairs: Int
    /// The mean difference shadow − primary (for `passed`: the difference of pass rates).
    public let meanDifference: Double?
    public let pValue: Double?
    public let verdict: Verdict
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

extension Releases {
    /// The metrics a shadow comparison reads from each side of a pair, and whether higher is better.
    static let shadowMetrics: [(name: String, higherIsBetter: Bool)] = [
        ("quality", true), ("passed", true), ("cost_usd", false), ("duration_ms", false),
    ]

    /// Compares a shadow version with the primary one on pairs of results of the same requests, and
    /// records it (`shadow.compared`, the pairs file stored as an artifact). Continuous metrics by a
    /// Wilcoxon signed-rank test, pass/fail by McNemar's exact test; a metric is better or worse only when
    /// p < 0.05, else equivalent.
    ///
    /// The pairs file is JSON Lines: `{"request_id": …, "primary": {"quality", "passed", "cost_usd",
    /// "duration_ms"}, "shadow": {…}}`, every member of a side optional.
    /// - Throws: `.invalidInput` naming the line and field of a bad pair; nothing is recorded then.
    public func compareShadow(
        env: String, primary: String, shadow: String, pairs path: String
    ) throws(LedgerError) -> ShadowComparison {
        try compareShadow(env: env, primary: primary, shadow: shadow, pairs: InputFile.read(path))
    }

    /// Compares a shadow version with the primary one on a pairs file already read.
    public func compareShadow(
        env: String, primary: String, shadow: String, pairs file: InputFile
    ) throws(LedgerError) -> ShadowComparison {
        try Releases.checkEnvironment(env)
        let (primaryID, shadowID) = (try version(primary).id, try version(shadow).id)
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
            for (name, _) in Self.shadowMetrics {
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
        let metrics = Self.shadowMetrics.map { metric in
            Self.compare(metric.name, higherIsBetter: metric.higherIsBetter, sides[metric.name] ?? [])
        }
        let (_, entries) = try record { (transaction, _) throws -> ([Event], Void) in
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

    static func compare(
        _ name: String, higherIsBetter: Bool, _ pairs: [(primary: JSONValue, shadow: JSONValue)]
    ) -> ShadowMetric {
        guard !pairs.isEmpty else {
            return ShadowMetric(metric: name, pairs: 0, meanDifference: nil, pValue: nil, verdict: .equivalent)
        }
        let difference: Double
        let p: Double
        // Which way the shadow differs, by the test's own statistic: the discordant pairs, or the signed
        // ranks (a mean could point the other way on one outlier).
        let higher: Bool
        if name == "passed" {
            let primary = pairs.map { $0.primary == .bool(true) }
            let shadow = pairs.map { $0.shadow == .bool(true) }
            let test = McNemar(first: shadow, second: primary)
            p = test?.p ?? 1
            higher = (test?.onlyFirst ?? 0) > (test?.onlySecond ?? 0)
            difference = Double(shadow.filter { $0 }.count - primary.filter { $0 }.count) / Double(pairs.count)
        } else {
            let primary = pairs.map { $0.primary.numberValue ?? 0 }
            let shadow = pairs.map { $0.shadow.numberValue ?? 0 }
            let test = WilcoxonSignedRank(first: shadow, second: primary)
            p = test?.p ?? 1
            let total = test.map { Double($0.count * ($0.count + 1)) / 2 } ?? 0
            higher = (test?.rankSumPositive ?? 0) > total - (test?.rankSumPositive ?? 0)
            difference = zip(shadow, primary).map { $0 - $1 }.reduce(0, +) / Double(pairs.count)
        }
        let verdict: ShadowMetric.Verdict =
            p < CanaryJudge.alpha ? (higher == higherIsBetter ? .better : .worse) : .equivalent
        return ShadowMetric(metric: name, pairs: pairs.count, meanDifference: difference, pValue: p, verdict: verdict)
    }
}

extension ShadowMetric {
    /// The metric as `shadow.compared` records it and `shadow compare --json` prints it.
    public var json: JSONValue {
        .object([
            "metric": .string(metric), "pairs": .number(Double(pairs)),
            "mean_difference": meanDifference.map(JSONValue.number) ?? .null,
            "p": pValue.map(JSONValue.number) ?? .null, "verdict": .string(verdict.rawValue),
        ])
    }
}
