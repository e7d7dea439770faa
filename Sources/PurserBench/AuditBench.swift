import Foundation
import PurserCore
import PurserLedger

/// 13. An HTML audit report of a ledger with 10,000 deployments over a year in 10 environments, each gated
/// deployment preceded by the checklist run that allowed it (seven checks with evidence), each canary
/// judged on six metrics; as library calls: verification, collection and rendering.
func benchmarkAudit(in directory: String) throws {
    let folder = directory + "/audit"
    try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
    let ledger = try Ledger.create(
        at: folder + "/ledger.sqlite", origin: "bench.example/audit", keyPath: folder + "/l.key")
    let key = try SigningKey.load(from: folder + "/l.key")
    var releases = try Releases(ledger: ledger)
    let fixture = try ManifestFixture(folder: folder + "/manifest", promptBytes: 4 * 1024, tools: 20)
    let versions = try fixture.recordVariants(40, in: releases) { "agent@2.\($0).0" }
    let timeline = try TrafficTimeline(
        environments: 10, events: 41_700, versions: versions, span: lastYear(), seed: 0xA0D1)
    // Checklist runs name their policy by digest; verify checks that its bytes are stored.
    let policy = try ledger.write { try $0.storeArtifact(Array("max-age: 24h\n".utf8)) }
    let canaryConfig = try ledger.write { try $0.storeArtifact(Array("steps: [5, 25, 50, 100]\n".utf8)) }
    var events: [Event] = []
    var deployments = 0
    for event in timeline.events {
        if event.kind == "deployment.started" {
            deployments += 1
            let body = try JSONValue(parsing: event.body)
            if body["strategy"]?.stringValue != "shadow" {
                events.append(try checklistRun(version: body["version"]!, env: body["env"]!, policy: policy))
            }
            events.append(event)
            if body["strategy"]?.stringValue == "canary" {
                events.append(try judgement(canary: body["version"]!, env: body["env"]!, config: canaryConfig))
            }
        } else {
            events.append(event)
        }
    }
    try ledger.append(contentsOf: events, batchSize: 1_000)
    releases = try Releases(ledger: ledger)
    print("(\(deployments) deployments in \(try ledger.size()) entries)")
    let templates = try ReportTemplates(directory: "templates/report")
    var bytes: [UInt8] = []
    var runs: [(collect: Double, render: Double, cpu: Double)] = []
    for _ in 0..<3 {
        var report: AuditReport?
        let cpu = processCPUSeconds()
        let collect = try seconds { report = try releases.audit.report(AuditScope(signingKey: key)) }
        let render = try seconds { bytes = try templates.render(report!, format: .html) }
        if let fault = report!.verification.fault { Options.fail("the bench ledger did not verify: \(fault)") }
        runs.append((collect, render, processCPUSeconds() - cpu))
    }
    try Data(bytes).write(to: URL(fileURLWithPath: folder + "/audit.html"))
    let median = runs.sorted { $0.collect + $0.render < $1.collect + $1.render }[1]
    let total = median.collect + median.render
    report(
        "HTML audit of \(deployments) deployments/year", "median \(format(total, 2)) s",
        target:
            "target < 3 s: \(verdict(total < 3)) (3 runs; verify and collect \(format(median.collect, 2)) s, render \(format(median.render, 2)) s, CPU time \(format(median.cpu, 2)) s; \(format(Double(bytes.count) / 1_048_576, 1)) MB)"
    )
}

/// The CPU time of this process so far, all threads: on a shared machine it says what a run cost when the
/// wall clock also counts waiting for a core.
func processCPUSeconds() -> Double {
    // getrusage, not clock_gettime: with PurserServer linked in, `timespec` is seen through Dispatch's C module.
    var usage = rusage()
    getrusage(RUSAGE_SELF.rawValue, &usage)
    func seconds(_ time: timeval) -> Double { Double(time.tv_sec) + Double(time.tv_usec) / 1e6 }
    return seconds(usage.ru_utime) + seconds(usage.ru_stime)
}

/// An allowing `checklist.evaluated` body as `purser check` writes it: seven checks with reasons and evidence.
private func checklistRun(version: JSONValue, env: JSONValue, policy: Hash) throws -> Event {
    let digest = JSONValue.string(String(repeating: "5e", count: 32))
    func check(_ id: String, _ reason: String, _ sources: [String]) -> JSONValue {
        .object([
            "id": .string(id), "verdict": .string("pass"), "reason": .string(reason),
            "evidence": .array(sources.map { .object(["source": .string($0), "digest": digest]) }),
        ])
    }
    return try Event(
        kind: "checklist.evaluated",
        body: .object([
            "version": version, "env": env, "allowed": .bool(true),
            "policy": .object([
                "file": .string("checklist.yaml"), "digest": .string(policy.hex), "max_age_s": .number(86_400),
            ]),
            "checks": .array([
                check(
                    "version-recorded", "recorded at seq 12; its 7 components still hash to its id",
                    ["ledger:seq 12 (version.recorded)"]),
                check(
                    "components-pinned",
                    "all 7 components pinned (models: gpt-4o-2024-08-06, claude-3-5-sonnet-20241022)",
                    ["file:model-pins.yaml"]),
                check(
                    "queue-healthy", "12/500 used (2.4%), 4 consumers, oldest task 3s",
                    ["command:sh evidence/queue-probe.sh"]),
                check(
                    "dashboards-updated", "file:evidence/dashboard.json references the candidate",
                    ["file:evidence/dashboard.json"]),
                check(
                    "rollback-tested", "runbook present; drill passed 2 days ago",
                    ["file:runbooks/rollback.md", "ledger:seq 20 (rollback.drilled)"]),
                check(
                    "eval-passed", "suite support-regression: 100% of 8 runs passed",
                    ["ledger:seq 19 (evaluation.recorded)"]),
                check(
                    "canary-configured", "steps 5, 25, 50, 100%; 6 metrics; automatic rollback on", ["file:canary.yaml"]
                ),
            ]),
        ]))
}

/// A `canary.judged` body with six metrics, as `purser canary judge` writes it.
private func judgement(canary: JSONValue, env: JSONValue, config: Hash) throws -> Event {
    func metric(_ name: String, _ statistic: String) -> JSONValue {
        .object([
            "metric": .string(name), "statistic": .string(statistic), "critical": .bool(name == "error_rate"),
            "n": .object(["baseline": .number(1_000), "canary": .number(1_000)]), "baseline": .number(0.021),
            "canary": .number(0.019), "effect": .number(-0.002), "relative_effect": .number(-0.095),
            "estimate": .number(-0.002), "interval": .null, "baseline_interval": .null, "canary_interval": .null,
            "p": .number(0.62), "label": .string("pass"),
        ])
    }
    return try Event(
        kind: "canary.judged",
        body: .object([
            "env": env, "baseline": canary, "canary": canary, "since": .string("2026-01-01T00:00:00.000Z"),
            "score": .number(1), "verdict": .string("promote"),
            "config": .object(["file": .string("canary.yaml"), "digest": .string(config.hex)]),
            "metrics": .array([
                metric("error_rate", "rate"), metric("completion_rate", "rate"), metric("quality", "mean"),
                metric("duration_ms", "p95"), metric("cost_usd", "mean"), metric("tool_success_rate", "rate"),
            ]),
        ]))
}
