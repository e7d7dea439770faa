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
            try rebuilt.catchUp(ledger)
            if let fault = try compareProjections(connection) { return fault }
            return try checkArtifacts(connection, ledger: ledger)
        }
    }

    private static func compareProjections(_ connection: Connection) throws -> Fault? {
        let stored = try Projection(connection).progress()
        for table in Projection.tables {
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

    private static func checkArtifacts(_ connection: Connection, ledger: Ledger) throws -> Fault? {
        var references: [(seq: UInt64, what: String, digest: Hash)] = []
        let versions = try connection.prepare("SELECT seq, id, components FROM temp.versions ORDER BY seq")
        while try versions.step() {
            guard case .array(let components) = try JSONValue(parsing: versions.bytes(2)) else { continue }
            for component in components.compactMap(Component.init(json:)) {
                references.append(
                    (
                        UInt64(versions.int64(0)),
                        "component \(component.name) of version \(versions.string(1).prefix(12))",
                        component.digest
                    ))
            }
        }
        try ledger.forEachEntry(kind: "rollback.drilled") { entry in
            if let hex = try entry.body["evidence"]?["digest"]?.stringValue, let digest = Hash(hex: hex) {
                references.append((entry.seq, "the evidence of rollback drill \(entry.seq)", digest))
            }
        }
        for reference in references.sorted(by: { $0.seq < $1.seq }) {
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
