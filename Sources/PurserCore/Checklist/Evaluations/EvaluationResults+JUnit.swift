internal import PurserLedger

extension EvaluationResults {
    /// Reads a JUnit XML report, as described on `EvaluationResults`.
    static func parseJUnit(_ bytes: [UInt8], source: String) throws(LedgerError) -> EvaluationRun {
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
    static func junitTime(_ text: String) -> String? {
        var bytes = Array(text.utf8)
        if bytes.count > 10, bytes[10] == UInt8(ascii: " ") { bytes[10] = UInt8(ascii: "T") }
        let candidate = String(decoding: bytes, as: UTF8.self)
        return (Timestamp.parse(candidate) ?? Timestamp.parse(candidate + "Z")).map(Timestamp.format)
    }
}
