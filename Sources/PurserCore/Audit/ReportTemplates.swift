internal import Foundation
internal import Mustache
public import PurserLedger

/// The formats of `purser audit`.
public enum AuditFormat: String, NamedChoice {
    case md, html, json
}

/// Mustache templates for audit reports: `report.html.mustache` and `report.md.mustache` in a folder
/// (`templates/report/`, or a user's own), with any other `.mustache` files there as partials.
///
/// A template renders the report's JSON document (ledger/README.md §16), its numbers as text written by `Figure`
/// for their kind (§16.4), with five more members:
/// `timeline_svg`, the picture as SVG markup (for `{{{timeline_svg}}}`); `timeline_file`, the name of
/// the SVG file written beside a Markdown report; `compact`, true above 200 deployments;
/// `deployments_in_full`, the deployments to show in full (all of them, or when compact those that are not
/// routine); and `routine_deployments`, when compact the routine ones (else none), for one line each. Each canary
/// metric has `allowed` too: its `margin` signed by its `bad` direction (`+1 pp`), as `purser canary judge` writes
/// it. If the folder has the partial `deployment.<format>.mustache` (`routine.<format>.mustache`) and a template there
/// mentions `rendered`, each deployment of the first (second) list also has `rendered`: itself rendered with that
/// partial as inside a section over the list (but without a parent template's block overrides, or a standalone
/// partial tag's indentation), made on every core before the report, for `{{{rendered}}}`. HTML
/// templates escape every `{{value}}` (and start with `{{% CONTENT_TYPE: HTML}}` for the faster escaper
/// below); Markdown templates start with `{{% CONTENT_TYPE: MARKDOWN}}`, which backslash-escapes
/// Markdown's punctuation.
public struct ReportTemplates: Sendable {
    private let library: MustacheLibrary
    public let directory: String
    /// Whether any template of the folder mentions `rendered` (else no deployment is rendered beforehand).
    private let usesRendered: Bool

    /// Loads every `.mustache` file of `directory`.
    /// - Throws: `.notFound` if the folder or a report template is missing; `.invalidInput` naming the
    ///   file for a template that does not parse.
    public init(directory: String) throws(LedgerError) {
        Self.registerContentTypes
        self.directory = directory
        let names: [String]
        do {
            names = try FileManager.default.contentsOfDirectory(atPath: directory).filter { $0.hasSuffix(".mustache") }
        } catch {
            throw LedgerError(.notFound, "no report templates at \(directory) (expected report.html.mustache)")
        }
        var library = MustacheLibrary()
        var usesRendered = false
        for name in names.sorted() {
            let path = (directory as NSString).appendingPathComponent(name)
            let text = String(decoding: try Inputs.read(path), as: UTF8.self)
            usesRendered = usesRendered || text.contains("rendered")
            do {
                library.register(try MustacheTemplate(string: text), named: String(name.dropLast(".mustache".count)))
            } catch {
                throw LedgerError(.invalidInput, "\(path): not a valid Mustache template: \(error)")
            }
        }
        self.library = library
        self.usesRendered = usesRendered
    }

    /// The report as JSON: its document in canonical form, and a line feed.
    public static func json(_ report: AuditReport) -> [UInt8] {
        json(document: report.document)
    }

    /// A report document as JSON, in canonical form, and a line feed.
    public static func json(document: JSONValue) -> [UInt8] {
        var bytes = CanonicalJSON.encode(document)
        bytes.append(0x0A)
        return bytes
    }

    /// Renders `report` with the template `report.<format>` (`md` or `html`).
    public func render(
        _ report: AuditReport, format: AuditFormat, timelineFile: String? = nil
    ) throws(LedgerError)
        -> [UInt8]
    {
        try render(
            document: report.document, timelineSVG: TimelinePicture.svg(report.timelines), format: format,
            timelineFile: timelineFile)
    }

    /// Renders a report made elsewhere (by `purser serve`): its document and its timeline picture.
    public func render(
        document: JSONValue, timelineSVG: String, format: AuditFormat, timelineFile: String? = nil
    ) throws(LedgerError) -> [UInt8] {
        if format == .json { return Self.json(document: document) }
        let name = "report.\(format.rawValue)"
        guard library.getTemplate(named: name) != nil else {
            throw LedgerError(.notFound, "no template \(name).mustache in \(directory)")
        }
        guard case .object(let members) = document else {
            throw LedgerError(.internal, "the report document is not an object")
        }
        let deployments = document["deployments"]?.arrayValue ?? []
        let compact = deployments.count > Self.compactAbove
        let routine = { (deployment: JSONValue) in deployment["routine"] == .bool(true) }
        // The two lists save the template a test of `routine` and `compact` per deployment (a year has
        // ten thousand), which the engine's lookups make costly.
        let lists = [
            (
                name: "deployments_in_full", partial: "deployment",
                items: compact ? deployments.filter { !routine($0) } : deployments
            ),
            (name: "routine_deployments", partial: "routine", items: compact ? deployments.filter(routine) : []),
        ]
        var context = Node(
            members: members,
            extras: ["timeline_svg": timelineSVG, "timeline_file": timelineFile ?? NSNull(), "compact": compact])
        for list in lists { context.extras[list.name] = list.items.map(Node.wrap) }
        let rendered = lists.map { list in
            renderEach(list.items, with: "\(list.partial).\(format.rawValue)", in: context)
        }
        for (list, rendered) in zip(lists, rendered) {
            guard let rendered else { continue }
            context.extras[list.name] = zip(list.items, rendered).map { item, text in
                guard case .object(let members) = item else { return Node.wrap(item) }
                return Node(members: members, extras: ["rendered": text])
            }
        }
        return Array((library.render(context, withTemplate: name) ?? "").utf8)
    }

    /// `items` rendered one by one with the partial `partial`, each as inside a section over it in `context`, on
    /// every core; nil if the folder has no such partial or no template uses `rendered`. A report lists thousands
    /// of deployments, and one rendering runs on one core.
    private func renderEach(_ items: [JSONValue], with partial: String, in context: Node) -> [String]? {
        guard usesRendered, !items.isEmpty, library.getTemplate(named: partial) != nil else { return nil }
        let item = "purser_list_item"
        // Made of constants: it parses. (A partial starts with swift-mustache's HTML escaping unless it sets its
        // own content type, wherever it is named from.)
        let wrapper = try! MustacheTemplate(string: "{{#\(item)}}{{> \(partial)}}{{/\(item)}}")
        var rendered = [String](repeating: "", count: items.count)
        let parts = min(items.count, ProcessInfo.processInfo.activeProcessorCount * 4)
        let size = (items.count + parts - 1) / parts
        rendered.withUnsafeMutableBufferPointer { buffer in
            nonisolated(unsafe) let buffer = buffer  // each part writes its own indices only
            nonisolated(unsafe) let context = context  // read only
            DispatchQueue.concurrentPerform(iterations: parts) { part in
                for index in (part * size)..<min(items.count, (part + 1) * size) {
                    var scope = context
                    scope.extras[item] = Node.wrap(items[index])
                    buffer[index] = wrapper.render(scope, library: library)
                }
            }
        }
        return rendered
    }

    /// Above this many deployments, `compact` is true: templates may then list routine deployments briefly.
    static let compactAbove = 200

    /// An object of the document as Mustache walks it. Members are converted when a template asks for
    /// them, not before (a report of 10,000 deployments has millions of values, most never rendered):
    /// numbers as `Figure` writes them for their kind (a judgement's `score` and the `p` of its metrics, a metric's
    /// statistics in each arm and its changes, with rates as percentages), other numbers as `Figure.value`
    /// (whole ones as they are); arrays as arrays, null as a value that is empty and stops the lookup there (it
    /// does not climb to an outer object's member). A canary metric also has `allowed`: its allowed change with
    /// the way it is bad, as the CLI writes it (`+1 pp`).
    struct Node: MustacheParent {
        let members: [String: JSONValue]
        var extras: [String: Any] = [:]

        func child(named name: String) -> Any? {
            if name == "allowed", members[name] == nil, let statistic = members["statistic"]?.stringValue {
                let rate = statistic == "rate"
                return Self.allowed(margin: members["margin"]?.numberValue, bad: members["bad"], rate: rate)
            }
            guard let value = members[name] else { return extras[name] }
            switch value {
            case .number, .array: break
            default: return Self.wrap(value)
            }
            // A canary metric (ledger/README.md §15.6) has a `statistic`; its numbers are in the metric's unit.
            if let statistic = members["statistic"]?.stringValue {
                let rate = statistic == "rate"
                switch name {
                case "baseline", "canary", "baseline_interval", "canary_interval":
                    return Self.wrap(value) { Figure.quantity($0, rate: rate) }
                case "effect", "estimate", "interval": return Self.wrap(value) { Figure.change($0, rate: rate) }
                case "margin": return Self.wrap(value) { Figure.change($0, rate: rate, signed: false) }
                case "relative_effect": return Self.wrap(value) { Figure.percent($0, signed: true) }
                case "interval_level": return Self.wrap(value) { Figure.percent($0) }
                case "p": return Self.wrap(value, Figure.pValue)
                default: break
                }
            }
            if name == "score" { return Self.wrap(value) { Figure.percent($0) } }
            return Self.wrap(value)
        }

        /// A canary metric's allowed change as `purser canary judge` writes it: the way it is bad (`+`, `-`, `±`; none
        /// when the configuration is not at hand) and the size: `+1 pp`, `±0.05`; `-` without a margin.
        static func allowed(margin: Double?, bad: JSONValue?, rate: Bool) -> String {
            guard let margin else { return "-" }
            let sign =
                switch bad?.stringValue.flatMap(CanaryConfig.Direction.init(rawValue:)) {
                case .increase: "+"
                case .decrease: "-"
                case .either: "±"
                case nil: ""
                }
            return sign + Figure.change(margin, rate: rate, signed: false)
        }

        /// `value` for a template: numbers written by `format`, in arrays too.
        static func wrap(_ value: JSONValue, _ format: (Double) -> String) -> Any {
            switch value {
            case .number(let number): return format(number)
            case .array(let values): return values.map { wrap($0, format) }
            default: return wrap(value)
            }
        }

        static func wrap(_ value: JSONValue) -> Any {
            switch value {
            case .null: return NSNull()
            case .bool(let flag): return flag
            case .string(let text): return text
            case .number(let number):
                if number == number.rounded(), abs(number) < 1e15 { return Int(number) }
                return Figure.value(number)
            case .array(let values): return values.map(wrap)
            case .object(let members): return Node(members: members)
            }
        }
    }

    private static let registerContentTypes: Void = {
        MustacheContentTypes.register(Markdown(), named: "MARKDOWN")
        MustacheContentTypes.register(HTML(), named: "HTML")
    }()

    /// HTML escaping as swift-mustache's own (`&`, `<`, `>`, `"`, `'`), over UTF-8 bytes and returning
    /// text without those characters as it is: a report of 10,000 deployments escapes millions of values.
    /// Templates select it with `{{% CONTENT_TYPE: HTML}}`; the timeline picture escapes its text with it too.
    struct HTML: MustacheContentType {
        func escapeText(_ text: String) -> String {
            var text = text
            return text.withUTF8 { bytes in
                guard bytes.contains(where: { $0 == 0x26 || $0 == 0x3C || $0 == 0x3E || $0 == 0x22 || $0 == 0x27 })
                else { return nil }
                var out: [UInt8] = []
                out.reserveCapacity(bytes.count + 16)
                for byte in bytes {
                    switch byte {
                    case 0x26: out += Array("&amp;".utf8)
                    case 0x3C: out += Array("&lt;".utf8)
                    case 0x3E: out += Array("&gt;".utf8)
                    case 0x22: out += Array("&quot;".utf8)
                    case 0x27: out += Array("&#39;".utf8)
                    default: out.append(byte)
                    }
                }
                return String(decoding: out, as: UTF8.self)
            } ?? text
        }
    }

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
