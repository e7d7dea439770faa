import Foundation
import Logging
import Metrics
import PurserCore
import PurserLedger
import PurserOperations
import ServiceLifecycle

/// The OTLP receiver's spans between their request's acknowledgement and their batch's entry.
///
/// A request is kept in the inbox, a file beside the ledger, before it is acknowledged (`keep`), so that nothing
/// acknowledged is lost if the server stops. Its spans wait here, by trace, until no span of their trace has arrived
/// for the late-span window: children may come before or after their parent, in other requests. Every batch
/// interval, the traces whose window has passed are summarized into one `metrics.summarized` entry, whose
/// transaction records which inbox requests and traces it took; the inbox then follows. At start-up, the inbox
/// first follows every entry it had not, and what it still holds waits here again.
final class OTLPReceiver: Service, @unchecked Sendable {
    struct Settings: Sendable {
        /// How long a trace waits for more spans after its last one arrived, in seconds.
        var window = 3.0
        /// How often the traces whose window has passed are summarized, in seconds.
        var interval = 1.0
        /// The most spans waiting at once; a request that would pass it is refused with 429.
        var maximumPending = 500_000
        /// The most spans one entry summarizes: its transaction holds the writer, which requests wait for (at
        /// 50,000 spans/s, 10,000 gave a p99 of 246 ms where 20,000 gave 330 ms, for the same throughput).
        var maximumBatch = 10_000
        /// The prices that give the cost of tasks whose spans carry none (`purser serve --otlp-prices`).
        var prices: PriceFile?
        /// Which spans are tasks (`purser serve --otlp-tasks`).
        var tasks = TaskSpans.invokeAgent
    }

    /// What a request body holds: spans (`/v1/traces`) or evaluation results (`/v1/logs`), and what was refused.
    struct Decoded: Sendable {
        var spans: [OTLPSpan] = []
        var evaluations: [OTLPEvaluation] = []
        var rejected = 0
        var problems: [String] = []
        var isEmpty: Bool { spans.isEmpty && evaluations.isEmpty }
        var count: Int { spans.count + evaluations.count }
    }

    /// A trace's spans, and evaluations of them, waiting for their window to pass.
    private struct Trace {
        var spans: [OTLPSpan] = []
        var evaluations: [OTLPEvaluation] = []
        var keys: Set<UInt64> = []
        var last: ContinuousClock.Instant
        var requests: Set<Int64> = []
    }

    /// An inbox request whose spans are not all summarized yet.
    private struct Request {
        let receivedAt: String
        let sender: String
        var traces: Set<String>
    }

    private let access: LedgerAccess
    private let inbox: InboxWriter
    private let settings: Settings
    private let logger: Logger
    private let lock = NSLock()
    private var traces: [String: Trace] = [:]
    /// Traces in the order spans of them arrived, each with when: `take` finds the traces whose window has passed
    /// at the front, without looking at the others. An arrival is out of date once its trace's `last` is another.
    private var arrivals: [(trace: String, at: ContinuousClock.Instant)] = []
    /// Where `arrivals` starts: those before it were taken or out of date.
    private var firstArrival = 0
    private var requests: [Int64: Request] = [:]
    /// Requests none of whose spans wait (all were sent before): deleted from the inbox with the next batch.
    private var emptied: [Int64] = []
    private var waiting = 0
    /// Room `admit` reserved for requests being kept.
    private var reserved = 0
    private var duplicates = 0
    private var recent = RecentSpans(capacity: 1 << 19)
    /// The last entry the inbox has followed, whose record of what it took (and the records before it) the next
    /// entry forgets; and whether the inbox has followed every entry since the start (if not, the records stay
    /// until the next start finishes the inbox from them).
    private var followed: UInt64?
    private var inboxFollows = true
    /// Version references found recorded: a recorded version stays so.
    private var recorded: Set<String> = []

    private let received = Counter(label: "purser_otlp_spans_received_total")
    private let repeated = Counter(label: "purser_otlp_spans_duplicate_total")
    private let unattributed = Counter(label: "purser_otlp_spans_unattributed_total")
    private let batches = Counter(label: "purser_otlp_batches_total")
    private let pending = Gauge(label: "purser_otlp_spans_waiting")

    /// Which spans are tasks.
    var tasks: TaskSpans { settings.tasks }

    /// - Parameter inbox: the inbox of the ledger `access` opened.
    init(access: LedgerAccess, inbox: Inbox, settings: Settings, logger: Logger) {
        self.access = access
        self.inbox = InboxWriter(inbox)
        self.settings = settings
        self.logger = logger
    }

    /// Takes back what the inbox holds: requests acknowledged before the server last stopped, less the traces
    /// already summarized. Before serving starts.
    ///
    /// The inbox first follows what the ledger says the entries took of it, in case the server stopped between an
    /// entry's commit and the inbox's; and an inbox an earlier purser kept in the ledger file moves to its own.
    func restore() throws {
        let state = try access.quickRead { try $0.metrics.inboxState() }
        let kept = try inbox.beforeServing { inbox in
            try inbox.move(state.legacy)
            try inbox.finish(done: state.done, taken: state.taken)
            return try inbox.requests()
        }
        if state.through != nil || !state.legacy.isEmpty {
            try access.beforeServing { try $0.metrics.forgetInbox(through: state.through) }
        }
        for request in kept {
            var decoded = try Self.decode(request.payload, encoding: request.encoding)
            decoded.spans.removeAll { request.taken.contains($0.traceID) }
            decoded.evaluations.removeAll { request.taken.contains($0.traceID) }
            accept(decoded, request: request.id, receivedAt: request.receivedAt, sender: request.sender)
        }
        if !kept.isEmpty {
            logger.info("OTLP: \(kept.count) request(s) acknowledged earlier and not yet summarized wait again")
        }
    }

    /// Keeps a request's body in the inbox; once this returns, the request may be acknowledged.
    /// - Returns: its number in the inbox and when it was received.
    func keep(_ payload: [UInt8], encoding: String, sender: String) async throws -> (request: Int64, receivedAt: String)
    {
        try await inbox.keep(payload, encoding: encoding, sender: sender)
    }

    /// What a request body holds, with how many spans or evaluations were refused and why. `encoding`: `protobuf` or
    /// `json` for traces, `logs-protobuf` or `logs-json` for logs.
    /// - Throws: `.invalidInput` for a body that is not an `ExportTraceServiceRequest` (or an
    ///   `ExportLogsServiceRequest`) in that encoding.
    static func decode(_ body: [UInt8], encoding: String) throws(LedgerError) -> Decoded {
        switch encoding {
        case "protobuf":
            let (spans, rejected, problems) = try OTLPProtobuf.spans(body)
            return Decoded(spans: spans, rejected: rejected, problems: problems)
        case "json":
            let (spans, rejected, problems) = try OTLPJSON.request(body)
            return Decoded(spans: spans, rejected: rejected, problems: problems)
        case "logs-protobuf":
            let (evaluations, rejected, problems) = try OTLPProtobuf.evaluations(body)
            return Decoded(evaluations: evaluations, rejected: rejected, problems: problems)
        case "logs-json":
            let (evaluations, rejected, problems) = try OTLPJSON.evaluations(body)
            return Decoded(evaluations: evaluations, rejected: rejected, problems: problems)
        case "spans-jsonl":
            // The new spans of a request that repeated others, as `OTLPJSON.encode` wrote them.
            return Decoded(spans: try OTLPJSON.spans(body, source: "the inbox"))
        default:
            throw LedgerError(.internal, "the OTLP inbox holds a request of an unknown encoding, \(encoding)")
        }
    }

    /// Of the versions `spans` name for their tasks, those this ledger has not recorded now, as a warning for their
    /// sender: unless they are recorded before the batch is summarized, those tasks are counted unresolved. Nil when
    /// there are none, or when the ledger cannot be read (the batch resolves them again anyway).
    func unrecordedWarning(_ spans: [OTLPSpan]) -> String? {
        let named = OTLPTasks.versionsNamed(spans, tasks: settings.tasks)
        let unknown = lock.withLock { named.subtracting(recorded) }
        guard !unknown.isEmpty,
            let found = try? access.quickRead({ releases in
                unknown.filter { (try? releases.versions.find($0)) != nil }
            })
        else { return nil }
        lock.withLock { recorded.formUnion(found) }
        let missing = unknown.subtracting(found).sorted()
        guard !missing.isEmpty else { return nil }
        let shown =
            missing.prefix(3).joined(separator: ", ") + (missing.count > 3 ? " and \(missing.count - 3) more" : "")
        return
            "accepted, but this ledger has not recorded the version\(missing.count == 1 ? "" : "s") \(shown): record \(missing.count == 1 ? "it" : "them") (purser version record … --label) within a few seconds, or these tasks will be counted unresolved, not as tasks"
    }

    /// What of `decoded` is new: the spans and evaluations neither summarized lately nor waiting already, each
    /// once. What is not new was kept (and acknowledged) before, so it is counted as a duplicate and not kept again.
    func novel(_ decoded: Decoded) -> (fresh: Decoded, repeated: Int) {
        lock.withLock {
            var fresh = decoded
            var seen: Set<UInt64> = []
            func isNew(_ trace: String, _ key: UInt64) -> Bool {
                !recent.contains(key) && traces[trace]?.keys.contains(key) != true && seen.insert(key).inserted
            }
            fresh.spans = decoded.spans.filter { isNew($0.traceID, RecentSpans.key($0)) }
            fresh.evaluations = decoded.evaluations.filter { isNew($0.traceID, RecentSpans.key($0)) }
            let repeated = decoded.count - fresh.count
            duplicates += repeated
            self.repeated.increment(by: Int64(repeated))
            return (fresh, repeated)
        }
    }

    /// Reserves room for `count` more spans, or refuses them while as many wait as the receiver holds (the sender
    /// retries later), or for good when one request holds more than that. `accept` or `release` gives the room back.
    func admit(_ count: Int) throws(LedgerError) {
        guard count <= settings.maximumPending else {
            throw LedgerError(
                .tooLarge,
                "the request holds \(count) spans and evaluations, more than the \(settings.maximumPending) this server lets wait (purser serve --otlp-max-pending): send fewer at a time"
            )
        }
        let full = lock.withLock {
            guard waiting + reserved + count <= settings.maximumPending else { return true }
            reserved += count
            return false
        }
        if full {
            throw LedgerError(
                .overloaded,
                "\(settings.maximumPending) spans are waiting to be summarized; retry after a second (purser serve --otlp-max-pending)"
            )
        }
    }

    /// Gives back the room `admit` reserved for a request that was not kept.
    func release(_ count: Int) {
        lock.withLock { reserved -= count }
    }

    /// Takes the spans and evaluations of inbox request `request` to wait for their batch, in the room `admit`
    /// reserved for them (`reserved`: how much; none for a request the inbox gives back at start-up).
    func accept(
        _ decoded: Decoded, request: Int64, receivedAt: String, sender: String, reserved: Int = 0,
        now: ContinuousClock.Instant = .now
    ) {
        lock.withLock {
            self.reserved -= reserved
            var entry = Request(receivedAt: receivedAt, sender: sender, traces: [])
            var added = 0
            // Adds what `key` names to its trace with `append`, unless it was summarized lately or waits already.
            // (One look-up of the trace: `add(to:)` changes it in place.)
            func add(_ trace: String, _ key: UInt64, _ append: (inout Trace) -> Void) {
                func add(to waiting: inout Trace) -> Bool {
                    guard waiting.keys.insert(key).inserted else { return false }
                    append(&waiting)
                    waiting.last = now
                    waiting.requests.insert(request)
                    return true
                }
                guard !recent.contains(key), add(to: &traces[trace, default: Trace(last: now)]) else {
                    duplicates += 1
                    return
                }
                entry.traces.insert(trace)
                added += 1
            }
            for evaluation in decoded.evaluations {
                add(evaluation.traceID, RecentSpans.key(evaluation)) { $0.evaluations.append(evaluation) }
            }
            for span in decoded.spans {
                add(span.traceID, RecentSpans.key(span)) { $0.spans.append(span) }
            }
            waiting += added
            for trace in entry.traces { arrivals.append((trace, now)) }
            if entry.traces.isEmpty { emptied.append(request) } else { requests[request] = entry }
            received.increment(by: Int64(decoded.count))
            repeated.increment(by: Int64(decoded.count - added))
            pending.record(waiting)
        }
    }

    /// Summarizes batches every interval until the server stops. What waits stays in the inbox for the next start.
    func run() async throws {
        while !Task.isShuttingDownGracefully && !Task.isCancelled {
            try? await Task.sleep(for: .seconds(settings.interval))
            await summarizeReady()
        }
    }

    /// Summarizes the traces whose window has passed by `now` (every trace, with `all`), a batch at a time.
    /// - Returns: the entries' outcomes.
    @discardableResult
    func summarizeReady(all: Bool = false, now: ContinuousClock.Instant = .now) async -> [IngestOutcome] {
        var outcomes: [IngestOutcome] = []
        var next = take(all: all, now: now).map { ($0, $1, prepare($0)) }
        while let (batch, taken, preparation) = next {
            // The following batch is made ready while this one is recorded: the writer waits for the disk
            // meanwhile.
            next = take(all: all, now: now).map { ($0, $1, prepare($0)) }
            do {
                let prepared = await preparation.value
                let forgetting = lock.withLock { followed }
                let outcome = try await access.write(actor: "purser serve (OTLP)") { releases in
                    try releases.metrics.summarize(prepared, forgetting: forgetting)
                }
                lock.withLock {
                    for key in taken.keys { recent.insert(key) }
                    unattributed.increment(by: Int64(outcome.unattributed))
                    batches.increment()
                }
                outcomes.append(outcome)
                await follow(outcome.seq, batch)
            } catch {
                logger.error("OTLP: a batch of \(batch.spans.count) spans was not summarized, retrying: \(error)")
                putBack(taken, batch)
                if let (following, followingTaken, _) = next { putBack(followingTaken, following) }
                break
            }
        }
        return outcomes
    }

    /// Deletes from the inbox the requests that the entry `seq` summarized whole, and records the traces it took of
    /// the others. If that fails, the ledger's record of them stays, and the next start finishes the inbox from it.
    private func follow(_ seq: UInt64, _ batch: ReceivedBatch) async {
        do {
            try await inbox.finish(done: batch.done, taken: batch.taken)
            lock.withLock { if inboxFollows { followed = seq } }
        } catch {
            lock.withLock { inboxFollows = false }
            logger.error(
                "OTLP: the inbox \(inbox.path) did not follow entry \(seq); its requests are summarized and will be deleted at the next start: \(error)"
            )
        }
    }

    /// Makes `batch` ready for its entry on a thread of its own: not on the writer's, not on an event loop, and not
    /// on the threads that decode requests, which would wait behind it (a batch takes a tenth of a second or more, a
    /// request a few milliseconds).
    private func prepare(_ batch: ReceivedBatch) -> Task<PreparedBatch, Never> {
        let (prices, marker) = (settings.prices, settings.tasks)
        return Task {
            await withCheckedContinuation { continuation in
                Self.preparing.async {
                    continuation.resume(returning: Metrics.prepare(batch, prices: prices, tasks: marker))
                }
            }
        }
    }

    private static let preparing = DispatchQueue(label: "purser.otlp.prepare")

    /// What `take` removed, to put back if its batch is not recorded.
    private struct Taken {
        var traces: [String: Trace] = [:]
        var requests: [Int64: Request] = [:]
        var emptied: [Int64] = []
        var duplicates = 0
        var keys: [UInt64] { traces.values.flatMap(\.keys) }
    }

    /// Removes the traces whose window has passed (up to a batch's worth) and makes their batch.
    private func take(all: Bool, now: ContinuousClock.Instant) -> (ReceivedBatch, Taken)? {
        let window = Duration.seconds(settings.window)
        return lock.withLock {
            var batch = ReceivedBatch()
            var taken = Taken()
            var sources: Set<Int64> = []
            while firstArrival < arrivals.count {
                let (id, at) = arrivals[firstArrival]
                guard all || now - at >= window else { break }
                guard let trace = traces[id], trace.last == at else {
                    firstArrival += 1
                    continue
                }
                if !taken.traces.isEmpty && batch.spans.count + trace.spans.count > settings.maximumBatch { break }
                firstArrival += 1
                traces[id] = nil
                taken.traces[id] = trace
                batch.spans += Self.evaluated(trace, unattached: &batch.unattachedEvaluations)
                batch.evaluations += trace.evaluations.count
                for request in trace.requests {
                    if taken.requests[request] == nil { taken.requests[request] = requests[request] }
                    sources.insert(request)
                    requests[request]!.traces.remove(id)
                    if requests[request]!.traces.isEmpty {
                        requests[request] = nil
                        batch.done.append(request)
                    }
                }
            }
            if firstArrival > 4_096 && firstArrival * 2 > arrivals.count {
                arrivals.removeFirst(firstArrival)
                firstArrival = 0
            }
            guard !taken.traces.isEmpty else { return nil }
            for (id, trace) in taken.traces {
                for request in trace.requests where requests[request] != nil { batch.taken.append((request, id)) }
            }
            batch.done += emptied
            taken.emptied = emptied
            emptied = []
            let sent = sources.compactMap { taken.requests[$0] }
            batch.firstReceived = sent.map(\.receivedAt).min() ?? ""
            batch.lastReceived = sent.map(\.receivedAt).max() ?? ""
            batch.requests = sources.count
            batch.senders = Set(sent.map(\.sender))
            batch.duplicates = duplicates
            taken.duplicates = duplicates
            duplicates = 0
            waiting -= batch.spans.count + batch.evaluations
            pending.record(waiting)
            return (batch, taken)
        }
    }

    /// Puts back what `take` removed, for the next batch to try again; spans of the same traces that arrived
    /// meanwhile join them.
    private func putBack(_ taken: Taken, _ batch: ReceivedBatch) {
        lock.withLock {
            for (id, trace) in taken.traces {
                guard var merged = traces[id] else {
                    traces[id] = trace
                    arrivals.append((id, trace.last))
                    continue
                }
                for (span, key) in zip(trace.spans, trace.spans.map(RecentSpans.key))
                where merged.keys.insert(key).inserted {
                    merged.spans.append(span)
                }
                for evaluation in trace.evaluations where merged.keys.insert(RecentSpans.key(evaluation)).inserted {
                    merged.evaluations.append(evaluation)
                }
                merged.requests.formUnion(trace.requests)
                traces[id] = merged
            }
            for (request, entry) in taken.requests {
                var restored =
                    requests[request] ?? Request(receivedAt: entry.receivedAt, sender: entry.sender, traces: [])
                restored.traces.formUnion(taken.traces.filter { $0.value.requests.contains(request) }.keys)
                requests[request] = restored
            }
            emptied += taken.emptied
            duplicates += taken.duplicates
            waiting += batch.spans.count + batch.evaluations
            pending.record(waiting)
        }
    }

    /// The trace's spans, each evaluation received as a log added to the span it names as a
    /// `gen_ai.evaluation.result` event; an evaluation of a span not in the trace is counted in `unattached`.
    private static func evaluated(_ trace: Trace, unattached: inout Int) -> [OTLPSpan] {
        guard !trace.evaluations.isEmpty else { return trace.spans }
        var events: [String: [OTLPEvent]] = [:]
        let spanIDs = Set(trace.spans.map(\.spanID))
        for evaluation in trace.evaluations {
            guard spanIDs.contains(evaluation.spanID) else {
                unattached += 1
                continue
            }
            var attributes: [(key: String, value: OTLPValue)] = []
            if let name = evaluation.name { attributes.append(("gen_ai.evaluation.name", .string(name))) }
            if let score = evaluation.score { attributes.append(("gen_ai.evaluation.score.value", .double(score))) }
            events[evaluation.spanID, default: []].append(
                OTLPEvent(
                    timeNanos: evaluation.timeNanos, name: "gen_ai.evaluation.result",
                    attributes: OTLPAttributes(attributes)))
        }
        return trace.spans.map { span in
            guard let added = events[span.spanID] else { return span }
            return OTLPSpan(
                line: span.line, traceID: span.traceID, spanID: span.spanID, parentSpanID: span.parentSpanID,
                name: span.name, kind: span.kind, startNanos: span.startNanos, endNanos: span.endNanos,
                statusCode: span.statusCode, statusMessage: span.statusMessage, attributes: span.attributes,
                resource: span.resource, scope: span.scope, events: span.events + added)
        }
    }
}

/// The spans summarized lately, so that an exporter's retry of a request already summarized counts its spans once;
/// the oldest are forgotten first.
private struct RecentSpans {
    private var keys: [UInt64]
    private var set: Set<UInt64> = []
    private var next = 0

    init(capacity: Int) {
        keys = []
        keys.reserveCapacity(capacity)
    }

    /// A span's trace and span ids, hashed: 64 bits, so that half a million of them take a few megabytes.
    static func key(_ span: OTLPSpan) -> UInt64 {
        fnv1a(span.spanID, from: fnv1a(span.traceID))
    }

    /// An evaluation's span, name, time and score, hashed likewise (from another start, so that it names no span).
    static func key(_ evaluation: OTLPEvaluation) -> UInt64 {
        fnv1a(
            "\(evaluation.traceID)\(evaluation.spanID)\(evaluation.name ?? "")\(evaluation.timeNanos)\(evaluation.score ?? .nan)",
            from: 0x8422_2325_cbf2_9ce4)
    }

    /// FNV-1a, 64 bits.
    private static func fnv1a(_ text: String, from start: UInt64 = 0xcbf2_9ce4_8422_2325) -> UInt64 {
        text.utf8.reduce(start) { ($0 ^ UInt64($1)) &* 0x100_0000_01b3 }
    }

    func contains(_ key: UInt64) -> Bool { set.contains(key) }

    mutating func insert(_ key: UInt64) {
        guard set.insert(key).inserted else { return }
        if keys.count < keys.capacity {
            keys.append(key)
        } else {
            set.remove(keys[next])
            keys[next] = key
            next = (next + 1) % keys.count
        }
    }
}
