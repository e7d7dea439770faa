import ArgumentParser
import Foundation
import PurserCore
import PurserLedger
import PurserServer

struct Check: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Run the release checklist for a version and environment: exit 0 allowed, 1 blocked.",
        discussion: """
            Runs every check of the policy (templates/checklist.yaml explains each): version-recorded,
            components-pinned, queue-healthy, dashboards-updated, rollback-tested, eval-passed, canary-configured.
            Each passes, fails, errors (evidence missing, stale, unreadable, timed out) or is waived. Any fail or
            error blocks. Every run is recorded (checklist.evaluated) with the digest of each piece of evidence,
            allowed or not, and `purser deploy start` needs an allowing run that is younger than the policy's
            max-age. A bad policy file is refused (exit 65) and nothing is recorded.

            --json prints {"allowed":bool,"version":"<id>","env":"…","checks":[{"id","verdict":"pass|fail|error|waived",
            "reason","evidence":[{"source","digest","observed_at"?}]}]}: the same inputs give the same document.
            --junit FILE also writes the checks as JUnit XML for CI test reports.

            Examples:
              purser check --version support-agent@1.1.0 --env prod --policy templates/checklist.yaml
              purser check --version 3f2a9c1e --env prod --json --junit checklist.xml
            """)

    @OptionGroup var ledgerOptions: LedgerOptions
    @Option(help: ArgumentHelp("The candidate version (id, unique prefix or label).", valueName: "version"))
    var version: String
    @Option(help: ArgumentHelp("The environment to release to.", valueName: "env")) var env: String
    @Option(help: ArgumentHelp("The checklist policy (YAML).", valueName: "file")) var policy = "checklist.yaml"
    @Option(help: ArgumentHelp("Also write the checks as JUnit XML here.", valueName: "file")) var junit: String?
    @Flag(help: "Print the verdict document as JSON.") var json = false

    func run() throws {
        let policy = try ChecklistPolicy.load(at: policy)
        let releases = try ledgerOptions.releases()
        let run = try releases.runChecklist(version: version, env: env, policy: policy)
        if let junit {
            do {
                try Data(junitXML(run).utf8).write(to: URL(fileURLWithPath: junit))
            } catch {
                throw LedgerError(.internal, "cannot write \(junit): \(error.localizedDescription)")
            }
        }
        if json {
            Output.json(run.document)
        } else {
            for check in run.checks {
                Output.line("\(padded(check.verdict.rawValue.uppercased(), 7)) \(padded(check.id, 19)) \(check.reason)")
                for evidence in check.evidence {
                    Output.line(
                        "        \(padded("", 19)) evidence: \(evidence.source) sha256:\(evidence.digest.hex.prefix(16))"
                    )
                }
            }
            let failing = run.checks.filter { $0.verdict == .fail || $0.verdict == .error }.map(\.id)
            let waived = run.checks.filter { $0.verdict == .waived }.count
            Output.line(
                run.allowed
                    ? "ALLOWED: \(run.version.shortName) may be released to \(env)\(waived > 0 ? " (\(waived) check(s) waived)" : "") (recorded as seq \(run.seq))"
                    : "BLOCKED: \(failing.joined(separator: ", ")) (recorded as seq \(run.seq))")
        }
        if !run.allowed { throw ExitCode(ExitStatus.blocked) }
    }

    private func junitXML(_ run: ChecklistRun) -> String {
        func escape(_ text: String) -> String {
            text.replacingOccurrences(of: "&", with: "&amp;").replacingOccurrences(of: "<", with: "&lt;")
                .replacingOccurrences(of: ">", with: "&gt;").replacingOccurrences(of: "\"", with: "&quot;")
        }
        let failures = run.checks.filter { $0.verdict == .fail }.count
        let errors = run.checks.filter { $0.verdict == .error }.count
        var xml = """
            <?xml version="1.0" encoding="UTF-8"?>
            <testsuite name="purser checklist \(escape(run.version.id.prefix(12) + " " + run.env))" tests="\(run.checks.count)" failures="\(failures)" errors="\(errors)">

            """
        for check in run.checks {
            let open = "  <testcase classname=\"purser.checklist\" name=\"\(escape(check.id))\""
            switch check.verdict {
            case .pass: xml += "\(open)/>\n"
            case .waived:
                xml += "\(open)><system-out>\(escape(check.reason))</system-out></testcase>\n"
            case .fail:
                xml += "\(open)><failure message=\"\(escape(check.reason))\"/></testcase>\n"
            case .error:
                xml += "\(open)><error message=\"\(escape(check.reason))\"/></testcase>\n"
            }
        }
        return xml + "</testsuite>\n"
    }
}

struct Eval: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "eval",
        abstract: "Record evaluation runs against a behavioral version.",
        subcommands: [Record.self])

    struct Record: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Record an evaluation run with its per-case results (evaluation.recorded).",
            discussion: """
                Formats: json ({"suite":…,"observed_at":…,"cases":[{"name","passed":bool}]} or a list of cases),
                junit (JUnit XML: pytest, Jest, …), promptfoo (promptfoo eval -o results.json). Repeated runs of a
                case (the same name) count towards that case's pass rate. The results file is stored by digest.

                --json prints {"seq":N,"version":"<id>","suite":"…","runs":N,"passed":N,"cases":N}.

                Examples:
                  purser eval record --version support-agent@1.1.0 --results eval/results.json
                  purser eval record --version 3f2a9c1e --results report.xml --format junit --suite refunds
                """)

        @OptionGroup var ledgerOptions: LedgerOptions
        @Option(help: ArgumentHelp("The version evaluated (id, unique prefix or label).", valueName: "version"))
        var version: String
        @Option(help: ArgumentHelp("The results file, or - for standard input.", valueName: "file")) var results: String
        @Option(help: ArgumentHelp("json, junit or promptfoo.", valueName: "format")) var format = "json"
        @Option(help: ArgumentHelp("The suite name (default: from the file, else its name).", valueName: "name"))
        var suite: String?
        @Flag(help: "Print the result as JSON.") var json = false

        func validate() throws {
            guard EvaluationFormat(rawValue: format) != nil else {
                throw ValidationError("--format must be json, junit or promptfoo, not \(format)")
            }
        }

        func run() throws {
            try ledgerOptions.perform(
                RecordEvaluation(version: version, results: InputFile.read(results), format: format, suite: suite),
                json: json)
        }
    }
}

struct Waive: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Waive one check's failure for a version until a time (waiver.granted).",
        discussion: """
            Until it expires, a failure of that check counts as "waived" for that version: shown and counted
            separately, never hidden. Errors (evidence that could not be read) are never waived.

            --json prints {"seq":N}.

            Examples:
              purser waive --version support-agent@1.1.0 --check dashboards-updated \\
                --reason "dashboard migration OPS-88" --approver "dana@example.com" --expires 2026-12-01T00:00:00Z
            """)

    @OptionGroup var ledgerOptions: LedgerOptions
    @Option(help: ArgumentHelp("The version (id, unique prefix or label).", valueName: "version")) var version: String
    @Option(help: ArgumentHelp("The check id.", valueName: "check")) var check: String
    @Option(help: ArgumentHelp("Why the failure is acceptable.", valueName: "text")) var reason: String
    @Option(help: ArgumentHelp("Who approved it.", valueName: "name")) var approver: String
    @Option(help: ArgumentHelp("When the waiver ends (RFC 3339).", valueName: "time")) var expires: String
    @Flag(help: "Print the result as JSON.") var json = false

    func run() throws {
        try ledgerOptions.perform(
            GrantWaiver(version: version, check: check, reason: reason, approver: approver, expires: expires),
            json: json)
    }
}
