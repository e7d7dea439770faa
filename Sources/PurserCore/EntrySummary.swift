internal import Foundation
public import PurserLedger

/// What `purser log` prints for an entry: one line with its seq, time, kind and the key facts of its body, at most
/// `width` columns. Body text is untrusted: control and format characters are printed escaped (`\n`, `\u{1B}`),
/// never raw, so no entry can move the cursor, recolour or rewrite a person's terminal.
public enum EntrySummary {
    /// The most columns a line takes, unless it is cut narrower for a terminal.
    public static let width = 120
    /// The most columns one value of a body takes before it is cut, so that a long one leaves room for others.
    static let valueWidth = 40

    /// The line for `entry`.
    /// - Parameter labels: each version id's first label (`Releases.versionLabels()`), to name versions by.
    public static func line(_ entry: Entry, labels: [String: String]) -> String {
        let kind = entry.kind + String(repeating: " ", count: max(0, 20 - entry.kind.count))
        let summary = (try? entry.body).map { facts(kind: entry.kind, body: $0, labels: labels) } ?? "(unreadable body)"
        let line = "\(entry.seq)  \(entry.at)  \(kind)  \(summary)"
        return truncated(escaped(line.trimmingSuffix(" ")), to: width)
    }

    /// The body's key facts as `name=value` pairs: for purser's own kinds the members that say what happened
    /// (ledger/README.md §12 to §15), for custom kinds the first members in canonical order.
    static func facts(kind: String, body: JSONValue, labels: [String: String]) -> String {
        var facts: [String] = []
        func add(_ name: String, _ value: String?) {
            guard let value else { return }
            facts.append("\(truncated(escaped(name), to: valueWidth))=\(truncated(escaped(value), to: valueWidth))")
        }
        func text(_ member: String) -> String? { body[member]?.stringValue }
        // A version by its first label (a label names one id forever), else by its first 12 hex digits.
        func version(_ member: String) -> String? { text(member).map { labels[$0] ?? String($0.prefix(12)) } }
        func number(_ member: String) -> String? { body[member]?.numberValue.map(CanonicalJSON.format) }

        switch kind {
        case "ledger.created":
            add("origin", text("origin"))
        case "version.recorded":
            // Its own label: an entry that adds a label to a known id names the label it adds.
            add("label", text("label"))
            add("id", text("id").map { String($0.prefix(12)) })
            add("agent", text("agent"))
        case "deployment.started", "traffic.shifted", "deployment.promoted", "deployment.drained",
            "deployment.completed", "deployment.aborted":
            add("env", text("env"))
            add("version", version("version"))
            add("strategy", text("strategy"))
            add("weight", number("weight"))
            if body["break_glass"] != nil { facts.append("break-glass") }
            add("effective_at", text("effective_at"))
        case "rollback.performed":
            add("env", text("env"))
            add("to", version("to"))
            add("reason", text("reason"))
            add("effective_at", text("effective_at"))
        case "rollback.drilled":
            add("env", text("env"))
            add("result", text("result"))
            add("from", version("from"))
            add("to", version("to"))
        case "checklist.evaluated":
            add("version", version("version"))
            add("env", text("env"))
            if case .bool(let allowed) = body["allowed"] { add("verdict", allowed ? "allowed" : "blocked") }
        case "canary.judged":
            add("env", text("env"))
            add("verdict", text("verdict"))
            add("score", body["score"]?.numberValue.map { Figure.percent($0) })
            add("canary", version("canary"))
        case "evaluation.recorded":
            add("version", version("version"))
            if let passed = number("passed"), let runs = number("runs") { add("passed", "\(passed)/\(runs)") }
            add("suite", text("suite"))
        case "waiver.granted":
            add("version", version("version"))
            add("check", text("check"))
            add("approver", text("approver"))
            add("expires", text("expires"))
        case "shadow.compared":
            add("env", text("env"))
            add("primary", version("primary"))
            add("shadow", version("shadow"))
        case "metrics.summarized":
            add("file", text("file"))
            add("records", number("records"))
            add("new", number("new"))
        default:
            // Custom kinds: the first members, in the order of the entry's canonical bytes, while the line has room.
            guard case .object(let members) = body else { break }
            var columns = 0
            for name in members.keys.sorted(by: { $0.utf16.lexicographicallyPrecedes($1.utf16) }) {
                guard columns < width else { break }
                let value = members[name]!
                add(name, value.stringValue ?? String(decoding: CanonicalJSON.encode(value), as: UTF8.self))
                columns += facts[facts.count - 1].count + 1
            }
        }
        return facts.joined(separator: " ")
    }

    /// `text` with every control or format character written as an escape: `\n`, `\r`, `\t`, else `\u{HEX}`
    /// (C0 and C1 controls, DEL, bidirectional overrides, zero-width spaces, line and paragraph separators).
    /// Zero-width joiners stay: they join emoji.
    public static func escaped(_ text: String) -> String {
        // Printable ASCII, the common case, needs no look at Unicode properties.
        if text.utf8.allSatisfy({ (0x20..<0x7F).contains($0) }) { return text }
        guard text.unicodeScalars.contains(where: needsEscape) else { return text }
        var result = String.UnicodeScalarView()
        for scalar in text.unicodeScalars {
            guard needsEscape(scalar) else {
                result.append(scalar)
                continue
            }
            let escape =
                switch scalar {
                case "\n": "\\n"
                case "\r": "\\r"
                case "\t": "\\t"
                default: "\\u{\(String(scalar.value, radix: 16, uppercase: true))}"
                }
            result.append(contentsOf: escape.unicodeScalars)
        }
        return String(result)
    }

    private static func needsEscape(_ scalar: Unicode.Scalar) -> Bool {
        switch scalar.properties.generalCategory {
        case .control, .lineSeparator, .paragraphSeparator: true
        case .format: scalar != "\u{200D}" && scalar != "\u{200C}"
        default: false
        }
    }

    /// `text` cut to at most `columns` terminal columns, ending in `…` where it was cut. East Asian wide
    /// characters and emoji take two columns.
    public static func truncated(_ text: String, to columns: Int) -> String {
        guard columns > 0 else { return "" }
        // Every character takes at least as many UTF-8 bytes as columns.
        if text.utf8.count <= columns { return text }
        var used = 0
        var end = text.startIndex
        var cut: String.Index?
        for index in text.indices {
            let next = used + self.columns(text[index])
            // Where a cut would end, leaving one column for the ellipsis.
            if cut == nil, next > columns - 1 { cut = index }
            if next > columns { return String(text[..<(cut ?? index)]) + "…" }
            used = next
            end = text.index(after: index)
        }
        return String(text[..<end])
    }

    /// The columns a terminal gives `character`.
    static func columns(_ character: Character) -> Int {
        guard let scalar = character.unicodeScalars.first else { return 0 }
        if scalar.properties.isEmojiPresentation { return 2 }
        switch scalar.value {
        case 0x1100...0x115F, 0x2E80...0x303E, 0x3041...0x33FF, 0x3400...0x4DBF, 0x4E00...0x9FFF, 0xA000...0xA4CF,
            0xAC00...0xD7A3, 0xF900...0xFAFF, 0xFE30...0xFE4F, 0xFF00...0xFF60, 0xFFE0...0xFFE6, 0x20000...0x3FFFD:
            return 2
        default:
            return 1
        }
    }
}

extension Releases {
    /// Each recorded version id's first label (that of its oldest labelling entry), for naming versions in
    /// `purser log`; ids without a label are absent.
    public func versionLabels() throws(LedgerError) -> [String: String] {
        try ledger.read { connection in
            let select = try connection.prepare(
                "SELECT id, label FROM main.version_labels ORDER BY seq DESC, label DESC")
            var labels: [String: String] = [:]
            while try select.step() { labels[select.string(0)] = select.string(1) }
            return labels
        }
    }
}

extension String {
    fileprivate func trimmingSuffix(_ character: Character) -> String {
        var text = self
        while text.last == character { text.removeLast() }
        return text
    }
}
