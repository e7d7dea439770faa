public import PurserLedger

extension Fault.Kind {
    /// A query table disagrees with the entries (`purser reindex` rebuilds them).
    public static let projection = Fault.Kind(name: "projection")
    /// The stored content an entry refers to is missing or no longer hashes to its digest.
    public static let artifact = Fault.Kind(name: "artifact")
}

extension Releases {
    /// Checks what the release domain keeps beside the entries, once the chain itself verified: the
    /// query tables against a rebuild from the entries, and every artifact an entry refers to (version
    /// components, drill evidence) against its digest. Reads only.
    /// - Returns: the first fault, at the seq of the entry whose derived data is wrong, or nil.
    public static func verifyDerived(_ ledger: Ledger) throws(LedgerError) -> Fault? {
        try ledger.read { connection in
            let rebuilt = Projection(connection, schema: "temp")
            try rebuilt.drop()
            try rebuilt.create()
            defer { try? rebuilt.drop() }
            do {
                try rebuilt.catchUp(ledger)
            } catch let error as LedgerError {
                guard let seq = rebuilt.failedSeq else { throw error }
                return Fault(seq: seq, kind: .projection, detail: "the entry cannot be replayed: \(error.message)")
            }
            if let fault = try compareProjections(connection) { return fault }
            return try checkVersions(ledger)
        }
    }

    private static func compareProjections(_ connection: Connection) throws -> Fault? {
        let stored = try Projection(connection).progress()
        for table in Projection.tables {
            let exists = try connection.scalarInt(
                "SELECT count(*) FROM main.sqlite_master WHERE type = 'table' AND name = '\(table)'")
            if stored != nil && exists != 1 {
                return Fault(
                    seq: 0, kind: .projection, detail: "query table \(table) is missing; run `purser reindex`")
            }
            let main = stored == nil ? "SELECT * FROM temp.\(table) WHERE 0" : "SELECT * FROM main.\(table)"
            let select = try connection.prepare(
                """
                SELECT min(seq), count(*) FROM (
                    SELECT seq FROM (\(main) EXCEPT SELECT * FROM temp.\(table))
                    UNION ALL SELECT seq FROM (SELECT * FROM temp.\(table) EXCEPT \(main)))
                """)
            guard try select.step(), select.int64(1) > 0 else { continue }
            let seq = select.int64(0)
            return Fault(
                seq: UInt64(max(seq, 0)), kind: .projection,
                detail: stored == nil
                    ? "the query tables are missing; run `purser reindex`"
                    : "\(select.int64(1)) row(s) of query table \(table) disagree with the entries, from the entry at seq \(seq); run `purser reindex`"
            )
        }
        return nil
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
/// checklist policies, metrics files, canary configurations, shadow pairs), gathered entry by entry from
/// bodies already parsed, then checked against the stored bytes.
struct ArtifactReferences {
    static let kinds: Set<String> = [
        "version.recorded", "rollback.drilled", "evaluation.recorded", "checklist.evaluated", "metrics.summarized",
        "canary.judged", "shadow.compared",
    ]
    /// Where each kind other than `version.recorded` names its file's digest, and what to call it.
    private static let stored: [String: (path: [String], what: String)] = [
        "rollback.drilled": (["evidence", "digest"], "the evidence of rollback drill"),
        "evaluation.recorded": (["results", "digest"], "the results file of evaluation"),
        "checklist.evaluated": (["policy", "digest"], "the policy of checklist run"),
        "metrics.summarized": (["digest"], "the metrics file of ingestion"),
        "canary.judged": (["config", "digest"], "the configuration of canary judgement"),
        "shadow.compared": (["pairs", "digest"], "the pairs file of shadow comparison"),
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
        } else if let (path, what) = Self.stored[entry.kind] {
            var value: JSONValue? = body
            for key in path { value = value?[key] }
            if let hex = value?.stringValue, let digest = Hash(hex: hex) {
                references.append((entry.seq, "\(what) \(entry.seq)", digest))
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
