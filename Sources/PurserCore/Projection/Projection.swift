internal import Foundation
internal import PurserLedger

/// The tables derived from the entries, kept in the ledger file and updated in the same transaction as
/// each append: recorded versions and labels, each environment's current traffic, its timeline, and
/// rollback drills. They answer queries fast; the entries remain the truth. `purser reindex` rebuilds
/// them and `purser verify` checks them against a rebuild.
///
/// This is the domain's side of them: which entry writes which rows. The rows themselves are written and read
/// through `QueryTables` (Store/).
final class Projection {
    /// Bumped whenever the tables or what `apply` writes change: an older projection is then rebuilt.
    static let version: Int64 = 5

    /// The entry kinds `apply` derives rows from; entries of other kinds change no table.
    static let kinds: Set<String> = [
        "version.recorded", "rollback.drilled", "evaluation.recorded", "waiver.granted", "checklist.evaluated",
        "deployment.started", "traffic.shifted", "deployment.promoted", "deployment.drained", "deployment.aborted",
        "rollback.performed", "metrics.summarized",
    ]

    /// The ledger whose entries are replayed.
    let ledger: Ledger
    /// Where the rows go.
    let tables: any QueryTables
    /// Thrown inside `catchUp` to read the entries again after one it left out.
    private static let readAgain = LedgerError.Code(name: "read-again")
    /// The `metrics.summarized` entry whose task rows an ingestion in this transaction already inserted
    /// (before appending it, to count the new ones in its body), so that applying it inserts nothing.
    var insertedTasks: UInt64?
    /// The entry `catchUp` was applying when it threw.
    private(set) var failedSeq: UInt64?
    /// The entries `catchUp(skippingUnreplayable: true)` could not apply, with why, in seq order.
    private(set) var unreplayable: [(seq: UInt64, reason: String)] = []
    /// Environment states read or written in this transaction.
    private var states: [String: (state: TrafficState, effectiveAt: String)] = [:]

    init(_ ledger: Ledger, _ tables: any QueryTables) {
        self.ledger = ledger
        self.tables = tables
    }

    /// Applies every entry after the last one applied.
    /// - Parameter skipping: whether an entry that cannot be replayed is left out (its rows undone, its seq and
    ///   the reason added to `unreplayable`) rather than thrown: one such entry, written around purser, must not
    ///   stop every command, nor hide what verification finds after it. Entries a command has just appended are
    ///   applied without it, so that the command fails instead.
    /// - Throws: `.integrity` for an entry that cannot be replayed, when not skipping (its seq is then
    ///   `failedSeq`).
    func catchUp(
        skippingUnreplayable skipping: Bool = false, progress report: (UInt64) -> Void = { _ in }
    ) throws {
        let applied = try tables.progress()?.appliedSeq ?? -1
        var last = applied
        var applying = 0
        var next: UInt64? = UInt64(applied + 1)
        while let from = next {
            next = nil
            do {
                // Only the kinds the tables derive from: on a ledger of many other entries, those are never read.
                try ledger.forEachEntry(from: from, kinds: Projection.kinds) { entry in
                    failedSeq = entry.seq
                    var replayed = true
                    if skipping {
                        replayed = try applyOrLeaveOut(entry)
                    } else {
                        try apply(entry)
                    }
                    failedSeq = nil
                    last = Int64(entry.seq)
                    guard replayed else {
                        // `ROLLBACK TO` aborts the reads open in a transaction that changed a schema (a rebuild
                        // makes its tables in the same one): read on from the next entry afresh.
                        next = entry.seq + 1
                        throw LedgerError(Projection.readAgain, "")
                    }
                    applying += 1
                    if applying % 10_000 == 0 { report(entry.seq) }
                }
            } catch {
                guard error.code == Projection.readAgain else { throw error }
            }
        }
        if last != applied {
            try tables.setAppliedSeq(last)
        }
    }

    /// Applies `entry`; if it cannot be replayed, undoes what it wrote and adds it to `unreplayable`.
    ///
    /// Only an ingestion writes rows before it can fail (its file is inserted a piece at a time), so only it is
    /// applied in a savepoint: every other kind is checked whole before its rows are written. (A savepoint per
    /// entry made rebuilding 100,000 evaluation entries half as slow again.)
    /// - Returns: whether it was applied.
    private func applyOrLeaveOut(_ entry: Entry) throws -> Bool {
        do {
            if entry.kind == "metrics.summarized" {
                try tables.undoingOnError { try apply(entry) }
            } else {
                try apply(entry)
            }
        } catch let error as LedgerError where error.code != .internal {
            unreplayable.append((entry.seq, error.message))
            return false
        }
        return true
    }

    /// Updates the tables for one entry; entries of other kinds change nothing.
    func apply(_ entry: Entry) throws {
        guard Projection.kinds.contains(entry.kind) else { return }
        let body = try entry.body
        switch entry.kind {
        case "version.recorded":
            guard let id = body["id"]?.stringValue, let agent = body["agent"]?.stringValue,
                let components = body["components"]
            else { throw malformed(entry, "id, agent or components") }
            try tables.insertVersion(
                id: id, seq: Int64(entry.seq), at: entry.at, agent: agent, components: CanonicalJSON.encode(components))
            if let label = body["label"]?.stringValue {
                try tables.insertLabel(label, id: id, seq: Int64(entry.seq))
            }
        case "rollback.drilled":
            guard let env = body["env"]?.stringValue, let from = body["from"]?.stringValue,
                let to = body["to"]?.stringValue, let result = body["result"]?.stringValue
            else { throw malformed(entry, "env, from, to or result") }
            try tables.insertDrill(seq: Int64(entry.seq), env: env, from: from, to: to, result: result, at: entry.at)
        case "metrics.summarized":
            try applyMetrics(entry, body)
        case "evaluation.recorded":
            guard let version = body["version"]?.stringValue, let suite = body["suite"]?.stringValue else {
                throw malformed(entry, "version or suite")
            }
            try tables.insertEvaluation(seq: Int64(entry.seq), version: version, suite: suite, at: entry.at)
        case "waiver.granted":
            guard let version = body["version"]?.stringValue, let check = body["check"]?.stringValue,
                let expires = body["expires"]?.stringValue
            else { throw malformed(entry, "version, check or expires") }
            try tables.insertWaiver(seq: Int64(entry.seq), version: version, check: check, expires: expires)
        case "checklist.evaluated":
            guard let version = body["version"]?.stringValue, let env = body["env"]?.stringValue,
                case .bool(let allowed) = body["allowed"] ?? .null,
                let validFor = body["policy"]?["max_age_s"]?.numberValue
            else { throw malformed(entry, "version, env, allowed or policy.max_age_s") }
            guard let at = Timestamp.parse(entry.at) else { throw malformed(entry, "a readable at") }
            try tables.insertChecklistRun(
                seq: Int64(entry.seq), version: version, env: env, allowed: allowed, at: entry.at,
                validUntil: Timestamp.format(at.addingTimeInterval(validFor)))
        default:
            guard let change = try TrafficChange(kind: entry.kind, body: body, seq: entry.seq) else { return }
            guard let env = body["env"]?.stringValue else { throw malformed(entry, "env") }
            let effectiveAt = body["effective_at"]?.stringValue ?? entry.at
            var (state, previous) = try self.state(of: env) ?? (TrafficState(), "")
            guard effectiveAt >= previous else {
                throw LedgerError(
                    .integrity,
                    "entry \(entry.seq) (\(entry.kind)) takes effect at \(effectiveAt), before the previous event in \(env) (\(previous)); run `purser verify`"
                )
            }
            do {
                try state.apply(change)
            } catch {
                throw LedgerError(
                    .integrity, "entry \(entry.seq) (\(entry.kind)) is not a valid change of \(env): \(error.message)")
            }
            let bytes = CanonicalJSON.encode(state.json)
            try tables.insertTrafficEvent(
                seq: Int64(entry.seq), env: env, effectiveAt: effectiveAt, kind: entry.kind, state: bytes)
            states[env] = (state, effectiveAt)
        }
    }

    /// Inserts the task records of an ingestion, from the stored file, with the version ids the entry
    /// resolved; records whose task id is known are skipped.
    private func applyMetrics(_ entry: Entry, _ body: JSONValue) throws {
        guard let digest = body["digest"]?.stringValue.flatMap({ Hash(hex: $0) }),
            let format = body["format"]?.stringValue.flatMap(MetricsFormat.init(rawValue:)),
            case .object(let versions) = body["versions"] ?? .null
        else { throw malformed(entry, "digest, format or versions") }
        guard entry.seq != insertedTasks else { return }
        /// The file the entry names by `hex`, as stored.
        func stored(_ hex: String, _ what: String) throws -> [UInt8] {
            guard let digest = Hash(hex: hex), let bytes = try ledger.intactArtifact(digest) else {
                throw LedgerError(
                    .integrity,
                    "entry \(entry.seq) (metrics.summarized): its stored \(what) is missing or no longer hashes to \(hex)"
                )
            }
            return bytes
        }
        var bytes = try stored(digest.hex, "metrics file")
        switch body["compression"] {
        case nil: break
        case .string("gzip"):
            do {
                bytes = try Gzip.decompress(bytes, limit: MetricsFile.maximumInflated)
            } catch {
                let limit = MetricsFile.maximumInflated
                let what = error.code == .tooLarge ? "inflates to more than \(limit) bytes" : "is not gzip"
                throw LedgerError(
                    .integrity, "entry \(entry.seq) (metrics.summarized): its stored file \(what): \(error.message)")
            }
        default: throw malformed(entry, "a known compression (gzip)")
        }
        let ids = versions.compactMapValues(\.stringValue)
        let prices = try body["prices"]?["digest"]?.stringValue.map {
            try PriceTable(bytes: stored($0, "price table"), source: "the price table of entry \(entry.seq)")
        }
        guard let marker = TaskSpans(rawValue: body["tasks"]?.stringValue ?? TaskSpans.invokeAgent.rawValue) else {
            throw malformed(entry, "tasks (invoke_agent or root)")
        }
        // A batch of the OTLP receiver leaves out the tasks of versions it could not resolve (`unresolved`).
        let received = body["batch"] != nil
        var records = 0
        try MetricsFile.forEachPiece(
            bytes, format: format, source: "entry \(entry.seq)", received: received, prices: prices, tasks: marker
        ) {
            piece in
            let taken = received ? piece.map(\.record).filter { ids[$0.version] != nil } : piece.map(\.record)
            try tables.insertTasks(taken, seq: entry.seq, from: records, versions: ids)
            records += taken.count
        }
    }

    /// The current traffic of `env` and when its last change took effect, or nil if it never had any.
    func state(of env: String) throws -> (state: TrafficState, effectiveAt: String)? {
        if let cached = states[env] { return cached }
        guard let stored = try tables.currentTraffic(env: env).first else { return nil }
        let state = try TrafficState(stored: stored.state, what: "environment \(env)")
        let found = (state, stored.effectiveAt)
        states[env] = found
        return found
    }

    private func malformed(_ entry: Entry, _ fields: String) -> LedgerError {
        LedgerError(.integrity, "entry \(entry.seq) (\(entry.kind)) lacks \(fields); run `purser verify`")
    }
}

extension TrafficState {
    /// Reads a state stored by the projection.
    /// - Throws: `.integrity` naming `what` if the bytes are not a state.
    init(stored bytes: [UInt8], what: String) throws(LedgerError) {
        guard let json = try? JSONValue(parsing: bytes), let state = TrafficState(json: json) else {
            throw LedgerError(.integrity, "the stored traffic of \(what) is unreadable; run `purser reindex`")
        }
        self = state
    }
}
