internal import Foundation
package import PurserLedger

/// Spans the OTLP receiver (`purser serve`'s `POST /v1/traces`) has gathered into one batch: whole traces, none of
/// whose spans arrived within the late-span window, and the inbox requests they came in.
package struct ReceivedBatch: Sendable {
    package var spans: [OTLPSpan] = []
    /// Inbox requests all of whose spans are in this batch or an earlier one.
    package var done: [Int64] = []
    /// Traces of this batch from inbox requests that still hold spans of other traces.
    package var taken: [(request: Int64, trace: String)] = []
    /// When the first and the last of the batch's requests were received.
    package var firstReceived = ""
    package var lastReceived = ""
    /// How many requests the batch's spans came in, and the names of the tokens they came with.
    package var requests = 0
    package var senders: Set<String> = []
    /// Spans received again (an exporter's retry) since the last batch, counted once.
    package var duplicates = 0
    /// Evaluation results received as logs (`/v1/logs`), written as events of the spans they name; and those whose
    /// span is not in the batch, counted and not kept.
    package var evaluations = 0
    package var unattachedEvaluations = 0

    package init() {}
}

/// A batch made ready for its entry (`Metrics.prepare`).
package struct PreparedBatch: Sendable {
    let batch: ReceivedBatch
    /// The batch's file, gzip'd, and its size before.
    let file: [UInt8]
    let inflated: Int
    let tasks: [TaskRecord]
    let unattributed: Int
    let prices: PriceFile?
    let marker: TaskSpans
}

extension Metrics {
    /// What the ledger says the entries summarized of the inbox (`SummarizedRequestTables`) and the inbox does not
    /// know yet: the requests done and the traces taken, through the entry `through`; and the inbox an earlier purser
    /// kept in the ledger file (to move to `Inbox`).
    package func inboxState() throws(LedgerError) -> (
        done: [Int64], taken: [(request: Int64, trace: String)], through: UInt64?, legacy: [InboxPayload]
    ) {
        try ledger.readInbox { summarized, legacyInbox in
            let (done, taken, through) = try summarized.summarizedRequests()
            var legacy: [InboxPayload] = []
            try legacyInbox.forEachInboxPayload { legacy.append($0) }
            return (done, taken, through.map(UInt64.init), legacy)
        }
    }

    /// Once the inbox has followed: forgets what the entries up to `seq` summarized of it, and drops the inbox an
    /// earlier purser kept in the ledger file, moved to `Inbox` by then. Appends no entry.
    package func forgetInbox(through seq: UInt64?) throws(LedgerError) {
        try ledger.write { transaction in
            if let seq { try transaction.summarized.forgetSummarized(through: Int64(seq)) }
            try transaction.legacyInbox.dropInbox()
        }
    }

    /// Makes a batch ready for its entry, away from the ledger's writer: its spans written as one OTLP/JSON file,
    /// gzip'd, and its tasks assembled from them as `purser reindex` will assemble them from that file. (`OTLPJSON.encode`
    /// and `OTLPJSON.spans` give back the same spans, which the `otlp` fuzz target checks; a batch holds no span
    /// twice, so the order the file puts them in changes nothing.) Packed, the file is about a twentieth of the bytes
    /// to hash, write and sync while the writer waits: 3.5 instead of 84 MiB per 100,000 spans, for some 2 µs of CPU
    /// a span here.
    ///
    /// Unlike a file, a batch is never refused for what its senders sent (`OTLPTasks.assemble`'s `lenient`).
    package static func prepare(
        _ batch: ReceivedBatch, prices: PriceFile? = nil, tasks marker: TaskSpans = .invokeAgent
    ) -> PreparedBatch {
        let json = OTLPJSON.encode(batch.spans)
        let file = Gzip.compress(json)
        // Lenient assembly refuses nothing: a task it cannot hold counts among the spans of no task.
        let (tasks, unattributed) =
            (try? OTLPTasks.assemble(batch.spans, lenient: true, prices: prices?.table, tasks: marker))
            ?? ([], batch.spans.count)
        return PreparedBatch(
            batch: batch, file: file, inflated: json.count, tasks: tasks.map(\.record), unattributed: unattributed,
            prices: prices,
            marker: marker)
    }

    /// Summarizes a batch of received spans (`metrics.summarized`): its gzip'd file is stored as an artifact, its
    /// tasks are inserted, and the inbox requests and traces it took are recorded (`SummarizedRequestTables`), all in
    /// one transaction, which also forgets what the entries up to `forgetting` took (the inbox has followed them).
    /// A task whose version is not recorded is counted in `unresolved` (per version named).
    /// - Parameter maximumFile: the largest file recorded: what `reindex` and `verify` inflate a stored one to.
    /// - Throws: `.tooLarge` for a file larger, which they would refuse (nothing is written).
    package func summarize(
        _ prepared: PreparedBatch, forgetting: UInt64? = nil, maximumFile: Int = MetricsFile.maximumInflated
    ) throws(LedgerError) -> IngestOutcome {
        let (batch, file, tasks, unattributed) = (prepared.batch, prepared.file, prepared.tasks, prepared.unattributed)
        guard prepared.inflated <= maximumFile else {
            throw LedgerError(
                .tooLarge,
                "a batch of \(batch.spans.count) spans makes a file of \(prepared.inflated) bytes, more than the \(maximumFile) that reindex and verify read back: it is not recorded, and its spans stay in the inbox"
            )
        }
        let (prices, marker) = (prepared.prices, prepared.marker)
        let versions = Versions(ledger)
        return try ledger.record { transaction, projection in
            let seq = try ledger.size()
            var resolved: [String: String] = [:]
            var unresolved: [String: Int] = [:]
            for record in tasks where resolved[record.version] == nil {
                if let id = try? versions.find(record.version).id { resolved[record.version] = id }
            }
            let attributed = tasks.filter { resolved[$0.version] != nil }
            for record in tasks where resolved[record.version] == nil {
                unresolved[record.version, default: 0] += 1
            }
            let groups = try projection.tables.insertTasks(attributed, seq: seq, from: 0, versions: resolved)
            let perVersion = try projection.tables.countTasks(seq: seq, in: groups)
            projection.insertedTasks = seq
            if let forgetting { try transaction.summarized.forgetSummarized(through: Int64(forgetting)) }
            try transaction.summarized.recordSummarized(seq: Int64(seq), done: batch.done, taken: batch.taken)
            let digest = try transaction.storeArtifact(file)
            let new = perVersion.values.reduce(0, +)
            var body: [String: JSONValue] = [
                "file": .string("otlp-batch.jsonl.gz"), "digest": .string(digest.hex), "format": .string("otlp"),
                "compression": .string("gzip"),
                "records": .number(Double(attributed.count)), "new": .number(Double(new)),
                "versions": .object(resolved.mapValues(JSONValue.string)),
                "unattributed": .number(Double(unattributed)),
                "unresolved": .object(unresolved.mapValues { .number(Double($0)) }),
                "batch": .object([
                    "received_from": .string(batch.firstReceived), "received_until": .string(batch.lastReceived),
                    "requests": .number(Double(batch.requests)), "spans": .number(Double(batch.spans.count)),
                    "duplicates": .number(Double(batch.duplicates)),
                    "evaluations": .number(Double(batch.evaluations)),
                    "unattached_evaluations": .number(Double(batch.unattachedEvaluations)),
                    "senders": .array(batch.senders.sorted().map(JSONValue.string)),
                ]),
            ]
            body["prices"] = try Self.store(prices, in: transaction)
            if marker != .invokeAgent { body["tasks"] = .string(marker.rawValue) }
            return (
                [try Event(kind: "metrics.summarized", body: .object(body))],
                IngestOutcome(
                    seq: seq, records: attributed.count, new: new, versions: perVersion, unattributed: unattributed)
            )
        }.result
    }
}

/// What OpenTelemetry summaries could not turn into tasks (`metrics.summarized`'s `unattributed`, `unresolved` and
/// `batch.unattached_evaluations`), summed over the summaries recorded in a window.
package struct Unaccounted: Sendable, Equatable {
    /// Spans that belong to no task.
    package var spans = 0
    /// Tasks whose version reference resolved to no recorded version, by reference.
    package var unresolved: [String: Int] = [:]
    /// Evaluation results received as logs for spans that never came.
    package var evaluations = 0
    /// How many OTLP summaries were read.
    package var summaries = 0

    package init(spans: Int = 0, unresolved: [String: Int] = [:], evaluations: Int = 0, summaries: Int = 0) {
        self.spans = spans
        self.unresolved = unresolved
        self.evaluations = evaluations
        self.summaries = summaries
    }
}

extension Metrics {
    /// Sums what the OTLP summaries recorded between `since` (inclusive) and `until` (exclusive) left unaccounted.
    package func unaccounted(since: String? = nil, until: String? = nil) throws(LedgerError) -> Unaccounted {
        var sums = Unaccounted()
        try ledger.forEachEntry(
            kind: "metrics.summarized", since: since, until: until, containing: Array(#""unattributed":"#.utf8)
        ) { entry in
            let body = try entry.body
            sums.summaries += 1
            sums.spans += Int(body["unattributed"]?.numberValue ?? 0)
            sums.evaluations += Int(body["batch"]?["unattached_evaluations"]?.numberValue ?? 0)
            if case .object(let references) = body["unresolved"] ?? .null {
                for (reference, count) in references {
                    sums.unresolved[reference, default: 0] += Int(count.numberValue ?? 0)
                }
            }
        }
        return sums
    }
}
