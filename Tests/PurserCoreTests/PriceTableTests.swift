import Foundation
import PurserLedger
import Testing

@testable import PurserCore

/// The cost of tasks from OpenTelemetry traces whose spans carry none: their model calls' tokens at a price table's
/// prices, the table stored with the summary so that a rebuild computes the same cost.
@Suite("OTLP price tables")
struct PriceTableTests {
    static let table = """
        models:
          gpt-4o-2024-08-06: {input: 2.5, output: 10}
          gpt-4o-mini: {input: 0.15, output: 0.6}
        """

    /// A task with two model calls: `first` and `second` name their models.
    static func traces(first: String, second: String, trace: Character = "4") -> String {
        let id = String(repeating: trace, count: 32)
        let invoke = OTLPTasksTests.span(
            "00000000000000a1", name: "invoke_agent support", start: 0, end: 4_000,
            attributes: [
                OTLPTasksTests.attribute("gen_ai.operation.name", "invoke_agent"),
                OTLPTasksTests.attribute("purser.version", "support@1"),
            ], trace: id)
        func chat(_ span: String, _ model: String, _ input: Int, _ output: Int) -> String {
            OTLPTasksTests.span(
                span, parent: "00000000000000a1", name: "chat", start: 100, end: 900,
                attributes: [
                    OTLPTasksTests.attribute("gen_ai.operation.name", "chat"),
                    OTLPTasksTests.attribute("gen_ai.response.model", model),
                    OTLPTasksTests.attribute("gen_ai.usage.input_tokens", input),
                    OTLPTasksTests.attribute("gen_ai.usage.output_tokens", output),
                ], trace: id)
        }
        return OTLPTasksTests.request(
            [invoke, chat("00000000000000a2", first, 1_000, 200), chat("00000000000000a3", second, 3_000, 500)],
            resource: OTLPTasksTests.resource)
    }

    @Test("each call at its model's price; a model the table lacks leaves the task without a cost")
    func costs() throws {
        let prices = try PriceTable(bytes: Array(Self.table.utf8), source: "prices.yaml")
        let known = try OTLPJSON.spans(
            Array(Self.traces(first: "gpt-4o-2024-08-06", second: "gpt-4o-mini").utf8), source: "t")
        let cost = try #require(try OTLPTasks.assemble(known, prices: prices).tasks.first?.record.costUSD)
        // (1000 × 2.5 + 200 × 10 + 3000 × 0.15 + 500 × 0.6) / 1e6
        #expect(abs(cost - 0.00525) < 1e-12)
        #expect(try OTLPTasks.assemble(known).tasks.first?.record.costUSD == nil, "no table, no cost")
        let unknown = try OTLPJSON.spans(Array(Self.traces(first: "gpt-4o-2024-08-06", second: "o3").utf8), source: "t")
        #expect(try OTLPTasks.assemble(unknown, prices: prices).tasks.first?.record.costUSD == nil)
    }

    @Test(
        "a malformed table names the field",
        arguments: [
            ("models: {}", "prices.yaml: models: expected a mapping of model ids"),
            ("models: {m: {input: -1, output: 1}}", "prices.yaml: models.m.input: expected US dollars"),
            ("models: {m: {input: 1}}", "prices.yaml: models.m.output: expected US dollars"),
            ("models: {m: {input: 1, output: 1, cached: 1}}", "prices.yaml: models.m.cached: unknown field"),
            ("currency: EUR\nmodels: {m: {input: 1, output: 1}}", "prices.yaml: currency: unknown field"),
        ])
    func malformed(text: String, message: String) {
        #expect {
            try PriceTable(bytes: Array(text.utf8), source: "prices.yaml")
        } throws: { ($0 as? LedgerError)?.message.hasPrefix(message) == true }
    }

    @Test("the table is stored with the summary: a rebuild gives the same cost; a changed table fails verify")
    func storedWithTheSummary() throws {
        let test = try TestReleases()
        try test.record(prompt: "support one", label: "support@1")
        let file = InputFile(
            source: "traces.jsonl", bytes: Array(Self.traces(first: "gpt-4o-mini", second: "gpt-4o-mini").utf8))
        let prices = try PriceFile(InputFile(source: "prices.yaml", bytes: Array(Self.table.utf8)))
        let outcome = try test.releases.metrics.ingest(file, format: .otlp, prices: prices)
        let report = try #require(try test.releases.metrics.report().first)
        #expect(report.cost.map { abs($0 - 0.00102) < 1e-12 } == true)
        #expect(try test.ledger.entry(outcome.seq)?.body["prices"]?["file"]?.stringValue == "prices.yaml")
        try Releases.reindex(test.ledger)
        #expect(try test.releases.metrics.report().first?.cost == report.cost)
        #expect(try Releases.verifyDerived(test.ledger) == nil)
        let digest = try #require(try test.ledger.entry(outcome.seq)?.body["prices"]?["digest"]?.stringValue)
        try test.ledger.write { transaction in
            try transaction.connection.execute(
                "DROP TRIGGER artifacts_immutable_update; UPDATE artifacts SET bytes = x'00' WHERE digest = x'\(digest)'"
            )
        }
        let fault = try #require(try Releases.verifyDerived(test.ledger))
        #expect(fault.seq == outcome.seq && fault.detail.contains("price table"), "\(fault.detail)")
        #expect(throws: LedgerError.self) {
            try test.releases.metrics.ingest(
                InputFile(source: "t.jsonl", bytes: Array("{}".utf8)), format: .jsonl, prices: prices)
        }
    }
}

/// Agents that do not mark their invocations: each trace's root span as the task (`--tasks root`).
@Suite("OTLP root spans as tasks")
struct RootSpanTaskTests {
    @Test("root spans are the tasks; the entry says so, and a rebuild reads the file the same way")
    func rootSpans() throws {
        let root = OTLPTasksTests.span(
            "00000000000000b1", name: "handle request", start: 0, end: 2_000, error: true,
            attributes: [OTLPTasksTests.attribute("purser.version", "support@1")])
        let call = OTLPTasksTests.span(
            "00000000000000b2", parent: "00000000000000b1", name: "chat", start: 10, end: 900,
            attributes: [
                OTLPTasksTests.attribute("gen_ai.operation.name", "chat"),
                OTLPTasksTests.attribute("gen_ai.usage.input_tokens", 300),
            ])
        let text = OTLPTasksTests.request([root, call], resource: OTLPTasksTests.resource)
        let spans = try OTLPJSON.spans(Array(text.utf8), source: "t")
        #expect(try OTLPTasks.assemble(spans).tasks.isEmpty, "no invoke_agent span, no task by default")
        let (tasks, unattributed) = try OTLPTasks.assemble(spans, tasks: .root)
        #expect(unattributed == 0 && tasks.count == 1)
        #expect(tasks.first?.record.error == true && tasks.first?.record.inputTokens == 300)
        #expect(tasks.first?.record.taskType == "handle request")

        let test = try TestReleases()
        try test.record(prompt: "support one", label: "support@1")
        let outcome = try test.releases.metrics.ingest(
            InputFile(source: "traces.jsonl", bytes: Array(text.utf8)), format: .otlp, tasks: .root)
        #expect(outcome.records == 1)
        #expect(try test.ledger.entry(outcome.seq)?.body["tasks"]?.stringValue == "root")
        try Releases.reindex(test.ledger)
        #expect(try test.releases.metrics.report().first?.tasks == 1)
        #expect(try Releases.verifyDerived(test.ledger) == nil)
        // Only traces have spans to choose from: a JSON Lines file with --tasks root is refused, and writes nothing.
        let size = try test.ledger.size()
        #expect {
            try test.releases.metrics.ingest(
                InputFile(source: "t.jsonl", bytes: Array("{}".utf8)), format: .jsonl, tasks: .root)
        } throws: { error in
            let error = error as? LedgerError
            return error?.code == .usage
                && error?.text.rendered { "--\($0)" } == "--tasks applies to --format otlp: other files hold tasks"
        }
        #expect(try test.ledger.size() == size)
    }
}
