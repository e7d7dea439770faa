internal import Foundation
public import PurserLedger

/// One run of one test case.
public struct CaseResult: Sendable, Equatable {
    /// The case's name, the same from run to run so that runs can be compared case by case.
    public let name: String
    public let passed: Bool

    public init(name: String, passed: Bool) {
        self.name = name
        self.passed = passed
    }
}

/// An evaluation run as a results file describes it.
public struct EvaluationRun: Sendable, Equatable {
    /// The suite's name, if the file names one.
    public var suite: String?
    /// Every case run, in file order. A name repeats when the file holds several runs of one case.
    public var cases: [CaseResult]
    /// When the run happened, in the ledger's timestamp form (`2026-11-27T14:03:00.000Z`), if the file says.
    public var observedAt: String?

    public init(suite: String? = nil, cases: [CaseResult], observedAt: String? = nil) {
        self.suite = suite
        self.cases = cases
        self.observedAt = observedAt
    }
}

/// The results-file formats `purser eval record --format` reads.
public enum EvaluationFormat: String, Sendable, CaseIterable {
    /// purser's own JSON format; see `EvaluationResults`.
    case json
    /// JUnit XML, as pytest, Jest, Maven Surefire and most test runners write it.
    case junit
    /// The JSON that `promptfoo eval -o results.json` writes.
    case promptfoo
}

/// Reads evaluation results files into an `EvaluationRun`.
///
/// **`json`**, purser's generic format, for tools that have none of their own:
///
/// ```json
/// {
///   "suite": "refunds",
///   "observed_at": "2026-11-27T14:03:00Z",
///   "cases": [
///     {"name": "refund over limit", "passed": true, "score": 0.92},
///     {"name": "refund over limit", "passed": false},
///     {"name": "angry customer", "passed": true}
///   ]
/// }
/// ```
///
/// `suite` and `observed_at` (RFC 3339) are optional; each case needs a non-empty `name` and a `passed` of
/// `true` or `false`; `score`, if given, must be a number. A repeated name is another run of the same case.
/// Other fields are ignored, so tools can add their own. The file may also be just the array of cases.
///
/// **`junit`**: every `<testcase>` under the root `<testsuites>` or `<testsuite>` (suites may nest) is a
/// run named `classname.name` (or `name` without a classname); it failed if it has a `<failure>` or `<error>`
/// child, and a case with `<skipped>` is left out. The suite is the `<testsuites name>`, else the name of
/// the only `<testsuite>`; the time is the `<testsuites timestamp>`, else the earliest `<testsuite timestamp>`,
/// read as UTC when it has no offset (`2026-11-27T14:03:00`, as Surefire and jest-junit write it).
///
/// **`promptfoo`**: each entry of promptfoo's `results` is a run; its name is the test's description, else
/// its vars as canonical JSON, prefixed by the provider (`[openai:gpt-4o] …`) and the prompt label
/// (`concise: …`) when the file holds more than one of them. See `parsePromptfoo` for the versions read.
public enum EvaluationResults {
    /// Parses a results file.
    /// - Parameters:
    ///   - bytes: the file's contents.
    ///   - source: how errors name the file, e.g. `results.json`.
    /// - Throws: `.invalidInput` with one line naming `source`, the field (JSON) or line (XML) and the
    ///   problem, e.g. `results.json: cases[3].passed: expected true or false`; also for a file with no
    ///   test cases.
    public static func parse(
        _ bytes: [UInt8], format: EvaluationFormat, source: String
    ) throws(LedgerError)
        -> EvaluationRun
    {
        switch format {
        case .json: try parseGeneric(try json(bytes, source: source), source: source)
        case .junit: try parseJUnit(bytes, source: source)
        case .promptfoo: try parsePromptfoo(try json(bytes, source: source), source: source)
        }
    }

    // MARK: purser JSON

    private static func parseGeneric(_ document: JSONValue, source: String) throws(LedgerError) -> EvaluationRun {
        var run = EvaluationRun(cases: [])
        let list: [JSONValue]
        let path: String
        switch document {
        case .array(let elements):
            list = elements
            path = ""
        case .object(let members):
            if let suite = members["suite"], suite != .null {
                guard let name = suite.stringValue, !isBlank(name) else {
                    throw invalid(source, "suite", "expected a non-empty string, got \(describe(suite))")
                }
                run.suite = name
            }
            if let time = members["observed_at"], time != .null {
                run.observedAt = try timestamp(time, source: source, path: "observed_at")
            }
            guard let cases = members["cases"] else {
                throw invalid(source, "cases", "missing: the array of {\"name\": …, \"passed\": true|false} objects")
            }
            guard case .array(let elements) = cases else {
                throw invalid(
                    source, "cases", "expected an array of {\"name\", \"passed\"} objects, got \(describe(cases))")
            }
            list = elements
            path = "cases"
        default:
            throw invalid(
                source, "", "expected an object with \"cases\" or an array of cases, got \(describe(document))")
        }
        for (index, element) in list.enumerated() {
            let at = "\(path)[\(index)]"
            guard case .object(let fields) = element else {
                throw invalid(source, at, "expected an object with \"name\" and \"passed\", got \(describe(element))")
            }
            guard let nameValue = fields["name"] else { throw invalid(source, "\(at).name", "missing") }
            guard let name = nameValue.stringValue, !isBlank(name) else {
                throw invalid(source, "\(at).name", "expected a non-empty string, got \(describe(nameValue))")
            }
            guard let passedValue = fields["passed"] else {
                throw invalid(source, "\(at).passed", "missing: expected true or false")
            }
            guard case .bool(let passed) = passedValue else {
                throw invalid(source, "\(at).passed", "expected true or false, got \(describe(passedValue))")
            }
            if let score = fields["score"], score != .null, score.numberValue == nil {
                throw invalid(source, "\(at).score", "expected a number, got \(describe(score))")
            }
            run.cases.append(CaseResult(name: name, passed: passed))
        }
        guard !run.cases.isEmpty else { throw LedgerError(.invalidInput, "\(source): no test cases") }
        return run
    }

    // MARK: promptfoo

    /// Reads what `promptfoo eval -o results.json` writes. Every version has an array of results, each
    /// with `success`, `vars`, `prompt` (`label`, or `display` in the first releases) and `provider`
    /// (`id`, `label`):
    ///
    /// - current releases: `{"evalId", "results": {"version": 3, "timestamp", "prompts", "results":
    ///   [{"testCase": {"description", "vars"}, "testIdx", …}], "stats"}, "config", "shareableUrl",
    ///   "metadata"}`; an eval stored by an older release is exported with `"version": 2` there.
    /// - older releases: `{"evalId"?, "results": {"version": 2, "timestamp", "results", "table", "stats"},
    ///   "config", "shareableUrl"}`, whose results have no `testCase`; descriptions are in `table.body`.
    /// - the first releases wrote the summary itself: `{"version", "results": [...], "table", "stats"}`.
    ///
    /// The suite is `config.description`; the time is the summary's `timestamp`. A result promptfoo
    /// counts as an error (`failureReason` 2, such as a provider's 429) has `success: false`: a failed run.
    private static func parsePromptfoo(_ document: JSONValue, source: String) throws(LedgerError) -> EvaluationRun {
        guard case .object(let top) = document else {
            throw invalid(source, "", "expected the JSON object that promptfoo eval -o FILE.json writes")
        }
        let summary: [String: JSONValue]
        let base: String
        switch top["results"] {
        case .object(let members)?:
            summary = members
            base = "results."
        case .array?:
            summary = top
            base = ""
        case nil:
            throw invalid(source, "results", "missing: not the output of promptfoo eval -o FILE.json")
        case let other?:
            throw invalid(source, "results", "expected promptfoo's summary object, got \(describe(other))")
        }
        guard case .array(let rows)? = summary["results"] else {
            throw invalid(source, base + "results", "expected the array of test results")
        }
        var run = EvaluationRun(cases: [])
        if case .object(let config)? = top["config"], let description = config["description"]?.stringValue,
            !isBlank(description)
        {
            run.suite = description
        }
        if let time = summary["timestamp"], time != .null {
            run.observedAt = try timestamp(time, source: source, path: base + "timestamp")
        }
        let described = tableDescriptions(summary["table"])
        var named: [(name: String, prompt: String, provider: String, passed: Bool)] = []
        for (index, element) in rows.enumerated() {
            let at = "\(base)results[\(index)]"
            guard case .object(let row) = element else {
                throw invalid(source, at, "expected a result object, got \(describe(element))")
            }
            guard case .bool(let passed)? = row["success"] else {
                throw invalid(source, "\(at).success", "expected true or false, got \(describe(row["success"]))")
            }
            guard let name = promptfooName(row, described: described) else {
                throw invalid(source, at, "no testCase.description, vars or testIdx to name the case by")
            }
            let prompt = row["prompt"]
            let promptName =
                nonBlank(prompt?["label"]) ?? nonBlank(prompt?["display"])
                ?? row["promptIdx"]?.numberValue.map { "prompt \(CanonicalJSON.format($0))" } ?? "prompt"
            let provider = row["provider"]
            let providerName =
                nonBlank(provider?["label"]) ?? nonBlank(provider?["id"]) ?? nonBlank(provider) ?? "provider"
            named.append((name, promptName, providerName, passed))
        }
        guard !named.isEmpty else {
            throw LedgerError(.invalidInput, "\(source): no test cases (\(base)results is empty)")
        }
        let severalPrompts = Set(named.map(\.prompt)).count > 1
        let severalProviders = Set(named.map(\.provider)).count > 1
        run.cases = named.map { row in
            var name = row.name
            if severalPrompts { name = "\(row.prompt): \(name)" }
            if severalProviders { name = "[\(row.provider)] \(name)" }
            return CaseResult(name: name, passed: row.passed)
        }
        return run
    }

    /// A promptfoo result's case name: its test's description, else its vars, else its test index.
    private static func promptfooName(_ row: [String: JSONValue], described: [[UInt8]: String]) -> String? {
        if let description = nonBlank(row["testCase"]?["description"]) ?? nonBlank(row["description"]) {
            return description
        }
        if let vars = promptfooVars(row["vars"]) ?? promptfooVars(row["testCase"]?["vars"]) {
            let key = CanonicalJSON.encode(vars)
            return described[key] ?? String(decoding: key, as: UTF8.self)
        }
        for key in ["testIdx", "testCaseIdx"] {
            if let index = row[key]?.numberValue, index >= 0, index.rounded() == index {
                return "test \(CanonicalJSON.format(index))"
            }
        }
        return nil
    }

    /// Non-empty vars without `_conversation`, which promptfoo fills with earlier outputs.
    private static func promptfooVars(_ value: JSONValue?) -> JSONValue? {
        guard case .object(var members)? = value else { return nil }
        members["_conversation"] = nil
        return members.isEmpty ? nil : .object(members)
    }

    /// The descriptions in a version 2 `table.body`, by the canonical JSON of their vars; vars shared by
    /// differently described tests name none.
    private static func tableDescriptions(_ table: JSONValue?) -> [[UInt8]: String] {
        guard case .array(let body)? = table?["body"] else { return [:] }
        var found: [[UInt8]: String?] = [:]
        for row in body {
            guard let description = nonBlank(row["description"]), let vars = promptfooVars(row["test"]?["vars"])
            else { continue }
            let key = CanonicalJSON.encode(vars)
            if let earlier = found[key], earlier != description {
                found[key] = .some(nil)
            } else {
                found[key] = description
            }
        }
        return found.compactMapValues { $0 }
    }

    // MARK: JUnit

    private static func parseJUnit(_ bytes: [UInt8], source: String) throws(LedgerError) -> EvaluationRun {
        let root = try XMLReader.parse(bytes, source: source)
        func fail(_ line: Int, _ problem: String) -> LedgerError {
            LedgerError(.invalidInput, "\(source): line \(line): \(problem)")
        }
        guard root.name == "testsuites" || root.name == "testsuite" else {
            throw fail(root.line, "expected <testsuites> or <testsuite> as the root element, found <\(root.name)>")
        }
        var run = EvaluationRun(cases: [])
        var suites = root.name == "testsuite" ? [root] : []
        var skipped = 0
        func visit(_ parent: XMLReader.Element) throws(LedgerError) {
            for child in parent.children {
                switch child.name {
                case "testsuite":
                    suites.append(child)
                    try visit(child)
                case "testcase":
                    guard let name = child.attribute("name") else {
                        throw fail(child.line, "<testcase> has no name attribute")
                    }
                    guard !isBlank(name) else { throw fail(child.line, "<testcase> has an empty name") }
                    if child.children.contains(where: { $0.name == "skipped" }) {
                        skipped += 1
                        continue
                    }
                    let failed = child.children.contains { $0.name == "failure" || $0.name == "error" }
                    let classname = child.attribute("classname").flatMap { isBlank($0) ? nil : $0 }
                    run.cases.append(CaseResult(name: classname.map { "\($0).\(name)" } ?? name, passed: !failed))
                default:
                    continue
                }
            }
        }
        try visit(root)
        guard !run.cases.isEmpty else {
            throw LedgerError(
                .invalidInput, "\(source): no test cases" + (skipped > 0 ? " (all \(skipped) were skipped)" : ""))
        }

        if root.name == "testsuites", let name = root.attribute("name"), !isBlank(name) {
            run.suite = name
        } else if suites.count == 1, let name = suites[0].attribute("name"), !isBlank(name) {
            run.suite = name
        }
        var earliest: String?
        for suite in suites {
            guard let text = suite.attribute("timestamp") else { continue }
            guard let time = junitTime(text) else {
                throw fail(
                    suite.line, "<testsuite> timestamp \(quoted(text)) is not a time such as 2026-11-27T14:03:00")
            }
            earliest = min(earliest ?? time, time)
        }
        if root.name == "testsuites", let text = root.attribute("timestamp") {
            guard let time = junitTime(text) else {
                throw fail(
                    root.line, "<testsuites> timestamp \(quoted(text)) is not a time such as 2026-11-27T14:03:00")
            }
            run.observedAt = time
        } else {
            run.observedAt = earliest
        }
        return run
    }

    /// A JUnit timestamp in ledger form; one without an offset is UTC, and a space may stand for the `T`.
    private static func junitTime(_ text: String) -> String? {
        var bytes = Array(text.utf8)
        if bytes.count > 10, bytes[10] == UInt8(ascii: " ") { bytes[10] = UInt8(ascii: "T") }
        let candidate = String(decoding: bytes, as: UTF8.self)
        return (Timestamp.parse(candidate) ?? Timestamp.parse(candidate + "Z")).map(Timestamp.format)
    }

    // MARK: Helpers

    private static func json(_ bytes: [UInt8], source: String) throws(LedgerError) -> JSONValue {
        do {
            return try JSONValue(parsing: bytes)
        } catch {
            throw LedgerError(.invalidInput, "\(source): invalid JSON: \(error)")
        }
    }

    private static func invalid(_ source: String, _ path: String, _ problem: String) -> LedgerError {
        LedgerError(.invalidInput, path.isEmpty ? "\(source): \(problem)" : "\(source): \(path): \(problem)")
    }

    private static func timestamp(_ value: JSONValue, source: String, path: String) throws(LedgerError) -> String {
        guard let text = value.stringValue, let date = Timestamp.parse(text) else {
            throw invalid(
                source, path, "expected an RFC 3339 time such as 2026-11-27T14:03:00Z, got \(describe(value))")
        }
        return Timestamp.format(date)
    }

    private static func isBlank(_ text: String) -> Bool {
        text.unicodeScalars.allSatisfy(\.properties.isWhitespace)
    }

    private static func nonBlank(_ value: JSONValue?) -> String? {
        guard let text = value?.stringValue, !isBlank(text) else { return nil }
        return text
    }

    /// A value as an error message shows it: short, on one line.
    private static func describe(_ value: JSONValue?) -> String {
        switch value {
        case nil: "nothing"
        case .object?: "an object"
        case .array?: "an array"
        case let scalar?:
            String(decoding: CanonicalJSON.encode(scalar), as: UTF8.self).truncated(to: 60)
        }
    }

    private static func quoted(_ text: String) -> String {
        describe(.string(text))
    }
}

extension String {
    /// The first `limit` characters, with "…" if there were more.
    fileprivate func truncated(to limit: Int) -> String {
        count > limit ? String(prefix(limit)) + "…" : self
    }
}

/// A strict reader for the XML of JUnit reports. It keeps elements, their attributes (entity references
/// resolved) and the line each starts on; it checks that tags nest and close, and skips text, comments,
/// CDATA sections, processing instructions and a DOCTYPE. Errors name the line. It reads in time linear in
/// the file's size, and refuses elements nested deeper than `maximumDepth` (the tree is visited and freed
/// by recursion).
private struct XMLReader {
    /// The deepest nesting read, the root counting 1: JUnit reports nest a few levels; canonical JSON allows 256.
    static let maximumDepth = 256

    struct Element {
        let name: String
        let line: Int
        var attributes: [(name: String, value: String)] = []
        var children: [Element] = []

        func attribute(_ name: String) -> String? {
            attributes.first { $0.name == name }?.value
        }
    }

    private let bytes: [UInt8]
    private let source: String
    private var position = 0
    private var line = 1

    static func parse(_ bytes: [UInt8], source: String) throws(LedgerError) -> Element {
        var reader = XMLReader(bytes: bytes, source: source)
        return try reader.document()
    }

    private init(bytes: [UInt8], source: String) {
        self.bytes = bytes
        self.source = source
    }

    private func fail(_ line: Int, _ problem: String) -> LedgerError {
        LedgerError(.invalidInput, "\(source): line \(line): \(problem)")
    }

    private mutating func document() throws(LedgerError) -> Element {
        if bytes.starts(with: [0xEF, 0xBB, 0xBF]) {
            position = 3
        } else if bytes.starts(with: [0xFE, 0xFF]) || bytes.starts(with: [0xFF, 0xFE]) {
            throw LedgerError(.invalidInput, "\(source): UTF-16 XML is not supported; save the report as UTF-8")
        }
        var open: [Element] = []
        var root: Element?
        while position < bytes.count {
            guard bytes[position] == UInt8(ascii: "<") else {
                let end = bytes[position...].firstIndex(of: UInt8(ascii: "<")) ?? bytes.count
                if open.isEmpty, let stray = bytes[position..<end].firstIndex(where: { !Self.isSpace($0) }) {
                    advance(to: stray)
                    throw fail(
                        line, root.map { "text after the root element </\($0.name)>" } ?? "text before the root element"
                    )
                }
                advance(to: end)
                continue
            }
            let start = line
            if starts(with: "<!--") {
                try skip(past: "-->", from: position + 4, what: "comment")
            } else if starts(with: "<![CDATA[") {
                guard !open.isEmpty else { throw fail(start, "CDATA section outside the root element") }
                try skip(past: "]]>", from: position + 9, what: "CDATA section")
            } else if starts(with: "<?") {
                try skip(past: "?>", from: position + 2, what: "processing instruction")
            } else if starts(with: "<!DOCTYPE") {
                guard open.isEmpty, root == nil else {
                    throw fail(start, "<!DOCTYPE must come before the root element")
                }
                try skipDoctype()
            } else if starts(with: "<!") {
                throw fail(start, "unexpected <! (expected a comment <!-- -->, or <![CDATA[ ]]>)")
            } else if starts(with: "</") {
                advance(to: position + 2)
                guard let name = name() else { throw fail(start, "expected an element name after </") }
                skipSpaces()
                guard position < bytes.count, bytes[position] == UInt8(ascii: ">") else {
                    throw fail(start, "</\(name) is not closed with >")
                }
                advance(to: position + 1)
                guard let element = open.popLast() else {
                    throw fail(start, "</\(name)> closes an element that was never opened")
                }
                guard element.name == name else {
                    throw fail(start, "</\(name)> does not match <\(element.name)> opened on line \(element.line)")
                }
                Self.attach(element, to: &open, root: &root)
            } else {
                advance(to: position + 1)
                guard let name = name() else {
                    throw fail(start, "'<' is not followed by an element name (write &lt; for a literal <)")
                }
                if open.isEmpty, let root {
                    throw fail(start, "a second root element <\(name)> after </\(root.name)>")
                }
                var element = Element(name: name, line: start)
                if let parent = open.last, open.count >= Self.maximumDepth {
                    throw fail(
                        start,
                        "<\(name)> is nested deeper than \(Self.maximumDepth) elements (inside <\(parent.name)> of line \(parent.line))"
                    )
                }
                if try attributes(of: &element) {
                    Self.attach(element, to: &open, root: &root)
                } else {
                    open.append(element)
                }
            }
        }
        if let unclosed = open.last {
            throw fail(unclosed.line, "<\(unclosed.name)> is never closed (no </\(unclosed.name)>)")
        }
        guard let root else {
            throw LedgerError(.invalidInput, "\(source): no XML element found (expected a JUnit XML report)")
        }
        return root
    }

    private static func attach(_ element: Element, to open: inout [Element], root: inout Element?) {
        if open.isEmpty {
            root = element
        } else {
            open[open.count - 1].children.append(element)
        }
    }

    /// Reads a start tag's attributes up to its `>`; returns whether it ended with `/>`.
    private mutating func attributes(of element: inout Element) throws(LedgerError) -> Bool {
        let tag = "<\(element.name)>"
        var names: Set<String> = []
        while true {
            let spaced = skipSpaces()
            guard position < bytes.count else { throw fail(element.line, "\(tag) is never closed with >") }
            switch bytes[position] {
            case UInt8(ascii: ">"):
                advance(to: position + 1)
                return false
            case UInt8(ascii: "/"):
                guard position + 1 < bytes.count, bytes[position + 1] == UInt8(ascii: ">") else {
                    throw fail(line, "expected /> to end \(tag)")
                }
                advance(to: position + 2)
                return true
            case UInt8(ascii: "<"):
                throw fail(element.line, "\(tag) is not closed with > before the next < on line \(line)")
            default:
                break
            }
            let start = line
            guard spaced, let name = name() else {
                throw fail(
                    line,
                    "unexpected \(Self.character(at: position, in: bytes)) in \(tag) (expected an attribute, > or />)")
            }
            skipSpaces()
            guard position < bytes.count, bytes[position] == UInt8(ascii: "=") else {
                throw fail(start, "attribute \(name) of \(tag) has no value (expected \(name)=\"…\")")
            }
            advance(to: position + 1)
            skipSpaces()
            guard position < bytes.count, bytes[position] == UInt8(ascii: "\"") || bytes[position] == UInt8(ascii: "'")
            else {
                throw fail(line, "the value of attribute \(name) of \(tag) is not in quotes")
            }
            let quote = bytes[position]
            guard let end = bytes[(position + 1)...].firstIndex(of: quote) else {
                throw fail(start, "the value of attribute \(name) of \(tag) is never closed (no closing quote)")
            }
            let value = try decode(bytes[(position + 1)..<end], attribute: name, tag: tag, line: start)
            advance(to: end + 1)
            guard names.insert(name).inserted else { throw fail(start, "attribute \(name) appears twice in \(tag)") }
            element.attributes.append((name, value))
        }
    }

    /// An attribute value with entity references resolved and whitespace normalized, as XML prescribes.
    private func decode(
        _ raw: ArraySlice<UInt8>, attribute: String, tag: String, line: Int
    ) throws(LedgerError)
        -> String
    {
        var output: [UInt8] = []
        output.reserveCapacity(raw.count)
        var index = raw.startIndex
        while index < raw.endIndex {
            let byte = raw[index]
            index += 1
            switch byte {
            case UInt8(ascii: "<"):
                throw fail(
                    line, "the value of attribute \(attribute) of \(tag) contains '<' (write &lt;, or close the quote)")
            case UInt8(ascii: "&"):
                guard let end = raw[index...].prefix(12).firstIndex(of: UInt8(ascii: ";")) else {
                    throw fail(line, "the value of attribute \(attribute) of \(tag) has a bare & (write &amp;)")
                }
                let reference = String(decoding: raw[index..<end], as: UTF8.self)
                guard let scalar = Self.entity(reference) else {
                    let kind = reference.hasPrefix("#") ? "invalid character reference" : "unknown entity"
                    throw fail(line, "\(kind) &\(reference); in attribute \(attribute) of \(tag)")
                }
                UTF8.encode(scalar) { output.append($0) }
                index = end + 1
            case 0x0D:
                output.append(0x20)
                if index < raw.endIndex, raw[index] == 0x0A { index += 1 }
            case 0x09, 0x0A:
                output.append(0x20)
            default:
                output.append(byte)
            }
        }
        guard let text = String(validating: output, as: UTF8.self) else {
            throw fail(line, "the value of attribute \(attribute) of \(tag) is not UTF-8 text")
        }
        return text
    }

    /// The character a reference such as `amp`, `#60` or `#x3C` stands for, if XML allows it.
    private static func entity(_ reference: String) -> Unicode.Scalar? {
        switch reference {
        case "amp": return "&"
        case "lt": return "<"
        case "gt": return ">"
        case "quot": return "\""
        case "apos": return "'"
        default: break
        }
        let hex = reference.hasPrefix("#x")
        guard reference.hasPrefix("#") else { return nil }
        let digits = reference.dropFirst(hex ? 2 : 1)
        guard !digits.isEmpty, digits.allSatisfy({ hex ? $0.isHexDigit : $0.isASCII && $0.isNumber }),
            let code = UInt32(digits, radix: hex ? 16 : 10), let scalar = Unicode.Scalar(code)
        else { return nil }
        let allowed = code == 0x09 || code == 0x0A || code == 0x0D || (0x20...0xFFFD).contains(code) || code > 0xFFFF
        return allowed ? scalar : nil
    }

    /// An element or attribute name at the current position, if there is one.
    private mutating func name() -> String? {
        let start = position
        guard position < bytes.count, Self.isNameStart(bytes[position]) else { return nil }
        position += 1
        while position < bytes.count, Self.isNameStart(bytes[position]) || Self.isNamePart(bytes[position]) {
            position += 1
        }
        return String(decoding: bytes[start..<position], as: UTF8.self)
    }

    private static func isNameStart(_ byte: UInt8) -> Bool {
        (UInt8(ascii: "a")...UInt8(ascii: "z")).contains(byte) || (UInt8(ascii: "A")...UInt8(ascii: "Z")).contains(byte)
            || byte == UInt8(ascii: "_") || byte == UInt8(ascii: ":") || byte >= 0x80
    }

    private static func isNamePart(_ byte: UInt8) -> Bool {
        (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(byte) || byte == UInt8(ascii: "-") || byte == UInt8(ascii: ".")
    }

    private static func isSpace(_ byte: UInt8) -> Bool {
        byte == 0x20 || byte == 0x09 || byte == 0x0A || byte == 0x0D
    }

    /// The byte at `index` as a message shows it.
    private static func character(at index: Int, in bytes: [UInt8]) -> String {
        let byte = bytes[index]
        return (0x21..<0x7F).contains(byte)
            ? "'\(Character(Unicode.Scalar(byte)))'" : "byte 0x\(String(byte, radix: 16))"
    }

    /// Skips whitespace; returns whether there was any.
    @discardableResult
    private mutating func skipSpaces() -> Bool {
        let start = position
        while position < bytes.count, Self.isSpace(bytes[position]) {
            if bytes[position] == 0x0A { line += 1 }
            position += 1
        }
        return position > start
    }

    /// Moves to `target`, counting the lines passed.
    private mutating func advance(to target: Int) {
        var index = position
        while index < target {
            if bytes[index] == 0x0A { line += 1 }
            index += 1
        }
        position = target
    }

    private func starts(with literal: String) -> Bool {
        bytes[position...].starts(with: literal.utf8)
    }

    /// Moves past the first `terminator` at or after `start`.
    private mutating func skip(past terminator: String, from start: Int, what: String) throws(LedgerError) {
        let pattern = Array(terminator.utf8)
        var index = start
        while index + pattern.count <= bytes.count {
            if bytes[index] == pattern[0], bytes[index..<(index + pattern.count)].elementsEqual(pattern) {
                advance(to: index + pattern.count)
                return
            }
            index += 1
        }
        throw fail(line, "\(what) is never closed (no \(terminator))")
    }

    /// Skips `<!DOCTYPE …>`, including an internal subset in brackets.
    private mutating func skipDoctype() throws(LedgerError) {
        let start = line
        var index = position + 9
        var depth = 0
        var quote: UInt8?
        while index < bytes.count {
            let byte = bytes[index]
            if let open = quote {
                if byte == open { quote = nil }
            } else if byte == UInt8(ascii: "\"") || byte == UInt8(ascii: "'") {
                quote = byte
            } else if byte == UInt8(ascii: "[") {
                depth += 1
            } else if byte == UInt8(ascii: "]") {
                depth -= 1
            } else if byte == UInt8(ascii: ">"), depth <= 0 {
                advance(to: index + 1)
                return
            }
            index += 1
        }
        throw fail(start, "<!DOCTYPE is never closed (no >)")
    }
}
