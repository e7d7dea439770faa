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
public enum EvaluationFormat: String, NamedChoice {
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

    // MARK: Helpers shared by the formats

    static func json(_ bytes: [UInt8], source: String) throws(LedgerError) -> JSONValue {
        do {
            return try JSONValue(parsing: bytes)
        } catch {
            throw LedgerError(.invalidInput, "\(source): invalid JSON: \(error)")
        }
    }

    static func invalid(_ source: String, _ path: String, _ problem: String) -> LedgerError {
        LedgerError(.invalidInput, path.isEmpty ? "\(source): \(problem)" : "\(source): \(path): \(problem)")
    }

    static func timestamp(_ value: JSONValue, source: String, path: String) throws(LedgerError) -> String {
        guard let text = value.stringValue, let date = Timestamp.parse(text) else {
            throw invalid(
                source, path, "expected an RFC 3339 time such as 2026-11-27T14:03:00Z, got \(describe(value))")
        }
        return Timestamp.format(date)
    }

    static func isBlank(_ text: String) -> Bool {
        text.unicodeScalars.allSatisfy(\.properties.isWhitespace)
    }

    static func nonBlank(_ value: JSONValue?) -> String? {
        guard let text = value?.stringValue, !isBlank(text) else { return nil }
        return text
    }

    /// A value as an error message shows it: short, on one line.
    static func describe(_ value: JSONValue?) -> String {
        switch value {
        case nil: "nothing"
        case .object?: "an object"
        case .array?: "an array"
        case let scalar?:
            String(decoding: CanonicalJSON.encode(scalar), as: UTF8.self).truncated(to: 60)
        }
    }

    static func quoted(_ text: String) -> String {
        describe(.string(text))
    }
}

extension String {
    /// The first `limit` characters, with "…" if there were more.
    fileprivate func truncated(to limit: Int) -> String {
        count > limit ? String(prefix(limit)) + "…" : self
    }
}
