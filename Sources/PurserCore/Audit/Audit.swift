public import Foundation
public import PurserLedger

/// What an audit covers and what it is checked against.
public struct AuditScope: Sendable {
    /// The window, in the ledger's timestamp form: `from` inclusive, `to` exclusive. Traffic changes are
    /// placed by their effective time, other entries by `at`.
    public var from: String?
    public var to: String?
    /// Environments to report on; empty means all.
    public var envs: [String]
    /// Checkpoints the auditor holds: with them the verification is "trusted", not "self-consistent".
    public var checkpoints: [Ledger.HeldCheckpoint]
    /// Which model ids count as pinned (the built-in table unless the caller has its own).
    public var pins: ModelPins
    /// Signs a checkpoint of the verified tree, so the report can be checked against the ledger later.
    public var signingKey: SigningKey?
    /// A traffic change recorded more than this long after it took effect is reported as backdated.
    public var backdateTolerance: TimeInterval

    public init(
        from: String? = nil, to: String? = nil, envs: [String] = [], checkpoints: [Ledger.HeldCheckpoint] = [],
        pins: ModelPins = .builtIn, signingKey: SigningKey? = nil, backdateTolerance: TimeInterval = 3_600
    ) {
        self.from = from
        self.to = to
        self.envs = envs
        self.checkpoints = checkpoints
        self.pins = pins
        self.signingKey = signingKey
        self.backdateTolerance = backdateTolerance
    }
}

/// A compliance report of a window of the ledger (`purser audit`).
public struct AuditReport: Sendable {
    /// The report as data, in the documented schema `purser-audit/1` (ledger/README.md §16). Templates
    /// render this same document.
    public let document: JSONValue
    /// What ran when, per environment, for the timeline picture.
    public let timelines: [Timeline]
    /// The verification the report was made after; not `ok` means the ledger was tampered with.
    public let verification: VerificationReport
}

/// The kinds of findings, listed first in a report. Names are stable: the JSON carries them.
public enum FindingKind: String, Sendable, CaseIterable {
    case integrity
    case uncheckedDeployment = "unchecked-deployment"
    case breakGlass = "break-glass"
    case expiredWaiver = "expired-waiver"
    case floatingModel = "floating-model"
    case undrilledRollback = "undrilled-rollback"
    case backdated
}

/// Compliance reports (`purser audit`): the ledger verified, then read once for everything in a scope. Reads the
/// entries and the files they name, never the query tables.
public struct Audit {
    let ledger: Ledger

    init(_ ledger: Ledger) { self.ledger = ledger }

    /// Verifies the ledger and reports everything in `scope`: every deployment with the version it
    /// shipped, the checklist run that allowed it, waivers, overrides, canary judgements and drills;
    /// rollbacks; findings; and what ran when. Reads only; a tampered ledger still gets a report, whose
    /// `verification` says so. The report is made at `ledger.clock()`.
    public func report(_ scope: AuditScope) throws(LedgerError) -> AuditReport {
        let now = ledger.clock()
        var verification = try Ledger.verify(at: ledger.path, checkpoints: scope.checkpoints)
        var collector = AuditCollector(scope: scope, now: Timestamp.format(now))
        var artifacts = ArtifactReferences()
        // Bodies are parsed on a queue of their own while the next entries are read and the previous ones
        // collected; a few batches are in flight at most.
        let parser = DispatchQueue(label: "purser.audit.parse")
        var inFlight: [ParsedBatch] = []
        func collect(_ batch: ParsedBatch) throws {
            for (entry, body) in zip(batch.entries, batch.bodies()) {
                // An entry that does not parse is an integrity fault, which verification has reported.
                guard let body else {
                    if verification.ok { throw LedgerError(.integrity, "entry \(entry.seq) has no readable body") }
                    continue
                }
                artifacts.add(entry, body)
                if entry.kind == "canary.judged", let digest = body["config"]?["digest"]?.stringValue,
                    collector.directions[digest] == nil
                {
                    collector.directions[digest] = try directions(ofConfig: digest)
                }
                try collector.read(entry, body)
            }
        }
        var batch: [Entry] = []
        do {
            try ledger.forEachEntry(kinds: AuditCollector.kinds.union(ArtifactReferences.kinds)) { entry in
                batch.append(entry)
                guard batch.count == 1_024 else { return }
                inFlight.append(ParsedBatch(batch, on: parser))
                batch.removeAll(keepingCapacity: true)
                if inFlight.count > 2 { try collect(inFlight.removeFirst()) }
            }
            inFlight.append(ParsedBatch(batch, on: parser))
            for parsed in inFlight { try collect(parsed) }
        } catch let error as LedgerError {
            throw error
        } catch {
            throw LedgerError(.internal, "cannot read the ledger: \(error)")
        }
        // The report rests on the entries and the files they name, so the query tables are not compared
        // (`purser verify` does); the files are.
        if verification.ok, let fault = try artifacts.check(ledger) {
            verification = verification.with(fault: fault)
        }
        if verification.chainIntact {
            // As `purser verify` does: a dropped append-only trigger, an entry dated after this clock.
            var faults = try ledger.schemaFaults()
            if let late = try ledger.clockFault(now: now) { faults.append(late) }
            verification = verification.with(faults: faults)
        }
        if let fault = verification.fault {
            collector.findings.insert(
                Finding(
                    kind: .integrity, seq: fault.seq, at: nil, env: nil, version: nil,
                    detail: "\(fault.kind): \(fault.detail)"), at: 0)
        }
        var checkpoint: String?
        if let key = scope.signingKey, verification.size > 0 {
            checkpoint = try ledger.sign(ledger.checkpoint(size: verification.size), with: key)
        }
        let timelines = collector.timelines()
        let document = collector.document(
            ledger: ledger, verification: verification, checkpoint: checkpoint, timelines: timelines)
        return AuditReport(document: document, timelines: timelines, verification: verification)
    }

    /// The `bad` direction of each metric of the canary configuration stored under `digest`, in its order; empty
    /// when it is not stored (verification reports that) or no longer reads as a configuration.
    private func directions(ofConfig digest: String) throws(LedgerError) -> [String] {
        guard let hash = Hash(hex: digest), let bytes = try ledger.artifact(hash),
            let config = try? CanaryConfig(bytes: bytes, source: "canary configuration \(digest.prefix(12))")
        else { return [] }
        return config.metrics.map(\.bad.rawValue)
    }
}

/// A batch of entries whose bodies are being parsed on a queue of their own.
private final class ParsedBatch: @unchecked Sendable {
    let entries: [Entry]
    /// Written once, on the parsing queue, before `parsed` is signalled.
    private var parsedBodies: [JSONValue?] = []
    private let parsed = DispatchSemaphore(value: 0)

    init(_ entries: [Entry], on queue: DispatchQueue) {
        self.entries = entries
        queue.async {
            self.parsedBodies = Self.parse(entries)
            self.parsed.signal()
        }
    }

    /// The bodies of `entries`, in order, once parsed; nil for a body that does not parse. Call it once.
    func bodies() -> [JSONValue?] {
        parsed.wait()
        return parsedBodies
    }

    /// The bodies of `entries`, parsed on every core (a year of checklist runs is tens of megabytes of JSON).
    private static func parse(_ entries: [Entry]) -> [JSONValue?] {
        var values = [JSONValue?](repeating: nil, count: entries.count)
        let parts = max(1, min(ProcessInfo.processInfo.activeProcessorCount, entries.count / 256))
        let size = (entries.count + parts - 1) / parts
        values.withUnsafeMutableBufferPointer { buffer in
            nonisolated(unsafe) let buffer = buffer  // each part writes its own indices only
            DispatchQueue.concurrentPerform(iterations: parts) { part in
                for index in (part * size)..<min(entries.count, (part + 1) * size) {
                    buffer[index] = try? entries[index].body
                }
            }
        }
        return values
    }
}

/// One finding: what, where in the ledger, and a sentence a person can act on.
struct Finding {
    let kind: FindingKind
    let seq: UInt64
    let at: String?
    let env: String?
    let version: String?
    let detail: String
}

/// Reads the entries once, in `seq` order, keeping what later entries are judged against (the latest
/// checklist run per version and environment, waivers, drills, each environment's traffic).
struct AuditCollector {
    static let lifecycle: Set<String> = [
        "deployment.started", "traffic.shifted", "deployment.promoted", "deployment.drained", "deployment.aborted",
        "rollback.performed",
    ]
    static let kinds: Set<String> = lifecycle.union([
        "version.recorded", "checklist.evaluated", "waiver.granted", "rollback.drilled", "canary.judged",
    ])

    struct Version {
        let seq: UInt64
        let at: String
        let agent: String
        var labels: [String]
        let components: [JSONValue]
    }

    struct Run {
        let seq: UInt64
        let at: String
        let body: JSONValue
        let validUntil: String
    }

    struct Drill {
        let seq: UInt64
        let at: String
        let body: JSONValue
        var passed: Bool { body["result"]?.stringValue == "passed" }
    }

    struct Deployment {
        let seq: UInt64
        let at: String
        let effectiveAt: String
        let env: String
        let version: String
        let body: JSONValue
        var gate: String
        let run: Run?
        var waivers: [JSONValue] = []
        var events: [JSONValue] = []
        var judgements: [JSONValue] = []
        var drills: [JSONValue] = []
    }

    /// Traffic changes of one environment recorded in one transaction, each long after it took effect.
    struct BackdatedRun {
        let env: String
        let at: String
        let kind: String
        let firstSeq: UInt64
        var lastSeq: UInt64
        var count: Int
        var earliest: String
        var latest: String
        var maxLag: TimeInterval

        mutating func add(seq: UInt64, effectiveAt: String, lag: TimeInterval) {
            lastSeq = seq
            count += 1
            earliest = min(earliest, effectiveAt)
            latest = max(latest, effectiveAt)
            maxLag = max(maxLag, lag)
        }

        var finding: Finding {
            let detail =
                count == 1
                ? "\(kind) recorded at \(at) took effect at \(earliest), \(AuditCollector.duration(maxLag)) earlier"
                : "\(count) traffic changes in \(env) recorded at \(at) (seq \(firstSeq)–\(lastSeq)) took effect from \(earliest) to \(latest), up to \(AuditCollector.duration(maxLag)) earlier"
            return Finding(kind: .backdated, seq: firstSeq, at: at, env: env, version: nil, detail: detail)
        }
    }

    let scope: AuditScope
    let now: String
    var versions: [String: Version] = [:]
    var latestRun: [String: Run] = [:]
    var waivers: [UInt64: (at: String, body: JSONValue)] = [:]
    /// Drills so far, by the version they rolled back from, oldest first.
    var drills: [String: [Drill]] = [:]
    var states: [String: TrafficState] = [:]
    /// Per environment in scope: (effective time, seq, state after) for each change, for the timeline.
    var points: [String: [(effectiveAt: String, seq: UInt64, state: TrafficState)]] = [:]
    var markers: [String: [JSONValue]] = [:]
    var deployments: [Deployment] = []
    /// The latest deployment of each environment in scope, while it is in the window.
    var current: [String: Int] = [:]
    var rollbacks: [JSONValue] = []
    var findings: [Finding] = []
    var backdated: [BackdatedRun] = []
    var backdatedIndex: [String: Int] = [:]
    var judgementCount = 0
    /// The `bad` direction of each metric of each canary configuration, by its digest (hex).
    var directions: [String: [String]] = [:]

    init(scope: AuditScope, now: String) {
        self.scope = scope
        self.now = now
    }

    func inScope(env: String) -> Bool { scope.envs.isEmpty || scope.envs.contains(env) }

    func inWindow(_ time: String) -> Bool {
        (scope.from.map { time >= $0 } ?? true) && (scope.to.map { time < $0 } ?? true)
    }

    mutating func read(_ entry: Entry, _ body: JSONValue) throws {
        switch entry.kind {
        case "version.recorded":
            guard let id = body["id"]?.stringValue else { return }
            let label = body["label"]?.stringValue
            if versions[id] == nil {
                versions[id] = Version(
                    seq: entry.seq, at: entry.at, agent: body["agent"]?.stringValue ?? "",
                    labels: label.map { [$0] } ?? [], components: body["components"]?.arrayValue ?? [])
            } else if let label, !versions[id]!.labels.contains(label) {
                versions[id]!.labels.append(label)
            }
        case "checklist.evaluated":
            guard let version = body["version"]?.stringValue, let env = body["env"]?.stringValue else { return }
            let maxAge = body["policy"]?["max_age_s"]?.numberValue ?? 0
            let validUntil = Timestamp.parse(entry.at).map { Timestamp.format($0.addingTimeInterval(maxAge)) } ?? ""
            latestRun[version + "\u{0}" + env] = Run(seq: entry.seq, at: entry.at, body: body, validUntil: validUntil)
        case "waiver.granted":
            waivers[entry.seq] = (entry.at, body)
        case "rollback.drilled":
            drills[body["from"]?.stringValue ?? "", default: []].append(Drill(seq: entry.seq, at: entry.at, body: body))
        case "canary.judged":
            guard let env = body["env"]?.stringValue, inScope(env: env), inWindow(entry.at) else { return }
            judgementCount += 1
            let judgement = Self.object([
                "seq": .number(Double(entry.seq)), "at": .string(entry.at), "verdict": body["verdict"],
                "score": body["score"], "baseline": body["baseline"], "canary": body["canary"],
                "look": body["look"], "alpha": body["alpha"], "config": body["config"],
                "metrics": judgedMetrics(body),
            ])
            if let index = current[env], deployments[index].version == body["canary"]?.stringValue {
                deployments[index].judgements.append(judgement)
            }
            markers[env, default: []].append(
                Self.object([
                    "seq": .number(Double(entry.seq)), "at": .string(entry.at), "kind": .string("canary.judged"),
                    "verdict": body["verdict"],
                ]))
        case _ where Self.lifecycle.contains(entry.kind):
            try readLifecycle(entry, body)
        default:
            break
        }
    }

    /// A judgement's metrics, each with `bad` from its configuration (null when that is not at hand), so that a
    /// report can say which way the allowed change goes.
    private func judgedMetrics(_ body: JSONValue) -> JSONValue? {
        guard let metrics = body["metrics"]?.arrayValue else { return body["metrics"] }
        let directions = body["config"]?["digest"]?.stringValue.flatMap { self.directions[$0] } ?? []
        return .array(
            metrics.enumerated().map { index, metric in
                guard case .object(var members) = metric else { return metric }
                members["bad"] = directions.count == metrics.count ? .string(directions[index]) : .null
                return .object(members)
            })
    }

    private mutating func readLifecycle(_ entry: Entry, _ body: JSONValue) throws {
        guard let change = try TrafficChange(kind: entry.kind, body: body, seq: entry.seq),
            let env = body["env"]?.stringValue
        else { return }
        let effectiveAt = body["effective_at"]?.stringValue ?? entry.at
        var state = states[env] ?? TrafficState()
        // A change that cannot be replayed is an integrity fault, which verification reports.
        guard (try? state.apply(change)) != nil else { return }
        states[env] = state
        guard inScope(env: env) else { return }
        points[env, default: []].append((effectiveAt, entry.seq, state))
        guard inWindow(effectiveAt) else {
            if entry.kind == "deployment.started" { current[env] = nil }
            return
        }
        if let recorded = Timestamp.parse(entry.at), let effective = Timestamp.parse(effectiveAt),
            recorded.timeIntervalSince(effective) > scope.backdateTolerance
        {
            // Changes recorded together (an import of history) are one finding.
            let lag = recorded.timeIntervalSince(effective)
            if let index = backdatedIndex[env + "\u{0}" + entry.at] {
                backdated[index].add(seq: entry.seq, effectiveAt: effectiveAt, lag: lag)
            } else {
                backdatedIndex[env + "\u{0}" + entry.at] = backdated.count
                backdated.append(
                    BackdatedRun(
                        env: env, at: entry.at, kind: entry.kind, firstSeq: entry.seq, lastSeq: entry.seq, count: 1,
                        earliest: effectiveAt, latest: effectiveAt, maxLag: lag))
            }
        }
        let event = Self.object([
            "seq": .number(Double(entry.seq)), "at": .string(entry.at), "effective_at": .string(effectiveAt),
            "kind": .string(entry.kind), "summary": .string(summary(of: entry.kind, body)),
        ])
        if case .start(let version, let strategy, _) = change {
            startDeployment(entry, body, env: env, version: version, strategy: strategy, effectiveAt: effectiveAt)
        } else if let index = current[env] {
            deployments[index].events.append(event)
        }
        if case .rollback(let to) = change {
            rolledBack(entry, body, env: env, to: to, effectiveAt: effectiveAt)
        }
    }

    private mutating func startDeployment(
        _ entry: Entry, _ body: JSONValue, env: String, version: String, strategy: Strategy, effectiveAt: String
    ) {
        let run = latestRun[version + "\u{0}" + env]
        let name = self.name(version)
        var deployment = Deployment(
            seq: entry.seq, at: entry.at, effectiveAt: effectiveAt, env: env, version: version, body: body,
            gate: "not-gated", run: run)
        if let glass = body["break_glass"] {
            deployment.gate = "break-glass"
            findings.append(
                Finding(
                    kind: .breakGlass, seq: entry.seq, at: entry.at, env: env, version: version,
                    detail:
                        "\(name) deployed to \(env) without the checklist, approved by \(glass["approver"]?.stringValue ?? "?"): \(glass["reason"]?.stringValue ?? "")"
                ))
        } else if strategy != .shadow {
            if let run, run.body["allowed"] == .bool(true), run.validUntil > entry.at {
                deployment.gate = "covered"
            } else {
                deployment.gate = "not-covered"
                let why =
                    run.map {
                        $0.body["allowed"] == .bool(true)
                            ? "its latest checklist run (seq \($0.seq)) expired at \($0.validUntil)"
                            : "its latest checklist run (seq \($0.seq)) was blocked"
                    } ?? "no checklist run for it in \(env)"
                findings.append(
                    Finding(
                        kind: .uncheckedDeployment, seq: entry.seq, at: entry.at, env: env, version: version,
                        detail:
                            "\(name) deployed to \(env) (\(strategy.rawValue)) without an allowing checklist run: \(why)"
                    ))
            }
        }
        // The waivers the allowing run relied on, and whether each had expired when the deployment started.
        for check in run?.body["checks"]?.arrayValue ?? [] where check["verdict"]?.stringValue == "waived" {
            for reference in check["evidence"]?.arrayValue ?? [] {
                guard let source = reference["source"]?.stringValue, source.hasSuffix(" (waiver.granted)"),
                    let seq = UInt64(source.dropFirst("ledger:seq ".count).prefix { $0.isNumber }),
                    let waiver = waivers[seq]
                else { continue }
                let expires = waiver.body["expires"]?.stringValue ?? ""
                let expired = expires <= entry.at
                deployment.waivers.append(
                    Self.object([
                        "seq": .number(Double(seq)), "check": waiver.body["check"],
                        "approver": waiver.body["approver"], "reason": waiver.body["reason"],
                        "expires": .string(expires), "expired": .bool(expired),
                    ]))
                if expired && deployment.gate == "covered" {
                    findings.append(
                        Finding(
                            kind: .expiredWaiver, seq: entry.seq, at: entry.at, env: env, version: version,
                            detail:
                                "\(name) deployed to \(env) on a checklist run (seq \(run!.seq)) that waived \(check["id"]?.stringValue ?? "a check") until \(expires), before the deployment"
                        ))
                }
            }
        }
        deployment.drills = (drills[version] ?? []).map { drill in
            Self.object([
                "seq": .number(Double(drill.seq)), "at": .string(drill.at), "env": drill.body["env"],
                "to": drill.body["to"], "to_name": .string(self.name(drill.body["to"]?.stringValue ?? "")),
                "result": drill.body["result"], "duration_s": drill.body["duration_s"],
            ])
        }
        current[env] = deployments.count
        deployments.append(deployment)
    }

    private mutating func rolledBack(_ entry: Entry, _ body: JSONValue, env: String, to: String, effectiveAt: String) {
        let from = (body["from"]?.arrayValue ?? []).compactMap(\.stringValue)
        let drill = from.compactMap { version in
            drills[version]?.last { $0.passed && $0.body["to"]?.stringValue == to }
        }.max { $0.seq < $1.seq }
        if drill == nil {
            findings.append(
                Finding(
                    kind: .undrilledRollback, seq: entry.seq, at: entry.at, env: env, version: to,
                    detail:
                        "rollback in \(env) from \(from.isEmpty ? "nothing" : from.map(name).joined(separator: ", ")) to \(name(to)) with no passed drill of it before"
                ))
        }
        rollbacks.append(
            Self.object([
                "seq": .number(Double(entry.seq)), "at": .string(entry.at), "effective_at": .string(effectiveAt),
                "env": .string(env), "to": .string(to), "to_name": .string(name(to)),
                "from": .array(from.map { .string(name($0)) }), "reason": body["reason"],
                "drill_seq": drill.map { .number(Double($0.seq)) },
            ]))
        markers[env, default: []].append(
            Self.object([
                "seq": .number(Double(entry.seq)), "at": .string(effectiveAt), "kind": .string("rollback.performed"),
                "verdict": nil,
            ]))
    }

    /// A version's first label, else the first 12 hex digits of its id.
    func name(_ id: String) -> String {
        versions[id]?.labels.first ?? String(id.prefix(12))
    }

    private func summary(of kind: String, _ body: JSONValue) -> String {
        let version = body["version"]?.stringValue.map(name) ?? ""
        let weight = body["weight"]?.numberValue.map { String(Int($0)) } ?? "?"
        switch kind {
        case "deployment.started":
            return "\(body["strategy"]?.stringValue ?? "") deployment of \(version) at \(weight)%"
        case "traffic.shifted": return "\(version) shifted to \(weight)%"
        case "deployment.promoted": return "\(version) promoted to all traffic"
        case "deployment.drained": return "\(version) finished draining"
        case "deployment.aborted": return "rollout of \(version) aborted"
        default:
            return "rolled back to \(name(body["to"]?.stringValue ?? "")): \(body["reason"]?.stringValue ?? "")"
        }
    }

    /// "3 h", "2 d": how long, roughly, for a sentence.
    static func duration(_ seconds: TimeInterval) -> String {
        if seconds < 120 { return "\(Int(seconds)) s" }
        if seconds < 7_200 { return "\(Int(seconds / 60)) min" }
        if seconds < 172_800 { return "\(Int(seconds / 3_600)) h" }
        return "\(Int(seconds / 86_400)) d"
    }

    /// An object without the members whose value is nil (as JSON null).
    static func object(_ members: [String: JSONValue?]) -> JSONValue {
        .object(members.mapValues { $0 ?? .null })
    }
}

extension JSONValue {
    var arrayValue: [JSONValue]? {
        if case .array(let values) = self { return values }
        return nil
    }
}
