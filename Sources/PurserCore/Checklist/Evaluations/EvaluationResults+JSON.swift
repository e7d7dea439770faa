internal import PurserLedger

extension EvaluationResults {
    /// Reads purser's own JSON format, described on `EvaluationResults`.
    static func parseGeneric(_ document: JSONValue, source: String) throws(LedgerError) -> EvaluationRun {
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
}
