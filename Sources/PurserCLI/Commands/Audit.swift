import ArgumentParser
import Foundation
import PurserCore
import PurserLedger
import PurserOperations

struct Audit: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "audit",
        abstract: "Write a compliance report of a window of the ledger, findings first.",
        discussion: reflowed(
            """
            The report verifies the ledger first and says at the top what that showed: intact (consistent with a held
            --checkpoint), self-consistent only (without one), or an integrity fault. Then findings: deployments without
            an allowing checklist run, break-glass overrides, expired waivers that were relied on, versions shipped with
            floating model ids, rollbacks without a prior drill, traffic changes recorded more than an hour after they
            took effect, integrity faults. Then every deployment with its checklist run (verdicts and evidence digests),
            waivers, canary judgements with their statistics, promotions, drains, rollbacks and drills; the versions
            shipped, component by component; and a picture of what ran when per environment (SVG, in the HTML report,
            and beside a Markdown report written with --out). With the signing key at hand, the report carries a signed
            checkpoint of the tree it saw, so it can be checked against the ledger later.

            Formats: html (one self-contained file that prints well), md, json (schema purser-audit/1,
            ledger/README.md §16). html and md come from Mustache templates: templates/report/ by default, or
            --template DIR with your own report.html.mustache and report.md.mustache.

            Exit codes: 0 written; 3 written, but the ledger failed verification (the report says so at the top).

            Examples:
              purser audit --format html --out audit.html
              purser audit --from 2026-10-01 --to 2026-11-01 --env prod \\
                --format md --out october.md
              purser audit --format json --checkpoint held.checkpoint | jq '.findings'
            """))

    @OptionGroup var ledgerOptions: LedgerOptions
    @OptionGroup var keyOptions: KeyOptions

    @Option(help: ArgumentHelp("Start of the window, inclusive (RFC 3339 time or date).", valueName: "time"))
    var from: String?
    @Option(help: ArgumentHelp("End of the window, exclusive (RFC 3339 time or date).", valueName: "time"))
    var to: String?
    @Option(
        name: .customLong("env"), help: ArgumentHelp("Only this environment (repeatable).", valueName: "env"),
        transform: EnvironmentName.parse)
    var envs: [EnvironmentName] = []
    @Option(help: ArgumentHelp("The report's format.", valueName: "format")) var format: AuditFormat
    @Option(help: ArgumentHelp("Write the report to this file (default: standard output).", valueName: "file"))
    var out: String?
    @Option(
        name: .customLong("checkpoint"),
        help: ArgumentHelp("A held signed checkpoint file to verify against (repeatable).", valueName: "file"))
    var checkpoints: [String] = []
    @Option(help: ArgumentHelp("A folder of report templates (default: templates/report).", valueName: "dir"))
    var template: String?
    @Option(help: ArgumentHelp("A model pins table (default: the built-in one).", valueName: "file"))
    var pins: String?

    func run() throws {
        let from = try ledgerTimestamp(from, parameter: "from")
        let to = try ledgerTimestamp(to, parameter: "to")
        if let from, let to, from >= to { throw LedgerError(.usage, "--from \(from) is not before --to \(to)") }
        if let out { try OutputFile.check(out) }
        // The templates are read and run here; the report's document is made where the ledger is.
        let templates = try format == .json ? nil : ReportTemplates(directory: templateFolder(template))
        let picture =
            format == .md
            ? out.map { URL(fileURLWithPath: $0).deletingPathExtension().appendingPathExtension("timeline.svg") } : nil
        let operation = AuditLedger(
            from: from, to: to, envs: envs, checkpoints: try checkpoints.map(checkpointFile),
            pins: try pins.map(InputFile.read))
        let reply: Reply
        if ledgerOptions.serverURL != nil {
            reply = try ledgerOptions.reply(operation)
        } else {
            let keyPath = keyOptions.path(forLedgerAt: ledgerOptions.ledger)
            let key = FileManager.default.fileExists(atPath: keyPath) ? try SigningKey.load(from: keyPath) : nil
            reply = try operation.perform(on: ledgerOptions.releases(), signingKey: key)
        }
        let document = reply.json["document"] ?? .null
        let svg = reply.json["timeline_svg"]?.stringValue ?? ""
        let bytes =
            try templates?.render(
                document: document, timelineSVG: svg, format: format, timelineFile: picture?.lastPathComponent)
            ?? ReportTemplates.json(document: document)
        if let picture { try write(Array(svg.utf8), to: picture.path) }
        if let out {
            try write(bytes, to: out)
            let summary = document["summary"]
            Output.line(
                "wrote \(format.rawValue) report to \(out): \(count(summary?["deployments"], "deployment")), \(count(summary?["findings"], "finding"))"
                    + (picture.map { ", timeline \($0.lastPathComponent)" } ?? ""))
        } else {
            FileHandle.standardOutput.write(Data(bytes))
        }
        if let fault = reply.json["fault"]?.stringValue {
            Diagnostics.printError("the ledger failed verification (\(fault)); the report says so at the top")
            throw ExitCode(ExitStatus.integrity)
        }
    }

    /// "1 finding", "3 findings".
    private func count(_ value: JSONValue?, _ noun: String) -> String {
        let number = Int(value?.numberValue ?? 0)
        return "\(number) \(noun)\(number == 1 ? "" : "s")"
    }

    private func write(_ bytes: [UInt8], to path: String) throws {
        try OutputFile.write(bytes, to: path)
    }

    /// `--template`, else `report/` of purser's templates (here, or of the checkout the binary was built in).
    private func templateFolder(_ explicit: String?) -> String {
        explicit ?? (templatesFolder(holding: ["report/report.html.mustache"]) ?? "templates") + "/report"
    }
}
