internal import PurserLedger

extension EvaluationResults {
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
    static func parsePromptfoo(_ document: JSONValue, source: String) throws(LedgerError) -> EvaluationRun {
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
    static func promptfooName(_ row: [String: JSONValue], described: [[UInt8]: String]) -> String? {
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
    static func promptfooVars(_ value: JSONValue?) -> JSONValue? {
        guard case .object(var members)? = value else { return nil }
        members["_conversation"] = nil
        return members.isEmpty ? nil : .object(members)
    }

    /// The descriptions in a version 2 `table.body`, by the canonical JSON of their vars; vars shared by
    /// differently described tests name none.
    static func tableDescriptions(_ table: JSONValue?) -> [[UInt8]: String] {
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
}
