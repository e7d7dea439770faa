import Foundation
import PurserLedger
import Testing

/// A writer token can send `purser serve` any body, not only what the CLI builds: every operation must refuse what
/// the CLI would refuse, with a 4xx and nothing written, so that no client can leave an entry that replay or
/// `verify` rejects.
@Suite("writers cannot damage the ledger")
struct WriterValidationTests {
    /// The operations that append, each sent the variants of its request the CLI never sends.
    static let routes = [
        "versions/record", "evaluations/record", "drills/record", "waivers/grant", "metrics/ingest",
        "entries/append", "entries/append-lines", "deployments/start", "deployments/change", "checklist/run",
        "canary/judge", "shadow/compare",
    ]

    /// A file as requests carry it.
    private static func file(_ text: String, source: String = "input") -> [String: Any] {
        ["source": source, "base64": Data(text.utf8).base64EncodedString()]
    }

    /// One component of a `versions/record` request.
    private static func part(
        _ name: String, _ kind: String, _ fileName: String, _ text: String, source: String? = nil
    ) -> [String: Any] {
        var part: [String: Any] = [
            "name": name, "kind": kind, "fileName": fileName, "contents": file(text, source: source ?? name),
        ]
        if let source { part["source"] = source }
        return part
    }

    /// The components a manifest makes: prompt, tools, model, code, memory.
    private static var components: [[String: Any]] {
        [
            part("code", "commit", "code.json", #"{"commit":"9fceb02d0ae598e95dc970b74767f19372d61af8"}"#),
            part("memory", "data", "memory.json", #"{"type":"none"}"#),
            part("model", "model", "model.json", #"{"id":"claude-3-5-sonnet-20241022","provider":"anthropic"}"#),
            part("prompt", "text", "prompt.md", "You are a support agent.\n", source: "agent/system-prompt.md"),
            part("tools", "data", "tools.json", "[]", source: "agent/tools.json"),
        ]
    }

    /// A `versions/record` request like the CLI's, with `change` applied to its components.
    private static func version(
        agent: String = "support-agent", label: String? = nil, _ change: (inout [[String: Any]]) -> Void = { _ in }
    ) -> [String: Any] {
        var parts = components
        change(&parts)
        var request: [String: Any] = ["agent": agent, "components": parts]
        if let label { request["label"] = label }
        return request
    }

    private static func replacing(_ name: String, with part: [String: Any]) -> (inout [[String: Any]]) -> Void {
        { parts in parts = parts.map { $0["name"] as? String == name ? part : $0 } }
    }

    /// The invalid requests of `route`, by what is wrong with them, and a valid one (nil where the ledger's state
    /// would refuse any), given the labels of two recorded versions.
    private static func requests(_ route: String) -> (invalid: [(String, [String: Any])], valid: [String: Any]?) {
        let (one, two) = ("support-agent@1.0.0", "support-agent@2.0.0")
        let policy =
            (try? String(contentsOf: agentTemplates.appendingPathComponent("checklist.yaml"), encoding: .utf8))
            ?? ""
        let evidence: [String: Any] = [
            "source": "queue", "contents": file("{}"), "value": "{}", "observedAt": "2026-01-01T00:00:00.000Z",
        ]
        // Evidence as `purser check` gathers it with the template's policy: the queue probe's answer, with its
        // own time, and the dashboard file, with its modification time.
        let now = Timestamp.format(Date())
        let answer = #"{"capacity":100,"consumers":3,"depth":5,"observed_at":"\#(now)","oldest_age_s":10}"#
        let queue: [String: Any] = [
            "source": "command:sh evidence/queue-probe.sh", "contents": file(answer), "value": answer,
            "observedAt": now,
        ]
        let dashboard: [String: Any] = [
            "source": "file:evidence/dashboard.json", "contents": file(#"{"q":"x"}"#), "value": #"{"q":"x"}"#,
            "observedAt": now,
        ]
        func queueAt(_ time: String) -> [[String: Any]] { [queue.merging(["observedAt": time]) { $1 }, dashboard] }
        func checklist(env: String = "prod", policy: String = policy, gathered: [[String: Any]]) -> [String: Any] {
            [
                "version": one, "env": env, "policy": file(policy, source: "checklist.yaml"), "baseDirectory": ".",
                "files": templatePolicyFiles(), "gathered": gathered,
            ]
        }
        let task =
            #"{"task_id":"t1","version":"support-agent@1.0.0","env":"prod","started_at":"2026-01-01T00:00:00Z","duration_ms":10,"completed":true,"error":false}"#
        let canaryConfig =
            (try? String(contentsOf: agentTemplates.appendingPathComponent("canary.yaml"), encoding: .utf8))
            ?? ""
        switch route {
        case "versions/record":
            return (
                [
                    ("an empty agent", version(agent: "")),
                    ("no components", version { $0 = [] }),
                    ("no code component", version { $0.removeAll { $0["name"] as? String == "code" } }),
                    (
                        "an uppercase component name",
                        version { $0.append(part("Prompt", "text", "Prompt.md", "hi\n", source: "p.md")) }
                    ),
                    ("a component named version", version { $0.append(part("version", "data", "version.json", "{}")) }),
                    ("a component named with a dot", version { $0.append(part("a.b", "data", "a.b.json", "{}")) }),
                    (
                        "a prompt that is data",
                        version(replacing("prompt", with: part("prompt", "data", "prompt.json", "{}")))
                    ),
                    (
                        "an unknown kind",
                        version(replacing("memory", with: part("memory", "blob", "memory.json", "{}")))
                    ),
                    (
                        "a file name of another component",
                        version(replacing("memory", with: part("memory", "data", "tools.json", "{}")))
                    ),
                    (
                        "a file name with an uppercase extension",
                        version(replacing("prompt", with: part("prompt", "text", "prompt.MD", "hi\n", source: "p.MD")))
                    ),
                    (
                        "a path as file name",
                        version(replacing("memory", with: part("memory", "data", "../x.json", "{}")))
                    ),
                    (
                        "data that is not canonical JSON",
                        version(replacing("tools", with: part("tools", "data", "tools.json", "[ ]")))
                    ),
                    (
                        "data that is not JSON",
                        version(replacing("tools", with: part("tools", "data", "tools.json", "tools")))
                    ),
                    (
                        "a model without an id",
                        version(replacing("model", with: part("model", "model", "model.json", #"{"provider":"x"}"#)))
                    ),
                    (
                        "a model that is a string",
                        version(replacing("model", with: part("model", "model", "model.json", #""m""#)))
                    ),
                    (
                        "a short commit",
                        version(replacing("code", with: part("code", "commit", "code.json", #"{"commit":"9fceb02"}"#)))
                    ),
                    (
                        "a commit with an unknown member",
                        version(
                            replacing(
                                "code",
                                with: part(
                                    "code", "commit", "code.json",
                                    #"{"commit":"9fceb02d0ae598e95dc970b74767f19372d61af8","x":1}"#)))
                    ),
                    (
                        "a text component without a source",
                        version(replacing("prompt", with: part("prompt", "text", "prompt.md", "hi\n")))
                    ),
                    ("two components of one name", version { $0.append($0[0]) }),
                    (
                        "a signing key as the prompt",
                        version(
                            replacing(
                                "prompt",
                                with: part(
                                    "prompt", "text", "prompt.md", "PRIVATE+KEY+x+776dc169+AT/JJJgx7Y\n",
                                    source: "ledger/purser.key")))
                    ),
                    ("an agent name with a line break and ESC", version(agent: "a\nb\u{1b}[31m")),
                    ("an agent name of 10,000 bytes", version(agent: String(repeating: "a", count: 10_000))),
                    (
                        "a source with a line break",
                        version(
                            replacing(
                                "prompt",
                                with: part(
                                    "prompt", "text", "prompt.md", "You are a support agent.\n",
                                    source: "agent/system-prompt.md\nsource: elsewhere")))
                    ),
                    ("a malformed label", version(label: "no label")),
                    ("a label of another version", version(label: one)),
                ],
                version(label: "support-agent@3.0.0")
            )
        case "evaluations/record":
            let results = file(#"{"suite":"s","cases":[{"name":"a","passed":true}]}"#, source: "eval.json")
            return (
                [
                    ("an unknown format", ["version": one, "results": results, "format": "xml"]),
                    ("an unknown version", ["version": "support-agent@9.9.9", "results": results, "format": "json"]),
                    ("results that are not JSON", ["version": one, "results": file("{"), "format": "json"]),
                ],
                ["version": one, "results": results, "format": "json"]
            )
        case "drills/record":
            let drill: [String: Any] = ["env": "prod", "from": two, "to": one, "result": "passed"]
            return (
                [
                    ("an uppercase environment", drill.merging(["env": "Prod"]) { $1 }),
                    ("an unknown result", drill.merging(["result": "maybe"]) { $1 }),
                    ("the same version twice", drill.merging(["to": two]) { $1 }),
                    ("a negative duration", drill.merging(["duration": -1]) { $1 }),
                    ("an unknown version", drill.merging(["from": "support-agent@9.9.9"]) { $1 }),
                ],
                drill
            )
        case "waivers/grant":
            let waiver: [String: Any] = [
                "version": one, "check": "dashboards-updated", "reason": "migration", "approver": "dana",
                "expires": "2099-01-01T00:00:00Z",
            ]
            return (
                [
                    ("an unknown check", waiver.merging(["check": "nope"]) { $1 }),
                    ("the version-recorded check", waiver.merging(["check": "version-recorded"]) { $1 }),
                    ("a blank reason", waiver.merging(["reason": "  "]) { $1 }),
                    ("an empty approver", waiver.merging(["approver": ""]) { $1 }),
                    ("an expiry in the past", waiver.merging(["expires": "2000-01-01T00:00:00Z"]) { $1 }),
                    ("an expiry that is not a time", waiver.merging(["expires": "soon"]) { $1 }),
                ],
                waiver
            )
        case "metrics/ingest":
            return (
                [
                    ("an unknown format", ["file": file(task), "format": "xml"]),
                    ("a line that is not JSON", ["file": file(task + "\n{"), "format": "jsonl"]),
                    (
                        "an unknown version",
                        ["file": file(task.replacingOccurrences(of: "@1.0.0", with: "@9.9.9")), "format": "jsonl"]
                    ),
                ],
                ["file": file(task), "format": "jsonl"]
            )
        case "entries/append":
            return (
                [
                    ("a kind of purser's own", ["kind": "version.recorded", "body": file("{}")]),
                    ("a kind outside custom.", ["kind": "note", "body": file("{}")]),
                    ("an empty custom kind", ["kind": "custom.", "body": file("{}")]),
                    ("a kind with a space", ["kind": "custom.a b", "body": file("{}")]),
                    ("a body that is an array", ["kind": "custom.note", "body": file("[]")]),
                    ("a body that is not JSON", ["kind": "custom.note", "body": file("{")]),
                    ("a body that sets recorded_by", ["kind": "custom.note", "body": file(#"{"recorded_by":"a"}"#)]),
                ],
                ["kind": "custom.note", "body": file(#"{"a":1}"#)]
            )
        case "entries/append-lines":
            return (
                [
                    ("a kind of purser's own", ["kind": "deployment.started", "lines": file("{}\n")]),
                    ("no lines", ["kind": "custom.note", "lines": file("\n \n")]),
                    ("a bad second line", ["kind": "custom.note", "lines": file("{}\n[]\n")]),
                    (
                        "a line that sets recorded_by",
                        ["kind": "custom.note", "lines": file("{}\n{\"recorded_by\":\"a\"}\n")]
                    ),
                ],
                ["kind": "custom.note", "lines": file("{\"n\":1}\n{\"n\":2}\n")]
            )
        case "deployments/start":
            let start: [String: Any] = ["version": one, "env": "prod", "strategy": "canary"]
            return (
                [
                    ("an unknown strategy", start.merging(["strategy": "big-bang"]) { $1 }),
                    ("an uppercase environment", start.merging(["env": "PROD"]) { $1 }),
                    ("a canary of 0%", start.merging(["weight": 0]) { $1 }),
                    ("a canary of 150%", start.merging(["weight": 150]) { $1 }),
                    ("a blue-green of 50%", start.merging(["strategy": "blue-green", "weight": 50]) { $1 }),
                    ("a time that is not one", start.merging(["effectiveAt": "soon"]) { $1 }),
                    ("a break-glass reason alone", start.merging(["breakGlassReason": "hotfix"]) { $1 }),
                    (
                        "a blank break-glass approver",
                        start.merging(["breakGlassReason": "hotfix", "breakGlassApprover": " "]) { $1 }
                    ),
                    ("an unknown version", start.merging(["version": "support-agent@9.9.9"]) { $1 }),
                ],
                nil
            )
        case "deployments/change":
            return (
                [
                    ("an unknown change", ["change": "explode", "env": "prod"]),
                    ("a shift without a rollout", ["change": "shift", "env": "prod", "weight": 10]),
                    ("a shift without a weight", ["change": "shift", "env": "prod"]),
                    ("an uppercase environment", ["change": "promote", "env": "Prod"]),
                    ("a rollback without a reason", ["change": "rollback", "env": "prod", "reason": " "]),
                    ("a rollback with nothing to go back to", ["change": "rollback", "env": "prod", "reason": "bad"]),
                    ("drained of an unknown version", ["change": "drained", "env": "prod", "version": "x@1"]),
                ],
                nil
            )
        case "checklist/run":
            return (
                [
                    ("an uppercase environment", checklist(env: "Prod", gathered: [evidence, evidence])),
                    ("one piece of evidence", checklist(gathered: [evidence])),
                    ("evidence without contents", checklist(gathered: [["source": "queue"], evidence])),
                    (
                        "evidence whose value is not JSON",
                        checklist(gathered: [evidence.merging(["value": "{"]) { $1 }, evidence])
                    ),
                    ("a policy that is not one", checklist(policy: "checks: 3", gathered: [evidence, evidence])),
                    ("a time that is not one", checklist(gathered: queueAt("garbage\n<script>alert(1)</script>"))),
                    ("a time in the year 10000", checklist(gathered: queueAt("10000-01-01T00:00:00.000Z"))),
                    ("a time in the year 0", checklist(gathered: queueAt("0000-12-31T00:00:00.000Z"))),
                    (
                        "a time with an offset of 25 hours",
                        checklist(gathered: queueAt("2026-01-01T00:00:00.000+25:00"))
                    ),
                    ("a time not in the ledger's form", checklist(gathered: queueAt("2026-01-01T00:00:00Z"))),
                    ("a time other than the answer's own", checklist(gathered: queueAt("2026-01-01T00:00:00.000Z"))),
                    (
                        "a dashboard file time in the year 10000",
                        checklist(gathered: [
                            queue, dashboard.merging(["observedAt": "10000-01-01T00:00:00.000Z"]) { $1 },
                        ])
                    ),
                    (
                        "a time for an answer that has none",
                        checklist(gathered: [
                            queue.merging(["contents": file("{}"), "value": "{}"]) { $1 }, dashboard,
                        ])
                    ),
                    (
                        "evidence of a source the policy does not name",
                        checklist(gathered: [queue.merging(["source": "file:/etc/passwd"]) { $1 }, dashboard])
                    ),
                    (
                        "a value that is not the contents'",
                        checklist(gathered: [
                            queue, dashboard.merging(["value": #"{"q":"support-agent@1.0.0"}"#]) { $1 },
                        ])
                    ),
                    (
                        "an error of an unknown code",
                        checklist(gathered: [
                            ["errorCode": "ok", "errorMessage": "command:sh evidence/queue-probe.sh: fine"], dashboard,
                        ])
                    ),
                    (
                        "an error that names another source",
                        checklist(gathered: [["errorCode": "invalid-input", "errorMessage": "all fine"], dashboard])
                    ),
                ],
                checklist(gathered: [queue, dashboard])
            )
        case "canary/judge":
            let judge: [String: Any] = [
                "env": "prod", "baseline": one, "canary": two, "config": file(canaryConfig, source: "canary.yaml"),
            ]
            return (
                [
                    ("an uppercase environment", judge.merging(["env": "Prod"]) { $1 }),
                    ("the same version twice", judge.merging(["canary": one]) { $1 }),
                    ("a configuration that is not one", judge.merging(["config": file("steps: many")]) { $1 }),
                    ("no versions and no rollout", ["env": "prod", "config": file(canaryConfig)]),
                    ("a time that is not one", judge.merging(["since": "yesterday"]) { $1 }),
                ],
                nil
            )
        default:
            let pairs = file(#"{"request_id":"r1","primary":{"quality":0.5},"shadow":{"quality":0.6}}"#)
            let compare: [String: Any] = ["env": "prod", "primary": one, "shadow": two, "pairs": pairs]
            return (
                [
                    ("an uppercase environment", compare.merging(["env": "Prod"]) { $1 }),
                    ("the same version twice", compare.merging(["shadow": one]) { $1 }),
                    (
                        "a pair without a request id",
                        compare.merging(["pairs": file(#"{"primary":{},"shadow":{}}"#)]) { $1 }
                    ),
                    (
                        "a quality above 1",
                        compare.merging([
                            "pairs": file(#"{"request_id":"r","primary":{"quality":2},"shadow":{"quality":0.6}}"#)
                        ]) { $1 }
                    ),
                ],
                compare
            )
        }
    }

    @Test(
        "every invalid variant of an appending operation is refused with a 4xx over HTTP, appends nothing, and verify still passes",
        arguments: routes)
    func invalidRequestsAreRefused(route: String) throws {
        let workspace = Workspace()
        try workspace.initLedger()
        _ = try workspace.recordAgentVariant("1", label: "support-agent@1.0.0")
        _ = try workspace.recordAgentVariant("2", label: "support-agent@2.0.0")
        let token = "Bearer " + (try workspace.token("writer", name: "ci-runner"))
        let server = try RunningServer(in: workspace)
        func size() throws -> Double? {
            try JSONValue(parsing: Array(http("GET", server.url + "/healthz").body.utf8))["size"]?.numberValue
        }
        let before = try size()
        try #require(before == 3)
        let (invalid, valid) = Self.requests(route)
        for (what, request) in invalid {
            let answer = http(
                "POST", server.url + "/v1/" + route, token: token,
                body: try JSONSerialization.data(withJSONObject: request))
            #expect(
                (400..<500).contains(answer.status) && ![401, 403, 413].contains(answer.status),
                "\(route), \(what): \(answer.status) \(answer.body)")
            #expect(try size() == before, "\(route), \(what) appended")
        }
        let verified = try workspace.run(["verify"])
        #expect(verified.status == 0, "\(route): \(verified.stdout) \(verified.stderr)")
        // The same request made valid is performed: the refusals were for what each variant changed.
        if let valid {
            let answer = http(
                "POST", server.url + "/v1/" + route, token: token,
                body: try JSONSerialization.data(withJSONObject: valid))
            #expect(answer.status == 200, "\(route), the valid request: \(answer.status) \(answer.body)")
            #expect(try (size() ?? 0) > before!)
            #expect(try workspace.run(["verify"]).status == 0)
            for query in [["version", "list"], ["audit", "--format", "md", "--out", "report.md"]] {
                let result = try workspace.run(query)
                #expect(result.status == 0, "\(route): \(query) after the valid request: \(result.stderr)")
            }
        }
        #expect(server.stop() == 0)
    }
}
