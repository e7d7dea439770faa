public import Foundation
public import PurserLedger

/// What `Checklist.recordEvaluation` recorded.
public struct EvaluationSummary: Sendable {
    public let seq: UInt64
    public let version: String
    public let suite: String
    public let runs: Int
    public let passed: Int
    /// Distinct case names.
    public let cases: Int
}

/// A recorded decision to deploy without an allowing checklist run.
public struct BreakGlass: Sendable {
    public let reason: String
    public let approver: String

    public init(reason: String, approver: String) {
        self.reason = reason
        self.approver = approver
    }
}

/// The release checklist: the evaluations and waivers it judges by, its runs (`checklist.evaluated`), and the gate
/// that refuses a deployment no allowing run covers.
public struct Checklist {
    let ledger: Ledger

    init(_ ledger: Ledger) { self.ledger = ledger }

    // MARK: Evaluations and waivers

    /// Records an evaluation run of `version` (`evaluation.recorded`): per-case runs and passes, with the
    /// results file stored as an artifact.
    /// - Parameter suite: the suite name; default the one the file names, else the file's name.
    public func recordEvaluation(
        version reference: String, results path: String, format: EvaluationFormat, suite: String? = nil
    ) throws(LedgerError) -> EvaluationSummary {
        try recordEvaluation(version: reference, results: InputFile.read(path), format: format, suite: suite)
    }

    /// Records an evaluation run from a results file already read.
    /// - Parameter parsed: the file as `EvaluationResults.parse` reads it, if it was parsed beforehand (the server
    ///   parses off its writer's thread); nil: parsed here.
    public func recordEvaluation(
        version reference: String, results file: InputFile, format: EvaluationFormat, suite: String? = nil,
        parsed: EvaluationRun? = nil
    ) throws(LedgerError) -> EvaluationSummary {
        let bytes = file.bytes
        let run: EvaluationRun
        if let parsed {
            run = parsed
        } else {
            run = try EvaluationResults.parse(bytes, format: format, source: file.source)
        }
        if let observed = run.observedAt, let date = Timestamp.parse(observed),
            date > ledger.clock().addingTimeInterval(300)
        {
            throw LedgerError(
                .invalidInput, "\(file.source): the run's time \(observed) is in the future; check the clock")
        }
        let version = try Versions(ledger).find(reference)
        let suiteName = suite ?? run.suite ?? file.stem ?? "results"
        var perCase: [String: (runs: Int, passed: Int)] = [:]
        for result in run.cases {
            perCase[result.name, default: (0, 0)].runs += 1
            if result.passed { perCase[result.name, default: (0, 0)].passed += 1 }
        }
        let passed = run.cases.filter(\.passed).count
        let (_, entries) = try ledger.record { (transaction, _) throws -> ([Event], Void) in
            let digest = try transaction.storeArtifact(bytes)
            var body: [String: JSONValue] = [
                "version": .string(version.id), "suite": .string(suiteName), "format": .string(format.rawValue),
                "results": .object([
                    "file": .string(file.fileName),
                    "digest": .string(digest.hex),
                    "size": .number(Double(bytes.count)),
                ]),
                "runs": .number(Double(run.cases.count)), "passed": .number(Double(passed)),
                "cases": .array(
                    perCase.keys.sorted().map { name in
                        .object([
                            "name": .string(name), "runs": .number(Double(perCase[name]!.runs)),
                            "passed": .number(Double(perCase[name]!.passed)),
                        ])
                    }),
            ]
            if let observedAt = run.observedAt { body["observed_at"] = .string(observedAt) }
            return ([try Event(kind: "evaluation.recorded", body: .object(body))], ())
        }
        return EvaluationSummary(
            seq: entries[0].seq, version: version.id, suite: suiteName, runs: run.cases.count, passed: passed,
            cases: perCase.count)
    }

    /// Grants a waiver (`waiver.granted`): until `expires`, a failure of `check` for `version` counts as
    /// `waived`. Errors are never waived.
    /// - Throws: `.usage` for an unknown check or an empty reason or approver; `.invalidInput` for an
    ///   expiry that is not in the future.
    public func grantWaiver(
        version reference: String, check: String, reason: String, approver: String, expires: Date
    ) throws(LedgerError) -> UInt64 {
        guard check != "version-recorded" else {
            throw LedgerError(
                .usage,
                "version-recorded cannot be waived: components that no longer hash to their version are an integrity fault"
            )
        }
        guard ChecklistPolicy.checkIDs.contains(check) else {
            throw LedgerError(
                .usage, "unknown check \(check); checks are \(ChecklistPolicy.checkIDs.joined(separator: ", "))")
        }
        for (name, value) in [("reason", reason), ("approver", approver)]
        where value.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty {
            throw LedgerError(
                .usage, naming: "a waiver needs \(parameter: name): who approved it and why stay in the ledger")
        }
        let version = try Versions(ledger).find(reference)
        let (_, entries) = try ledger.record { (transaction, _) throws -> ([Event], Void) in
            guard expires > transaction.now else {
                throw LedgerError(
                    .invalidInput,
                    naming:
                        "\(parameter: "expires") \(Timestamp.format(expires)) is not in the future (now \(Timestamp.format(transaction.now)))"
                )
            }
            let body: JSONValue = .object([
                "version": .string(version.id), "check": .string(check), "reason": .string(reason),
                "approver": .string(approver), "expires": .string(Timestamp.format(expires)),
            ])
            return ([try Event(kind: "waiver.granted", body: body)], ())
        }
        return entries[0].seq
    }

    // MARK: The checklist

    /// Runs every check of `policy` for `version` in `env`, and records the run (`checklist.evaluated`),
    /// allowed or not, with the digest of every piece of evidence. File, command and HTTP evidence is
    /// gathered in parallel first.
    /// - Throws: `.notFound` for an unrecorded version; never for a failing check, which is a verdict.
    public func run(
        version reference: String, env: EnvironmentName, policy: ChecklistPolicy
    ) throws(LedgerError)
        -> ChecklistRun
    {
        let version = try Versions(ledger).find(reference)
        return try run(
            version: version.id, env: env, policy: policy,
            gathered: policy.gather(
                version: version.id, label: version.labels.first, env: env, now: ledger.clock()))
    }

    /// Runs the checklist on evidence already gathered (`ChecklistPolicy.gather`, where the policy is: a runner
    /// of `purser serve` gathers it and sends it).
    /// - Parameter gathered: the queue's evidence and the dashboard's, in that order.
    public func run(
        version reference: String, env: EnvironmentName, policy: ChecklistPolicy,
        gathered: [Result<Evidence, LedgerError>]
    ) throws(LedgerError) -> ChecklistRun {
        guard gathered.count == 2 else {
            throw LedgerError(
                .usage, "a checklist run needs the queue's and the dashboard's evidence, got \(gathered.count)")
        }
        let versions = Versions(ledger)
        let version = try versions.find(reference)
        let now = ledger.clock()
        let recorded = try versions.list()
        var checks = [
            try versionRecorded(version),
            componentsPinned(version, policy: policy),
            gathered[0].map { Checks.queue($0, policy: policy.queue) }.recover("queue-healthy"),
            gathered[1].map { Checks.dashboard($0, version: version, others: recorded) }.recover("dashboards-updated"),
            try rollbackTested(version, env: env, policy: policy, now: now),
            try evaluationPassed(version, env: env, policy: policy.evaluation, now: now),
            canaryConfigured(policy),
        ]
        try applyWaivers(to: &checks, version: version.id, now: now)
        let allowed = checks.allSatisfy { $0.verdict == .pass || $0.verdict == .waived }
        let (_, entries) = try ledger.record { (transaction, _) throws -> ([Event], Void) in
            let digest = try transaction.storeArtifact(policy.bytes)
            let body: JSONValue = .object([
                "version": .string(version.id), "env": .string(env.name), "allowed": .bool(allowed),
                "policy": .object([
                    "file": .string(URL(fileURLWithPath: policy.source).lastPathComponent),
                    "digest": .string(digest.hex), "max_age_s": .number(policy.maxAge),
                ]),
                "checks": .array(checks.map(\.json)),
            ])
            return ([try Event(kind: "checklist.evaluated", body: body)], ())
        }
        return ChecklistRun(version: version, env: env.name, checks: checks, seq: entries[0].seq)
    }

    private func versionRecorded(_ version: RecordedVersion) throws(LedgerError) -> CheckResult {
        let id = "version-recorded"
        guard let entry = try ledger.entry(version.seq) else {
            return CheckResult(id: id, verdict: .error, reason: "entry \(version.seq) is missing; run `purser verify`")
        }
        let evidence = [EvidenceReference(entry)]
        let computed = BehavioralVersion.id(digests: version.components.map { ($0.name, $0.digest) })
        guard computed == version.id else {
            return CheckResult(
                id: id, verdict: .fail,
                reason:
                    "the recorded components hash to \(computed.prefix(12)), not to the version id; run `purser verify`",
                evidence: evidence)
        }
        for component in version.components {
            do {
                _ = try Versions(ledger).contents(of: component, in: version)
            } catch {
                return CheckResult(id: id, verdict: .fail, reason: error.message, evidence: evidence)
            }
        }
        return CheckResult(
            id: id, verdict: .pass,
            reason: "recorded at seq \(version.seq); its \(version.components.count) components still hash to its id",
            evidence: evidence)
    }

    private func componentsPinned(_ version: RecordedVersion, policy: ChecklistPolicy) -> CheckResult {
        let pins = policy.pins
        // The rules that judged: the policy's table, or the built-in one.
        let table =
            policy.pinsFile.flatMap { name in
                policy.files[name].map { EvidenceReference(source: "file:\(name)", digest: Hash.sha256($0.bytes)) }
            }
            ?? EvidenceReference(source: "built-in model pins", digest: Hash.sha256(Array(ModelPins.builtInText.utf8)))
        var floating: [String] = []
        for component in version.components {
            switch component.kind {
            case .model:
                let (pinned, reason) = component.value.map(pins.judge) ?? (false, "no model data")
                if !pinned { floating.append("\(component.name): \(reason)") }
            case .commit:
                let commit = component.value?["commit"]?.stringValue ?? ""
                if commit.wholeMatch(of: /[0-9a-f]{40}/) == nil {
                    floating.append("\(component.name): \(commit) is not a full 40-hex commit")
                }
            case .text, .data:
                break
            }
        }
        guard floating.isEmpty else {
            return CheckResult(
                id: "components-pinned", verdict: .fail, reason: floating.joined(separator: "; "), evidence: [table])
        }
        let models = version.components.filter { $0.kind == .model }.compactMap { $0.value?["id"]?.stringValue }
        return CheckResult(
            id: "components-pinned", verdict: .pass,
            reason:
                "all \(version.components.count) components pinned (models: \(models.joined(separator: ", ")); contents by digest)",
            evidence: [table])
    }

    /// The version now serving `env` (the stable one, or a rollout's baseline), if any.
    /// Checked against the environment's entries (`Traffic.checkedStatus`): the checks that depend on it decide on it.
    private func servingVersion(_ env: EnvironmentName) throws(LedgerError) -> String? {
        let stored = try Traffic(ledger).checkedStatus(of: env)
        guard let state = stored?.state else { return nil }
        return state.rollout?.baseline ?? state.serving.first?.version
    }

    private func rollbackTested(
        _ version: RecordedVersion, env: EnvironmentName, policy whole: ChecklistPolicy, now: Date
    ) throws(LedgerError) -> CheckResult {
        let id = "rollback-tested"
        let policy = whole.rollback
        guard let runbook = whole.files[policy.runbook]?.bytes else {
            return CheckResult(id: id, verdict: .fail, reason: "the rollback runbook \(policy.runbook) does not exist")
        }
        let runbookEvidence = EvidenceReference(source: "file:\(policy.runbook)", digest: Hash.sha256(runbook))
        guard !runbook.allSatisfy({ [0x20, 0x09, 0x0A, 0x0D].contains($0) }) else {
            return CheckResult(
                id: id, verdict: .fail, reason: "the rollback runbook \(policy.runbook) is empty",
                evidence: [runbookEvidence])
        }
        guard let serving = try servingVersion(env), serving != version.id else {
            return CheckResult(
                id: id, verdict: .pass,
                reason: "runbook present; no other version serves \(env), so there is nothing to roll back to yet",
                evidence: [runbookEvidence])
        }
        let servingName = try Versions(ledger).recorded(serving)?.shortName ?? String(serving.prefix(12))
        let since = Timestamp.format(now.addingTimeInterval(-policy.maxAge))
        var pairDrills: [Entry] = []
        var otherPairs: [String] = []
        try ledger.forEachEntry(kind: "rollback.drilled") { entry in
            let body = try entry.body
            if body["from"]?.stringValue == version.id && body["to"]?.stringValue == serving {
                pairDrills.append(entry)
            } else if body["from"]?.stringValue == version.id, let to = body["to"]?.stringValue {
                otherPairs.append("to \(to.prefix(12)) (seq \(entry.seq))")
            }
        }
        let wanted = "passed drill rolling back from \(version.shortName) to \(servingName), which serves \(env)"
        guard let latest = pairDrills.last else {
            let others =
                otherPairs.isEmpty ? "" : "; drills of other pairs do not count: \(otherPairs.joined(separator: ", "))"
            return CheckResult(
                id: id, verdict: .fail, reason: "no \(wanted)\(others) (`purser rollback drill`)",
                evidence: [runbookEvidence])
        }
        let evidence = [runbookEvidence, EvidenceReference(latest)]
        guard try latest.body["result"]?.stringValue == "passed" else {
            return CheckResult(
                id: id, verdict: .fail,
                reason: "the latest drill of this pair (seq \(latest.seq)) failed; need a \(wanted)",
                evidence: evidence)
        }
        guard latest.at >= since else {
            return CheckResult(
                id: id, verdict: .fail,
                reason:
                    "the latest passed drill of this pair (seq \(latest.seq), \(latest.at)) is older than the limit of \(PolicyDuration.describe(policy.maxAge))",
                evidence: evidence)
        }
        return CheckResult(
            id: id, verdict: .pass,
            reason: "runbook present; drill to \(servingName) passed at \(latest.at) (seq \(latest.seq))",
            evidence: evidence)
    }

    /// The latest `evaluation.recorded` entry for `version` (of `suite`, if given).
    /// Its `evaluations` row is checked against the entry, and no later evaluation of the version (and suite) may be
    /// missing from the table (`.integrity` otherwise).
    private func latestEvaluation(_ version: String, suite: String?) throws(LedgerError) -> Entry? {
        try ledger.readTables { (tables: any ChecklistTables) in
            let kind = "evaluation.recorded"
            func matches(_ body: JSONValue) -> Bool {
                body["version"]?.stringValue == version && (suite == nil || body["suite"]?.stringValue == suite)
            }
            guard let latest = try tables.latestEvaluation(version: version, suite: suite) else {
                try SourceEntry.requireNoLater(
                    kind, after: -1, row: "the evaluations table", what: "an evaluation of \(version.prefix(12))",
                    ledger: ledger, matches)
                return nil
            }
            let row = "evaluations row \(latest.seq)"
            let source = try SourceEntry(latest.seq, kinds: [kind], row: row, ledger: ledger)
            try source.require("version", version, equals: source.body["version"]?.stringValue)
            try source.require("suite", latest.suite, equals: source.body["suite"]?.stringValue)
            try SourceEntry.requireNoLater(
                kind, after: latest.seq, row: row, what: "an evaluation of \(version.prefix(12))", ledger: ledger,
                matches)
            return try ledger.entry(UInt64(latest.seq))
        }
    }

    private func evaluationPassed(
        _ version: RecordedVersion, env: EnvironmentName, policy: ChecklistPolicy.Evaluation, now: Date
    ) throws(LedgerError) -> CheckResult {
        let id = "eval-passed"
        let suiteText = policy.suite.map { " of suite \($0)" } ?? ""
        guard let entry = try latestEvaluation(version.id, suite: policy.suite) else {
            return CheckResult(
                id: id, verdict: .fail,
                reason:
                    "no evaluation\(suiteText) recorded for \(version.shortName) (evaluations of other versions do not count; `purser eval record`)"
            )
        }
        let body = try entry.body
        let evidence = [EvidenceReference(entry)]
        let observed = body["observed_at"]?.stringValue ?? entry.at
        let suite = body["suite"]?.stringValue ?? ""
        if let date = Timestamp.parse(observed), now.timeIntervalSince(date) > policy.maxAge {
            return CheckResult(
                id: id, verdict: .fail,
                reason:
                    "the latest evaluation (seq \(entry.seq), suite \(suite)) ran at \(observed), older than the limit of \(PolicyDuration.describe(policy.maxAge)); evaluate this version again",
                evidence: evidence)
        }
        let cases = Checklist.evaluationCases(body)
        let (overall, perCase) = Checks.rates(cases)
        var problems: [String] = []
        if overall < policy.minPassRate {
            problems.append(
                "overall pass rate \(Figure.percent(overall)) is below \(Figure.percent(policy.minPassRate))")
        }
        let failing = cases.filter { (perCase[$0.name] ?? 0) < policy.minCasePassRate }
        if !failing.isEmpty {
            let shown = failing.prefix(5).map { "\($0.name) \($0.passed)/\($0.runs)" }.joined(separator: ", ")
            problems.append(
                "\(failing.count) case(s) below the per-case pass rate of \(Figure.percent(policy.minCasePassRate)): \(shown)\(failing.count > 5 ? ", …" : "")"
            )
        }
        var allEvidence = evidence
        if let serving = try servingVersion(env), serving != version.id,
            let baseline = try latestEvaluation(serving, suite: suite)
        {
            allEvidence.append(EvidenceReference(baseline))
            let names = Set(cases.map(\.name))
            let missing = Checklist.evaluationCases(try baseline.body).map(\.name).filter { !names.contains($0) }
            if !missing.isEmpty {
                problems.append(
                    "\(missing.count) case(s) of the baseline's suite (seq \(baseline.seq)) were not run: \(missing.prefix(5).joined(separator: ", "))\(missing.count > 5 ? ", …" : "")"
                )
            }
        }
        guard problems.isEmpty else {
            return CheckResult(id: id, verdict: .fail, reason: problems.joined(separator: "; "), evidence: allEvidence)
        }
        return CheckResult(
            id: id, verdict: .pass,
            reason:
                "suite \(suite) (seq \(entry.seq)): \(Figure.percent(overall)) of \(cases.reduce(0) { $0 + $1.runs }) runs passed; every one of \(cases.count) cases at or above \(Figure.percent(policy.minCasePassRate))",
            evidence: allEvidence)
    }

    private static func evaluationCases(_ body: JSONValue) -> [(name: String, runs: Int, passed: Int)] {
        guard case .array(let items) = body["cases"] ?? .null else { return [] }
        return items.compactMap { item in
            guard let name = item["name"]?.stringValue, let runs = item["runs"]?.numberValue,
                let passed = item["passed"]?.numberValue
            else { return nil }
            return (name, Int(runs), Int(passed))
        }
    }

    private func canaryConfigured(_ policy: ChecklistPolicy) -> CheckResult {
        let id = "canary-configured"
        let path = policy.resolve(policy.canaryConfig)
        guard let file = policy.files[policy.canaryConfig] else {
            return CheckResult(id: id, verdict: .fail, reason: "\(path) not found")
        }
        let config: CanaryConfig
        do {
            config = try CanaryConfig(bytes: file.bytes, source: path)
        } catch {
            return CheckResult(id: id, verdict: .error, reason: error.message)
        }
        let evidence = [EvidenceReference(source: "file:\(policy.canaryConfig)", digest: Hash.sha256(file.bytes))]
        let problems = config.problems()
        guard problems.isEmpty else {
            return CheckResult(id: id, verdict: .fail, reason: problems.joined(separator: "; "), evidence: evidence)
        }
        return CheckResult(
            id: id, verdict: .pass,
            reason:
                "steps \(config.steps.map(String.init).joined(separator: ", "))%; \(config.metrics.count) metrics; automatic rollback on",
            evidence: evidence)
    }

    /// Turns failures into `waived` where an unexpired waiver for that check and version exists.
    private func applyWaivers(to checks: inout [CheckResult], version: String, now: Date) throws(LedgerError) {
        try ledger.readTables { (tables: any ChecklistTables) in
            let active = try tables.activeWaivers(version: version, now: Timestamp.format(now))
            for index in checks.indices where checks[index].verdict == .fail {
                guard let seq = active[checks[index].id], let entry = try ledger.entry(UInt64(seq)) else { continue }
                let source = try SourceEntry(seq, kinds: ["waiver.granted"], row: "waivers row \(seq)", ledger: ledger)
                try source.require("version", version, equals: source.body["version"]?.stringValue)
                try source.require("check", checks[index].id, equals: source.body["check"]?.stringValue)
                let expires = source.body["expires"]?.stringValue ?? ""
                guard expires > Timestamp.format(now) else {
                    throw SourceEntry.fault(row: "waivers row \(seq)", seq: seq, "expired at \(expires)")
                }
                let body = source.body
                checks[index].verdict = .waived
                checks[index].reason =
                    "waived by \(body["approver"]?.stringValue ?? "?") until \(body["expires"]?.stringValue ?? "?") (seq \(seq)): \(body["reason"]?.stringValue ?? ""); the failure: \(checks[index].reason)"
                checks[index].evidence.append(EvidenceReference(entry))
            }
        }
    }

    // MARK: The gate

    /// Checks the `checklist_runs` row `run` against its entry (version, environment, verdict, time and validity),
    /// and that no later checklist run of this version and environment is missing from the table.
    /// - Throws: `.integrity` when the row or the table disagrees with the entries.
    private func checkRun(_ run: ChecklistRunRow) throws {
        let (seq, version, env) = (run.seq, run.version, run.env)
        let kind = "checklist.evaluated"
        let source = try SourceEntry(seq, kinds: [kind], row: "checklist_runs row \(seq)", ledger: ledger)
        let body = source.body
        try source.require("version", version, equals: body["version"]?.stringValue)
        try source.require("env", env, equals: body["env"]?.stringValue)
        try source.require("allowed", "\(run.allowed)", equals: body["allowed"].map { "\($0 == .bool(true))" })
        try source.require("at", run.at, equals: source.at)
        let validFor = body["policy"]?["max_age_s"]?.numberValue
        try source.require(
            "valid_until", run.validUntil,
            equals: validFor.flatMap { Timestamp.parse(source.at)?.addingTimeInterval($0) }.map(Timestamp.format))
        // A later run of this pair whose row was deleted or moved to another pair would have decided instead.
        try SourceEntry.requireNoLater(
            kind, after: seq, row: "checklist_runs row \(seq)",
            what: "a checklist run of \(version.prefix(12)) in \(env)", ledger: ledger
        ) { $0["version"]?.stringValue == version && $0["env"]?.stringValue == env }
    }

    /// Refuses a deployment that no allowing checklist run covers: the latest run for this version and
    /// environment must be allowed and younger than its policy's `max-age`. The row decided on is checked against
    /// its entry first (`.integrity` if they differ).
    /// - Parameter tables: the query tables of the transaction that records the deployment.
    func checkGate(version: String, env: EnvironmentName, now: Date, tables: any ChecklistTables) throws {
        let short = String(version.prefix(12))
        let hint: LedgerError.Message =
            "run `purser check --version \(short) --env \(env) --policy checklist.yaml` (or your policy's path), or deploy with break-glass, saying why and who approved (\(parameter: "breakGlassReason"), \(parameter: "breakGlassApprover"))"
        guard let run = try tables.latestChecklistRun(version: version, env: env.name) else {
            throw LedgerError(.blocked, naming: "no checklist run allows \(short) in \(env); \(hint)")
        }
        try checkRun(run)
        guard run.allowed else {
            throw LedgerError(
                .blocked,
                naming: "the latest checklist run for \(short) in \(env) (seq \(run.seq)) blocked the release; \(hint)")
        }
        guard run.validUntil > Timestamp.format(now) else {
            throw LedgerError(
                .blocked,
                naming:
                    "the allowing checklist run for \(short) in \(env) (seq \(run.seq), \(run.at)) expired at \(run.validUntil); \(hint)"
            )
        }
    }
}

extension Result where Success == CheckResult, Failure == LedgerError {
    /// The check's result, or an `error` verdict with the reason the evidence could not be gathered.
    fileprivate func recover(_ id: String) -> CheckResult {
        switch self {
        case .success(let result): result
        case .failure(let error): CheckResult(id: id, verdict: .error, reason: error.message)
        }
    }
}
