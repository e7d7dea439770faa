import Foundation
import PurserCore
import PurserLedger
import PurserOperations
import Testing

/// Operations performed in process on a local ledger, as `purser` performs them without `--server`: the reply's
/// `json` is what `--json` prints, its `text` what is printed otherwise, its `status` what sets the exit code.
@Suite("Operations on a local ledger, in process")
struct LocalOperationTests {
    static let start = Timestamp.parse("2026-11-27T14:00:00Z")!

    @Test("versions/record records a version and answers its id and label")
    func recordVersion() throws {
        let ledger = try LocalLedger(now: Self.start)
        let reply = try ledger.perform(
            operation(RecordVersion.self, recordVersionRequest(prompt: "Be helpful.\n", label: "support-agent@1.0.0")))
        #expect(reply.status == .done)
        let id = try #require(reply.json["id"]?.stringValue)
        #expect(id.count == 64)
        #expect(reply.json["label"] == .string("support-agent@1.0.0"))
        #expect(reply.text.contains { $0.contains(String(id.prefix(12))) })
        #expect(try ledger.size() == 2)
    }

    @Test("versions/record refuses a component of an unknown kind, and writes nothing")
    func recordVersionRefusesUnknownKind() throws {
        let ledger = try LocalLedger(now: Self.start)
        var request = recordVersionRequest(prompt: "Be helpful.\n", label: "support-agent@1.0.0")
        guard case .object(var members) = request, case .array(var parts) = members["components"],
            case .object(var tools) = parts[1]
        else { throw LedgerError(.internal, "the request's shape changed") }
        tools["kind"] = .string("spreadsheet")
        parts[1] = .object(tools)
        members["components"] = .array(parts)
        request = .object(members)

        let refusal = #expect(throws: LedgerError.self) {
            try ledger.perform(operation(RecordVersion.self, request))
        }
        #expect(refusal?.code == .invalidInput)
        #expect(refusal?.message == "component tools: unknown kind spreadsheet")
        #expect(try ledger.size() == 1)
    }

    @Test("versions/record refuses a component whose file name is a path, and writes nothing")
    func recordVersionRefusesPathFileName() throws {
        let ledger = try LocalLedger(now: Self.start)
        var request = recordVersionRequest(prompt: "Be helpful.\n", label: "support-agent@1.0.0")
        guard case .object(var members) = request, case .array(var parts) = members["components"],
            case .object(var prompt) = parts[0]
        else { throw LedgerError(.internal, "the request's shape changed") }
        prompt["fileName"] = .string("../prompt.md")
        parts[0] = .object(prompt)
        members["components"] = .array(parts)
        request = .object(members)

        let refusal = #expect(throws: LedgerError.self) {
            try ledger.perform(operation(RecordVersion.self, request))
        }
        #expect(refusal?.code == .invalidInput)
        #expect(refusal?.message == "component prompt: file name ../prompt.md is not a plain name")
        #expect(try ledger.size() == 1)
    }

    @Test("deployments/start is refused by the checklist gate without an allowing run, and writes nothing")
    func deployRefusedByGate() throws {
        let ledger = try LocalLedger(now: Self.start)
        let recorded = try ledger.perform(
            operation(RecordVersion.self, recordVersionRequest(prompt: "Be helpful.\n", label: "support-agent@1.0.0")))
        let id = try #require(recorded.json["id"]?.stringValue)

        let refusal = #expect(throws: LedgerError.self) {
            try ledger.perform(
                operation(
                    DeployStart.self,
                    .object([
                        "version": .string("support-agent@1.0.0"), "env": .string("production"),
                        "strategy": .string("blue-green"),
                    ])))
        }
        #expect(refusal?.code == .blocked)
        #expect(refusal?.message.hasPrefix("no checklist run allows \(id.prefix(12)) in production; ") == true)
        #expect(try ledger.size() == 2)
    }

    @Test("at answers the traffic in force at a time, per environment, as JSON and as text")
    func atAnswersTraffic() throws {
        let ledger = try LocalLedger(now: Self.start)
        let recorded = try ledger.perform(
            operation(RecordVersion.self, recordVersionRequest(prompt: "Be helpful.\n", label: "support-agent@1.0.0")))
        let id = try #require(recorded.json["id"]?.stringValue)
        ledger.now = Self.start.addingTimeInterval(60)
        let deployed = try ledger.perform(
            operation(
                DeployStart.self,
                .object([
                    "version": .string("support-agent@1.0.0"), "env": .string("production"),
                    "strategy": .string("blue-green"), "breakGlassReason": .string("the first release"),
                    "breakGlassApprover": .string("alice"),
                ])))
        #expect(deployed.status == .done)

        let before = try ledger.perform(operation(AtQuery.self, .object(["time": .string("2026-11-27T14:00:30Z")])))
        #expect(before.status == .done)
        #expect(before.json == .object(["at": .string("2026-11-27T14:00:30.000Z"), "environments": .array([])]))
        #expect(
            before.text == [
                "traffic at 2026-11-27T14:00:30.000Z:", "no environment had traffic at 2026-11-27T14:00:30.000Z",
            ])

        let after = try ledger.perform(
            operation(AtQuery.self, .object(["time": .string("2026-11-27T15:00:00Z"), "env": .string("production")])))
        #expect(after.status == .done)
        #expect(
            after.json
                == .object([
                    "at": .string("2026-11-27T15:00:00.000Z"),
                    "environments": .array([
                        .object([
                            "env": .string("production"), "effective_at": .string("2026-11-27T14:01:00.000Z"),
                            "seq": .int(2), "rollout": .null,
                            "traffic": .array([
                                .object([
                                    "version": .string(id), "label": .string("support-agent@1.0.0"),
                                    "weight": .int(100), "state": .string("serving"),
                                ])
                            ]),
                        ])
                    ]),
                ]))
        #expect(
            after.text == [
                "traffic at 2026-11-27T15:00:00.000Z:", "production  (since 2026-11-27T14:01:00.000Z, seq 2)",
                "  \(id.prefix(12)) (support-agent@1.0.0)       100%  serving",
            ])

        let unknown = #expect(throws: LedgerError.self) {
            try ledger.perform(operation(AtQuery.self, .object(["time": .string("now"), "env": .string("staging")])))
        }
        #expect(unknown?.code == .notFound)
        #expect(unknown?.message == "environment staging has no deployments (see purser status)")
    }
}
