import Foundation
import PurserLedger
import Testing

/// An environment's traffic in a `--json` result, one "<version id> <weight> <state>" per share.
private func split(_ environment: JSONValue?) -> [String] {
    (environment?["traffic"]?.arrayItems ?? []).map { share in
        "\(share["version"]?.stringValue ?? "?") \(Int(share["weight"]?.numberValue ?? -1)) \(share["state"]?.stringValue ?? "?")"
    }
}

/// The rollout in a `--json` result, as "<strategy> <candidate> <baseline>", or nil.
private func rollout(_ environment: JSONValue?) -> String? {
    guard let rollout = environment?["rollout"], rollout != .null else { return nil }
    return [rollout["strategy"], rollout["candidate"], rollout["baseline"]].map { $0?.stringValue ?? "?" }
        .joined(separator: " ")
}

/// `value` without the member `key`.
private func removing(_ key: String, from value: JSONValue) -> JSONValue {
    guard case .object(var members) = value else { return value }
    members.removeValue(forKey: key)
    return .object(members)
}

/// Three recorded versions and the lifecycle commands' `--json` results, in order.
private struct Story {
    let v1: String
    let v2: String
    let v3: String
    let steps: [JSONValue]
}

/// The deployment story every test here tells: blue-green v1, canary v2 at 10%, shift to 50%, promote, v1
/// drained, shadow v3, abort, roll back (to v1) — checking the traffic after each step.
private func tellTheStory(in workspace: Workspace) throws -> Story {
    try workspace.initLedger()
    let v1 = try workspace.recordAgentVariant("1", label: "support-agent@1.0.0")
    let v2 = try workspace.recordAgentVariant("2", label: "support-agent@2.0.0")
    let v3 = try workspace.recordAgentVariant("3", label: "support-agent@3.0.0")
    let script: [(arguments: [String], kind: String, traffic: [String], rollout: String?)] = [
        (
            [
                "deploy", "start", "support-agent@1.0.0", "--strategy", "blue-green", "--break-glass", "--reason",
                "test", "--approver", "tests",
            ], "deployment.started",
            ["\(v1) 100 serving"], nil
        ),
        (
            [
                "deploy", "start", String(v2.prefix(8)), "--strategy", "canary", "--break-glass", "--reason", "test",
                "--approver", "tests", "--weight", "10",
            ], "deployment.started",
            ["\(v1) 90 serving", "\(v2) 10 serving"], "canary \(v2) \(v1)"
        ),
        (
            ["deploy", "shift", "--weight", "50"], "traffic.shifted", ["\(v1) 50 serving", "\(v2) 50 serving"],
            "canary \(v2) \(v1)"
        ),
        (["deploy", "promote"], "deployment.promoted", ["\(v2) 100 serving", "\(v1) 0 draining"], nil),
        (["deploy", "drained", "--version", "support-agent@1.0.0"], "deployment.drained", ["\(v2) 100 serving"], nil),
        (
            ["deploy", "start", v3, "--strategy", "shadow"], "deployment.started",
            ["\(v2) 100 serving", "\(v3) 0 shadow"], "shadow \(v3) \(v2)"
        ),
        (["deploy", "abort"], "deployment.aborted", ["\(v2) 100 serving"], nil),
        (
            ["rollback", "--reason", "tool-call errors doubled"], "rollback.performed",
            ["\(v1) 100 serving", "\(v2) 0 draining"], nil
        ),
    ]
    var steps: [JSONValue] = []
    for step in script {
        let output = try workspace.runJSON(step.arguments + ["--env", "prod", "--json"])
        #expect(output["kind"]?.stringValue == step.kind, "\(step.arguments)")
        #expect(output["env"]?.stringValue == "prod")
        #expect(split(output) == step.traffic, "\(step.arguments)")
        #expect(rollout(output) == step.rollout, "\(step.arguments)")
        let previous = steps.last?["seq"]?.numberValue ?? 0
        #expect((output["seq"]?.numberValue ?? 0) > previous, "\(step.arguments): seq increases")
        steps.append(output)
    }
    let labels = steps[1]["traffic"]?.arrayItems.map { $0["label"]?.stringValue }
    #expect(labels == ["support-agent@1.0.0", "support-agent@2.0.0"], "traffic names each version's label")
    return Story(v1: v1, v2: v2, v3: v3, steps: steps)
}

/// One refused lifecycle command: what runs first, the command, and what it must say.
struct BadTransition: Sendable, CustomTestStringConvertible {
    let name: String
    let setup: [[String]]
    let command: [String]
    let status: Int32
    let mentions: [String]

    var testDescription: String { name }

    static let blueGreenV1 = [
        "deploy", "start", "support-agent@1.0.0", "--env", "prod", "--strategy", "blue-green", "--break-glass",
        "--reason", "test", "--approver", "tests",
    ]
    static let canaryV2 = [
        "deploy", "start", "support-agent@2.0.0", "--env", "prod", "--strategy", "canary", "--break-glass", "--reason",
        "test", "--approver", "tests", "--weight", "10",
    ]
    static let shadowV2 = ["deploy", "start", "support-agent@2.0.0", "--env", "prod", "--strategy", "shadow"]
    static let promote = ["deploy", "promote", "--env", "prod"]

    static let all: [BadTransition] = [
        BadTransition(
            name: "shift with no rollout", setup: [blueGreenV1],
            command: ["deploy", "shift", "--env", "prod", "--weight", "20"],
            status: 65, mentions: ["prod", "no canary rollout in progress"]),
        BadTransition(
            name: "shift in an environment never deployed", setup: [],
            command: ["deploy", "shift", "--env", "prod", "--weight", "20"], status: 65,
            mentions: ["no canary rollout in progress"]),
        BadTransition(
            name: "deploy an unrecorded version id", setup: [],
            command: [
                "deploy", "start", String(repeating: "ab", count: 32), "--env", "prod", "--strategy", "blue-green",
                "--break-glass", "--reason", "test", "--approver", "tests",
            ], status: 66, mentions: ["no recorded version matches"]),
        BadTransition(
            name: "deploy an unknown label", setup: [],
            command: [
                "deploy", "start", "support-agent@9.9.9", "--env", "prod", "--strategy", "blue-green", "--break-glass",
                "--reason", "test", "--approver", "tests",
            ],
            status: 66, mentions: ["support-agent@9.9.9"]),
        BadTransition(
            name: "weight 150 on shift", setup: [blueGreenV1, canaryV2],
            command: ["deploy", "shift", "--env", "prod", "--weight", "150"], status: 65, mentions: ["150"]),
        BadTransition(
            name: "shift to the weight it has", setup: [blueGreenV1, canaryV2],
            command: ["deploy", "shift", "--env", "prod", "--weight", "10"], status: 65, mentions: ["already has 10%"]),
        BadTransition(
            name: "canary weight 0", setup: [blueGreenV1],
            command: [
                "deploy", "start", "support-agent@2.0.0", "--env", "prod", "--strategy", "canary", "--break-glass",
                "--reason", "test", "--approver", "tests", "--weight", "0",
            ], status: 65, mentions: ["from 1 to 99", "not 0"]),
        BadTransition(
            name: "canary as the first deployment", setup: [],
            command: [
                "deploy", "start", "support-agent@2.0.0", "--env", "prod", "--strategy", "canary", "--break-glass",
                "--reason", "test", "--approver", "tests",
            ], status: 65,
            mentions: ["first deployment is blue-green"]),
        BadTransition(
            name: "a second rollout while one is in progress", setup: [blueGreenV1, canaryV2],
            command: [
                "deploy", "start", "support-agent@1.0.0", "--env", "prod", "--strategy", "canary", "--break-glass",
                "--reason", "test", "--approver", "tests",
            ],
            status: 65, mentions: ["in progress"]),
        BadTransition(
            name: "promote twice", setup: [blueGreenV1, canaryV2, promote], command: promote, status: 65,
            mentions: ["no canary rollout in progress to promote"]),
        BadTransition(
            name: "promote a shadow", setup: [blueGreenV1, shadowV2], command: promote, status: 65,
            mentions: ["shadow"]),
        BadTransition(
            name: "drain a version that is not draining", setup: [blueGreenV1],
            command: ["deploy", "drained", "--env", "prod", "--version", "support-agent@2.0.0"], status: 65,
            mentions: ["is not draining", "draining now: none"]),
        BadTransition(
            name: "drain the serving version", setup: [blueGreenV1],
            command: ["deploy", "drained", "--env", "prod", "--version", "support-agent@1.0.0"], status: 65,
            mentions: ["is not draining"]),
        BadTransition(
            name: "abort with no rollout", setup: [blueGreenV1], command: ["deploy", "abort", "--env", "prod"],
            status: 65, mentions: ["no rollout in progress to abort"]),
        BadTransition(
            name: "--effective-at in the future", setup: [blueGreenV1],
            command: canaryV2 + ["--effective-at", "2999-01-01T00:00:00Z"], status: 65,
            mentions: ["--effective-at 2999-01-01T00:00:00.000Z", "in the future"]),
        BadTransition(
            name: "--effective-at before the previous event", setup: [blueGreenV1 + ["--effective-at", "2026-01-02"]],
            command: canaryV2 + ["--effective-at", "2026-01-01T00:00:00Z"], status: 65,
            mentions: ["precedes the previous event in prod", "2026-01-02T00:00:00.000Z"]),
        BadTransition(
            name: "--effective-at that is not a time", setup: [blueGreenV1],
            command: canaryV2 + ["--effective-at", "yesterday"], status: 64,
            mentions: ["--effective-at \"yesterday\""]),
        BadTransition(
            name: "rollback with nothing earlier", setup: [blueGreenV1],
            command: ["rollback", "--env", "prod", "--reason", "bad"], status: 65,
            mentions: ["no earlier version", "--to"]),
        BadTransition(
            name: "rollback --to during a shadow", setup: [blueGreenV1, shadowV2],
            command: ["rollback", "--env", "prod", "--to", "support-agent@1.0.0", "--reason", "bad"], status: 65,
            mentions: ["shadow", "deploy abort"]),
        BadTransition(
            name: "rollback with a blank reason", setup: [blueGreenV1, canaryV2],
            command: ["rollback", "--env", "prod", "--reason", "  "], status: 64, mentions: ["--reason"]),
        BadTransition(
            name: "rollback to the version serving everything", setup: [blueGreenV1],
            command: ["rollback", "--env", "prod", "--to", "support-agent@1.0.0", "--reason", "bad"], status: 65,
            mentions: ["already serves all traffic"]),
        BadTransition(
            name: "--weight on blue-green", setup: [blueGreenV1],
            command: [
                "deploy", "start", "support-agent@2.0.0", "--env", "prod", "--strategy", "blue-green", "--break-glass",
                "--reason", "test", "--approver", "tests", "--weight", "50",
            ], status: 64, mentions: ["--weight applies to canary"]),
        BadTransition(
            name: "--strategy foo", setup: [],
            command: ["deploy", "start", "support-agent@1.0.0", "--env", "prod", "--strategy", "foo"], status: 64,
            mentions: ["--strategy <strategy>", "'blue-green', 'canary' or 'shadow'"]),
        BadTransition(
            name: "an environment name with capitals", setup: [],
            command: [
                "deploy", "start", "support-agent@1.0.0", "--env", "Prod", "--strategy", "blue-green", "--break-glass",
                "--reason", "test", "--approver", "tests",
            ],
            status: 64, mentions: ["Prod", "lowercase"]),
    ]
}

/// Which query table a test tampers with, and how.
enum ProjectionTamper: String, Sendable, CaseIterable {
    case deleteTrafficEvent, changeEnvironmentState, changeVersionAgent
}

/// `purser deploy`, `rollback`, `status`, `at`, `history`, `reindex` and `verify`, end to end.
@Suite struct DeployCommandTests {
    @Test func theStoryOfARelease() throws {
        let workspace = Workspace()
        let story = try tellTheStory(in: workspace)

        let rollbackBody = try #require(
            try workspace.run(["log", "--kind", "rollback.performed", "--json"]).stdout.split(separator: "\n").first)
        let rollbackEntry = try workspace.json(String(rollbackBody))
        #expect(rollbackEntry["seq"] == story.steps.last?["seq"])

        let status = try workspace.runJSON(["status", "--json"])
        let environments = status["environments"]?.arrayItems ?? []
        #expect(environments.count == 1)
        #expect(environments.first == removing("kind", from: story.steps.last!), "status is the last step's result")
        #expect(try workspace.runJSON(["status", "--env", "prod", "--json"]) == status)

        let history = try workspace.runJSON(["history", "--json"])
        let events = history["events"]?.arrayItems ?? []
        #expect(events.count == story.steps.count)
        for (event, step) in zip(events, story.steps) {
            #expect(removing("body", from: removing("at", from: event)) == step, "history repeats each step")
            #expect(event["at"] == event["effective_at"], "recorded now, so effective now")
            #expect(event["body"]?["env"]?.stringValue == "prod")
        }
        let rollback = events.last?["body"]
        #expect(rollback?["to"]?.stringValue == story.v1, "rollback goes to the version before v2 by default")
        #expect(rollback?["from"] == .array([.string(story.v2)]))
        #expect(rollback?["reason"]?.stringValue == "tool-call errors doubled")
        #expect(events[1]["body"]?["strategy"]?.stringValue == "canary")
        #expect(events[1]["body"]?["weight"]?.numberValue == 10)

        let shadowed = try workspace.runJSON(["history", "--version", "support-agent@3.0.0", "--json"])
        #expect(
            shadowed["events"]?.arrayItems.map { $0["kind"]?.stringValue ?? "" } == [
                "deployment.started", "deployment.aborted",
            ], "history --version: the changes v3 took part in")
        #expect(try workspace.runJSON(["history", "--env", "staging", "--json"])["events"] == .array([]))

        let text = try workspace.run(["status"])
        #expect(text.status == 0 && text.stdout.contains("prod") && text.stdout.contains("support-agent@1.0.0"))
        let verify = try workspace.run(["verify", "--json"])
        #expect(verify.status == 0, "\(verify.stdout) \(verify.stderr)")
        #expect(try workspace.json(verify.stdout)["ok"] == .bool(true))
    }

    @Test(arguments: BadTransition.all)
    func anInvalidTransitionIsRefusedAndRecordsNothing(_ bad: BadTransition) throws {
        let workspace = Workspace()
        try workspace.initLedger()
        _ = try workspace.recordAgentVariant("1", label: "support-agent@1.0.0")
        _ = try workspace.recordAgentVariant("2", label: "support-agent@2.0.0")
        for arguments in bad.setup {
            let result = try workspace.run(arguments)
            try #require(result.status == 0, "setup \(arguments): \(result.stderr)")
        }
        let before = workspace.ledgerSnapshot()
        let result = try workspace.run(bad.command)
        #expect(result.status == bad.status, "\(result.stderr)")
        expectOneErrorLine(result)
        for word in bad.mentions {
            #expect(result.stderr.contains(word), "stderr mentions \(word): \(result.stderr)")
        }
        #expect(workspace.ledgerSnapshot() == before, "the ledger file is unchanged")
    }

    @Test func rollbackDuringAShadowSaysToAbortIt() throws {
        let workspace = Workspace()
        try workspace.initLedger()
        _ = try workspace.recordAgentVariant("1", label: "support-agent@1.0.0")
        _ = try workspace.recordAgentVariant("2", label: "support-agent@2.0.0")
        for setup in [BadTransition.blueGreenV1, BadTransition.shadowV2] {
            #expect(try workspace.run(setup).status == 0, "\(setup)")
        }
        let before = workspace.ledgerSnapshot()
        let result = try workspace.run(["rollback", "--env", "prod", "--reason", "bad"])
        #expect(result.status == 65)
        expectOneErrorLine(result)
        #expect(result.stderr.contains("deploy abort") && !result.stderr.contains("pass --to"), "\(result.stderr)")
        #expect(workspace.ledgerSnapshot() == before)
    }

    @Test func atAnswersWhatRanWhenFromImportedHistory() throws {
        let workspace = Workspace()
        try workspace.initLedger()
        let v1 = try workspace.recordAgentVariant("1", label: "support-agent@1.0.0")
        let v2 = try workspace.recordAgentVariant("2", label: "support-agent@2.0.0")
        let changes: [[String]] = [
            [
                "deploy", "start", v1, "--strategy", "blue-green", "--break-glass", "--reason", "test", "--approver",
                "tests", "--effective-at", "2026-01-01T00:00:00Z",
            ],
            [
                "deploy", "start", v2, "--strategy", "canary", "--break-glass", "--reason", "test", "--approver",
                "tests", "--weight", "20", "--effective-at",
                "2026-01-02T00:00:00Z",
            ],
            ["deploy", "shift", "--weight", "60", "--effective-at", "2026-01-03T12:00:00Z"],
            ["deploy", "promote", "--effective-at", "2026-01-04T00:00:00Z"],
            ["deploy", "drained", "--version", v1, "--effective-at", "2026-01-04T06:30:00.250Z"],
        ]
        for change in changes {
            _ = try workspace.runJSON(change + ["--env", "prod", "--json"])
        }
        let expectations: [(time: String, traffic: [String], effective: String?)] = [
            ("2025-12-31T23:59:59.999Z", [], nil),
            ("2026-01-01T00:00:00Z", ["\(v1) 100 serving"], "2026-01-01T00:00:00.000Z"),
            ("2026-01-01", ["\(v1) 100 serving"], "2026-01-01T00:00:00.000Z"),
            ("2026-01-01T23:59:59.999Z", ["\(v1) 100 serving"], "2026-01-01T00:00:00.000Z"),
            ("2026-01-02T00:00:00Z", ["\(v1) 80 serving", "\(v2) 20 serving"], "2026-01-02T00:00:00.000Z"),
            ("2026-01-03T11:59:59.999Z", ["\(v1) 80 serving", "\(v2) 20 serving"], "2026-01-02T00:00:00.000Z"),
            ("2026-01-03T12:00:00Z", ["\(v1) 40 serving", "\(v2) 60 serving"], "2026-01-03T12:00:00.000Z"),
            ("2026-01-03T14:00:00+02:00", ["\(v1) 40 serving", "\(v2) 60 serving"], "2026-01-03T12:00:00.000Z"),
            ("2026-01-04T00:00:00Z", ["\(v2) 100 serving", "\(v1) 0 draining"], "2026-01-04T00:00:00.000Z"),
            ("2026-01-04T06:30:00.249Z", ["\(v2) 100 serving", "\(v1) 0 draining"], "2026-01-04T00:00:00.000Z"),
            ("2026-01-04T06:30:00.250Z", ["\(v2) 100 serving"], "2026-01-04T06:30:00.250Z"),
            ("2026-06-01", ["\(v2) 100 serving"], "2026-01-04T06:30:00.250Z"),
        ]
        for expected in expectations {
            let answer = try workspace.runJSON(["at", expected.time, "--env", "prod", "--json"])
            let environments = answer["environments"]?.arrayItems ?? []
            #expect(environments.count == (expected.effective == nil ? 0 : 1), "at \(expected.time)")
            #expect(split(environments.first) == expected.traffic, "at \(expected.time)")
            #expect(environments.first?["effective_at"]?.stringValue == expected.effective, "at \(expected.time)")
        }
        let echoed = try workspace.runJSON(["at", "2026-01-03T14:00:00+02:00", "--json"])
        #expect(echoed["at"]?.stringValue == "2026-01-03T12:00:00.000Z", "the time is echoed in UTC")
        let now = try workspace.runJSON(["at", Timestamp.format(Date()), "--json"])
        #expect(now["environments"] == (try workspace.runJSON(["status", "--json"]))["environments"])

        let history = try workspace.runJSON(["history", "--json"])
        let events = history["events"]?.arrayItems ?? []
        #expect(
            events.map { $0["effective_at"]?.stringValue ?? "" } == [
                "2026-01-01T00:00:00.000Z", "2026-01-02T00:00:00.000Z", "2026-01-03T12:00:00.000Z",
                "2026-01-04T00:00:00.000Z", "2026-01-04T06:30:00.250Z",
            ])
        for event in events {
            #expect(event["body"]?["effective_at"] == event["effective_at"], "the entry carries effective_at")
            #expect((event["at"]?.stringValue ?? "") > "2026-11", "recorded now, not back then: \(event)")
        }
        let window = try workspace.runJSON(["history", "--since", "2026-01-02", "--until", "2026-01-04", "--json"])
        #expect(
            window["events"]?.arrayItems.map { $0["kind"]?.stringValue ?? "" } == [
                "deployment.started", "traffic.shifted",
            ], "--since is inclusive and --until exclusive")
    }

    /// What the query commands print, to compare before tampering and after `reindex`.
    private func queries(_ workspace: Workspace, story: Story) throws -> [String] {
        var commands: [[String]] = [
            ["status", "--json"], ["history", "--json"], ["version", "list", "--json"], ["at", "2000-01-01", "--json"],
            ["history", "--version", story.v3, "--json"],
        ]
        for step in story.steps {
            commands.append(["at", step["effective_at"]?.stringValue ?? "?", "--json"])
        }
        return try commands.map { arguments in
            let result = try workspace.run(arguments)
            #expect(result.status == 0, "\(arguments): \(result.stderr)")
            return result.stdout
        }
    }

    @Test(arguments: ProjectionTamper.allCases)
    func verifyFindsATamperedQueryTableAndReindexRepairsIt(_ tamper: ProjectionTamper) throws {
        let workspace = Workspace()
        let story = try tellTheStory(in: workspace)
        let before = try queries(workspace, story: story)
        let shift = Int64(story.steps[2]["seq"]?.numberValue ?? -1)
        let last = Int64(story.steps.last?["seq"]?.numberValue ?? -1)
        let recordedV2 = try #require(
            try workspace.runJSON(["version", "show", story.v2, "--json"])["seq"]?.numberValue)
        let (sql, table, seq): (String, String, Int64) =
            switch tamper {
            case .deleteTrafficEvent: ("DELETE FROM traffic_events WHERE seq = \(shift)", "traffic_events", shift)
            case .changeEnvironmentState:
                (
                    "UPDATE environments SET state = (SELECT state FROM traffic_events WHERE seq = \(shift))",
                    "environments", last
                )
            case .changeVersionAgent:
                ("UPDATE versions SET agent = 'impostor' WHERE id = '\(story.v2)'", "versions", Int64(recordedV2))
            }
        do {
            let connection = try Connection(path: workspace.ledgerPath, mode: .readWrite)
            try connection.execute(sql)
        }

        let verify = try workspace.run(["verify", "--json"])
        #expect(verify.status == 3, "\(verify.stdout) \(verify.stderr)")
        let fault = try workspace.json(verify.stdout)["fault"]
        #expect(fault?["kind"]?.stringValue == "projection")
        #expect(fault?["seq"]?.numberValue == Double(seq))
        #expect(fault?["detail"]?.stringValue?.contains(table) == true, "\(fault.map { "\($0)" } ?? "")")
        #expect(fault?["detail"]?.stringValue?.contains("purser reindex") == true)
        let text = try workspace.run(["verify"])
        #expect(text.status == 3 && text.stdout.contains("FAULT: projection at seq"), "\(text.stdout)")

        let reindex = try workspace.run(["reindex", "--json"])
        #expect(reindex.status == 0, "\(reindex.stderr)")
        #expect(try workspace.json(reindex.stdout)["entries"]?.numberValue == Double(last + 1))
        #expect(try queries(workspace, story: story) == before, "the rebuilt tables answer as before")
        #expect(try workspace.run(["verify"]).status == 0)
    }

    @Test func droppedQueryTablesAreReportedAndRebuilt() throws {
        let workspace = Workspace()
        let story = try tellTheStory(in: workspace)
        let before = try queries(workspace, story: story)
        func dropAll() throws {
            let connection = try Connection(path: workspace.ledgerPath, mode: .readWrite)
            try connection.execute(
                """
                DROP TABLE environments; DROP TABLE traffic_events; DROP TABLE versions; DROP TABLE version_labels;
                DROP TABLE rollback_drills; DROP TABLE projection_meta;
                """)
        }
        try dropAll()
        let verify = try workspace.run(["verify", "--json"])
        #expect(verify.status == 3, "\(verify.stdout) \(verify.stderr)")
        let fault = try workspace.json(verify.stdout)["fault"]
        #expect(fault?["kind"]?.stringValue == "projection")
        #expect(fault?["detail"]?.stringValue?.contains("missing") == true, "\(fault.map { "\($0)" } ?? "")")
        #expect(try workspace.run(["reindex"]).status == 0)
        #expect(try queries(workspace, story: story) == before)
        #expect(try workspace.run(["verify"]).status == 0)

        // Any command that opens a writable ledger rebuilds missing tables on its own.
        try dropAll()
        #expect(try queries(workspace, story: story) == before)
        #expect(try workspace.run(["verify"]).status == 0)
    }

    @Test(arguments: ["modified", "missing"])
    func verifyFindsATamperedArtifactAndMaterializeRefusesIt(_ damage: String) throws {
        let workspace = Workspace()
        try workspace.initLedger()
        let recorded = try workspace.runJSON(
            ["version", "record", try workspace.copyAgentTemplate(), "--label", "support-agent@1.0.0", "--json"])
        _ = try workspace.recordAgentVariant("2", label: "support-agent@2.0.0")
        let prompt = try #require(
            recorded["components"]?.arrayItems.first { $0["name"]?.stringValue == "prompt" }?["digest"]?.stringValue)
        let digest = try #require(Hash(hex: prompt)).bytes
        do {
            let connection = try Connection(path: workspace.ledgerPath, mode: .readWrite)
            if damage == "modified" {
                let select = try connection.prepare("SELECT bytes FROM artifacts WHERE digest = ?")
                try select.bind(1, bytes: digest)
                try #require(try select.step())
                var bytes = select.bytes(0)
                bytes[bytes.count / 2] ^= 0x01
                try connection.execute("DROP TRIGGER artifacts_immutable_update")
                let update = try connection.prepare("UPDATE artifacts SET bytes = ? WHERE digest = ?")
                try update.bind(1, bytes: bytes)
                try update.bind(2, bytes: digest)
                _ = try update.step()
            } else {
                try connection.execute("DROP TRIGGER artifacts_immutable_delete")
                let delete = try connection.prepare("DELETE FROM artifacts WHERE digest = ?")
                try delete.bind(1, bytes: digest)
                _ = try delete.step()
            }
        }

        let verify = try workspace.run(["verify", "--json"])
        #expect(verify.status == 3, "\(verify.stdout) \(verify.stderr)")
        let fault = try workspace.json(verify.stdout)["fault"]
        #expect(fault?["kind"]?.stringValue == "artifact")
        #expect(fault?["seq"] == recorded["seq"])
        let detail = fault?["detail"]?.stringValue ?? ""
        #expect(detail.contains("component prompt") && detail.contains(prompt), "\(detail)")
        #expect(detail.contains(damage == "modified" ? "no longer hashes" : "missing"), "\(detail)")

        let message = damage == "modified" ? "no longer hashes to its digest" : "is missing"
        let materialize = try workspace.run(["version", "materialize", "support-agent@1.0.0", "--out", "restored"])
        #expect(materialize.status == 3, "\(materialize.stderr)")
        expectOneErrorLine(materialize)
        #expect(materialize.stderr.contains(message), "\(materialize.stderr)")
        #expect(!FileManager.default.fileExists(atPath: workspace.file("restored")), "nothing is written")
        let diff = try workspace.run(["version", "diff", "support-agent@1.0.0", "support-agent@2.0.0"])
        #expect(diff.status == 3, "\(diff.stderr)")
        expectOneErrorLine(diff)
        #expect(
            try workspace.run(["version", "materialize", "support-agent@2.0.0", "--out", "other"]).status == 0,
            "another version's components are intact")
    }
}

@Suite struct FailedCommandsWriteNothing {
    @Test func afterAnEntryOfAnotherKindAFailedDeploymentLeavesTheFileAsItWas() throws {
        let workspace = Workspace()
        try workspace.initLedger()
        try workspace.copyAgentTemplate(to: "agent")
        #expect(try workspace.run(["version", "record", "agent/agent.yaml", "--label", "a@1"]).status == 0)
        #expect(try workspace.run(["append", "--kind", "custom.note", "--body", "-"], input: "{}").status == 0)
        let before = workspace.ledgerSnapshot()
        for command in [
            ["deploy", "shift", "--env", "prod", "--weight", "500"],
            ["deploy", "start", "deadbeefdeadbeef", "--env", "prod", "--strategy", "blue-green"],
            ["deploy", "start", "a@1", "--env", "prod", "--strategy", "blue-green"],
        ] {
            let result = try workspace.run(command)
            #expect(result.status != 0, "\(command)")
            #expect(workspace.ledgerSnapshot() == before, "\(command) changed the ledger file")
        }
    }
}
