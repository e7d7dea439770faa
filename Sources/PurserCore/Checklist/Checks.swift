internal import Foundation
public import PurserLedger

/// One check's outcome.
public struct CheckResult: Sendable, Equatable {
    public enum Verdict: String, Sendable {
        case pass, fail, error, waived
    }

    /// A stable check id (`ChecklistPolicy.checkIDs`).
    public let id: String
    public var verdict: Verdict
    /// Why, in words a person can act on.
    public var reason: String
    /// What the verdict rests on.
    public var evidence: [EvidenceReference]

    public init(id: String, verdict: Verdict, reason: String, evidence: [EvidenceReference] = []) {
        self.id = id
        self.verdict = verdict
        self.reason = reason
        self.evidence = evidence
    }
}

/// A piece of evidence as a checklist run records it: where it came from and the digest of its bytes
/// (for a ledger entry, its leaf hash).
public struct EvidenceReference: Sendable, Equatable {
    public let source: String
    public let digest: Hash
    public let observedAt: String?

    public init(source: String, digest: Hash, observedAt: String? = nil) {
        self.source = source
        self.digest = digest
        self.observedAt = observedAt
    }

    init(_ evidence: Evidence) {
        self.init(source: evidence.source, digest: evidence.digest, observedAt: evidence.observedAt)
    }

    init(_ entry: Entry) {
        self.init(source: "ledger:seq \(entry.seq) (\(entry.kind))", digest: entry.leafHash)
    }
}

/// A whole checklist run: allowed only if every check passed or was waived.
public struct ChecklistRun: Sendable {
    public let version: RecordedVersion
    public let env: String
    public let checks: [CheckResult]
    /// The `checklist.evaluated` entry that recorded it.
    public let seq: UInt64

    public var allowed: Bool { checks.allSatisfy { $0.verdict == .pass || $0.verdict == .waived } }

    /// The verdict document: the same inputs give the same bytes (no run time, no seq).
    public var document: JSONValue {
        .object([
            "allowed": .bool(allowed), "version": .string(version.id), "env": .string(env),
            "checks": .array(checks.map(\.json)),
        ])
    }
}

extension CheckResult {
    var json: JSONValue {
        .object([
            "id": .string(id), "verdict": .string(verdict.rawValue), "reason": .string(reason),
            "evidence": .array(evidence.map(\.json)),
        ])
    }
}

extension EvidenceReference {
    var json: JSONValue {
        var members: [String: JSONValue] = ["source": .string(source), "digest": .string(digest.hex)]
        if let observedAt { members["observed_at"] = .string(observedAt) }
        return .object(members)
    }
}

/// The judgements of the checks that need no ledger, as pure functions of their evidence.
enum Checks {
    /// `queue-healthy` on evidence `{depth, capacity, consumers, oldest_age_s, observed_at}`.
    static func queue(_ evidence: Evidence, policy: ChecklistPolicy.Queue) -> CheckResult {
        func result(_ verdict: CheckResult.Verdict, _ reason: String) -> CheckResult {
            CheckResult(id: "queue-healthy", verdict: verdict, reason: reason, evidence: [EvidenceReference(evidence)])
        }
        var numbers: [String: Double] = [:]
        for field in ["depth", "capacity", "consumers", "oldest_age_s"] {
            guard let number = evidence.value[field]?.numberValue, number >= 0 else {
                return result(.error, "\(evidence.source): \(field) is missing or not a number ≥ 0")
            }
            numbers[field] = number
        }
        let (depth, capacity, consumers, oldest) = (
            numbers["depth"]!, numbers["capacity"]!, numbers["consumers"]!, numbers["oldest_age_s"]!
        )
        guard capacity > 0 else { return result(.error, "\(evidence.source): capacity is 0") }
        var problems: [String] = []
        let utilization = depth / capacity
        if utilization > policy.maxUtilization {
            problems.append(
                "\(Figure.value(depth)) of \(Figure.value(capacity)) slots used (\(Figure.percent(utilization))), above the limit of \(Figure.percent(policy.maxUtilization))"
            )
        }
        if consumers < Double(policy.minConsumers) {
            problems.append("\(Figure.value(consumers)) consumers, fewer than the minimum of \(policy.minConsumers)")
        }
        if oldest > policy.maxOldestAge {
            problems.append(
                "the oldest task has waited \(PolicyDuration.describe(oldest)), longer than the limit of \(PolicyDuration.describe(policy.maxOldestAge))"
            )
        }
        guard problems.isEmpty else { return result(.fail, problems.joined(separator: "; ")) }
        return result(
            .pass,
            "\(Figure.value(depth))/\(Figure.value(capacity)) used (\(Figure.percent(utilization))), \(Figure.value(consumers)) consumers, oldest task \(PolicyDuration.describe(oldest))"
        )
    }

    /// `dashboards-updated`: some string in the dashboard (a query, a variable) names the candidate by
    /// its id, a prefix of 8+ hex characters, or a label.
    static func dashboard(_ evidence: Evidence, version: RecordedVersion, others: [RecordedVersion]) -> CheckResult {
        let strings = allStrings(evidence.value)
        func mentions(_ candidate: RecordedVersion) -> Bool {
            strings.contains { text in
                candidate.labels.contains { mentionsLabel(text, $0) }
                    || hexRuns(in: text).contains { run in
                        run.count >= 8 && candidate.id.hasPrefix(run)
                    }
            }
        }
        let reference = [EvidenceReference(evidence)]
        if mentions(version) {
            return CheckResult(
                id: "dashboards-updated", verdict: .pass,
                reason: "\(evidence.source) references \(version.shortName)", evidence: reference)
        }
        let stale = others.filter { $0.id != version.id && mentions($0) }.map(\.shortName)
        let also = stale.isEmpty ? "" : " (it references \(stale.joined(separator: ", ")))"
        return CheckResult(
            id: "dashboards-updated", verdict: .fail,
            reason:
                "\(evidence.source) does not reference \(version.shortName) by id, 8+ character prefix or label\(also); update its queries or variables",
            evidence: reference)
    }

    private static func allStrings(_ value: JSONValue) -> [String] {
        switch value {
        case .string(let text): [text]
        case .array(let items): items.flatMap(allStrings)
        case .object(let members): members.keys.map { $0 } + members.values.flatMap(allStrings)
        default: []
        }
    }

    /// Whether `text` names `label` as a whole (`agent@1.1` is not named by `agent@1.1.0`).
    private static func mentionsLabel(_ text: String, _ label: String) -> Bool {
        func isLabelCharacter(_ character: Character) -> Bool {
            character.isASCII && (character.isLetter || character.isNumber || "._+-/@".contains(character))
        }
        var rest = text[...]
        while let range = rest.range(of: label) {
            let before = range.lowerBound == text.startIndex ? nil : text[text.index(before: range.lowerBound)]
            let after = range.upperBound == text.endIndex ? nil : text[range.upperBound]
            if !(before.map(isLabelCharacter) ?? false) && !(after.map(isLabelCharacter) ?? false) { return true }
            rest = text[range.upperBound...]
        }
        return false
    }

    /// The maximal runs of hex digits in `text`, lowercased.
    private static func hexRuns(in text: String) -> [String] {
        text.lowercased().split { !$0.isHexDigit }.map(String.init)
    }

    /// The per-case and overall pass rates of an evaluation's cases `{name, runs, passed}`.
    static func rates(_ cases: [(name: String, runs: Int, passed: Int)]) -> (overall: Double, perCase: [String: Double])
    {
        let runs = cases.reduce(0) { $0 + $1.runs }
        let passed = cases.reduce(0) { $0 + $1.passed }
        var perCase: [String: Double] = [:]
        for item in cases where item.runs > 0 { perCase[item.name] = Double(item.passed) / Double(item.runs) }
        return (runs == 0 ? 0 : Double(passed) / Double(runs), perCase)
    }

}
