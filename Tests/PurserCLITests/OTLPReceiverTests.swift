import Foundation
import PurserLedger
import Testing

/// `purser serve`'s OTLP/HTTP receiver (`POST /v1/traces`) driven by a plain HTTP client: what an OpenTelemetry
/// exporter may send, and what the ledger makes of it a moment later.
@Suite("OTLP/HTTP receiver, end to end")
struct OTLPReceiverTests {
    typealias Spans = OTLPIngestTests

    /// The spans of task `n` of no version: an invocation with an agent name but neither `purser.version` nor
    /// `gen_ai.agent.version`.
    static func versionless(_ n: Int) -> [String] {
        Spans.task(n, version: "none", tokens: 1).map {
            $0.replacingOccurrences(
                of: Spans.attribute("purser.version", "none"), with: Spans.attribute("gen_ai.agent.name", "support"))
        }
    }

    @Test("an OTLP/JSON request: its tasks land in the ledger with the figures a file of the same spans gives")
    func jsonBody() throws {
        let receiver = try TraceReceiver()
        let spans =
            (0..<3).flatMap { Spans.task($0, version: "agent@1", tokens: 1_000 + 100 * $0, fails: $0 == 2) }
            + Spans.task(3, version: "agent@2", tokens: 500, toolFails: true)
        let answer = receiver.post(Spans.request(spans))
        #expect(answer.status == 200, "\(answer.body)")
        #expect(answer.body.hasPrefix("{"), "an ExportTraceServiceResponse in JSON, as the request was: \(answer.body)")
        try receiver.wait("4 tasks") { try receiver.taskCount() == 4 }
        let report = try receiver.report()
        #expect(report["agent@1"]?["tasks"] == .number(3) && report["agent@1"]?["input_tokens"] == .number(1_100))
        #expect(report["agent@1"]?["error_rate"] == .number(1.0 / 3))
        #expect(report["agent@2"]?["tasks"] == .number(1) && report["agent@2"]?["tool_success_rate"] == .number(0))
        #expect(try receiver.summed("new") == 4 && receiver.summed("unattributed") == 0)
        // The tasks are rebuilt from what the receiver stored: verify agrees with the table.
        _ = receiver.server.stop()
        let verify = try receiver.workspace.run(["verify"])
        #expect(verify.status == 0, "\(verify.stdout)\(verify.stderr)")
    }

    @Test("a gzip'd request (Content-Encoding: gzip) is read as the plain one")
    func gzipBody() throws {
        let receiver = try TraceReceiver()
        let spans = (0..<2).flatMap { Spans.task($0, version: "agent@2", tokens: 700 + $0) }
        let answer = receiver.post(Spans.request(spans), gzip: true)
        #expect(answer.status == 200, "\(answer.body)")
        try receiver.wait("2 tasks") { try receiver.taskCount() == 2 }
        #expect(try receiver.report()["agent@2"]?["input_tokens"] == .number(700.5))
    }

    @Test("a task's spans over several requests, the children first and the parent last: one task, all its spans")
    func childrenBeforeParents() throws {
        let receiver = try TraceReceiver(options: TraceReceiver.patient)
        let tasks = (0..<3).map { Spans.task($0, version: "agent@1", tokens: 300, toolFails: $0 == 0) }
        for task in tasks { #expect(receiver.post(Spans.request(Array(task[1...]))).status == 200) }
        for task in tasks.reversed() { #expect(receiver.post(Spans.request([task[0]])).status == 200) }
        try receiver.wait("3 tasks") { try receiver.taskCount() == 3 }
        let row = try receiver.report()["agent@1"]
        #expect(row?["input_tokens"] == .number(300), "each task has its model call")
        #expect(row?["tool_success_rate"] == .number(2.0 / 3), "and its tool call")
        #expect(try receiver.summed("unattributed") == 0)
    }

    @Test("a request sent twice (an exporter's retry): its tasks are counted once")
    func retriedRequest() throws {
        let receiver = try TraceReceiver()
        let body = Spans.request((0..<2).flatMap { Spans.task($0, version: "agent@1", tokens: 100) })
        #expect(receiver.post(body).status == 200)
        #expect(receiver.post(body).status == 200)
        // A later request: once its task is there, the retry before it has been summarised too.
        #expect(receiver.post(Spans.request(Spans.task(2, version: "agent@2", tokens: 100))).status == 200)
        try receiver.wait("the later task") { try receiver.report()["agent@2"]?["tasks"] == .number(1) }
        #expect(try receiver.report()["agent@1"]?["tasks"] == .number(2))
        #expect(try receiver.summed("new") == 3)
    }

    @Test("spans of a task without a version, and a span whose parent never comes, are counted unattributed")
    func unattributedSpans() throws {
        let receiver = try TraceReceiver()
        let orphan = Spans.task(2, version: "agent@1", tokens: 1)[1].replacingOccurrences(
            of: #""parentSpanId":"0000000000000001""#, with: #""parentSpanId":"00000000000000ff""#)
        let spans = Spans.task(0, version: "agent@1", tokens: 100) + Self.versionless(1) + [orphan]
        let answer = receiver.post(Spans.request(spans))
        #expect(answer.status == 200)
        // The sender is warned: OTLP/HTTP's partial success with nothing rejected.
        let partial = try JSONValue(parsing: Array(answer.body.utf8))["partialSuccess"]
        #expect(partial?["rejectedSpans"] == nil || partial?["rejectedSpans"]?.stringValue == "0", "\(answer.body)")
        #expect(
            partial?["errorMessage"]?.stringValue?.contains("of its invoke_agent spans 1 name no version") == true,
            "\(answer.body)")
        try receiver.wait("1 task and 4 unattributed spans") {
            try receiver.taskCount() == 1 && receiver.summed("unattributed") == 4
        }
        // And `purser log` shows what its summary could not attribute.
        #expect(try receiver.purser(["log", "--kind", "metrics.summarized"]).stdout.contains("unattributed=4"))
    }

    @Test("tasks of a version the ledger has not recorded: accepted with a warning naming it, counted unresolved")
    func unrecordedVersion() throws {
        let receiver = try TraceReceiver()
        // Recorded (agent@1): no warning.
        let known = receiver.post(Spans.request(Spans.task(0, version: "agent@1", tokens: 10)))
        #expect(known.status == 200 && known.body == "{}", "\(known.body)")
        let answer = receiver.post(
            Spans.request(Spans.task(1, version: "agent@9", tokens: 10) + Spans.task(2, version: "agent@1", tokens: 10))
        )
        #expect(answer.status == 200)
        let partial = try JSONValue(parsing: Array(answer.body.utf8))["partialSuccess"]
        let message = partial?["errorMessage"]?.stringValue ?? ""
        #expect(
            message.contains("this ledger has not recorded the version agent@9:") && !message.contains("agent@1"),
            "\(answer.body)")
        #expect(partial?["rejectedSpans"] == nil, "nothing is refused")
        try receiver.wait("2 tasks of agent@1, 1 of agent@9 unresolved") {
            try receiver.report()["agent@1"]?["tasks"] == .number(2)
                && receiver.summaries().contains { $0["unresolved"]?["agent@9"] == .number(1) }
        }
    }

    @Test("a malformed request is refused with 400, an unusable span with partial_success; neither writes anything")
    func malformed() throws {
        let receiver = try TraceReceiver()
        let before = try receiver.purser(["log", "--json"])
        try #require(before.status == 0)
        let backwards = Spans.task(0, version: "agent@1", tokens: 1)[0].replacingOccurrences(
            of: #""endTimeUnixNano":"1796637602000000000""#, with: #""endTimeUnixNano":"1796637599000000000""#)
        #expect(backwards != Spans.task(0, version: "agent@1", tokens: 1)[0])
        let bad: [(String, Data, String, Bool)] = [
            ("not JSON", Data("{\"resourceSpans\":[".utf8), "application/json", false),
            ("not protobuf", Data([0xff, 0xff, 0xff, 0xff]), "application/x-protobuf", false),
            (
                "not gzip", Data(Spans.request(Spans.task(1, version: "agent@1", tokens: 1)).utf8), "application/json",
                true
            ),
        ]
        for (what, body, contentType, gzip) in bad {
            let answer = receiver.post(body, contentType: contentType, gzip: gzip)
            #expect(answer.status == 400, "\(what): \(answer.status) \(answer.body)")
        }
        // A request that parses, with spans OTLP/HTTP says to refuse one by one: 200, and each is counted.
        for (what, span, field) in [
            ("a bad traceId", #"{"traceId":"nothex"}"#, "spans[0]"),
            ("ending before it starts", backwards, "endTimeUnixNano"),
        ] {
            let answer = receiver.post(Data(Spans.request([span]).utf8))
            #expect(answer.status == 200, "\(what): \(answer.status) \(answer.body)")
            let partial = try JSONValue(parsing: Array(answer.body.utf8))["partialSuccess"]
            #expect(partial?["rejectedSpans"]?.stringValue == "1", "\(what): \(answer.body)")
            #expect(partial?["errorMessage"]?.stringValue?.contains(field) == true, "\(what): \(answer.body)")
        }
        // A good request after them: once its task is there, whatever the bad ones could have written would be too.
        #expect(receiver.post(Spans.request(Spans.task(2, version: "agent@2", tokens: 1))).status == 200)
        try receiver.wait("the good task") { try receiver.taskCount() == 1 }
        let after = try receiver.purser(["log", "--json"])
        #expect(after.stdout.hasPrefix(before.stdout), "the entries before are unchanged")
        let added = after.stdout.dropFirst(before.stdout.count).split(separator: "\n")
        #expect(!added.isEmpty && added.allSatisfy { $0.contains(#""kind":"metrics.summarized""#) }, "\(added)")
        #expect(try receiver.summed("records") == 1 && receiver.summed("unattributed") == 0)
    }

    @Test("no token is refused with 401, a reader's with 403, and neither writes anything")
    func tokens() throws {
        let receiver = try TraceReceiver()
        let spans = Data(Spans.request(Spans.task(0, version: "agent@1", tokens: 1)).utf8)
        #expect(receiver.post(spans, token: "").status == 401)
        #expect(receiver.post(spans, token: receiver.reader).status == 403)
        #expect(receiver.post(spans, token: receiver.writer + "x").status == 401)
        #expect(receiver.post(Spans.request(Spans.task(1, version: "agent@2", tokens: 1))).status == 200)
        try receiver.wait("the writer's task") { try receiver.taskCount() == 1 }
        #expect(try receiver.report()["agent@1"] == nil)
    }

    @Test("killed with SIGKILL right after answering 200: after a restart the acknowledged spans' tasks are there")
    func acknowledgedSurvivesKill() throws {
        let receiver = try TraceReceiver(options: TraceReceiver.holding)
        let spans = (0..<3).flatMap { Spans.task($0, version: "agent@1", tokens: 10) }
        #expect(receiver.post(Spans.request(spans)).status == 200)
        #expect(try receiver.summaries().isEmpty, "the spans wait for their window")
        try receiver.restart(after: SIGKILL)
        try receiver.wait("3 tasks after the restart") { try receiver.taskCount() == 3 }
        #expect(try receiver.summed("new") == 3)
        _ = receiver.server.stop()
        let verify = try receiver.workspace.run(["verify"])
        #expect(verify.status == 0, "\(verify.stdout)\(verify.stderr)")
    }

    @Test("a request kept after a batch was summarized, then SIGKILL: after a restart its task is there too")
    func keptAfterABatchSurvivesKill() throws {
        // The window of 3 s: the second request still waits when the server is killed.
        let receiver = try TraceReceiver(options: TraceReceiver.patient)
        #expect(receiver.post(Spans.request(Spans.task(0, version: "agent@1", tokens: 10))).status == 200)
        try receiver.wait("the first task") { try receiver.taskCount() == 1 }
        #expect(receiver.post(Spans.request(Spans.task(1, version: "agent@1", tokens: 10))).status == 200)
        try receiver.restart(after: SIGKILL)
        try receiver.wait("both tasks after the restart") { try receiver.taskCount() == 2 }
        #expect(try receiver.summed("new") == 2)
    }

    @Test("stopped with SIGTERM while spans wait: it exits 0, and after a restart their tasks are there")
    func waitingSurvivesStop() throws {
        let receiver = try TraceReceiver(options: TraceReceiver.holding)
        #expect(receiver.post(Spans.request(Spans.task(0, version: "agent@2", tokens: 10))).status == 200)
        let status = try receiver.restart(after: SIGTERM)
        #expect(status == 0, "SIGTERM ends purser serve with 0")
        try receiver.wait("the task after the restart") { try receiver.taskCount() == 1 }
    }

    @Test("past --otlp-max-pending: 429 with Retry-After, and 413 for a request larger than the limit; nothing kept")
    func overload() throws {
        let receiver = try TraceReceiver(options: TraceReceiver.holding + ["--otlp-max-pending", "5"])
        let before = try receiver.purser(["log", "--json"]).stdout
        // 3 spans wait (held for an hour); 3 more would pass 5.
        #expect(receiver.post(Spans.request(Spans.task(0, version: "agent@1", tokens: 1))).status == 200)
        let full = receiver.post(Spans.request(Spans.task(1, version: "agent@1", tokens: 1)))
        #expect(full.status == 429, "\(full.body)")
        #expect(full.body.contains("spans are waiting to be summarized; retry after a second"), "\(full.body)")
        #expect(full.retryAfter == "1")
        let spans = (2..<4).flatMap { Spans.task($0, version: "agent@1", tokens: 1) }
        let large = receiver.post(Spans.request(spans))
        #expect(large.status == 413, "\(large.body)")
        #expect(large.body.contains("holds 6 spans and evaluations, more than the 5"), "\(large.body)")
        // Neither refused request was kept: after a restart, only the first request's task is summarized.
        try receiver.restart(after: SIGTERM)
        try receiver.wait("the first task") { try receiver.taskCount() == 1 }
        let after = try receiver.purser(["log", "--json"]).stdout
        #expect(after.hasPrefix(before))
        #expect(try receiver.summaries().map { $0["batch"]?["spans"]?.numberValue } == [3])
    }
}
