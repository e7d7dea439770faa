internal import Foundation
internal import PurserLedger

extension AuditCollector {
    /// The report in the schema `purser-audit/1` (ledger/README.md §16).
    mutating func document(
        ledger: Ledger, verification: VerificationReport, checkpoint: String?, timelines: [Timeline]
    ) -> JSONValue {
        let shipped = versionsShipped()
        findings += backdated.map(\.finding)
        // Integrity first: the rest rests on the ledger being intact.
        let all = findings.sorted {
            ($0.kind == .integrity ? 0 : 1, $0.seq, $0.kind.rawValue) < (
                $1.kind == .integrity ? 0 : 1, $1.seq, $1.kind.rawValue
            )
        }
        let fault: JSONValue =
            verification.fault.map {
                .object(["seq": .number(Double($0.seq)), "kind": .string($0.kind.name), "detail": .string($0.detail)])
            } ?? .null
        return Self.object([
            "schema": .string("purser-audit/1"),
            "generated_at": .string(now),
            "window": Self.object([
                "from": scope.from.map(JSONValue.string), "to": scope.to.map(JSONValue.string),
                "envs": .array(scope.envs.map(JSONValue.string)),
            ]),
            "ledger": .object([
                "origin": .string(ledger.origin), "verifier_key": .string(ledger.verifierKey.description),
            ]),
            "verification": .object([
                "ok": .bool(verification.ok), "trusted": .bool(verification.trusted),
                "size": .number(Double(verification.size)), "root": .string(verification.root.hex),
                "held_checkpoints": .number(Double(verification.checkpoints.count)), "fault": fault,
                "trusted_size": .number(Double(verification.trustedSize)),
                "self_consistent_tail": verification.ok && verification.trusted
                    && verification.trustedSize < verification.size
                    ? .object([
                        "first_seq": .number(Double(verification.trustedSize)),
                        "last_seq": .number(Double(verification.size - 1)),
                    ]) : .null,
            ]),
            "checkpoint": checkpoint.map(JSONValue.string),
            "summary": .object([
                "deployments": .number(Double(deployments.count)), "rollbacks": .number(Double(rollbacks.count)),
                "canary_judgements": .number(Double(judgementCount)), "versions": .number(Double(shipped.count)),
                "findings": .number(Double(all.count)),
                "environments": .array(Set(deployments.map(\.env)).sorted().map(JSONValue.string)),
            ]),
            "findings": .array(
                all.map { finding in
                    Self.object([
                        "kind": .string(finding.kind.rawValue), "seq": .number(Double(finding.seq)),
                        "at": finding.at.map(JSONValue.string), "env": finding.env.map(JSONValue.string),
                        "version": finding.version.map(JSONValue.string), "detail": .string(finding.detail),
                    ])
                }),
            "versions": .array(shipped),
            "deployments": .array(deployments.map(deploymentDocument)),
            "rollbacks": .array(rollbacks),
            "timeline": .array(timelines.map(\.document)),
        ])
    }

    /// The versions deployed in the window, oldest first, with each component and its pin status; adds a
    /// finding for each that shipped with a floating model id.
    private mutating func versionsShipped() -> [JSONValue] {
        var firstDeployment: [String: Deployment] = [:]
        for deployment in deployments where firstDeployment[deployment.version] == nil {
            firstDeployment[deployment.version] = deployment
        }
        return firstDeployment.keys.sorted { (versions[$0]?.seq ?? .max, $0) < (versions[$1]?.seq ?? .max, $1) }
            .map { id in
                let version = versions[id]
                var floating: [String] = []
                let components = (version?.components ?? []).map { component -> JSONValue in
                    var pinned: JSONValue = .null
                    var note: JSONValue = .null
                    // What fixes a commit or a file is not judged by the pins table: say what it is.
                    switch component["kind"]?.stringValue {
                    case "commit":
                        let commit = component["value"]?["commit"]?.stringValue
                        note = commit.map { .string("commit \($0.prefix(12))") } ?? .null
                    case "text", "data": note = .string("content-addressed: the digest fixes its contents")
                    default: break
                    }
                    if component["kind"]?.stringValue == "model", let value = component["value"] {
                        let judged = scope.pins.judge(value)
                        pinned = .bool(judged.pinned)
                        note = .string(judged.reason)
                        if !judged.pinned {
                            floating.append(
                                "\(component["name"]?.stringValue ?? "?") \(value["provider"]?.stringValue ?? "?")/\(value["id"]?.stringValue ?? "?")"
                            )
                        }
                    }
                    return Self.object([
                        "name": component["name"], "kind": component["kind"], "digest": component["digest"],
                        "size": component["size"], "source": component["source"],
                        "model": component["kind"]?.stringValue == "model" ? component["value"]?["id"] : nil,
                        "pinned": pinned, "pin_note": note,
                    ])
                }
                if !floating.isEmpty, let deployment = firstDeployment[id] {
                    var detail =
                        "\(name(id)) shipped with floating model ids (\(floating.joined(separator: ", "))): what runs can change without a new version"
                    // The gate opened only because a waiver stood in for the check that refuses floating ids.
                    let pinsWaiver = deployment.waivers.first { $0["check"]?.stringValue == "components-pinned" }
                    if deployment.gate == "covered", let run = deployment.run, let waiver = pinsWaiver {
                        let seq = waiver["seq"]?.numberValue.map { String(Int($0)) } ?? "?"
                        let approver = waiver["approver"]?.stringValue ?? "?"
                        let expires = waiver["expires"]?.stringValue ?? "?"
                        detail +=
                            "; its checklist run (seq \(run.seq)) let it through on waiver seq \(seq) of components-pinned, approved by \(approver) until \(expires): \(waiver["reason"]?.stringValue ?? "")"
                    }
                    findings.append(
                        Finding(
                            kind: .floatingModel, seq: deployment.seq, at: deployment.at, env: deployment.env,
                            version: id, detail: detail))
                }
                return Self.object([
                    "id": .string(id), "name": .string(name(id)), "short": .string(String(id.prefix(12))),
                    "agent": version.map { .string($0.agent) },
                    "labels": .array((version?.labels ?? []).map(JSONValue.string)),
                    "recorded_seq": version.map { .number(Double($0.seq)) },
                    "recorded_at": version.map { .string($0.at) },
                    "floating": .bool(!floating.isEmpty), "components": .array(components),
                ])
            }
    }

    private func deploymentDocument(_ deployment: Deployment) -> JSONValue {
        let body = deployment.body
        let checks = deployment.run?.body["checks"]?.arrayValue ?? []
        let passed = checks.filter { $0["verdict"]?.stringValue == "pass" }.count
        let checklist = deployment.run.map { run in
            Self.object([
                "seq": .number(Double(run.seq)), "at": .string(run.at), "valid_until": .string(run.validUntil),
                "allowed": run.body["allowed"], "policy": run.body["policy"], "checks": run.body["checks"],
                "passed": .number(Double(passed)), "count": .number(Double(checks.count)),
                "all_passed": .bool(passed == checks.count),
            ])
        }
        // Nothing of note: allowed by a run in which every check passed, no waiver or override, every canary
        // judgement promote, not rolled back or aborted. Reports may list these briefly.
        let routine =
            ["covered", "not-gated"].contains(deployment.gate) && passed == checks.count && deployment.waivers.isEmpty
            && deployment.judgements.allSatisfy { $0["verdict"]?.stringValue == "promote" }
            && !deployment.events.contains {
                ["rollback.performed", "deployment.aborted"].contains($0["kind"]?.stringValue ?? "")
            }
        return Self.object([
            "seq": .number(Double(deployment.seq)), "at": .string(deployment.at),
            "effective_at": .string(deployment.effectiveAt), "env": .string(deployment.env),
            "strategy": body["strategy"], "weight": body["weight"], "version": .string(deployment.version),
            "version_name": .string(name(deployment.version)), "gate": .string(deployment.gate),
            "break_glass": body["break_glass"], "checklist": checklist, "waivers": .array(deployment.waivers),
            "events": .array(deployment.events), "canary_judgements": .array(deployment.judgements),
            "drills": .array(deployment.drills), "routine": .bool(routine),
        ])
    }
}
