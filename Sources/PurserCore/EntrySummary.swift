internal import Foundation
public import PurserLedger

/// What `purser log` prints for an entry: one line with its seq, time, kind and the key facts of its body, at most
/// `width` columns. Body text is untrusted: control and format characters are printed escaped (`\n`, `\u{1B}`),
/// never raw (`TerminalText.escaped`), so no entry can move the cursor, recolour or rewrite a person's terminal; a
/// name or value holding a space, `=`, `"` or `\` is quoted, so that no value can pass for another fact.
public enum EntrySummary {
    /// The most columns a line takes, unless it is cut narrower for a terminal.
    public static let width = 120
    /// The most columns one value of a body takes before it is cut, so that a long one leaves room for others.
    static let valueWidth = 40

    /// The line for `entry`.
    /// - Parameters:
    ///   - labels: each version id's first label (`Versions.labels()`), to name versions by.
    ///   - seqWidth: the digits of the largest seq of the ledger (`seqWidth(ledgerSize:)`): seqs are padded to it,
    ///     so that the times and kinds of all lines line up.
    public static func line(_ entry: Entry, labels: [String: String], seqWidth: Int) -> String {
        let seq = String(entry.seq) + String(repeating: " ", count: max(0, seqWidth - String(entry.seq).count))
        let kind = entry.kind + String(repeating: " ", count: max(0, 20 - entry.kind.count))
        let summary = (try? entry.body).map { facts(kind: entry.kind, body: $0, labels: labels) } ?? "(unreadable body)"
        let line = "\(seq)  \(entry.at)  \(kind)  \(summary)"
        return TerminalText.truncated(TerminalText.escaped(line.trimmingSuffix(" ")), to: width)
    }

    /// The digits of the largest seq of a ledger of `ledgerSize` entries: the width `line` pads seqs to. A local
    /// ledger and a server that serves it give the same.
    public static func seqWidth(ledgerSize: UInt64) -> Int {
        String(max(ledgerSize, 1) - 1).count
    }

    /// `text` as a name or value of a fact: as it is, or in double quotes with `\` and `"` escaped when it holds a
    /// space, `=`, `"` or `\` (or nothing), then escaped for the terminal and cut to `valueWidth` columns. An
    /// unquoted value thus never holds a backslash but as the start of an escape, and never runs into the next fact.
    static func written(_ text: String) -> String {
        guard text.isEmpty || text.contains(where: { $0 == " " || $0 == "=" || $0 == "\"" || $0 == "\\" }) else {
            return TerminalText.truncated(TerminalText.escaped(text), to: valueWidth)
        }
        let inner = text.replacing("\\", with: "\\\\").replacing("\"", with: "\\\"")
        return "\"" + TerminalText.truncated(TerminalText.escaped(inner), to: valueWidth - 2) + "\""
    }

    /// The body's key facts as `name=value` pairs: for purser's own kinds the members that say what happened
    /// (ledger/README.md §12 to §15), for custom kinds the first members in canonical order.
    static func facts(kind: String, body: JSONValue, labels: [String: String]) -> String {
        var facts: [String] = []
        func add(_ name: String, _ value: String?) {
            guard let value else { return }
            facts.append(written(name) + "=" + written(value))
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
            // What an OTLP summary could not attribute, only when there is some.
            if let spans = number("unattributed"), spans != "0" { add("unattributed", spans) }
            if case .object(let unresolved) = body["unresolved"] ?? .null, !unresolved.isEmpty {
                add("unresolved", unresolved.keys.sorted().joined(separator: ","))
            }
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
}

extension String {
    fileprivate func trimmingSuffix(_ character: Character) -> String {
        var text = self
        while text.last == character { text.removeLast() }
        return text
    }
}
