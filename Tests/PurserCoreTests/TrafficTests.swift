import Foundation
import PurserCore
import PurserLedger
import Testing

/// The traffic an environment should have, written by hand: (version, weight, role) in `shares` order.
typealias Expected = [(String, Int, TrafficShare.Role)]

func shares(_ expected: Expected) -> [TrafficShare] {
    expected.map { TrafficShare(version: $0.0, weight: $0.1, role: $0.2) }
}

@Suite("Traffic: deployments, rollbacks and what ran when")
struct TrafficTests {
    /// One step of a scripted history: what to do, in which environment, when it took effect (minutes
    /// after the base time), and the traffic it should leave.
    struct Step {
        let env: EnvironmentName
        let minute: Int
        let action: (Traffic, Date) throws -> LifecycleOutcome
        let expected: Expected
    }

    static let base = Timestamp.parse("2026-01-05T10:00:00Z")!

    static func time(_ minute: Int) -> Date { base.addingTimeInterval(Double(minute) * 60) }

    @Test("a scripted history answers `at` at every event instant and between them, in every environment")
    func scriptedHistory() throws {
        let test = try TestReleases()
        let v1 = try test.record(prompt: "v1", label: "agent@1")
        let v2 = try test.record(prompt: "v2", label: "agent@2")
        let v3 = try test.record(prompt: "v3")
        let steps: [Step] = [
            Step(
                env: .prod, minute: 1,
                action: { try $0.deploy(v1, env: .prod, strategy: .blueGreen, effectiveAt: $1, breakGlass: .test) },
                expected: [(v1, 100, .serving)]),
            Step(
                env: .prod, minute: 2,
                action: {
                    try $0.deploy("agent@2", env: .prod, strategy: .canary, effectiveAt: $1, breakGlass: .test)
                },
                expected: [(v1, 95, .serving), (v2, 5, .serving)]),
            Step(
                env: .staging, minute: 2,
                action: { try $0.deploy(v2, env: .staging, strategy: .blueGreen, effectiveAt: $1, breakGlass: .test) },
                expected: [(v2, 100, .serving)]),
            Step(
                env: .prod, minute: 3, action: { try $0.shift(env: .prod, weight: 25, effectiveAt: $1) },
                expected: [(v1, 75, .serving), (v2, 25, .serving)]),
            // Two changes at the same instant: the later entry is in force at that instant.
            Step(
                env: .prod, minute: 3, action: { try $0.shift(env: .prod, weight: 50, effectiveAt: $1) },
                expected: [(v1, 50, .serving), (v2, 50, .serving)]),
            Step(
                env: .prod, minute: 5, action: { try $0.promote(env: .prod, effectiveAt: $1) },
                expected: [(v2, 100, .serving), (v1, 0, .draining)]),
            Step(
                env: .prod, minute: 6, action: { try $0.drained(env: .prod, version: "agent@1", effectiveAt: $1) },
                expected: [(v2, 100, .serving)]),
            Step(
                env: .prod, minute: 8,
                action: { try $0.deploy(v3, env: .prod, strategy: .shadow, effectiveAt: $1) },
                expected: [(v2, 100, .serving), (v3, 0, .shadow)]),
            Step(
                env: .staging, minute: 9,
                action: { try $0.deploy(v3, env: .staging, strategy: .blueGreen, effectiveAt: $1, breakGlass: .test) },
                expected: [(v3, 100, .serving), (v2, 0, .draining)]),
            Step(
                env: .prod, minute: 10, action: { try $0.abort(env: .prod, effectiveAt: $1) },
                expected: [(v2, 100, .serving)]),
            Step(
                env: .prod, minute: 12,
                action: {
                    try $0.deploy(v3, env: .prod, strategy: .canary, weight: 10, effectiveAt: $1, breakGlass: .test)
                },
                expected: [(v2, 90, .serving), (v3, 10, .serving)]),
            Step(
                env: .prod, minute: 13,
                action: { try $0.rollback(env: .prod, reason: "quality fell", effectiveAt: $1) },
                expected: [(v2, 100, .serving), (v3, 0, .draining)]),
            Step(
                env: .prod, minute: 13, action: { try $0.drained(env: .prod, version: v3, effectiveAt: $1) },
                expected: [(v2, 100, .serving)]),
            Step(
                env: .prod, minute: 20,
                action: { try $0.deploy(v3, env: .prod, strategy: .blueGreen, effectiveAt: $1, breakGlass: .test) },
                expected: [(v3, 100, .serving), (v2, 0, .draining)]),
            // No rollout in progress: back to the version that had all traffic before v3.
            Step(
                env: .prod, minute: 21,
                action: { try $0.rollback(env: .prod, reason: "incident 42", effectiveAt: $1) },
                expected: [(v2, 100, .serving), (v3, 0, .draining)]),
        ]
        for step in steps {
            let outcome = try step.action(test.releases.traffic, Self.time(step.minute))
            #expect(outcome.env == step.env.name)
            #expect(outcome.effectiveAt == Timestamp.format(Self.time(step.minute)))
            #expect(outcome.state.shares == shares(step.expected), "after the step at minute \(step.minute)")
        }

        // The answer at any instant: per environment, the state after its last step at or before it.
        func expectedAt(_ instant: Date) -> [String: [TrafficShare]] {
            var state: [String: [TrafficShare]] = [:]
            for step in steps where Self.time(step.minute) <= instant { state[step.env.name] = shares(step.expected) }
            return state
        }
        var instants: [Date] = [Self.time(0)]
        for minute in 1...22 {
            instants += [
                Self.time(minute), Self.time(minute).addingTimeInterval(-0.001),
                Self.time(minute).addingTimeInterval(30),
            ]
        }
        for instant in instants {
            let answer = try test.releases.traffic.at(Timestamp.format(instant))
            let actual = Dictionary(uniqueKeysWithValues: answer.map { ($0.env, $0.state.shares) })
            #expect(actual == expectedAt(instant), "at \(Timestamp.format(instant))")
            let prod = try test.releases.traffic.at(Timestamp.format(instant), env: .prod)
            #expect(prod.map(\.state.shares) == [expectedAt(instant)["prod"]].compactMap { $0 })
        }

        let history = try test.releases.traffic.history(env: .prod)
        #expect(history.count == steps.filter { $0.env == .prod }.count)
        #expect(history.last?.kind == "rollback.performed")
        #expect(history.last?.body["reason"]?.stringValue == "incident 42")
        let window = try test.releases.traffic.history(
            since: Timestamp.format(Self.time(3)), until: Timestamp.format(Self.time(6)))
        #expect(window.map(\.effectiveAt) == [3, 3, 5].map { Timestamp.format(Self.time($0)) })
        let v1History = try test.releases.traffic.history(version: "agent@1")
        #expect(v1History.map(\.seq).count == 6, "v1 takes part from its deployment until it has drained")
    }

    @Test("reindex after dropping the query tables, and reopening without them, give identical answers")
    func reindexGivesIdenticalAnswers() throws {
        let test = try TestReleases()
        let v1 = try test.record(prompt: "one", label: "agent@1")
        let v2 = try test.record(prompt: "two", label: "agent@2")
        _ = try test.releases.traffic.deploy(v1, env: .prod, strategy: .blueGreen, breakGlass: .test)
        _ = try test.releases.traffic.deploy(v2, env: .prod, strategy: .canary, weight: 20, breakGlass: .test)
        _ = try test.releases.traffic.deploy(v2, env: .staging, strategy: .blueGreen, breakGlass: .test)
        _ = try test.releases.traffic.promote(env: .prod)
        _ = try test.releases.traffic.recordDrill(env: .staging, from: v2, to: v1, result: .passed)

        func answers(_ releases: Releases) throws -> String {
            var text = ""
            for environment in try releases.traffic.status() {
                text += "\(environment.env) \(environment.seq) \(environment.effectiveAt) \(environment.state)\n"
            }
            for event in try releases.traffic.history() {
                text += "\(event.seq) \(event.kind) \(event.effectiveAt) \(event.before) \(event.after)\n"
            }
            for version in try releases.versions.list() { text += "\(version.id) \(version.labels) \(version.seq)\n" }
            let now = Timestamp.format(Date())
            text += "\(try releases.traffic.at(now).map { "\($0.env) \($0.state.shares)" })"
            return text
        }
        let before = try answers(test.releases)
        #expect(try Releases.verifyDerived(test.ledger) == nil)

        try test.ledger.write { transaction in
            for table in ["environments", "traffic_events", "versions", "version_labels", "rollback_drills"] {
                try transaction.connection.execute("DELETE FROM main.\(table)")
            }
        }
        let fault = try Releases.verifyDerived(test.ledger)
        #expect(fault?.kind == .projection)
        #expect(fault?.seq == 1, "the first entry whose derived rows are gone is the first version.recorded")

        try Releases.reindex(test.ledger)
        #expect(try answers(test.releases) == before)
        #expect(try Releases.verifyDerived(test.ledger) == nil)

        try test.ledger.write { transaction in
            for table in ["projection_meta", "environments", "traffic_events", "versions", "version_labels"] {
                try transaction.connection.execute("DROP TABLE main.\(table)")
            }
        }
        #expect(try answers(Releases(ledger: test.ledger)) == before)
    }

    @Test("verify names an entry that cannot be replayed, a missing query table, and a version id that lies")
    func derivedFaults() throws {
        let test = try TestReleases()
        let v1 = try test.record(prompt: "one")
        _ = try test.releases.traffic.deploy(v1, env: .prod, strategy: .blueGreen, breakGlass: .test)
        #expect(try Releases.verifyDerived(test.ledger) == nil)

        try test.ledger.write { try $0.connection.execute("DROP TABLE main.rollback_drills") }
        let missing = try Releases.verifyDerived(test.ledger)
        #expect(missing?.kind == .projection)
        #expect(missing?.detail.contains("rollback_drills") == true)
        try Releases.reindex(test.ledger)

        // Written around the release domain: a shift with no canary in progress.
        let bad = try test.ledger.append(
            Event(kind: "traffic.shifted", body: .object(["env": .string("prod"), "weight": .number(10)])))
        let unreplayable = try Releases.verifyDerived(test.ledger)
        #expect(unreplayable?.kind == .replay)
        #expect(unreplayable?.seq == bad.seq)
        #expect(unreplayable?.detail.contains("no canary rollout in progress") == true)
    }

    @Test("a component file name from an entry never leaves the output folder")
    func hostileFileName() throws {
        let test = try TestReleases()
        let version = makeVersion(prompt: "x")
        _ = try test.releases.versions.record(version, label: nil)
        let components: [JSONValue] = version.components.map { component in
            .object([
                "name": .string(component.name), "kind": .string(component.kind.rawValue),
                "digest": .string(component.digest.hex),
                "file": .string(component.name == "prompt" ? "../../escaped.md" : component.fileName),
                "size": .number(Double(component.size)),
            ])
        }
        let forged = try test.ledger.append(
            Event(
                kind: "version.recorded",
                body: .object([
                    "id": .string(version.id), "agent": .string("forged"), "label": .string("evil@1"),
                    "components": .array(components),
                ])))
        try Releases.reindex(test.ledger)
        let fault = try Releases.verifyDerived(test.ledger)
        #expect(fault?.kind == .artifact)
        #expect(fault?.seq == forged.seq)
    }

    @Test("history is oldest first by effective time across environments; a second rollback needs --to")
    func historyOrderAndSecondRollback() throws {
        let test = try TestReleases()
        let v1 = try test.record(prompt: "one")
        let v2 = try test.record(prompt: "two")
        _ = try test.releases.traffic.deploy(v1, env: .prod, strategy: .blueGreen, breakGlass: .test)
        _ = try test.releases.traffic.deploy(
            v1, env: EnvironmentName("imported"), strategy: .blueGreen, effectiveAt: Self.time(0), breakGlass: .test)
        let history = try test.releases.traffic.history()
        #expect(history.map(\.env) == ["imported", "prod"])

        _ = try test.releases.traffic.deploy(v2, env: .prod, strategy: .blueGreen, breakGlass: .test)
        let back = try test.releases.traffic.rollback(env: .prod, reason: "bad")
        #expect(back.state.shares.first == TrafficShare(version: v1, weight: 100, role: .serving))
        #expect(throws: LedgerError.self) { try test.releases.traffic.rollback(env: .prod, reason: "again") }
    }

    @Test("a refused change names the versions by id and label, and writes nothing")
    func refusalNamesVersions() throws {
        let test = try TestReleases()
        let v1 = try test.record(prompt: "one", label: "agent@1")
        let v2 = try test.record(prompt: "two")
        _ = try test.releases.traffic.deploy(v1, env: .prod, strategy: .blueGreen, breakGlass: .test)
        let size = try test.ledger.size()
        let serving = #expect(throws: LedgerError.self) {
            try test.releases.traffic.rollback(env: .prod, to: "agent@1", reason: "bad")
        }
        #expect(serving?.message == "prod: \(v1.prefix(12)) (agent@1) already serves all traffic")
        let notDraining = #expect(throws: LedgerError.self) {
            try test.releases.traffic.drained(env: .prod, version: v2)
        }
        #expect(notDraining?.message == "prod: \(v2.prefix(12)) is not draining (draining now: none)")
        #expect(try test.ledger.size() == size)
    }

    @Test("verify finds a version.recorded entry whose id is not the hash of its component digests")
    func lyingVersionID() throws {
        let test = try TestReleases()
        let version = makeVersion(prompt: "honest")
        _ = try test.releases.versions.record(version, label: nil)
        let forged = try test.ledger.append(
            Event(
                kind: "version.recorded",
                body: .object([
                    "id": .string(String(repeating: "0", count: 64)), "agent": .string("forged"),
                    "components": .array(
                        version.components.map { component in
                            .object([
                                "name": .string(component.name), "kind": .string(component.kind.rawValue),
                                "digest": .string(component.digest.hex), "file": .string(component.fileName),
                                "size": .number(Double(component.size)),
                            ])
                        }),
                ])))
        try Releases.reindex(test.ledger)
        let fault = try Releases.verifyDerived(test.ledger)
        #expect(fault?.kind == .artifact)
        #expect(fault?.seq == forged.seq)
    }

    @Test("a rollback drill is recorded with its evidence stored as an artifact, and a bad artifact is found")
    func drillEvidence() throws {
        let test = try TestReleases()
        let v1 = try test.record(prompt: "one")
        let v2 = try test.record(prompt: "two")
        let evidence = test.directory + "/drill.log"
        try Data("rolled back in 212 s\n".utf8).write(to: URL(fileURLWithPath: evidence))
        let seq = try test.releases.traffic.recordDrill(
            env: .staging, from: v2, to: v1, result: .passed, evidence: evidence, duration: 212)
        let body = try #require(try test.ledger.entry(seq)).body
        #expect(body["duration_s"] == .number(212))
        let digest = try #require(body["evidence"]?["digest"]?.stringValue.flatMap { Hash(hex: $0) })
        #expect(try test.ledger.artifact(digest) == Array("rolled back in 212 s\n".utf8))

        try test.ledger.write { transaction in
            try transaction.connection.execute(
                "DROP TRIGGER artifacts_immutable_update; UPDATE artifacts SET bytes = x'00' WHERE digest = x'\(digest.hex)'"
            )
        }
        let fault = try Releases.verifyDerived(test.ledger)
        #expect(fault?.kind == .artifact)
        #expect(fault?.seq == seq)
    }
}

@Suite("TrafficState: every transition, valid and invalid")
struct TrafficStateTests {
    /// Applies `changes` to an empty state; returns the state or the message of the first refusal.
    static func run(_ changes: [TrafficChange]) -> Result<TrafficState, LedgerError> {
        var state = TrafficState()
        for change in changes {
            do throws(LedgerError) {
                try state.apply(change)
            } catch {
                return .failure(error)
            }
        }
        return .success(state)
    }

    static let refused: [(String, [TrafficChange], String)] = [
        (
            "shift with no rollout", [.start(version: "a", strategy: .blueGreen, weight: 100), .shift(weight: 10)],
            "no canary rollout in progress"
        ),
        (
            "a weight outside 0–100",
            [
                .start(version: "a", strategy: .blueGreen, weight: 100),
                .start(version: "b", strategy: .canary, weight: 5),
                .shift(weight: 101),
            ], "outside 0–100"
        ),
        (
            "a canary as the first deployment", [.start(version: "a", strategy: .canary, weight: 5)],
            "the first deployment is blue-green"
        ),
        (
            "a canary of 0%",
            [
                .start(version: "a", strategy: .blueGreen, weight: 100),
                .start(version: "b", strategy: .canary, weight: 0),
            ],
            "from 1 to 99"
        ),
        (
            "promoting twice",
            [
                .start(version: "a", strategy: .blueGreen, weight: 100),
                .start(version: "b", strategy: .canary, weight: 5),
                .promote, .promote,
            ], "no canary rollout in progress to promote"
        ),
        (
            "draining a version that is not draining",
            [.start(version: "a", strategy: .blueGreen, weight: 100), .drained(version: "a")],
            "is not draining"
        ),
        (
            "a second rollout while one is in progress",
            [
                .start(version: "a", strategy: .blueGreen, weight: 100),
                .start(version: "b", strategy: .canary, weight: 5),
                .start(version: "c", strategy: .blueGreen, weight: 100),
            ], "rollout of b is in progress"
        ),
        (
            "deploying the version already serving",
            [
                .start(version: "a", strategy: .blueGreen, weight: 100),
                .start(version: "a", strategy: .blueGreen, weight: 100),
            ], "already serves all traffic"
        ),
        (
            "shifting a shadow",
            [
                .start(version: "a", strategy: .blueGreen, weight: 100),
                .start(version: "b", strategy: .shadow, weight: 0),
                .shift(weight: 10),
            ], "shadow, which serves no traffic"
        ),
        (
            "rolling back during a shadow",
            [
                .start(version: "a", strategy: .blueGreen, weight: 100),
                .start(version: "b", strategy: .shadow, weight: 0),
                .rollback(to: "a"),
            ], "end it with `purser deploy abort`"
        ),
        (
            "aborting with no rollout", [.start(version: "a", strategy: .blueGreen, weight: 100), .abort],
            "no rollout in progress"
        ),
        ("rolling back an empty environment", [.rollback(to: "a")], "nothing serves traffic"),
    ]

    @Test("invalid transitions are refused with a reason and leave the state unchanged", arguments: refused)
    func invalid(_ name: String, _ changes: [TrafficChange], _ reason: String) throws {
        guard case .failure(let error) = Self.run(changes) else {
            Issue.record("\(name) was accepted")
            return
        }
        #expect(error.code == .invalidInput)
        #expect(error.message.contains(reason), "\(name): \(error.message)")
        let before = try Self.run(Array(changes.dropLast())).get()
        var state = before
        #expect(throws: LedgerError.self) { try state.apply(changes.last!) }
        #expect(state == before)
    }

    @Test("a canary of the version being shadowed ends the shadow")
    func shadowThenCanary() throws {
        let state = try Self.run([
            .start(version: "a", strategy: .blueGreen, weight: 100), .start(version: "b", strategy: .shadow, weight: 0),
            .start(version: "b", strategy: .canary, weight: 5),
        ]).get()
        #expect(state.shares == shares([("a", 95, .serving), ("b", 5, .serving)]))
        #expect(state.rollout?.strategy == .canary)
    }

    @Test(
        "abort of a canary drains the candidate; the default rollback target is the baseline, then the previous version"
    )
    func rollbackTargets() throws {
        var state = try Self.run([
            .start(version: "a", strategy: .blueGreen, weight: 100), .start(version: "b", strategy: .canary, weight: 5),
        ]).get()
        #expect(state.defaultRollbackTarget == "a")
        try state.apply(.abort)
        #expect(state.shares == shares([("a", 100, .serving), ("b", 0, .draining)]))
        try state.apply(.start(version: "c", strategy: .blueGreen, weight: 100))
        #expect(state.shares == shares([("c", 100, .serving), ("b", 0, .draining), ("a", 0, .draining)]))
        #expect(state.defaultRollbackTarget == "a")
    }
}
