import ArgumentParser
import Foundation
import PurserCore
import PurserLedger
import PurserOperations

struct Check: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "check",
        abstract: "Run the release checklist for a version and environment: exit 0 allowed, 1 blocked.",
        discussion: reflowed(
            """
            Runs every check of the policy (templates/checklist.yaml explains each): version-recorded,
            components-pinned, queue-healthy, dashboards-updated, rollback-tested, eval-passed, canary-configured.
            Each passes, fails, errors (evidence missing, stale, unreadable, timed out) or is waived. Any fail or
            error blocks. Every run is recorded (checklist.evaluated) with the digest of each piece of evidence,
            allowed or not, and `purser deploy start` needs an allowing run that is younger than the policy's
            max-age. A bad policy file is refused (exit 65) and nothing is recorded.

            --json prints, the same for the same inputs:
              {"allowed":bool,"version":"<id>","env":"…",
               "checks":[{"id","verdict":"pass|fail|error|waived","reason",
                          "evidence":[{"source","digest","observed_at"?}]}]}

            --junit FILE also writes the checks as JUnit XML for CI test reports.

            Examples:
              purser check --version support-agent@1.1.0 --env prod \\
                --policy templates/checklist.yaml
              purser check --version 3f2a9c1e --env prod --json --junit checklist.xml
            """))

    @OptionGroup var ledgerOptions: LedgerOptions
    @Option(help: ArgumentHelp("The candidate version (id, unique prefix or label).", valueName: "version"))
    var version: String
    @Option(help: ArgumentHelp("The environment to release to.", valueName: "env"), transform: EnvironmentName.parse)
    var env: EnvironmentName
    @Option(help: ArgumentHelp("The checklist policy (YAML; default: checklist.yaml here).", valueName: "file"))
    var policy: String?
    @Option(help: ArgumentHelp("Also write the checks as JUnit XML here.", valueName: "file")) var junit: String?
    @Flag(help: "Print the verdict document as JSON.") var json = false

    func run() throws {
        // The policy, its files and its evidence are read here; the run is judged and recorded where the ledger is.
        if let junit { try OutputFile.check(junit) }
        let policy = try ChecklistPolicy.load(at: policyPath())
        let resolved = try ledgerOptions.reply(ResolveVersion(version: version)).json
        let id = resolved["id"]?.stringValue ?? version
        let gathered = policy.gather(
            version: id, label: resolved["labels"]?.arrayValue?.first?.stringValue, env: env,
            now: try CommandClock.now())
        let reply = try ledgerOptions.reply(RunChecklist(version: id, env: env, policy: policy, gathered: gathered))
        if let junit { try OutputFile.write(Array(junitXML(reply.json).utf8), to: junit) }
        try ledgerOptions.print(reply, json: json)
    }

    /// The policy file, refused with what to pass when it is missing.
    private func policyPath() throws -> String {
        let path = policy ?? "checklist.yaml"
        guard !FileManager.default.fileExists(atPath: path) else { return path }
        let hint = "pass --policy FILE (templates/checklist.yaml in purser's repository is an example to copy)"
        if policy == nil {
            throw LedgerError(.notFound, "no --policy given and ./checklist.yaml not found; \(hint)")
        }
        throw LedgerError(.notFound, "checklist policy \(quoted(path)) not found; \(hint)")
    }

    /// The verdict document as JUnit XML.
    private func junitXML(_ document: JSONValue) -> String {
        func escape(_ text: String) -> String {
            text.replacingOccurrences(of: "&", with: "&amp;").replacingOccurrences(of: "<", with: "&lt;")
                .replacingOccurrences(of: ">", with: "&gt;").replacingOccurrences(of: "\"", with: "&quot;")
        }
        let checks = document["checks"]?.arrayValue ?? []
        func count(_ verdict: String) -> Int { checks.filter { $0["verdict"]?.stringValue == verdict }.count }
        let suite = (document["version"]?.stringValue ?? "").prefix(12) + " " + (document["env"]?.stringValue ?? "")
        var xml = """
            <?xml version="1.0" encoding="UTF-8"?>
            <testsuite name="purser checklist \(escape(String(suite)))" tests="\(checks.count)" failures="\(count("fail"))" errors="\(count("error"))">

            """
        for check in checks {
            let reason = escape(check["reason"]?.stringValue ?? "")
            let open = "  <testcase classname=\"purser.checklist\" name=\"\(escape(check["id"]?.stringValue ?? ""))\""
            switch check["verdict"]?.stringValue {
            case "pass": xml += "\(open)/>\n"
            case "waived": xml += "\(open)><system-out>\(reason)</system-out></testcase>\n"
            case "fail": xml += "\(open)><failure message=\"\(reason)\"/></testcase>\n"
            default: xml += "\(open)><error message=\"\(reason)\"/></testcase>\n"
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
            commandName: "record",
            abstract: "Record an evaluation run with its per-case results (evaluation.recorded).",
            discussion: reflowed(
                """
                Formats: json ({"suite":…,"observed_at":…,"cases":[{"name","passed":bool}]} or a list of cases),
                junit (JUnit XML: pytest, Jest, …), promptfoo (promptfoo eval -o results.json). Repeated runs of a
                case (the same name) count towards that case's pass rate. The results file is stored by digest.

                --json prints:
                  {"seq":N,"version":"<id>","suite":"…","runs":N,"passed":N,"cases":N}

                Examples:
                  purser eval record --version support-agent@1.1.0 --results eval/results.json
                  purser eval record --version 3f2a9c1e --results report.xml --format junit \\
                    --suite refunds
                """))

        @OptionGroup var ledgerOptions: LedgerOptions
        @Option(help: ArgumentHelp("The version evaluated (id, unique prefix or label).", valueName: "version"))
        var version: String
        @Option(help: ArgumentHelp("The results file, or - for standard input.", valueName: "file")) var results: String
        @Option(help: ArgumentHelp("The results file's format.", valueName: "format"))
        var format = EvaluationFormat.json
        @Option(help: ArgumentHelp("The suite name (default: from the file, else its name).", valueName: "name"))
        var suite: String?
        @Flag(help: "Print the result as JSON.") var json = false

        func run() throws {
            try ledgerOptions.perform(
                RecordEvaluation(version: version, results: InputFile.read(results), format: format, suite: suite),
                json: json)
        }
    }
}

struct Waive: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "waive",
        abstract: "Waive one check's failure for a version until a time (waiver.granted).",
        discussion: reflowed(
            """
            Until it expires, a failure of that check counts as "waived" for that version: shown and counted
            separately, never hidden. Errors (evidence that could not be read) are never waived.

            --json prints: {"seq":N}.

            Examples:
              purser waive --version support-agent@1.1.0 --check dashboards-updated \\
                --reason "dashboard migration OPS-88" --approver "dana@example.com" \\
                --expires 2026-12-01T00:00:00Z
            """))

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
