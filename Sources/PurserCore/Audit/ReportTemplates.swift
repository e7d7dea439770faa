internal import Foundation
internal import Mustache
public import PurserLedger

/// The formats of `purser audit`.
public enum AuditFormat: String, Sendable, CaseIterable {
    case md, html, json
}

/// Mustache templates for audit reports: `report.html.mustache` and `report.md.mustache` in a folder
/// (`templates/report/`, or a user's own), with any other `.mustache` files there as partials.
///
/// A template renders the report's JSON document (ledger/README.md §16) with two more members:
/// `timeline_svg`, the picture as SVG markup (for `{{{timeline_svg}}}`), and `timeline_file`, the name of
/// the SVG file written beside a Markdown report. HTML templates escape every `{{value}}`; Markdown
/// templates start with `{{% CONTENT_TYPE: MARKDOWN}}`, which backslash-escapes Markdown's punctuation.
public struct ReportTemplates: Sendable {
    private let library: MustacheLibrary
    public let directory: String

    /// Loads every `.mustache` file of `directory`.
    /// - Throws: `.notFound` if the folder or a report template is missing; `.invalidInput` naming the
    ///   file for a template that does not parse.
    public init(directory: String) throws(LedgerError) {
        Self.registerMarkdown
        self.directory = directory
        let names: [String]
        do {
            names = try FileManager.default.contentsOfDirectory(atPath: directory).filter { $0.hasSuffix(".mustache") }
        } catch {
            throw LedgerError(.notFound, "no report templates at \(directory) (expected report.html.mustache)")
        }
        var library = MustacheLibrary()
        for name in names.sorted() {
            let path = (directory as NSString).appendingPathComponent(name)
            let text = String(decoding: try Inputs.read(path), as: UTF8.self)
            do {
                library.register(try MustacheTemplate(string: text), named: String(name.dropLast(".mustache".count)))
            } catch {
                throw LedgerError(.invalidInput, "\(path): not a valid Mustache template: \(error)")
            }
        }
        self.library = library
    }

    /// The report as JSON: its document in canonical form, and a line feed.
    public static func json(_ report: AuditReport) -> [UInt8] {
        var bytes = CanonicalJSON.encode(report.document)
        bytes.append(0x0A)
        return bytes
    }

    /// Renders `report` with the template `report.<format>` (`md` or `html`).
    public func render(
        _ report: AuditReport, format: AuditFormat, timelineFile: String? = nil
    ) throws(LedgerError)
        -> [UInt8]
    {
        if format == .json { return Self.json(report) }
        let name = "report.\(format.rawValue)"
        guard library.getTemplate(named: name) != nil else {
            throw LedgerError(.notFound, "no template \(name).mustache in \(directory)")
        }
        guard var context = Self.context(report.document) as? [String: Any] else {
            throw LedgerError(.internal, "the report document is not an object")
        }
        context["timeline_svg"] = TimelinePicture.svg(report.timelines)
        context["timeline_file"] = timelineFile ?? NSNull()
        return Array((library.render(context, withTemplate: name) ?? "").utf8)
    }

    /// The document as Mustache sees it: objects as dictionaries, whole numbers as integers, other numbers
    /// to 4 significant digits, null as a value that is empty and stops the lookup there.
    static func context(_ value: JSONValue) -> Any {
        switch value {
        case .null: return NSNull()
        case .bool(let flag): return flag
        case .string(let text): return text
        case .number(let number):
            if number == number.rounded(), abs(number) < 1e15 { return Int(number) }
            return String(format: "%.4g", number)
        case .array(let values): return values.map(context)
        case .object(let members): return members.mapValues(context)
        }
    }

    private static let registerMarkdown: Void = MustacheContentTypes.register(Markdown(), named: "MARKDOWN")

    /// Markdown escaping: ASCII punctuation that Markdown gives a meaning inline gets a backslash (so
    /// `<script>` stays text and `|` stays in its table cell), and line breaks become spaces.
    struct Markdown: MustacheContentType {
        func escapeText(_ text: String) -> String {
            var out = ""
            for character in text {
                switch character {
                case "\\", "`", "*", "_", "[", "]", "<", ">", "|", "&", "~", "#", "!": out += "\\\(character)"
                case "\n", "\r": out += " "
                default: out.append(character)
                }
            }
            return out
        }
    }
}
