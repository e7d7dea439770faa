import ArgumentParser
import Foundation
import PurserCore
import PurserLedger
import PurserOperations

struct Demo: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "demo",
        abstract: "Tell the release story of the example agent on a fresh ledger, with real commands.",
        discussion: reflowed(
            """
            Three versions of the example agent in templates/ go through the release checklist, a waiver, a
            blue-green deployment, a canary that the statistical judge rolls back and a fix that it promotes; then
            the ledger is verified, a checkpoint signed and the audit report written. Every step is a real purser
            command, run as you would type it and printed with its output, on a real ledger; afterwards every
            command works on it.

            The ledger must not exist yet (default ./ledger/purser.sqlite): the demo never deletes anything.
            It works on a copy of the templates in a folder beside the ledger (ledger/demo/), because its steps
            change files there (the prompt, the dashboard, evidence, generated metrics).

            Examples:
              swift build -c release && .build/release/purser demo
              purser demo --ledger /tmp/demo/purser.sqlite
            """))

    @OptionGroup var ledgerOptions: LocalLedgerOptions
    @Option(
        help: ArgumentHelp(
            "The example agent's folder (default: ./templates, else the repository's beside the purser executable).",
            valueName: "dir"))
    var templates: String?

    func run() throws {
        // Every step runs in this process and would follow PURSER_SERVER: the story belongs on its own ledger,
        // never in a team's.
        if let server = ledgerOptions.serverURL {
            throw LedgerError(
                .usage,
                "the demo keeps a ledger of its own and never writes to a server: unset PURSER_SERVER (or drop --server \(server)) and pass --ledger PATH to choose where"
            )
        }
        let templates = try Self.findTemplates(templates)
        let story = DemoStory(
            ledger: ledgerOptions.ledger, templates: templates, purser: CommandLine.arguments.first ?? "purser")
        try story.refuseExistingFiles()
        let started = Date()
        for (index, step) in story.steps.enumerated() {
            try story.perform(step, number: index + 1)
        }
        try story.printSummary(seconds: Date().timeIntervalSince(started))
    }

    /// The templates folder: `--templates`, else purser's own (here, or of the checkout the binary was built in).
    static func findTemplates(_ option: String?) throws -> String {
        let needed = ["agent.yaml", "checklist.yaml", "canary.yaml", "evidence/eval-results.json"]
        if let option {
            guard needed.allSatisfy({ FileManager.default.fileExists(atPath: option + "/" + $0) }) else {
                throw LedgerError(
                    .notFound, "--templates \(option): no agent.yaml, checklist.yaml, canary.yaml and evidence/ there")
            }
            return option
        }
        guard let found = templatesFolder(holding: needed) else {
            throw LedgerError(
                .notFound,
                "the example agent (templates/) is neither in the current directory nor in the repository of this purser: run purser demo from the repository's root or pass --templates DIR"
            )
        }
        return found
    }
}

/// One step of the story: a title, why it matters, and what it runs.
struct DemoStep {
    enum Action {
        /// `purser ARGS`, run in process exactly as typed; `expect` is the exit code the story needs.
        case purser([String], expect: Int32)
        /// Files the demo changes itself; `shown` is what a person would type (`$ …`) or what was written.
        case files(shown: [String], change: () throws -> Void)
    }

    let title: String
    let why: String
    let action: Action

    static func purser(
        _ title: String, _ why: String, _ arguments: String..., expect: Int32 = ExitStatus.success
    )
        -> DemoStep
    {
        DemoStep(title: title, why: why, action: .purser(arguments, expect: expect))
    }

    static func files(
        _ title: String, _ why: String, shown: [String], _ change: @escaping () throws -> Void
    )
        -> DemoStep
    {
        DemoStep(title: title, why: why, action: .files(shown: shown, change: change))
    }
}

/// The story of three releases of the example agent, told on a fresh ledger.
struct DemoStory {
    let ledger: String
    let templates: String
    /// The folder beside the ledger where the demo keeps its copy of the templates and what it writes.
    let work: String
    /// `--ledger PATH`, added to every command when the ledger is not the default one.
    let ledgerArguments: [String]
    /// The purser the user ran, as they typed it (`.build/release/purser`, or `purser` from the PATH): the
    /// commands suggested at the end work when pasted.
    let purser: String

    let v1 = "support-agent@1.0.0"
    let v2 = "support-agent@1.1.0"
    let v3 = "support-agent@1.2.0"
    let pinnedModel = "claude-3-5-sonnet-20241022"
    let floatingModel = "claude-3-5-sonnet-latest"

    init(ledger: String, templates: String, purser: String = "purser") {
        self.ledger = ledger
        self.templates = templates
        self.purser = purser.isEmpty ? "purser" : purser
        let folder = (ledger as NSString).deletingLastPathComponent
        work = folder.isEmpty ? "demo" : folder + "/demo"
        ledgerArguments = ledger == Ledger.defaultPath ? [] : ["--ledger", ledger]
    }

    var auditReport: String { "\(work)/audit.html" }

    var steps: [DemoStep] {
        let now = Date()
        let waiverExpiry = String(Timestamp.format(now.addingTimeInterval(4 * 86_400)).prefix(10))
        let manifest = "\(work)/agent.yaml"
        let policy = "\(work)/checklist.yaml"
        let canary = "\(work)/canary.yaml"
        let prompt = "\(work)/agent/system-prompt.md"
        let dashboard = "\(work)/evidence/dashboard.json"
        let freshEval = "\(work)/evidence/eval-results.json"
        let staleEval = "\(work)/evidence/eval-results-10-days-old.json"
        return [
            .purser(
                "A fresh ledger",
                "One SQLite file of hash-chained entries and an Ed25519 key that signs its checkpoints.",
                "init", "--origin", "demo.example/support-agent"),
            .files(
                "A working copy of the example agent",
                "The steps below change the prompt, the dashboard and evidence, so they work on a copy of templates/.",
                shown: ["$ cp -r \(shellQuoted(templates)) \(shellQuoted(work))"]
            ) {
                try copy(templates, to: work)
            },

            // Version 1.0.0: a floating model, released under a waiver.
            .files(
                "Version 1.0.0 names a floating model",
                "An alias such as \(floatingModel) can be moved to another model by the provider at any time.",
                shown: ["$ sed -i 's/id: \(pinnedModel)/id: \(floatingModel)/' \(shellQuoted(manifest))"]
            ) {
                try replace("id: \(pinnedModel)", with: "id: \(floatingModel)", in: manifest)
            },
            .purser(
                "Record version 1.0.0",
                "Prompt, tools, model, code and memory pinned into one behavioral version: its id is their hash.",
                "version", "record", manifest, "--label", v1),
            .purser(
                "Record its evaluation",
                "The evaluation suite's results against this exact version id.",
                "eval", "record", "--version", v1, "--results", freshEval),
            .purser(
                "Run the release checklist: blocked",
                "Seven checks of what a release needs, each with its evidence; components-pinned fails on the floating "
                    + "model (exit 1).",
                "check", "--version", v1, "--env", "prod", "--policy", policy, expect: ExitStatus.blocked),
            .purser(
                "Waive that one check, for this version, for a few days",
                "A waiver names a reason, an approver and an expiry, and every later check shows it.",
                "waive", "--version", v1, "--check", "components-pinned",
                "--reason", "first release; the model is pinned in 1.1.0", "--approver", "dana@example.com",
                "--expires", waiverExpiry),
            .purser(
                "Run the checklist again: allowed",
                "Deployments are gated: deploy start needs a recent allowing run for this version and environment.",
                "check", "--version", v1, "--env", "prod", "--policy", policy),
            .purser(
                "Deploy 1.0.0 to prod, blue-green",
                "It takes every new task at once.",
                "deploy", "start", v1, "--env", "prod", "--strategy", "blue-green"),

            // Version 1.1.0: a prompt change and the model pinned; stale evidence blocks it first.
            .files(
                "Version 1.1.0: one sentence of the prompt changed, the model pinned",
                "Any change that can change behaviour gives a new behavioral version.",
                shown: [
                    "$ sed -i 's/Be brief and friendly./Be brief, friendly and precise./' \(shellQuoted(prompt))",
                    "$ sed -i 's/id: \(floatingModel)/id: \(pinnedModel)/' \(shellQuoted(manifest))",
                ]
            ) {
                try replace("Be brief and friendly.", with: "Be brief, friendly and precise.", in: prompt)
                try replace("id: \(floatingModel)", with: "id: \(pinnedModel)", in: manifest)
            },
            .purser(
                "Record version 1.1.0", "A new id, because the prompt and the model changed.",
                "version", "record", manifest, "--label", v2),
            .purser(
                "What changed between 1.0.0 and 1.1.0",
                "Component by component, with a diff of the prompt.",
                "version", "diff", v1, v2),
            .files(
                "An evaluation run from 10 days ago",
                "Someone hands in old results: the checklist wants an evaluation of at most 3 days.",
                shown: ["wrote \(staleEval): the suite's results, observed_at 10 days ago"]
            ) {
                try writeStaleEvaluation(
                    from: freshEval, to: staleEval, observedAt: now.addingTimeInterval(-10 * 86_400))
            },
            .purser(
                "Record the old evaluation", "It is recorded with the time it was observed.",
                "eval", "record", "--version", v2, "--results", staleEval),
            .purser(
                "Run the checklist: blocked",
                "The evaluation is stale, the rollback to 1.0.0 was never rehearsed, the dashboard still shows 1.0.0.",
                "check", "--version", v2, "--env", "prod", "--policy", policy, expect: ExitStatus.blocked),
            .purser(
                "Evaluate 1.1.0 now", "A fresh run of the suite.",
                "eval", "record", "--version", v2, "--results", freshEval),
            .purser(
                "Rehearse the rollback from 1.1.0 to 1.0.0 in staging",
                "A rollback never tried may fail when it is needed: the checklist wants this pair rehearsed.",
                "rollback", "drill", "--env", "staging", "--from", v2, "--to", v1, "--result", "passed"),
            .files(
                "Update the dashboard for 1.1.0", "Monitoring must show the new version before it serves.",
                shown: ["$ sed -i 's/\(v1)/\(v2)/g' \(shellQuoted(dashboard))"]
            ) {
                try replace(v1, with: v2, in: dashboard, everywhere: true)
            },
            .purser(
                "Run the checklist: allowed", "Every check passes; nothing is waived.",
                "check", "--version", v2, "--env", "prod", "--policy", policy),

            // The canary of 1.1.0: its errors triple, the judge rolls it back.
            .purser(
                "Canary: 1.1.0 takes 5% of prod",
                "5% is the first step of canary.yaml; 1.0.0 keeps the rest and is the baseline.",
                "deploy", "start", v2, "--env", "prod", "--strategy", "canary", "--canary-config", canary),
            .files(
                "Per-task metrics from both arms",
                "1,000 tasks each, drawn the same way every run: each canary task fails with chance 6%, three "
                    + "times the baseline's 2%.",
                shown: ["wrote \(work)/metrics/canary-1.1.0.jsonl: 1,000 tasks of 1.0.0 and 1,000 of 1.1.0"]
            ) {
                try writeCanaryMetrics(
                    to: "\(work)/metrics/canary-1.1.0.jsonl", baseline: v1, canary: v2, canaryErrorRate: 0.06, seed: 11)
            },
            .purser(
                "Ingest them", "Every line is checked; the file is stored in the ledger by digest.",
                "metrics", "ingest", "\(work)/metrics/canary-1.1.0.jsonl"),
            .purser(
                "The agent metrics per version",
                "Completion, errors, latency, tokens, cost, tools and quality: how each behavioral version does its work.",
                "metrics", "report", "--env", "prod"),
            .purser(
                "Judge the canary: rollback",
                "Error and completion rates regress beyond what canary.yaml allows (exit 1); the rollback is recorded.",
                "canary", "judge", "--env", "prod", "--config", canary, expect: ExitStatus.blocked),
            .purser(
                "1.1.0 finished its in-flight tasks",
                "Rolled back, it drained: agents' tasks run for minutes and are not cut off.",
                "deploy", "drained", "--env", "prod", "--version", v2),

            // Version 1.2.0: the fix, promoted.
            .files(
                "Version 1.2.0: the fix", "Another sentence of the prompt.",
                shown: [
                    "$ sed -i 's/Be brief, friendly and precise./Be brief and friendly; confirm the order number before a lookup./' \(shellQuoted(prompt))"
                ]
            ) {
                try replace(
                    "Be brief, friendly and precise.",
                    with: "Be brief and friendly; confirm the order number before a lookup.", in: prompt)
            },
            .purser(
                "Record version 1.2.0", "Its own id: the prompt changed again.",
                "version", "record", manifest, "--label", v3),
            .purser(
                "Evaluate it", "Against 1.2.0's exact id: 1.1.0's runs do not count.",
                "eval", "record", "--version", v3, "--results", freshEval),
            .purser(
                "Rehearse its rollback to 1.0.0", "1.0.0 serves prod again, so that is the pair to rehearse.",
                "rollback", "drill", "--env", "staging", "--from", v3, "--to", v1, "--result", "passed"),
            .files(
                "Update the dashboard for 1.2.0", "So that monitoring can tell 1.2.0's tasks apart.",
                shown: ["$ sed -i 's/\(v2)/\(v3)/g' \(shellQuoted(dashboard))"]
            ) {
                try replace(v2, with: v3, in: dashboard, everywhere: true)
            },
            .purser(
                "Run the checklist: allowed", "The same seven checks, this time for 1.2.0.",
                "check", "--version", v3, "--env", "prod", "--policy", policy),
            .purser(
                "Canary: 1.2.0 takes 5% of prod", "The same first step; 1.0.0 is the baseline again.",
                "deploy", "start", v3, "--env", "prod", "--strategy", "canary", "--canary-config", canary),
            .files(
                "Per-task metrics from both arms", "This time both arms behave alike.",
                shown: ["wrote \(work)/metrics/canary-1.2.0.jsonl: 1,000 tasks of 1.0.0 and 1,000 of 1.2.0"]
            ) {
                try writeCanaryMetrics(
                    to: "\(work)/metrics/canary-1.2.0.jsonl", baseline: v1, canary: v3, canaryErrorRate: 0.02, seed: 12)
            },
            .purser(
                "Ingest them",
                "Tasks of the earlier canary do not count: the judge reads tasks since this rollout began.",
                "metrics", "ingest", "\(work)/metrics/canary-1.2.0.jsonl"),
            .purser(
                "Judge the canary: promote",
                "No metric regresses (exit 0). A relative change can look large on few errors: each line shows the "
                    + "change with its confidence interval, and a metric regresses only when that interval lies "
                    + "wholly beyond the allowed change.",
                "canary", "judge", "--env", "prod", "--config", canary),
            .purser(
                "Promote 1.2.0", "It takes all new tasks; 1.0.0 drains its in-flight ones.",
                "deploy", "promote", "--env", "prod"),
            .purser(
                "1.0.0 finished its in-flight tasks", "Now 1.2.0 alone serves prod.",
                "deploy", "drained", "--env", "prod", "--version", v1),

            // What the ledger knows.
            .purser("What serves now", "Per environment: the traffic split and any rollout in progress.", "status"),
            .purser("What ran when in prod", "Every change of traffic, oldest first.", "history", "--env", "prod"),
            .purser(
                "Verify the ledger",
                "Every hash, link and stored file; without a held checkpoint the verdict is self-consistent.",
                "verify"),
            .purser(
                "Sign a checkpoint", "Keep it outside the ledger: a later verify that holds it says intact up to here.",
                "checkpoint", "--out", "\(work)/checkpoint"),
            .purser(
                "The audit report", "Every release in the ledger, its evidence and findings, for an auditor.",
                "audit", "--format", "html", "--out", auditReport, "--checkpoint", "\(work)/checkpoint",
                "--template", "\(work)/report"),
        ]
    }

    // MARK: Telling it

    /// Refuses, before anything is written, to overwrite a ledger, a key or an earlier demo's files.
    func refuseExistingFiles() throws {
        let key = environmentValue("PURSER_KEY") ?? Ledger.defaultKeyPath(forLedgerAt: ledger)
        let existing = [ledger, key, Ledger.publicKeyPath(forKeyAt: key), work].filter {
            FileManager.default.fileExists(atPath: $0)
        }
        guard existing.isEmpty else {
            throw LedgerError(
                .usage,
                "\(existing.joined(separator: ", ")) already \(existing.count == 1 ? "exists" : "exist"): the demo starts from a fresh ledger and never deletes anything; remove \(existing.count == 1 ? "it" : "them") or pass --ledger PATH (e.g. --ledger /tmp/purser-demo/purser.sqlite)"
            )
        }
    }

    func perform(_ step: DemoStep, number: Int) throws {
        Output.line("")
        Output.line("==> \(number). \(step.title)")
        if !step.why.isEmpty { Output.line("    \(step.why)") }
        switch step.action {
        case .files(let shown, let change):
            for line in shown { Output.line(line) }
            do {
                try change()
            } catch let error as LedgerError {
                throw LedgerError(.internal, "demo stopped at step \(number) (\(step.title)): \(error.message)")
            }
        case .purser(let arguments, let expect):
            let arguments = arguments + ledgerArguments
            let typed = "purser " + arguments.map(shellQuoted).joined(separator: " ")
            Output.line("$ " + typed)
            var status = ExitStatus.success
            do {
                var command = try Purser.parseAsRoot(arguments)
                try command.run()
            } catch {
                status = ExitStatus.code(for: error)
                if let message = ExitStatus.message(for: error) { Diagnostics.printError(message) }
            }
            guard status == expect else {
                throw LedgerError(
                    .internal,
                    "demo stopped at step \(number) (\(step.title)): `\(typed)` exited \(status), but the story expects \(expect)"
                )
            }
            if status != ExitStatus.success { Output.line("(exit \(status), as the story expects)") }
        }
    }

    func printSummary(seconds: Double) throws {
        let size = try Ledger(openingAt: ledger).size()
        let ledgerFlag = ledgerArguments.map(shellQuoted).joined(separator: " ")
        func command(_ text: String) -> String {
            "  \(shellQuoted(purser)) \(text)\(ledgerFlag.isEmpty ? "" : " " + ledgerFlag)"
        }
        Output.line("")
        Output.line("The demo is done (\(String(format: "%.1f", seconds)) s): \(size) entries in \(ledger), verified.")
        Output.line("audit report: \(auditReport)")
        Output.line(
            "work files:   \(work)/ (the agent, checklist and canary configuration, evidence, metrics, checkpoint)")
        Output.line("Try next:")
        Output.line(command("at now"))
        Output.line(command("history --env prod"))
        Output.line(command("log"))
        Output.line("  xdg-open \(shellQuoted(auditReport))    # or open, on macOS")
    }

    // MARK: Files

    private func copy(_ source: String, to destination: String) throws {
        do {
            try FileManager.default.copyItem(atPath: source, toPath: destination)
        } catch {
            throw LedgerError(.internal, "cannot copy \(source) to \(destination): \(error.localizedDescription)")
        }
    }

    /// Replaces the one occurrence of `old` in the file, or with `everywhere` every one (like sed's `g`). The
    /// templates are known: finding it elsewise is a bug.
    private func replace(_ old: String, with new: String, in path: String, everywhere: Bool = false) throws {
        let text = String(decoding: try Inputs.read(path), as: UTF8.self)
        let parts = text.components(separatedBy: old)
        guard parts.count == 2 || (everywhere && parts.count > 2) else {
            throw LedgerError(
                .internal,
                "\(path): expected \"\(old)\" \(everywhere ? "at least once" : "once"), found it \(parts.count - 1) times"
            )
        }
        try write(parts.joined(separator: new), to: path)
    }

    private func write(_ text: String, to path: String) throws {
        do {
            let url = URL(fileURLWithPath: path)
            try FileManager.default.createDirectory(
                at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
            try Data(text.utf8).write(to: url)
        } catch {
            throw LedgerError(.internal, "cannot write \(path): \(error.localizedDescription)")
        }
    }

    /// The evaluation results of `source` with `observed_at` set to `date`.
    private func writeStaleEvaluation(from source: String, to path: String, observedAt date: Date) throws {
        guard case .object(var members) = try Inputs.jsonObject(at: source) else {
            throw LedgerError(.internal, "\(source): not a JSON object")
        }
        members["observed_at"] = .string(Timestamp.format(date))
        try write(String(decoding: CanonicalJSON.encode(.object(members)), as: UTF8.self) + "\n", to: path)
    }

    /// 1,000 tasks of each arm of a canary in prod, started now (after the canary's deployment), as JSON Lines.
    /// Both arms draw from the same distributions except the canary's error rate (the baseline's is 2%).
    private func writeCanaryMetrics(
        to path: String, baseline: String, canary: String, canaryErrorRate: Double, seed: UInt64
    ) throws {
        var random = SeededGenerator(seed: seed)
        let startedAt = Timestamp.format(Date())
        var lines: [String] = []
        for (arm, version, errorRate) in [("b", baseline, 0.02), ("c", canary, canaryErrorRate)] {
            for index in 0..<1_000 {
                let task = DemoTask.random(using: &random, errorRate: errorRate, sampled: index % 5 == 0)
                let id = "\(canary.split(separator: "@").last!)-\(arm)\(String(format: "%04d", index))"
                lines.append(task.jsonLine(id: id, version: version, startedAt: startedAt))
            }
        }
        try write(lines.joined(separator: "\n") + "\n", to: path)
    }
}

/// One generated agent task, with the fields of ledger/README.md §15.2.
struct DemoTask {
    var taskType: String
    var durationMs: Double
    var error: Bool
    var inputTokens: Double
    var outputTokens: Double
    var toolCalls: Double
    var toolErrors: Double
    var toolLatencyMs: Double
    var quality: Double?

    static func random(using random: inout SeededGenerator, errorRate: Double, sampled: Bool) -> DemoTask {
        let kind = random.uniform()
        let error = random.uniform() < errorRate
        let toolCalls = 1 + Double(Int(random.uniform() * 5))
        return DemoTask(
            taskType: kind < 0.6 ? "order-status" : kind < 0.9 ? "refund" : "handoff",
            durationMs: (1_500 + 2_500 * -log(1 - random.uniform())).rounded(),
            error: error,
            inputTokens: (1_000 + 1_000 * random.uniform()).rounded(),
            outputTokens: (200 + 300 * random.uniform()).rounded(),
            toolCalls: toolCalls,
            toolErrors: random.uniform() < 0.03 ? 1 : 0,
            toolLatencyMs: (150 + 250 * random.uniform()).rounded(),
            quality: sampled ? ((0.7 + 0.25 * random.uniform()) * 100).rounded() / 100 : nil)
    }

    func jsonLine(id: String, version: String, startedAt: String) -> String {
        var members: [String: JSONValue] = [
            "task_id": .string(id), "version": .string(version), "env": .string("prod"),
            "task_type": .string(taskType), "model": .string("claude-3-5-sonnet-20241022"),
            "started_at": .string(startedAt), "duration_ms": .number(durationMs), "completed": .bool(!error),
            "error": .bool(error), "input_tokens": .number(inputTokens), "output_tokens": .number(outputTokens),
            // Claude 3.5 Sonnet's prices: $3 and $15 per million input and output tokens.
            "cost_usd": .number(((inputTokens * 3 + outputTokens * 15) / 10).rounded() / 100_000),
            "tool_calls": .number(toolCalls), "tool_errors": .number(toolErrors),
            "tool_latency_ms": .number(toolLatencyMs),
        ]
        if let quality { members["quality"] = .number(quality) }
        return String(decoding: CanonicalJSON.encode(.object(members)), as: UTF8.self)
    }
}

/// `text` as a POSIX shell would need it typed.
func shellQuoted(_ text: String) -> String {
    let plain = text.unicodeScalars.allSatisfy {
        ($0.isASCII && CharacterSet.alphanumerics.contains($0)) || "@%+=:,./_-".unicodeScalars.contains($0)
    }
    return plain && !text.isEmpty ? text : "'" + text.replacingOccurrences(of: "'", with: "'\\''") + "'"
}
