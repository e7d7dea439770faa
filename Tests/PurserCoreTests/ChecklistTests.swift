import Foundation
import PurserCore
import PurserLedger
import Testing

/// The repository's `templates/` folder (Tests/PurserCoreTests/ChecklistTests.swift is two folders down).
private let templateFolder = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
    .deletingLastPathComponent().appendingPathComponent("templates").path

/// A checklist policy as YAML text; each field is written into the file as it is. By default it is the template
/// policy with every piece of evidence a file in the test's folder.
private struct PolicyText {
    var maxAge = "24h"
    var pins = "pins: model-pins.yaml"
    var queue = "{file: evidence/queue.json, max-age: 10m}"
    var dashboard = "{file: evidence/dashboard.json}"
    var runbook = "runbooks/rollback.md"
    var rollbackMaxAge = "7d"
    var evaluation = ["max-age: 3d", "min-pass-rate: 0.95", "min-case-pass-rate: 0.8"]
    var canary = "canary.yaml"

    var yaml: String {
        """
        max-age: \(maxAge)
        checks:
          version-recorded: {}
          components-pinned:
            \(pins)
          queue-healthy:
            evidence: \(queue)
            max-utilization: 0.8
            min-consumers: 2
            max-oldest-age: 5m
          dashboards-updated:
            evidence: \(dashboard)
          rollback-tested:
            runbook: \(runbook)
            max-age: \(rollbackMaxAge)
          eval-passed:
        \(evaluation.map { "    " + $0 }.joined(separator: "\n"))
          canary-configured:
            config: \(canary)

        """
    }
}

/// A ledger, a policy and the evidence it names, in one temporary folder. A version that `ready` made passes
/// every check: a healthy queue, a dashboard naming it, a runbook, a passing evaluation, the template canary
/// configuration, and nothing serving the environment yet.
private final class Bench {
    let test: TestReleases
    var releases: Releases { test.releases }
    var ledger: Ledger { test.ledger }
    var folder: String { test.directory }

    init() throws {
        test = try TestReleases()
        let files = FileManager.default
        for sub in ["evidence", "runbooks"] {
            try files.createDirectory(atPath: folder + "/" + sub, withIntermediateDirectories: true)
        }
        for name in ["canary.yaml", "model-pins.yaml"] {
            try files.copyItem(atPath: templateFolder + "/" + name, toPath: folder + "/" + name)
        }
        try write("runbooks/rollback.md", "# Rolling back\n\n1. purser rollback --env prod --reason WHY\n")
        try queue()
        try write("evidence/dashboard.json", "{}")
    }

    func path(_ name: String) -> String { folder + "/" + name }

    /// Sets the ledger's clock, which dates the entries and is the "now" of every expiry and freshness limit, to
    /// `time`.
    func setClock(_ time: Date) {
        ledger.clock = { time }
    }

    func write(_ name: String, _ text: String) throws {
        try Data(text.utf8).write(to: URL(fileURLWithPath: path(name)))
    }

    /// Writes the queue evidence file `evidence/queue.json`; `nil` leaves a field out.
    func queue(
        depth: Int? = 12, capacity: Int? = 500, consumers: Int? = 4, oldest: Int? = 3, observedAt: Date = Date()
    ) throws {
        try write("evidence/queue.json", Self.queueJSON(depth, capacity, consumers, oldest, observedAt))
    }

    static func queueJSON(_ depth: Int?, _ capacity: Int?, _ consumers: Int?, _ oldest: Int?, _ at: Date) -> String {
        let fields = [("depth", depth), ("capacity", capacity), ("consumers", consumers), ("oldest_age_s", oldest)]
            .compactMap { name, value in value.map { "\"\(name)\": \($0)" } }
        return "{" + (fields + ["\"observed_at\": \"\(Timestamp.format(at))\""]).joined(separator: ", ") + "}"
    }

    /// Writes a Grafana-like dashboard whose query filters on `reference`.
    func dashboard(referencing reference: String) throws {
        try write(
            "evidence/dashboard.json",
            #"{"title": "Agent", "panels": [{"targets": [{"expr": "sum(rate(tasks_total{version=\"\#(reference)\"}[5m]))"}]}]}"#
        )
    }

    /// Records an evaluation of `version` from a generic JSON results file holding `cases` (name, passed) in order.
    @discardableResult
    func evaluate(
        _ version: String, _ cases: [(String, Bool)], suite: String = "regression", observedAt: String? = nil
    ) throws -> EvaluationSummary {
        let list = cases.map { #"{"name": "\#($0.0)", "passed": \#($0.1)}"# }.joined(separator: ",\n")
        let time = observedAt.map { #""observed_at": "\#($0)", "# } ?? ""
        let name = "results-\(UUID().uuidString).json"
        try write(name, #"{"suite": "\#(suite)", \#(time)"cases": [\#(list)]}"#)
        return try releases.checklist.recordEvaluation(version: version, results: path(name), format: .json)
    }

    /// Records a version that passes every check with the default policy, evaluated and on the dashboard (which
    /// then names only it); returns its id.
    func ready(_ prompt: String, label: String? = nil) throws -> String {
        let id = try test.record(prompt: prompt, label: label)
        try evaluate(id, [("refund", true), ("order status", true), ("escalation", true)])
        try dashboard(referencing: id)
        return id
    }

    /// Writes `policy` as `checklist.yaml` and reads it back.
    func policy(_ policy: PolicyText = PolicyText()) throws -> ChecklistPolicy {
        try write("checklist.yaml", policy.yaml)
        return try ChecklistPolicy.load(at: path("checklist.yaml"))
    }

    func run(_ version: String, env: String = "prod", policy: PolicyText = PolicyText()) throws -> ChecklistRun {
        try releases.checklist.run(version: version, env: EnvironmentName(env), policy: self.policy(policy))
    }

    /// Puts `version` in service in `env` without a checklist run.
    func serve(_ version: String, env: String = "prod") throws {
        _ = try releases.traffic.deploy(version, env: EnvironmentName(env), strategy: .blueGreen, breakGlass: .test)
    }

    func short(_ id: String) -> String { String(id.prefix(12)) }
}

extension ChecklistRun {
    /// The result of check `id`; records an issue if the run has none.
    fileprivate func result(_ id: String, sourceLocation: SourceLocation = #_sourceLocation) -> CheckResult {
        guard let result = checks.first(where: { $0.id == id }) else {
            Issue.record("no check \(id) in the run", sourceLocation: sourceLocation)
            return CheckResult(id: id, verdict: .error, reason: "")
        }
        return result
    }
}

/// Expects check `id` of `run` to have `verdict` and a reason containing each of `mentions`; a failing or erring
/// check must also block the run.
private func expect(
    _ run: ChecklistRun, _ id: String, _ verdict: CheckResult.Verdict, mentions: [String] = [],
    sourceLocation: SourceLocation = #_sourceLocation
) {
    let result = run.result(id, sourceLocation: sourceLocation)
    #expect(result.verdict == verdict, "\(id): \(result.reason)", sourceLocation: sourceLocation)
    for text in mentions {
        #expect(
            result.reason.contains(text), "\(id) reason names \(text): \(result.reason)", sourceLocation: sourceLocation
        )
    }
    if verdict == .fail || verdict == .error {
        #expect(!run.allowed, "a \(verdict) blocks the run", sourceLocation: sourceLocation)
    }
}

/// A version whose model (and optionally judge) component is `model`, for the pinning table.
private func pinningVersion(
    model: JSONValue, judge: JSONValue? = nil, commit: String = String(repeating: "ab", count: 20)
) -> BehavioralVersion {
    func component(_ name: String, _ kind: Component.Kind, _ value: JSONValue?) -> (Component, bytes: [UInt8]) {
        let bytes = value.map(CanonicalJSON.encode) ?? Array("You help.".utf8)
        let component = Component(
            name: name, kind: kind, digest: Hash.sha256(bytes), size: bytes.count, source: nil,
            fileName: "\(name).json", value: value)
        return (component, bytes)
    }
    let code: JSONValue = .object(["commit": .string(commit)])
    var components = [
        component("prompt", .text, nil), component("model", .model, model), component("code", .commit, code),
    ]
    if let judge { components.append(component("judge", .model, judge)) }
    return BehavioralVersion(agent: "pinning", components: components)
}

/// The release checklist engine (`Checklist.run`), its evidence, waivers, recording and the deploy gate.
@Suite("Checklist") struct ChecklistTests {}

// MARK: - The checks

extension ChecklistTests {
    @Suite("every check passes, and fails for each of its reasons")
    struct Checks {
        @Test("a ready version on a fresh environment passes all seven checks, in the policy's order")
        func everyCheckPasses() throws {
            let bench = try Bench()
            let id = try bench.ready("one", label: "agent@1.0.0")
            let run = try bench.run(id)
            #expect(run.checks.map(\.id) == ChecklistPolicy.checkIDs)
            for check in run.checks {
                #expect(check.verdict == .pass, "\(check.id): \(check.reason)")
            }
            #expect(run.allowed)
        }

        // MARK: version-recorded

        @Test("version-recorded: passes while the artifacts hash to the id, fails once one is tampered with")
        func versionRecorded() throws {
            let bench = try Bench()
            let id = try bench.ready("one")
            let version = try bench.releases.versions.find(id)
            expect(try bench.run(id), "version-recorded", .pass, mentions: ["seq \(version.seq)", "5 components"])

            let prompt = try #require(version.components.first { $0.name == "prompt" })
            try bench.ledger.write { transaction in
                try transaction.connection.execute(
                    "DROP TRIGGER artifacts_immutable_update; UPDATE artifacts SET bytes = x'00' WHERE digest = x'\(prompt.digest.hex)'"
                )
            }
            expect(
                try bench.run(id), "version-recorded", .fail,
                mentions: ["component prompt", "no longer hashes to its digest", "purser verify"])
        }

        // MARK: components-pinned

        struct PinCase: Sendable, CustomTestStringConvertible {
            let name: String
            let model: JSONValue
            var judge: JSONValue? = nil
            var commit = String(repeating: "ab", count: 20)
            var allow = false
            /// nil: pinned; else a text the reason must contain.
            let failure: String?

            var testDescription: String { name }

            static func model(_ provider: String, _ id: String, _ extra: [String: JSONValue] = [:]) -> JSONValue {
                .object(extra.merging(["provider": .string(provider), "id": .string(id)]) { $1 })
            }

            static let claude = model("anthropic", "claude-3-5-sonnet-20241022")

            static let all: [PinCase] = [
                PinCase(name: "openai dated snapshot", model: model("openai", "gpt-4o-2024-08-06"), failure: nil),
                PinCase(
                    name: "openai bare gpt-4o", model: model("openai", "gpt-4o"), failure: "model: gpt-4o is not pinned"
                ),
                PinCase(name: "openai o3 alias", model: model("openai", "o3"), failure: "model: o3 is not pinned"),
                PinCase(
                    name: "openai chatgpt-4o-latest", model: model("openai", "chatgpt-4o-latest"),
                    failure: "model: chatgpt-4o-latest is not pinned"),
                PinCase(name: "anthropic dated id", model: claude, failure: nil),
                PinCase(
                    name: "anthropic -latest alias", model: model("anthropic", "claude-3-5-sonnet-latest"),
                    failure: "model: claude-3-5-sonnet-latest is not pinned"),
                PinCase(name: "google numbered version", model: model("google", "gemini-1.5-pro-002"), failure: nil),
                PinCase(
                    name: "google base name", model: model("google", "gemini-1.5-pro"),
                    failure: "model: gemini-1.5-pro is not pinned"),
                PinCase(
                    name: "azure with version and no auto-upgrade",
                    model: model(
                        "azure-openai", "support-prod",
                        ["version": .string("2024-08-06"), "auto_upgrade": .bool(false)]),
                    failure: nil),
                PinCase(
                    name: "azure without a version",
                    model: model("azure-openai", "support-prod", ["auto_upgrade": .bool(false)]),
                    failure: "model: support-prod is not pinned"),
                PinCase(
                    name: "azure with auto-upgrade",
                    model: model(
                        "azure-openai", "support-prod", ["version": .string("2024-08-06"), "auto_upgrade": .bool(true)]),
                    failure: "model: support-prod is not pinned"),
                PinCase(
                    name: "self-hosted by digest",
                    model: model(
                        "self-hosted", "llama-3-70b",
                        ["digest": .string("sha256:" + String(repeating: "a1", count: 32))]),
                    failure: nil),
                PinCase(
                    name: "self-hosted by revision",
                    model: model(
                        "self-hosted", "llama-3-70b", ["revision": .string(String(repeating: "0f", count: 20))]),
                    failure: nil),
                PinCase(
                    name: "self-hosted by name only", model: model("self-hosted", "llama-3-70b"),
                    failure: "model: llama-3-70b is not pinned"),
                PinCase(
                    name: "unknown provider", model: model("acme-ai", "acme-large"),
                    failure: "model: unknown provider \"acme-ai\""),
                PinCase(
                    name: "unknown provider allowed by the policy", model: model("acme-ai", "acme-large"), allow: true,
                    failure: nil),
                PinCase(
                    name: "floating judge model", model: claude, judge: model("openai", "gpt-4o"),
                    failure: "judge: gpt-4o is not pinned"),
                PinCase(
                    name: "pinned judge model", model: claude, judge: model("openai", "gpt-4o-2024-08-06"), failure: nil
                ),
                PinCase(
                    name: "code by a short commit", model: claude, commit: "9fceb02",
                    failure: "code: 9fceb02 is not a full 40-hex commit"),
            ]
        }

        @Test("components-pinned: the model pins table, through a policy", arguments: PinCase.all)
        func componentsPinned(_ pin: PinCase) throws {
            let bench = try Bench()
            let id = try bench.releases.versions.record(
                pinningVersion(model: pin.model, judge: pin.judge, commit: pin.commit), label: nil
            ).id
            var policy = PolicyText()
            if pin.allow {
                policy.pins = "pins: model-pins.yaml\n    allow: [{provider: acme-ai, id: acme-large}]"
            }
            let run = try bench.run(id, policy: policy)
            if let failure = pin.failure {
                expect(run, "components-pinned", .fail, mentions: [failure])
            } else {
                expect(run, "components-pinned", .pass, mentions: ["pinned"])
            }
            #expect(run.result("components-pinned").evidence.map(\.source) == ["file:model-pins.yaml"])
        }

        // MARK: queue-healthy

        @Test("queue-healthy: passes with room, consumers and young tasks")
        func queueHealthy() throws {
            let bench = try Bench()
            let id = try bench.ready("one")
            expect(try bench.run(id), "queue-healthy", .pass, mentions: ["12/500", "4 consumers"])
        }

        @Test("queue-healthy: fails for each limit, naming it", arguments: ["utilization", "consumers", "oldest"])
        func queueUnhealthy(_ limit: String) throws {
            let bench = try Bench()
            let id = try bench.ready("one")
            switch limit {
            case "utilization":
                try bench.queue(depth: 450)
                expect(
                    try bench.run(id), "queue-healthy", .fail,
                    mentions: ["450 of 500", "90%", "above the limit of 80%"])
            case "consumers":
                try bench.queue(consumers: 1)
                expect(
                    try bench.run(id), "queue-healthy", .fail, mentions: ["1 consumers, fewer than the minimum of 2"])
            default:
                try bench.queue(oldest: 900)
                expect(
                    try bench.run(id), "queue-healthy", .fail, mentions: ["waited 15m", "longer than the limit of 5m"])
            }
        }

        @Test("queue-healthy: stale evidence (by its own limit, else a day) and a missing field are errors that block")
        func queueEvidenceUnusable() throws {
            let bench = try Bench()
            let id = try bench.ready("one")
            try bench.queue(observedAt: Date().addingTimeInterval(-3600))
            expect(try bench.run(id), "queue-healthy", .error, mentions: ["file:evidence/queue.json", "stale", "10m"])

            try bench.queue(consumers: nil)
            expect(try bench.run(id), "queue-healthy", .error, mentions: ["consumers is missing"])

            try bench.queue(observedAt: Date().addingTimeInterval(-25 * 3600))
            expect(
                try bench.run(id, policy: PolicyText(queue: "{file: evidence/queue.json}")), "queue-healthy", .error,
                mentions: ["stale", "older than the limit of 1d"])
        }

        // MARK: dashboards-updated

        @Test(
            "dashboards-updated: the id, an 8-character prefix or the label counts",
            arguments: ["id", "prefix", "label"])
        func dashboardReferencesTheCandidate(_ form: String) throws {
            let bench = try Bench()
            let id = try bench.ready("one", label: "support-agent@1.1.0")
            try bench.dashboard(
                referencing: ["id": id, "prefix": String(id.prefix(8)), "label": "support-agent@1.1.0"][form]!)
            expect(try bench.run(id), "dashboards-updated", .pass, mentions: ["references \(bench.short(id))"])
        }

        @Test("dashboards-updated: a 7-character prefix does not count")
        func sevenCharactersAreTooFew() throws {
            let bench = try Bench()
            let id = try bench.ready("one")
            try bench.dashboard(referencing: String(id.prefix(7)))
            expect(try bench.run(id), "dashboards-updated", .fail, mentions: ["does not reference \(bench.short(id))"])
        }

        @Test("dashboards-updated: a dashboard still on the previous version fails, naming that version")
        func dashboardOnThePreviousVersion() throws {
            let bench = try Bench()
            let old = try bench.ready("one", label: "support-agent@1.0.0")
            let new = try bench.ready("two", label: "support-agent@1.1.0")
            try bench.dashboard(referencing: "support-agent@1.0.0")
            expect(
                try bench.run(new), "dashboards-updated", .fail,
                mentions: [
                    "does not reference \(bench.short(new))", "it references \(bench.short(old)) (support-agent@1.0.0)",
                ])
        }

        @Test("dashboards-updated: a label inside another version's label (agent@1.1 in agent@1.10) is not a reference")
        func labelInsideAnotherLabel() throws {
            let bench = try Bench()
            let candidate = try bench.ready("one", label: "agent@1.1")
            let other = try bench.ready("two", label: "agent@1.10")
            try bench.dashboard(referencing: "agent@1.10")
            expect(
                try bench.run(candidate), "dashboards-updated", .fail,
                mentions: ["does not reference \(bench.short(candidate))", "it references \(bench.short(other))"])
        }

        // MARK: rollback-tested

        @Test("rollback-tested: a missing or empty runbook fails")
        func runbookMissingOrEmpty() throws {
            let bench = try Bench()
            let id = try bench.ready("one")
            expect(
                try bench.run(id, policy: PolicyText(runbook: "runbooks/missing.md")), "rollback-tested", .fail,
                mentions: ["runbooks/missing.md does not exist"])
            try bench.write("runbooks/rollback.md", " \n\t\n")
            expect(try bench.run(id), "rollback-tested", .fail, mentions: ["runbooks/rollback.md is empty"])
        }

        @Test("rollback-tested: the first deployment, with nothing serving, passes")
        func firstDeployment() throws {
            let bench = try Bench()
            let id = try bench.ready("one")
            expect(try bench.run(id), "rollback-tested", .pass, mentions: ["nothing to roll back to"])
        }

        @Test("rollback-tested: only a recent passed drill of the exact pair counts")
        func drills() throws {
            let bench = try Bench()
            let serving = try bench.ready("one", label: "agent@1")
            let candidate = try bench.ready("two", label: "agent@2")
            let other = try bench.ready("three", label: "agent@3")
            try bench.serve(serving)

            expect(
                try bench.run(candidate), "rollback-tested", .fail,
                mentions: ["no passed drill rolling back from \(bench.short(candidate))", "to \(bench.short(serving))"])

            let wrongPair = try bench.releases.traffic.recordDrill(
                env: .staging, from: candidate, to: other, result: .passed)
            expect(
                try bench.run(candidate), "rollback-tested", .fail,
                mentions: ["drills of other pairs do not count", "to \(bench.short(other)) (seq \(wrongPair))"])

            _ = try bench.releases.traffic.recordDrill(env: .staging, from: serving, to: candidate, result: .passed)
            expect(try bench.run(candidate), "rollback-tested", .fail, mentions: ["no passed drill"])

            let failed = try bench.releases.traffic.recordDrill(
                env: .staging, from: candidate, to: serving, result: .failed)
            expect(try bench.run(candidate), "rollback-tested", .fail, mentions: ["(seq \(failed)) failed"])

            let passed = try bench.releases.traffic.recordDrill(
                env: .staging, from: candidate, to: serving, result: .passed)
            expect(try bench.run(candidate), "rollback-tested", .pass, mentions: ["(seq \(passed))"])
        }

        @Test(
            "rollback-tested and eval-passed: a drill and an evaluation (by its entry's time) older than the limit fail"
        )
        func oldDrillAndEvaluation() throws {
            let bench = try Bench()
            let start = Date()
            bench.setClock(start)
            let serving = try bench.ready("one")
            let candidate = try bench.ready("two")
            try bench.serve(serving)
            let drill = try bench.releases.traffic.recordDrill(
                env: .staging, from: candidate, to: serving, result: .passed)
            let fresh = try bench.run(candidate)
            expect(fresh, "rollback-tested", .pass)
            expect(fresh, "eval-passed", .pass)
            // The limits are 7 days for the drill and 3 for the evaluation: a second before each, and a second after.
            func run(after seconds: TimeInterval) throws -> ChecklistRun {
                bench.setClock(start.addingTimeInterval(seconds))
                return try bench.run(candidate)
            }
            expect(try run(after: 3 * 86_400 - 1), "eval-passed", .pass)
            let evaluationStale = try run(after: 3 * 86_400 + 1)
            expect(
                evaluationStale, "eval-passed", .fail,
                mentions: ["older than the limit of 3d", "evaluate this version again"])
            expect(evaluationStale, "rollback-tested", .pass)
            expect(try run(after: 7 * 86_400 - 1), "rollback-tested", .pass)
            expect(
                try run(after: 7 * 86_400 + 1), "rollback-tested", .fail,
                mentions: ["seq \(drill)", "older than the limit of 7d"])
        }

        // MARK: eval-passed

        @Test("eval-passed: no evaluation, or only one of another version, fails")
        func noEvaluationOfThisVersion() throws {
            let bench = try Bench()
            let id = try bench.test.record(prompt: "unevaluated", label: "agent@2")
            try bench.dashboard(referencing: id)
            expect(try bench.run(id), "eval-passed", .fail, mentions: ["no evaluation recorded for \(bench.short(id))"])

            _ = try bench.ready("evaluated", label: "agent@1")
            expect(
                try bench.run(id), "eval-passed", .fail,
                mentions: [
                    "no evaluation recorded for \(bench.short(id))", "evaluations of other versions do not count",
                ])
        }

        @Test("eval-passed: an evaluation older than the limit fails")
        func staleEvaluation() throws {
            let bench = try Bench()
            let id = try bench.test.record(prompt: "one")
            try bench.dashboard(referencing: id)
            let old = try bench.evaluate(id, [("refund", true)], observedAt: "2020-01-02T03:04:05Z")
            expect(
                try bench.run(id), "eval-passed", .fail,
                mentions: ["seq \(old.seq)", "2020-01-02T03:04:05", "older than the limit of 3d"])
        }

        @Test("eval-passed: an evaluation dated in the future is refused, or does not pass; it is never fresh forever")
        func evaluationFromTheFuture() throws {
            let bench = try Bench()
            let id = try bench.test.record(prompt: "one")
            try bench.dashboard(referencing: id)
            let size = try bench.ledger.size()
            do {
                try bench.evaluate(id, [("refund", true)], observedAt: "2099-01-01T00:00:00Z")
            } catch let error as LedgerError {
                #expect(error.code == .invalidInput && error.message.contains("2099-01-01"), "\(error)")
                #expect(try bench.ledger.size() == size, "a refused evaluation writes nothing")
                return
            }
            let result = try bench.run(id).result("eval-passed")
            #expect(result.verdict != .pass, "\(result.reason)")
            #expect(result.reason.contains("2099-01-01"), "\(result.reason)")
        }

        @Test("eval-passed: a case failing every time is not hidden by a 98% average")
        func oneCaseAlwaysFails() throws {
            let bench = try Bench()
            let id = try bench.test.record(prompt: "one")
            var cases: [(String, Bool)] = []
            for _ in 0..<10 {
                for index in 1...50 { cases.append(("case-\(index)", index < 50)) }
            }
            let summary = try bench.evaluate(id, cases)
            #expect(summary.runs == 500 && summary.passed == 490 && summary.cases == 50)
            let run = try bench.run(id)
            expect(
                run, "eval-passed", .fail, mentions: ["1 case(s) below the per-case pass rate of 80%", "case-50 0/10"])
            #expect(!run.result("eval-passed").reason.contains("overall"), "98% overall is above 95%")
        }

        @Test("eval-passed: repeated runs of a case count towards its pass rate")
        func repeatedRuns() throws {
            let bench = try Bench()
            let id = try bench.test.record(prompt: "one")
            let fourOfFive = [true, true, false, true, true].map { ("flaky", $0) }
            let others = (1...20).map { ("steady-\($0)", true) }
            try bench.evaluate(id, fourOfFive + others)
            expect(try bench.run(id), "eval-passed", .pass, mentions: ["21 cases"])

            let threeOfFive = [true, false, false, true, true].map { ("flaky", $0) }
            try bench.evaluate(id, threeOfFive + others)
            expect(try bench.run(id), "eval-passed", .fail, mentions: ["flaky 3/5"])
        }

        @Test("eval-passed: an overall pass rate below the threshold fails on its own")
        func overallBelowThreshold() throws {
            let bench = try Bench()
            let id = try bench.test.record(prompt: "one")
            try bench.evaluate(id, (1...10).map { ("case-\($0)", $0 != 10) })
            var policy = PolicyText()
            policy.evaluation = ["max-age: 3d", "min-pass-rate: 0.95", "min-case-pass-rate: 0"]
            let run = try bench.run(id, policy: policy)
            expect(run, "eval-passed", .fail, mentions: ["overall pass rate 90% is below 95%"])
            #expect(!run.result("eval-passed").reason.contains("per-case"))
        }

        @Test("eval-passed: a case of the serving version's suite that was not run fails")
        func baselineCaseMissing() throws {
            let bench = try Bench()
            let serving = try bench.test.record(prompt: "one")
            let candidate = try bench.test.record(prompt: "two")
            try bench.serve(serving)
            try bench.evaluate(serving, [("refund", true), ("order status", true), ("legal question", true)])
            try bench.evaluate(candidate, [("refund", true), ("order status", true)])
            expect(
                try bench.run(candidate), "eval-passed", .fail,
                mentions: ["1 case(s) of the baseline's suite", "legal question"])

            try bench.evaluate(candidate, [("refund", true), ("order status", true), ("legal question", true)])
            expect(try bench.run(candidate), "eval-passed", .pass)
        }

        // MARK: canary-configured

        @Test("canary-configured: the template passes")
        func canaryTemplate() throws {
            let bench = try Bench()
            let id = try bench.ready("one")
            expect(try bench.run(id), "canary-configured", .pass, mentions: ["steps 5, 25, 50, 100%"])
        }

        @Test("canary-configured: steps not increasing, pass not above marginal, or no file, fail")
        func canaryProblems() throws {
            let bench = try Bench()
            let id = try bench.ready("one")
            let template = try String(contentsOfFile: templateFolder + "/canary.yaml", encoding: .utf8)
            #expect(template.contains("steps: [5, 25, 50, 100]") && template.contains("  pass: 0.9\n"))

            try bench.write(
                "canary.yaml", template.replacingOccurrences(of: "[5, 25, 50, 100]", with: "[5, 50, 25, 100]"))
            expect(try bench.run(id), "canary-configured", .fail, mentions: ["steps [5, 50, 25, 100] do not increase"])

            try bench.write("canary.yaml", template.replacingOccurrences(of: "  pass: 0.9\n", with: "  pass: 0.6\n"))
            expect(
                try bench.run(id), "canary-configured", .fail,
                mentions: ["scoring.pass 0.6 is not above scoring.marginal 0.6"])

            expect(
                try bench.run(id, policy: PolicyText(canary: "nowhere.yaml")), "canary-configured", .fail,
                mentions: ["nowhere.yaml"])
        }
    }

}

// MARK: - Evidence from a server and a command

extension ChecklistTests {
    @Suite("evidence from a real HTTP server and from commands")
    struct Probes {
        static let healthy = Bench.queueJSON(12, 500, 4, 3, Date())

        @Test("HTTP: healthy passes, unhealthy fails, slow and malformed answers are errors that block")
        func httpQueueProbe() throws {
            let server = try LoopbackServer(routes: [
                "/healthy/prod": .json(Self.healthy),
                "/busy/prod": .json(Bench.queueJSON(450, 500, 4, 3, Date())),
                "/slow/prod": {
                    var slow = LoopbackServer.Response.json(Self.healthy)
                    slow.delay = 5
                    return slow
                }(),
                "/malformed/prod": .json(#"{"depth": 12, "capacity": "#),
            ])
            let bench = try Bench()
            let id = try bench.ready("one")
            func probe(_ path: String) -> PolicyText {
                PolicyText(queue: "{http: \"\(server.url("/\(path)/{env}"))\", timeout: 500ms}")
            }

            let healthy = try bench.run(id, policy: probe("healthy"))
            expect(healthy, "queue-healthy", .pass, mentions: ["12/500"])
            #expect(healthy.result("queue-healthy").evidence.first?.source == "http:" + server.url("/healthy/prod"))
            #expect(healthy.allowed)

            expect(
                try bench.run(id, policy: probe("busy")), "queue-healthy", .fail, mentions: ["above the limit of 80%"])

            // About real time itself: the probe's timeout, not the server's 5 s delay, ends the wait.
            let started = Date()
            expect(
                try bench.run(id, policy: probe("slow")), "queue-healthy", .error, mentions: ["timed out after 0.5 s"])
            #expect(Date().timeIntervalSince(started) < 3, "the timeout, not the server, ended the wait")

            expect(
                try bench.run(id, policy: probe("malformed")), "queue-healthy", .error,
                mentions: ["/malformed/prod", "not JSON"])
            #expect(server.requests.contains("/slow/prod") && server.requests.contains("/malformed/prod"))
        }

        @Test("command: a non-zero exit and garbage on stdout are errors that block")
        func commandProbe() throws {
            let bench = try Bench()
            let id = try bench.ready("one")
            try bench.write("probe-ok.sh", "printf '%s\\n' '\(Self.healthy)'\n")
            try bench.write("probe-exit.sh", "echo 'queue unreachable' >&2\nexit 3\n")
            try bench.write("probe-garbage.sh", "echo 'depth=12 capacity=500'\n")

            expect(try bench.run(id, policy: PolicyText(queue: "{command: [sh, probe-ok.sh]}")), "queue-healthy", .pass)
            expect(
                try bench.run(id, policy: PolicyText(queue: "{command: [sh, probe-exit.sh]}")), "queue-healthy", .error,
                mentions: ["command:sh probe-exit.sh", "exit status 3", "queue unreachable"])
            expect(
                try bench.run(id, policy: PolicyText(queue: "{command: [sh, probe-garbage.sh]}")), "queue-healthy",
                .error, mentions: ["stdout is not JSON", "depth=12"])
        }
    }

}

// MARK: - Waivers

extension ChecklistTests {
    @Suite("waivers")
    struct Waivers {
        @Test("a valid waiver turns a failure into waived, shown with who and why, and the run is allowed")
        func validWaiver() throws {
            let bench = try Bench()
            let id = try bench.ready("one")
            try bench.dashboard(referencing: "nothing in particular")
            #expect(try !bench.run(id).allowed)

            let seq = try bench.releases.checklist.grantWaiver(
                version: id, check: "dashboards-updated", reason: "dashboard migration OPS-88",
                approver: "dana@example.com", expires: Date().addingTimeInterval(3600))
            let run = try bench.run(id)
            expect(
                run, "dashboards-updated", .waived,
                mentions: ["dana@example.com", "dashboard migration OPS-88", "(seq \(seq))", "does not reference"])
            #expect(run.allowed)
            #expect(run.result("dashboards-updated").evidence.contains { $0.source.contains("seq \(seq)") })
            #expect(run.checks.filter { $0.verdict == .waived }.count == 1)
        }

        @Test("a waiver of one version or one check does not cover another")
        func waiverScope() throws {
            let bench = try Bench()
            let id = try bench.ready("one")
            let other = try bench.ready("two")
            try bench.dashboard(referencing: "nothing in particular")
            _ = try bench.releases.checklist.grantWaiver(
                version: other, check: "dashboards-updated", reason: "r", approver: "a",
                expires: Date().addingTimeInterval(3600))
            _ = try bench.releases.checklist.grantWaiver(
                version: id, check: "eval-passed", reason: "r", approver: "a", expires: Date().addingTimeInterval(3600))
            expect(try bench.run(id), "dashboards-updated", .fail)
        }

        @Test("an expired waiver no longer applies")
        func expiredWaiver() throws {
            let bench = try Bench()
            let start = Date()
            bench.setClock(start)
            let id = try bench.ready("one")
            try bench.dashboard(referencing: "nothing in particular")
            _ = try bench.releases.checklist.grantWaiver(
                version: id, check: "dashboards-updated", reason: "migration", approver: "dana",
                expires: start.addingTimeInterval(3600))
            expect(try bench.run(id), "dashboards-updated", .waived)
            bench.setClock(start.addingTimeInterval(3599))
            expect(try bench.run(id), "dashboards-updated", .waived)
            bench.setClock(start.addingTimeInterval(3601))
            expect(try bench.run(id), "dashboards-updated", .fail, mentions: ["does not reference"])
        }

        @Test("a waiver never turns an error into waived")
        func errorsAreNotWaived() throws {
            let bench = try Bench()
            let id = try bench.ready("one")
            try bench.queue(capacity: nil)
            _ = try bench.releases.checklist.grantWaiver(
                version: id, check: "queue-healthy", reason: "queue metrics broken", approver: "dana",
                expires: Date().addingTimeInterval(3600))
            expect(try bench.run(id), "queue-healthy", .error, mentions: ["capacity is missing"])
        }

        @Test(
            "grantWaiver refuses an unknown or unwaivable check, an empty reason or approver, a past expiry; writes nothing"
        )
        func refusedWaivers() throws {
            let bench = try Bench()
            let id = try bench.ready("one")
            let size = try bench.ledger.size()
            let later = Date().addingTimeInterval(3600)
            func refusal(
                check: String = "dashboards-updated", reason: String = "why", approver: String = "who", expires: Date
            ) -> LedgerError? {
                do {
                    _ = try bench.releases.checklist.grantWaiver(
                        version: id, check: check, reason: reason, approver: approver, expires: expires)
                    return nil
                } catch {
                    return error
                }
            }
            let unknown = refusal(check: "vibes-checked", expires: later)
            #expect(unknown?.code == .usage && unknown?.message.contains("unknown check vibes-checked") == true)
            let noReason = refusal(reason: "  ", expires: later)
            // The field the request names; the command line renders it as its flag.
            #expect(
                noReason?.code == .usage
                    && noReason?.message == "a waiver needs reason: who approved it and why stay in the ledger")
            #expect(noReason?.text.rendered { "--" + $0 }.hasPrefix("a waiver needs --reason:") == true)
            let noApprover = refusal(approver: "", expires: later)
            #expect(noApprover?.code == .usage && noApprover?.message.hasPrefix("a waiver needs approver:") == true)
            let integrity = refusal(check: "version-recorded", expires: later)
            #expect(
                integrity?.code == .usage && integrity?.message.contains("version-recorded cannot be waived") == true)
            let past = refusal(expires: Date().addingTimeInterval(-60))
            #expect(past?.code == .invalidInput && past?.message.contains("is not in the future") == true)
            #expect(try bench.ledger.size() == size)
        }
    }

}

// MARK: - Recording

extension ChecklistTests {
    @Suite("every run is recorded")
    struct Recording {
        @Test("a blocked run is recorded with its verdicts and the digests of its evidence and policy")
        func blockedRunIsRecorded() throws {
            let bench = try Bench()
            let id = try bench.ready("one")
            try bench.queue(depth: 499)
            let size = try bench.ledger.size()
            let run = try bench.run(id)
            #expect(!run.allowed)
            let after = try bench.ledger.size()
            #expect(run.seq == size && after == size + 1)

            let entry = try #require(try bench.ledger.entry(run.seq))
            #expect(entry.kind == "checklist.evaluated")
            let body = try entry.body
            #expect(body["allowed"] == .bool(false) && body["version"] == .string(id) && body["env"] == .string("prod"))
            let policyBytes = try #require(FileManager.default.contents(atPath: bench.path("checklist.yaml")))
            let policyDigest = Hash.sha256(Array(policyBytes)).hex
            #expect(body["policy"]?["digest"] == .string(policyDigest))
            #expect(try bench.ledger.artifact(try #require(Hash(hex: policyDigest))) == Array(policyBytes))

            let checks =
                body["checks"].map { value -> [JSONValue] in
                    if case .array(let items) = value { return items }
                    return []
                } ?? []
            #expect(checks.compactMap { $0["id"]?.stringValue } == ChecklistPolicy.checkIDs)
            let queue = try #require(checks.first { $0["id"] == .string("queue-healthy") })
            #expect(queue["verdict"] == .string("fail"))
            let queueBytes = try #require(FileManager.default.contents(atPath: bench.path("evidence/queue.json")))
            guard case .array(let evidence)? = queue["evidence"] else {
                Issue.record("queue-healthy has no evidence list: \(queue)")
                return
            }
            #expect(evidence.first?["digest"] == .string(Hash.sha256(Array(queueBytes)).hex))
            #expect(evidence.first?["source"] == .string("file:evidence/queue.json"))
        }

        @Test("the same inputs give the same verdict document, byte for byte")
        func sameInputsSameDocument() throws {
            let bench = try Bench()
            let id = try bench.ready("one")
            try bench.dashboard(referencing: "nothing in particular")
            let first = try bench.run(id)
            let second = try bench.run(id)
            #expect(second.seq == first.seq + 1, "both runs are recorded")
            #expect(CanonicalJSON.encode(first.document) == CanonicalJSON.encode(second.document))
            #expect(first.document["allowed"] == .bool(false))
        }
    }

}

// MARK: - The gate

extension ChecklistTests {
    @Suite("the deploy gate")
    struct Gate {
        /// The error `deploy` throws, or nil if it deploys.
        static func refusal(_ body: () throws(LedgerError) -> LifecycleOutcome) -> LedgerError? {
            do {
                _ = try body()
                return nil
            } catch {
                return error
            }
        }

        @Test("without a run, blue-green and canary are blocked and nothing is written")
        func noRun() throws {
            let bench = try Bench()
            let serving = try bench.ready("one")
            let candidate = try bench.ready("two")
            var size = try bench.ledger.size()
            let blueGreen = Self.refusal { () throws(LedgerError) in
                try bench.releases.traffic.deploy(serving, env: .prod, strategy: .blueGreen)
            }
            #expect(blueGreen?.code == .blocked)
            #expect(blueGreen?.message.contains("no checklist run allows \(bench.short(serving)) in prod") == true)
            #expect(try bench.ledger.size() == size)

            try bench.serve(serving)
            size = try bench.ledger.size()
            let canary = Self.refusal { () throws(LedgerError) in
                try bench.releases.traffic.deploy(candidate, env: .prod, strategy: .canary, weight: 10)
            }
            #expect(canary?.code == .blocked)
            #expect(canary?.message.contains("no checklist run allows \(bench.short(candidate))") == true)
            #expect(try bench.ledger.size() == size)
        }

        @Test("after a blocked run, deploy is blocked naming the run's seq")
        func afterBlockedRun() throws {
            let bench = try Bench()
            let id = try bench.ready("one")
            try bench.queue(consumers: 0)
            let run = try bench.run(id)
            #expect(!run.allowed)
            let size = try bench.ledger.size()
            let error = Self.refusal { () throws(LedgerError) in
                try bench.releases.traffic.deploy(id, env: .prod, strategy: .blueGreen)
            }
            #expect(error?.code == .blocked)
            #expect(
                error?.message.contains("(seq \(run.seq)) blocked the release") == true, "\(String(describing: error))")
            #expect(try bench.ledger.size() == size)
        }

        @Test("after an allowed run, deploy proceeds; the run covers only its version and environment")
        func afterAllowedRun() throws {
            let bench = try Bench()
            let other = try bench.ready("two")
            let id = try bench.ready("one")
            let run = try bench.run(id)
            try #require(run.allowed, "\(run.checks.filter { $0.verdict != .pass })")

            let staging = Self.refusal { () throws(LedgerError) in
                try bench.releases.traffic.deploy(id, env: .staging, strategy: .blueGreen)
            }
            #expect(staging?.code == .blocked, "a run for prod does not allow staging")
            let otherVersion = Self.refusal { () throws(LedgerError) in
                try bench.releases.traffic.deploy(other, env: .prod, strategy: .blueGreen)
            }
            #expect(otherVersion?.code == .blocked, "a run for one version does not allow another")

            let outcome = try bench.releases.traffic.deploy(id, env: .prod, strategy: .blueGreen)
            #expect(outcome.kind == "deployment.started")
            let body = try #require(try bench.ledger.entry(outcome.seq)).body
            #expect(body["version"] == .string(id) && body["break_glass"] == nil)
        }

        @Test("an allowing run expires after the policy's max-age")
        func expiredRun() throws {
            let bench = try Bench()
            let start = Date()
            bench.setClock(start)
            let id = try bench.ready("one")
            let run = try bench.run(id)
            try #require(run.allowed)
            // The policy's max-age is 24 hours: a second after, the run no longer allows; a second before, it does.
            bench.setClock(start.addingTimeInterval(86_400 + 1))
            let size = try bench.ledger.size()
            let error = Self.refusal { () throws(LedgerError) in
                try bench.releases.traffic.deploy(id, env: .prod, strategy: .blueGreen)
            }
            #expect(error?.code == .blocked)
            #expect(error?.message.contains("(seq \(run.seq)") == true && error?.message.contains("expired at") == true)
            #expect(try bench.ledger.size() == size)
            bench.setClock(start.addingTimeInterval(86_400 - 1))
            let deployed = try bench.releases.traffic.deploy(id, env: .prod, strategy: .blueGreen)
            #expect(deployed.kind == "deployment.started")
        }

        @Test("break-glass deploys without a run and records who and why; it needs both")
        func breakGlass() throws {
            let bench = try Bench()
            let id = try bench.ready("one")
            let size = try bench.ledger.size()
            let empty = Self.refusal { () throws(LedgerError) in
                try bench.releases.traffic.deploy(
                    id, env: .prod, strategy: .blueGreen, breakGlass: BreakGlass(reason: "hotfix", approver: " "))
            }
            // The request's field; the command line names it as its flag.
            #expect(empty?.code == .usage && empty?.message.contains("needs breakGlassApprover") == true)
            #expect(try bench.ledger.size() == size)

            let outcome = try bench.releases.traffic.deploy(
                id, env: .prod, strategy: .blueGreen,
                breakGlass: BreakGlass(reason: "hotfix for incident 42", approver: "dana@example.com"))
            let body = try #require(try bench.ledger.entry(outcome.seq)).body
            #expect(
                body["break_glass"]
                    == .object(["reason": .string("hotfix for incident 42"), "approver": .string("dana@example.com")]))
        }

        @Test("a shadow serves no traffic and is not gated (so break-glass on it is refused)")
        func shadowIsNotGated() throws {
            let bench = try Bench()
            let serving = try bench.ready("one")
            let shadow = try bench.ready("two")
            try bench.serve(serving)
            let size = try bench.ledger.size()
            let overridden = Self.refusal { () throws(LedgerError) in
                try bench.releases.traffic.deploy(shadow, env: .prod, strategy: .shadow, breakGlass: .test)
            }
            #expect(overridden?.code == .usage && overridden?.message.contains("a shadow is not gated") == true)
            #expect(try bench.ledger.size() == size)

            let outcome = try bench.releases.traffic.deploy(shadow, env: .prod, strategy: .shadow)
            #expect(outcome.kind == "deployment.started")
            #expect(try bench.ledger.entry(outcome.seq)?.body["break_glass"] == nil)
        }
    }
}
