import Foundation
import Logging
import OTLPProto
import PurserCore
import PurserLedger
import PurserOperations
import SwiftProtobuf
import Testing

@testable import PurserServer

/// The OTLP receiver's batches over a real ledger file: spans wait by trace for the late-span window, are summarized
/// into `metrics.summarized` entries that `verify` rebuilds exactly, and each acknowledged span is summarized once,
/// also across a restart.
@Suite("OTLP receiver batches")
struct OTLPBatchTests {
    /// A ledger with versions `support@1` and `support@2` recorded, and the writer's connections to it.
    final class Fixture {
        let folder = NSTemporaryDirectory() + "purser-otlp-" + UUID().uuidString
        var path: String { folder + "/ledger.sqlite" }

        init() throws {
            try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
            let releases = try Releases(
                ledger: Ledger.create(at: path, origin: "test.example/otlp", keyPath: folder + "/ledger.key"))
            for label in ["support@1", "support@2"] {
                let prompt = Array("You help with \(label).".utf8)
                let version = BehavioralVersion(
                    agent: "support",
                    components: [
                        (
                            Component(
                                name: "prompt", kind: .text, digest: Hash.sha256(prompt), size: prompt.count,
                                source: nil, fileName: "prompt.md", value: nil), prompt
                        )
                    ])
                _ = try releases.versions.record(version, label: label)
            }
        }

        deinit { try? FileManager.default.removeItem(atPath: folder) }

        func receiver(window: Double = 0) throws -> OTLPReceiver {
            let access = try LedgerAccess(path: path, readers: 1) { _, _ in }
            let receiver = OTLPReceiver(
                access: access, inbox: Inbox(ledgerAt: path), settings: .init(window: window, interval: 0.05),
                logger: Logger(label: "test"))
            try receiver.restore()
            return receiver
        }

        /// The `metrics.summarized` entries' bodies.
        func batches() throws -> [JSONValue] {
            var bodies: [JSONValue] = []
            try Ledger(openingAt: path).forEachEntry(from: 0, kind: "metrics.summarized") { bodies.append(try $0.body) }
            return bodies
        }

        func tasks(version: String) throws -> Int {
            let releases = try Releases(ledger: Ledger(openingAt: path))
            let id = try releases.versions.find(version).id
            return try releases.metrics.report(versions: [id]).first?.tasks ?? 0
        }

        /// Keeps a protobuf `ExportLogsServiceRequest` in the inbox and gives its evaluations to `receiver`.
        func sendLogs(_ bytes: [UInt8], to receiver: OTLPReceiver) throws {
            let decoded = try OTLPReceiver.decode(bytes, encoding: "logs-protobuf")
            let kept = try Inbox(ledgerAt: path).keep([(bytes, "logs-protobuf", "ci")])[0]
            receiver.accept(decoded, request: kept.request, receivedAt: kept.receivedAt, sender: "ci")
        }

        /// Keeps `request` in the inbox and gives its spans to `receiver`, as the route does.
        func send(_ request: String, to receiver: OTLPReceiver, at now: ContinuousClock.Instant = .now) throws {
            let bytes = Array(request.utf8)
            let decoded = try OTLPReceiver.decode(bytes, encoding: "json")
            let kept = try Inbox(ledgerAt: path).keep([(bytes, "json", "ci")])[0]
            receiver.accept(decoded, request: kept.request, receivedAt: kept.receivedAt, sender: "ci", now: now)
        }
    }

    static func attribute(_ key: String, _ value: String) -> String {
        #"{"key":"\#(key)","value":{"stringValue":"\#(value)"}}"#
    }

    /// A span of trace `trace` (a hex digit repeated), 1 s long.
    static func span(
        _ trace: Character, _ id: String, parent: String? = nil, invoke: Bool = false, version: String? = nil
    )
        -> String
    {
        var attributes = [attribute("gen_ai.operation.name", invoke ? "invoke_agent" : "chat")]
        if let version { attributes.append(attribute("purser.version", version)) }
        return """
            {"traceId":"\(String(repeating: trace, count: 32))","spanId":"\(id)","parentSpanId":"\(parent ?? "")",\
            "name":"\(invoke ? "invoke_agent support" : "chat")","startTimeUnixNano":"1796637600000000000",\
            "endTimeUnixNano":"1796637601000000000","attributes":[\(attributes.joined(separator: ","))]}
            """
    }

    static func request(_ spans: [String]) -> String {
        #"{"resourceSpans":[{"resource":{"attributes":[\#(attribute("deployment.environment.name", "prod"))]},"scopeSpans":[{"spans":[\#(spans.joined(separator: ","))]}]}]}"#
    }

    @Test("children before their parent, in other requests, sent twice: one task, duplicates counted, inbox emptied")
    func lateParentAndRetry() async throws {
        let fixture = try Fixture()
        let receiver = try fixture.receiver()
        let child = Self.request([Self.span("a", "00000000000000a2", parent: "00000000000000a1")])
        try fixture.send(child, to: receiver)
        try fixture.send(child, to: receiver)
        try fixture.send(
            Self.request([Self.span("a", "00000000000000a1", invoke: true, version: "support@1")]), to: receiver)
        let outcomes = await receiver.summarizeReady()
        #expect(outcomes.map(\.records) == [1])
        let body = try #require(try fixture.batches().last)
        #expect(body["batch"]?["spans"]?.numberValue == 2)
        #expect(body["batch"]?["duplicates"]?.numberValue == 1)
        #expect(body["batch"]?["requests"]?.numberValue == 2)
        #expect(body["unattributed"]?.numberValue == 0)
        // The batch's file is stored gzip'd: it inflates to OTLP/JSON holding the two spans.
        #expect(body["compression"]?.stringValue == "gzip" && body["file"]?.stringValue == "otlp-batch.jsonl.gz")
        let digest = try #require(body["digest"]?.stringValue.flatMap { Hash(hex: $0) })
        let stored = try #require(try Ledger(openingAt: fixture.path).artifact(digest))
        let spans = try OTLPJSON.spans(try Gzip.decompress(stored, limit: 1 << 20), source: "the batch")
        #expect(spans.map(\.spanID).sorted() == ["00000000000000a1", "00000000000000a2"])
        #expect(try fixture.tasks(version: "support@1") == 1)
        #expect(try Inbox(ledgerAt: fixture.path).requests().isEmpty)
        // The retried request went with the batch too: nothing is left to summarize again after a restart.
        #expect(await (try fixture.receiver()).summarizeReady(all: true).isEmpty)
        #expect(try Releases.verifyDerived(Ledger(openingAt: fixture.path)) == nil)
    }

    @Test("a trace waits for its window; spans without a version or of an unknown one are counted, not dropped")
    func windowAndUnattributed() async throws {
        let fixture = try Fixture()
        let waiting = try fixture.receiver(window: 3_600)
        try fixture.send(
            Self.request([Self.span("b", "00000000000000b1", invoke: true, version: "support@2")]), to: waiting)
        #expect(await waiting.summarizeReady().isEmpty)
        #expect(try fixture.batches().isEmpty)

        let receiver = try fixture.receiver()
        try fixture.send(
            Self.request([
                Self.span("c", "00000000000000c1", invoke: true),
                Self.span("c", "00000000000000c2", parent: "00000000000000c1"),
                Self.span("d", "00000000000000d1", invoke: true, version: "support@9"),
                Self.span("e", "00000000000000e2", parent: "00000000000000e1"),
            ]), to: receiver)
        let outcomes = await receiver.summarizeReady()
        // The restarted receiver took back trace b from the inbox: its window has passed for this one.
        #expect(outcomes.map(\.records) == [1])
        let body = try #require(try fixture.batches().last)
        #expect(body["unattributed"]?.numberValue == 3)
        #expect(body["unresolved"]?["support@9"]?.numberValue == 1)
        #expect(try fixture.tasks(version: "support@2") == 1)
        // `metrics report` says what its figures leave out.
        let releases = try Releases(ledger: Ledger(openingAt: fixture.path))
        #expect(
            try releases.metrics.unaccounted()
                == Unaccounted(spans: 3, unresolved: ["support@9": 1], evaluations: 0, summaries: 1))
        let report = try MetricsReportQuery(env: nil, versions: [], since: nil, until: nil, by: nil).perform(
            on: releases)
        #expect(report.json["unaccounted"]?["spans"]?.numberValue == 3)
        #expect(
            report.text.last?.hasPrefix(
                #"not in these figures, from OpenTelemetry: 3 span(s) of no task, 1 task(s) of versions not recorded ("support@9")"#
            ) == true, "\(report.text)")
        #expect(try Releases.verifyDerived(Ledger(openingAt: fixture.path)) == nil)
        try Releases.reindex(Ledger(openingAt: fixture.path))
        #expect(try fixture.tasks(version: "support@2") == 1)
    }

    @Test("a request whose traces end in different batches: after a restart only the waiting trace comes back")
    func restartAfterPartOfARequest() async throws {
        let fixture = try Fixture()
        let start = ContinuousClock.now
        let first = try fixture.receiver(window: 5)
        // One request holds trace 9, whole, and the parent of trace 8, whose child comes 10 s later.
        try fixture.send(
            Self.request([
                Self.span("9", "0000000000000091", invoke: true, version: "support@1"),
                Self.span("8", "0000000000000081", invoke: true, version: "support@1"),
            ]), to: first, at: start)
        try fixture.send(
            Self.request([Self.span("8", "0000000000000082", parent: "0000000000000081")]), to: first,
            at: start + .seconds(10))
        // At 6 s, trace 9's window has passed, trace 8's has not.
        #expect(await first.summarizeReady(now: start + .seconds(6)).map(\.records) == [1])
        #expect(try fixture.batches().last?["batch"]?["spans"]?.numberValue == 1)
        // The server stops; a new one takes back trace 8 only, and summarizes it once.
        let second = try fixture.receiver()
        #expect(await second.summarizeReady().map(\.records) == [1])
        #expect(try fixture.batches().last?["batch"]?["spans"]?.numberValue == 2)
        #expect(try fixture.tasks(version: "support@1") == 2)
        #expect(try Inbox(ledgerAt: fixture.path).requests().isEmpty)
        #expect(try Releases.verifyDerived(Ledger(openingAt: fixture.path)) == nil)
    }

    @Test("a server stopped after a batch's entry, before the inbox followed: the next start finishes the inbox")
    func stoppedBeforeTheInboxFollowed() async throws {
        let fixture = try Fixture()
        // Request 1 holds trace a, whole, and trace b's invocation; request 2 holds trace c, whole.
        let first = Array(
            Self.request([
                Self.span("a", "00000000000000a1", invoke: true, version: "support@1"),
                Self.span("b", "00000000000000b1", invoke: true, version: "support@1"),
            ]).utf8)
        let second = Array(
            Self.request([Self.span("c", "00000000000000c1", invoke: true, version: "support@2")]).utf8)
        let kept = try Inbox(ledgerAt: fixture.path).keep([(first, "json", "ci"), (second, "json", "ci")])
        // The receiver's batch of traces a and c commits, and the server stops before the inbox follows it.
        var batch = ReceivedBatch()
        batch.spans =
            try (OTLPReceiver.decode(first, encoding: "json").spans.filter { $0.traceID.hasPrefix("a") })
            + OTLPReceiver.decode(second, encoding: "json").spans
        batch.done = [kept[1].request]
        batch.taken = [(kept[0].request, String(repeating: "a", count: 32))]
        let releases = try Releases(ledger: Ledger(openingAt: fixture.path))
        #expect(try releases.metrics.summarize(Metrics.prepare(batch)).records == 2)
        #expect(try Inbox(ledgerAt: fixture.path).requests().count == 2)
        // The next start deletes request 2 and marks trace a of request 1 as taken: only trace b is summarized.
        let restarted = try fixture.receiver()
        #expect(try Inbox(ledgerAt: fixture.path).requests().map(\.taken) == [[String(repeating: "a", count: 32)]])
        #expect(try releases.metrics.inboxState().through == nil, "the ledger's record is forgotten once followed")
        let outcomes = await restarted.summarizeReady()
        #expect(outcomes.map(\.records) == [1])
        #expect(try fixture.batches().map { $0["batch"]?["spans"]?.numberValue } == [2, 1])
        #expect(try fixture.tasks(version: "support@1") == 2 && fixture.tasks(version: "support@2") == 1)
        #expect(try Inbox(ledgerAt: fixture.path).requests().isEmpty)
        // The last entry's record stays until the next batch forgets it; a start meanwhile changes nothing.
        #expect(try releases.metrics.inboxState().through == outcomes.first?.seq)
        #expect(await (try fixture.receiver()).summarizeReady(all: true).isEmpty)
        #expect(try releases.metrics.inboxState().through == nil)
        #expect(try Releases.verifyDerived(Ledger(openingAt: fixture.path)) == nil)
    }

    @Test("a request kept after the inbox followed a batch gets a new number: a start after it deletes nothing new")
    func numbersAreNeverGivenAgain() async throws {
        let fixture = try Fixture()
        let receiver = try fixture.receiver()
        try fixture.send(
            Self.request([Self.span("a", "00000000000000a1", invoke: true, version: "support@1")]), to: receiver)
        #expect(await receiver.summarizeReady().map(\.records) == [1])
        #expect(try Inbox(ledgerAt: fixture.path).requests().isEmpty)
        // The last request's number was deleted; the next one does not take it, though the ledger still records it.
        try fixture.send(
            Self.request([Self.span("b", "00000000000000b1", invoke: true, version: "support@1")]), to: receiver)
        let restarted = try fixture.receiver()
        #expect(await restarted.summarizeReady(all: true).map(\.records) == [1], "trace b was acknowledged")
        #expect(try fixture.tasks(version: "support@1") == 2)
    }

    @Test("no inbox file until a request is kept; a file of another kind where the inbox goes is refused")
    func inboxFile() throws {
        let fixture = try Fixture()
        _ = try fixture.receiver()
        #expect(!FileManager.default.fileExists(atPath: Inbox.path(forLedgerAt: fixture.path)))
        // A ledger whose path is that of another ledger's inbox.
        _ = try Ledger.create(
            at: Inbox.path(forLedgerAt: fixture.path), origin: "test.example/other", keyPath: fixture.folder + "/o.key")
        #expect {
            _ = try Inbox(ledgerAt: fixture.path).keep([(Array("{}".utf8), "json", "ci")])
        } throws: { error in
            (error as? LedgerError)?.message.contains("not an OTLP inbox") == true
        }
    }

    @Test("a batch whose file is larger than reindex and verify read back is refused, and nothing is written")
    func batchTooLargeToReadBack() throws {
        let fixture = try Fixture()
        var batch = ReceivedBatch()
        batch.spans = try OTLPReceiver.decode(
            Array(Self.request([Self.span("a", "00000000000000a1", invoke: true, version: "support@1")]).utf8),
            encoding: "json"
        ).spans
        let prepared = Metrics.prepare(batch)
        let releases = try Releases(ledger: Ledger(openingAt: fixture.path))
        let before = try Ledger(openingAt: fixture.path).size()
        #expect {
            _ = try releases.metrics.summarize(prepared, maximumFile: 100)
        } throws: { error in
            (error as? LedgerError)?.code == .tooLarge
                && (error as? LedgerError)?.message.contains("more than the 100 that reindex and verify read back")
                    == true
        }
        #expect(try fixture.batches().isEmpty)
        #expect(try Ledger(openingAt: fixture.path).size() == before)
        #expect(try releases.metrics.summarize(prepared).records == 1, "recorded within the limit")
    }

    @Test("requests an earlier purser kept in the ledger file move to the inbox file and are summarized once")
    func inboxInTheLedgerFileMoves() async throws {
        let fixture = try Fixture()
        let body = Self.request([
            Self.span("d", "00000000000000d1", invoke: true, version: "support@1"),
            Self.span("e", "00000000000000e1", invoke: true, version: "support@1"),
        ])
        // As the earlier purser left them: request 7, whose trace e was summarized already.
        let legacy = try Connection(path: fixture.path, mode: .readWrite)
        try legacy.execute(
            """
            CREATE TABLE otlp_inbox (
                id INTEGER PRIMARY KEY, received_at TEXT NOT NULL, sender TEXT NOT NULL, encoding TEXT NOT NULL,
                payload BLOB NOT NULL);
            CREATE TABLE otlp_taken (request INTEGER NOT NULL, trace TEXT NOT NULL, PRIMARY KEY (request, trace))
                WITHOUT ROWID;
            INSERT INTO otlp_inbox VALUES (7, '2026-12-07T10:00:00Z', 'ci', 'json', CAST('\(body)' AS BLOB));
            INSERT INTO otlp_taken VALUES (7, '\(String(repeating: "e", count: 32))');
            """)
        let receiver = try fixture.receiver()
        #expect(try Inbox(ledgerAt: fixture.path).requests().map(\.id) == [7])
        #expect(try legacy.scalarInt("SELECT count(*) FROM sqlite_master WHERE name LIKE 'otlp_inbox'") == 0)
        #expect(await receiver.summarizeReady().map(\.records) == [1])
        #expect(try fixture.tasks(version: "support@1") == 1)
        #expect(try Inbox(ledgerAt: fixture.path).requests().isEmpty)
    }

    /// An `ExportLogsServiceRequest` of `gen_ai.evaluation.result` records: (trace, span id, score).
    static func evaluationLogs(_ evaluations: [(Character, String, Double)]) throws -> [UInt8] {
        var scope = Opentelemetry_Proto_Logs_V1_ScopeLogs()
        scope.logRecords = evaluations.map { trace, span, score in
            var record = Opentelemetry_Proto_Logs_V1_LogRecord()
            record.eventName = "gen_ai.evaluation.result"
            record.traceID = Data((0..<16).map { _ in UInt8(String(trace), radix: 16)! * 17 })
            record.spanID = Data(stride(from: 0, to: 16, by: 2).map { UInt8(span.dropFirst($0).prefix(2), radix: 16)! })
            record.timeUnixNano = 1_796_637_602_000_000_000
            var value = Opentelemetry_Proto_Common_V1_AnyValue()
            value.doubleValue = score
            var pair = Opentelemetry_Proto_Common_V1_KeyValue()
            pair.key = "gen_ai.evaluation.score.value"
            pair.value = value
            record.attributes = [pair]
            return record
        }
        var resource = Opentelemetry_Proto_Logs_V1_ResourceLogs()
        resource.scopeLogs = [scope]
        var request = Opentelemetry_Proto_Collector_Logs_V1_ExportLogsServiceRequest()
        request.resourceLogs = [resource]
        return try request.serializedBytes()
    }

    @Test("evaluations sent as logs, before or after their spans, become the task's quality; one of no span is counted")
    func evaluationsAsLogs() async throws {
        let fixture = try Fixture()
        let receiver = try fixture.receiver(window: 3_600)
        try fixture.sendLogs(try Self.evaluationLogs([("7", "0000000000000071", 0.5)]), to: receiver)
        try fixture.send(
            Self.request([
                Self.span("7", "0000000000000071", invoke: true, version: "support@1"),
                Self.span("7", "0000000000000072", parent: "0000000000000071"),
            ]), to: receiver)
        try fixture.sendLogs(
            try Self.evaluationLogs([("7", "0000000000000072", 1.0), ("7", "00000000000000ff", 0.1)]), to: receiver)
        // The logs wait in the inbox like spans: a restarted receiver takes them back.
        let restarted = try fixture.receiver()
        #expect(await restarted.summarizeReady().map(\.records) == [1])
        let body = try #require(try fixture.batches().last)
        #expect(body["batch"]?["evaluations"]?.numberValue == 3)
        #expect(body["batch"]?["unattached_evaluations"]?.numberValue == 1)
        let releases = try Releases(ledger: Ledger(openingAt: fixture.path))
        let report = try #require(try releases.metrics.report().first)
        #expect(report.quality == 0.75 && report.qualityTasks == 1)
        #expect(try Releases.verifyDerived(Ledger(openingAt: fixture.path)) == nil)
    }
}
