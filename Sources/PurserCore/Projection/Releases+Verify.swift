public import Foundation
public import PurserLedger

extension Fault.Kind {
    /// A query table disagrees with the entries (`purser reindex` rebuilds them).
    public static let projection = Fault.Kind(name: "projection")
    /// The stored content an entry refers to is missing or no longer hashes to its digest.
    public static let artifact = Fault.Kind(name: "artifact")
    /// An entry cannot be replayed into the query tables (it was written around purser); replay and every
    /// command go on without it.
    public static let replay = Fault.Kind(name: "replay")
    /// A recorded canary judgement is not what its configuration gives on the tasks ingested before it.
    public static let judgement = Fault.Kind(name: "judgement")
}

extension Releases {
    /// Verifies the ledger file at `path` entirely: the chain and the held checkpoints (`Ledger.verify(at:)`),
    /// then, once the chain is intact, what lies beside the entries (`derivedFaults`), the SQL schema
    /// (`Ledger.schemaFaults`) and the entries' dates against `now` (`Ledger.clockFault`). Every fault of the
    /// later checks is reported, not only the first. Reads only.
    /// - Parameters:
    ///   - now: the verifier's clock.
    ///   - progress: called every 100,000 entries of the chain with the number read.
    /// - Throws: `.invalidInput` for a malformed checkpoint or one for another origin; faults are reported.
    public static func verify(
        at path: String, checkpoints held: [Ledger.HeldCheckpoint] = [], now: Date,
        progress: (UInt64) -> Void = { _ in }
    ) throws(LedgerError) -> VerificationReport {
        let report = try Ledger.verify(at: path, checkpoints: held, progress: progress)
        guard report.chainIntact else { return report }
        let ledger: Ledger
        do {
            ledger = try Ledger(openingAt: path)
        } catch  where error.code == .integrity {
            // A rewritten header: already a `schema` fault of the report.
            return report
        }
        var faults = try derivedFaults(ledger)
        faults += try ledger.schemaFaults()
        if let late = try ledger.clockFault(now: now) { faults.append(late) }
        return report.with(faults: faults)
    }

    /// The first of `derivedFaults`, or nil.
    public static func verifyDerived(_ ledger: Ledger) throws(LedgerError) -> Fault? {
        try derivedFaults(ledger).first
    }

    /// Checks what the release domain keeps beside the entries, once the chain itself verified: the query
    /// tables and their progress row against a rebuild from the entries, every artifact an entry refers to
    /// (version components, drill evidence) against its digest, and every canary judgement against a
    /// recomputation. Reads only.
    /// - Returns: a `replay` fault for each entry the rebuild cannot apply (it goes on without it), then the
    ///   first table that differs and a progress row that differs (`projection`), the first `artifact` fault, and a `judgement` fault for each judgement that
    ///   differs; each at the seq of the entry concerned.
    public static func derivedFaults(_ ledger: Ledger) throws(LedgerError) -> [Fault] {
        try ledger.readTables { stored in
            let scratch = stored.scratch()
            try scratch.dropTables()
            try scratch.createTables()
            defer { try? scratch.dropTables() }
            let rebuilt = Projection(ledger, scratch)
            try rebuilt.catchUp(skippingUnreplayable: true)
            var faults = rebuilt.unreplayable.map {
                Fault(
                    seq: $0.seq, kind: .replay,
                    detail:
                        "entry \($0.seq) cannot be replayed, so the query tables leave it out: \($0.reason)"
                )
            }
            if let fault = try compareProjections(stored, scratch) { faults.append(fault) }
            if let fault = try compareProgress(stored, scratch) { faults.append(fault) }
            if let fault = try checkVersions(ledger) { faults.append(fault) }
            faults += try checkJudgements(ledger, scratch)
            return faults
        }
    }

    /// The stored progress row (`projection_meta`) against the rebuild's: its version, and the last entry
    /// applied (an `applied_seq` moved ahead makes every command skip the entries before it).
    private static func compareProgress(_ tables: any QueryTables, _ rebuilt: any QueryTables) throws -> Fault? {
        guard let stored = try tables.progress(), let expected = try rebuilt.progress() else {
            return nil
        }
        if stored.version != Projection.version {
            return Fault(
                seq: 0, kind: .projection,
                detail:
                    "projection_meta says the query tables are of version \(stored.version), not \(Projection.version); run `purser reindex`"
            )
        }
        guard stored.appliedSeq != expected.appliedSeq else { return nil }
        return Fault(
            seq: UInt64(max(min(stored.appliedSeq, expected.appliedSeq) + 1, 0)), kind: .projection,
            detail:
                "projection_meta says the query tables hold the entries up to seq \(stored.appliedSeq), but the last entry they derive from is seq \(expected.appliedSeq); run `purser reindex`"
        )
    }

    /// Recomputes every `canary.judged` entry with the judge `canary judge` uses, from its recorded
    /// configuration and the rebuilt tasks of the ingestions before it. The tasks counted per metric must be
    /// those it records, and its verdict the recomputed one (compared when the entry records the methods this
    /// judge uses: an older purser's statistics may legitimately differ). A judgement that records its look must
    /// record the right one (1 + the judgements of its canary in its environment since the canary's latest
    /// `deployment.started` there), its configuration's plan and that plan's level for the look, and is
    /// recomputed at that level; one recorded before looks were (no `look`) at α = 0.05. A judgement made on an
    /// edited `tasks` table stays in the ledger after `purser reindex`; this finds it.
    private static func checkJudgements(_ ledger: Ledger, _ rebuilt: any QueryTables) throws -> [Fault] {
        var faults: [Fault] = []
        var looks = CanaryLooks()
        try ledger.forEachEntry(kinds: CanaryLooks.kinds) { entry in
            let body = try entry.body
            let look = body["env"]?.stringValue.flatMap { env in
                body["canary"]?.stringValue.map { looks.next(env: env, canary: $0) }
            }
            looks.add(kind: entry.kind, body: body)
            guard entry.kind == "canary.judged" else { return }
            func fault(_ detail: String) {
                faults.append(
                    Fault(seq: entry.seq, kind: .judgement, detail: "canary judgement \(entry.seq): \(detail)"))
            }
            guard let env = body["env"]?.stringValue, let baseline = body["baseline"]?.stringValue,
                let canary = body["canary"]?.stringValue, let since = body["since"]?.stringValue,
                let verdict = body["verdict"]?.stringValue,
                let digest = body["config"]?["digest"]?.stringValue.flatMap({ Hash(hex: $0) }),
                case .array(let recorded) = body["metrics"] ?? .null
            else {
                return fault("the entry lacks env, baseline, canary, since, verdict, config.digest or metrics")
            }
            // A missing or altered configuration is an `artifact` fault already.
            guard let bytes = try ledger.intactArtifact(digest) else { return }
            let config: CanaryConfig
            do {
                config = try CanaryConfig(bytes: bytes, source: "its configuration")
            } catch let error as LedgerError {
                return fault("its recorded configuration no longer reads: \(error.message)")
            }
            var alpha = CanaryJudge.alpha
            func text(_ value: JSONValue?) -> String {
                value.map { String(decoding: CanonicalJSON.encode($0), as: UTF8.self) } ?? "none"
            }
            if let recordedLook = body["look"] {
                guard recordedLook.numberValue == look.map(Double.init) else {
                    return fault(
                        "it records look \(text(recordedLook)), but it is judgement \(look ?? 0) of \(canary.prefix(12)) in \(env) since its latest deployment.started"
                    )
                }
                alpha = config.looks.alpha(look: look ?? 1)
                guard body["plan"]?.stringValue == config.looks.rawValue, body["alpha"]?.numberValue == alpha else {
                    return fault(
                        "it records plan \(text(body["plan"])) and alpha \(text(body["alpha"])), but its configuration's plan \(config.looks.rawValue) gives \(CanaryConfig.format(alpha)) at look \(look ?? 0)"
                    )
                }
            }
            let samples = try CanarySamples.read(
                rebuilt, env: env, versions: [baseline, canary], since: since, before: entry.seq,
                metrics: config.metrics)
            let recomputed = samples.judge(config, alpha: alpha)
            let metrics = recomputed.metrics.map(\.json)
            guard metrics.count == recorded.count else {
                return fault("it records \(recorded.count) metrics; its configuration names \(metrics.count)")
            }
            for (was, now) in zip(recorded, metrics) where was["metric"] != now["metric"] || was["n"] != now["n"] {
                let name = now["metric"]?.stringValue ?? "?"
                return fault(
                    "metric \(name) records tasks \(text(was["n"])), but the tasks ingested before it give \(text(now["n"])): the tasks table was edited when it was judged"
                )
            }
            let sameMethods = zip(recorded, metrics).allSatisfy { $0["method"] == $1["method"] }
            if sameMethods, verdict != recomputed.verdict.rawValue {
                fault(
                    "it records the verdict \(verdict), but its configuration gives \(recomputed.verdict.rawValue) on the tasks ingested before it: the tasks table was edited when it was judged"
                )
            }
        }
        return faults
    }

    /// The first query table that differs from the rebuild.
    private static func compareProjections(_ tables: any QueryTables, _ rebuilt: any QueryTables) throws -> Fault? {
        guard let difference = try tables.firstDifference(from: rebuilt) else { return nil }
        guard difference.exists else {
            return Fault(
                seq: 0, kind: .projection, detail: "query table \(difference.table) is missing; run `purser reindex`")
        }
        return Fault(
            seq: UInt64(max(difference.seq, 0)), kind: .projection,
            detail: try tables.progress() == nil
                ? "the query tables are missing; run `purser reindex`"
                : "\(difference.rows) row(s) of query table \(difference.table) disagree with the entries, from the entry at seq \(difference.seq); run `purser reindex`"
        )
    }

    /// Every `version.recorded` entry's id is the hash of its component digests, and every artifact an
    /// entry names (components, drill evidence) is present and hashes to its digest.
    private static func checkVersions(_ ledger: Ledger) throws -> Fault? {
        var references = ArtifactReferences()
        try ledger.forEachEntry(kinds: ArtifactReferences.kinds) { entry in try references.add(entry, entry.body) }
        return try references.check(ledger)
    }
}

/// The artifacts entries refer to by digest (version components, drill evidence, evaluation results,
/// checklist policies, metrics files, canary configurations of judgements and deployments, shadow pairs), gathered entry by entry from
/// bodies already parsed, then checked against the stored bytes.
struct ArtifactReferences {
    static let kinds: Set<String> = [
        "version.recorded", "rollback.drilled", "evaluation.recorded", "checklist.evaluated", "metrics.summarized",
        "canary.judged", "shadow.compared", "deployment.started",
    ]
    /// Where each kind other than `version.recorded` names its files' digests, and what to call each.
    private static let stored: [String: [(path: [String], what: String)]] = [
        "rollback.drilled": [(["evidence", "digest"], "the evidence of rollback drill")],
        "evaluation.recorded": [(["results", "digest"], "the results file of evaluation")],
        "checklist.evaluated": [(["policy", "digest"], "the policy of checklist run")],
        "metrics.summarized": [
            (["digest"], "the metrics file of ingestion"), (["prices", "digest"], "the price table of ingestion"),
        ],
        "canary.judged": [(["config", "digest"], "the configuration of canary judgement")],
        "shadow.compared": [(["pairs", "digest"], "the pairs file of shadow comparison")],
        "deployment.started": [(["canary_config", "digest"], "the canary configuration of deployment")],
    ]

    private var references: [(seq: UInt64, what: String, digest: Hash)] = []
    /// The first version whose id is not the hash of its components: reported before any stored file.
    private var versionFault: Fault?

    /// Notes what `entry` (whose body is `body`) refers to; entries of other kinds are ignored.
    mutating func add(_ entry: Entry, _ body: JSONValue) {
        if entry.kind == "version.recorded" {
            guard versionFault == nil, let id = body["id"]?.stringValue,
                case .array(let items) = body["components"] ?? .null
            else { return }
            let components = items.compactMap(Component.init(json:))
            let computed = BehavioralVersion.id(digests: components.map { ($0.name, $0.digest) })
            guard components.count == items.count, computed == id else {
                versionFault = Fault(
                    seq: entry.seq, kind: .artifact,
                    detail:
                        "version \(id.prefix(12)) is not the hash of its component digests (they hash to \(computed.prefix(12)))"
                )
                return
            }
            for component in components {
                references.append(
                    (entry.seq, "component \(component.name) of version \(id.prefix(12))", component.digest))
            }
        } else {
            for (path, what) in Self.stored[entry.kind] ?? [] {
                var value: JSONValue? = body
                for key in path { value = value?[key] }
                if let hex = value?.stringValue, let digest = Hash(hex: hex) {
                    references.append((entry.seq, "\(what) \(entry.seq)", digest))
                }
            }
        }
    }

    /// The first fault: a version's id, else the stored file of the lowest seq that is missing or no longer
    /// hashes to its digest.
    func check(_ ledger: Ledger) throws(LedgerError) -> Fault? {
        if let versionFault { return versionFault }
        var checked: Set<Hash> = []
        for reference in references.sorted(by: { $0.seq < $1.seq }) where checked.insert(reference.digest).inserted {
            guard let bytes = try ledger.artifact(reference.digest) else {
                return Fault(
                    seq: reference.seq, kind: .artifact,
                    detail: "the stored content of \(reference.what) (digest \(reference.digest.hex)) is missing")
            }
            if Hash.sha256(bytes) != reference.digest {
                return Fault(
                    seq: reference.seq, kind: .artifact,
                    detail:
                        "the stored content of \(reference.what) no longer hashes to its digest \(reference.digest.hex)"
                )
            }
        }
        return nil
    }
}
