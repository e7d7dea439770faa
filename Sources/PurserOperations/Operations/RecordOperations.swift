import Foundation
public import PurserCore
public import PurserLedger

// Recording what a release rests on: versions, evaluations, drills, waivers, metrics, and custom entries.

/// `purser version record`: the manifest is read where the command runs; the server hashes the contents itself.
public struct RecordVersion: LedgerOperation {
    public static let name = "versions/record"
    public static let summary = "Record a behavioral version with the contents of every component (version.recorded)."
    public static let role = Role.writer

    public struct Part: Codable, Sendable {
        public var name: String
        public var kind: String
        public var source: String?
        public var fileName: String
        /// The exact bytes: raw text, or canonical JSON.
        public var contents: InputFile
    }

    public var agent: String
    public var components: [Part]
    public var label: String?

    public init(_ version: BehavioralVersion, label: String?) {
        agent = version.agent
        components = version.components.map { component in
            Part(
                name: component.name, kind: component.kind.rawValue, source: component.source,
                fileName: component.fileName,
                contents: InputFile(
                    source: component.source ?? component.name, bytes: version.contents[component.name]!))
        }
        self.label = label
    }

    /// The version again, every digest computed from the bytes received (a model's or commit's data read back
    /// from its canonical JSON), so that a client cannot name contents it did not send, and checked as a manifest
    /// is (`BehavioralVersion.validate`).
    func version() throws(LedgerError) -> BehavioralVersion {
        var parts: [(Component, bytes: [UInt8])] = []
        guard Set(components.map(\.name)).count == components.count,
            Set(components.map(\.fileName)).count == components.count
        else {
            throw LedgerError(.invalidInput, "component names and file names must each be unique")
        }
        for part in components {
            guard let kind = Component.Kind(rawValue: part.kind) else {
                throw LedgerError(.invalidInput, "component \(part.name): unknown kind \(part.kind)")
            }
            guard !part.fileName.contains("/"), !["", ".", "..", "version.json"].contains(part.fileName) else {
                throw LedgerError(
                    .invalidInput, "component \(part.name): file name \(part.fileName) is not a plain name")
            }
            var value: JSONValue?
            if kind == .model || kind == .commit {
                do {
                    value = try JSONValue(parsing: part.contents.bytes)
                } catch {
                    throw LedgerError(.invalidInput, "component \(part.name): its contents are not JSON: \(error)")
                }
                guard CanonicalJSON.encode(value!) == part.contents.bytes else {
                    throw LedgerError(.invalidInput, "component \(part.name): its contents are not canonical JSON")
                }
            }
            parts.append(
                (
                    Component(
                        name: part.name, kind: kind, digest: Hash.sha256(part.contents.bytes),
                        size: part.contents.bytes.count, source: part.source, fileName: part.fileName, value: value),
                    part.contents.bytes
                ))
        }
        // Everything a manifest guarantees, so that no client can record a version replay or `verify` rejects.
        let version = BehavioralVersion(agent: agent, components: parts)
        try version.validate()
        return version
    }

    public func perform(on releases: Releases) throws(LedgerError) -> Reply {
        let outcome = try releases.versions.record(version(), label: label)
        let what = outcome.isNew ? "recorded" : outcome.seq != nil ? "labelled" : "already recorded"
        return Reply(
            json: .object([
                "id": .string(outcome.id), "label": outcome.label.map(JSONValue.string) ?? .null,
                "new": .bool(outcome.isNew), "seq": outcome.seq.map(JSONValue.int) ?? .null,
                "components": .array(outcome.components.map(componentJSON)),
            ]),
            text: ["\(what) \(outcome.id)\(outcome.label.map { " as \($0)" } ?? "")"]
                + componentLines(outcome.components))
    }
}

/// A component as `version` commands print it in JSON.
public func componentJSON(_ component: Component) -> JSONValue {
    var members: [String: JSONValue] = [
        "name": .string(component.name), "kind": .string(component.kind.rawValue),
        "digest": .string(component.digest.hex), "pinned": .bool(component.pinned),
        "file": .string(component.fileName), "size": .number(Double(component.size)),
    ]
    if let source = component.source { members["source"] = .string(source) }
    if let value = component.value { members["value"] = value }
    return .object(members)
}

/// Components as `version` commands print them in text.
public func componentLines(_ components: [Component]) -> [String] {
    components.map { component in
        var detail = component.source ?? "(inline)"
        if component.kind == .model, let value = component.value {
            detail = "\(value["provider"]?.stringValue ?? "?")/\(value["id"]?.stringValue ?? "?")"
            let (pinned, reason) = ModelPins.builtIn.judge(value)
            if !pinned { detail += " (NOT PINNED: \(reason))" }
        } else if component.kind == .commit {
            detail = component.value?["commit"]?.stringValue ?? ""
        }
        return
            "  \(padded(component.name, 10)) \(padded(component.kind.rawValue, 6)) \(component.digest.hex.prefix(16))  \(detail)"
    }
}

/// `purser eval record`.
public struct RecordEvaluation: LedgerOperation {
    public static let name = "evaluations/record"
    public static let summary = "Record an evaluation run with its per-case results (evaluation.recorded)."
    public static let role = Role.writer

    public var version: String
    public var results: InputFile
    public var format: EvaluationFormat
    public var suite: String?
    /// The results file as `prepared()` parsed it; never sent.
    private var parsed: EvaluationRun?

    private enum CodingKeys: String, CodingKey {
        case version, results, format, suite
    }

    public init(version: String, results: InputFile, format: EvaluationFormat, suite: String?) {
        self.version = version
        self.results = results
        self.format = format
        self.suite = suite
    }

    /// Parses and checks the results file (an XML file of any size or shape is read in linear time).
    public func prepared() throws(LedgerError) -> RecordEvaluation {
        var prepared = self
        if parsed == nil {
            prepared.parsed = try EvaluationResults.parse(results.bytes, format: format, source: results.source)
        }
        return prepared
    }

    public func perform(on releases: Releases) throws(LedgerError) -> Reply {
        let run = try prepared().parsed!
        let summary = try releases.checklist.recordEvaluation(
            version: version, results: results, format: format, suite: suite, parsed: run)
        return Reply(
            json: .object([
                "seq": .int(summary.seq), "version": .string(summary.version), "suite": .string(summary.suite),
                "runs": .number(Double(summary.runs)), "passed": .number(Double(summary.passed)),
                "cases": .number(Double(summary.cases)),
            ]),
            text: [
                "recorded evaluation \(summary.suite) of \(summary.version.prefix(12)) (seq \(summary.seq)): \(summary.passed)/\(summary.runs) runs passed over \(summary.cases) cases"
            ])
    }
}

/// `purser rollback drill`.
public struct RecordDrill: LedgerOperation {
    public static let name = "drills/record"
    public static let summary = "Record a rehearsal of rolling back from one version to another (rollback.drilled)."
    public static let role = Role.writer

    public var env: EnvironmentName
    public var from: String
    public var to: String
    public var result: DrillResult
    public var evidence: InputFile?
    public var duration: Double?

    public init(
        env: EnvironmentName, from: String, to: String, result: DrillResult, evidence: InputFile?, duration: Double?
    ) {
        self.env = env
        self.from = from
        self.to = to
        self.result = result
        self.evidence = evidence
        self.duration = duration
    }

    public func perform(on releases: Releases) throws(LedgerError) -> Reply {
        let (fromVersion, toVersion) = (try releases.versions.find(from), try releases.versions.find(to))
        let seq = try releases.traffic.recordDrill(
            env: env, from: fromVersion.id, to: toVersion.id, result: result, evidence: evidence,
            duration: duration)
        return Reply(
            json: .object([
                "seq": .int(seq), "env": .string(env.name), "from": .string(fromVersion.id),
                "to": .string(toVersion.id),
                "result": .string(result.rawValue),
            ]),
            text: [
                "recorded rollback drill in \(env) (seq \(seq)): \(fromVersion.shortName) -> \(toVersion.shortName) \(result.rawValue)"
            ])
    }
}

/// `purser waive`.
public struct GrantWaiver: LedgerOperation {
    public static let name = "waivers/grant"
    public static let summary = "Waive one check's failure for a version until a time (waiver.granted)."
    public static let role = Role.writer

    public var version: String
    public var check: String
    public var reason: String
    public var approver: String
    public var expires: String

    public init(version: String, check: String, reason: String, approver: String, expires: String) {
        self.version = version
        self.check = check
        self.reason = reason
        self.approver = approver
        self.expires = expires
    }

    public func perform(on releases: Releases) throws(LedgerError) -> Reply {
        guard let expiry = try parseTime(expires, parameter: "expires") else {
            throw LedgerError(.usage, naming: "\(parameter: "expires") is missing")
        }
        let seq = try releases.checklist.grantWaiver(
            version: version, check: check, reason: reason, approver: approver, expires: expiry)
        return Reply(
            json: .object(["seq": .int(seq)]),
            text: ["waived \(check) for \(version) until \(Timestamp.format(expiry)) (seq \(seq))"])
    }
}

/// `purser metrics ingest`.
public struct IngestMetrics: LedgerOperation {
    public static let name = "metrics/ingest"
    public static let summary = "Ingest per-task agent metrics (metrics.summarized); nothing of a bad file is stored."
    public static let role = Role.writer

    public var file: InputFile
    public var format: MetricsFormat
    /// For OTLP: model prices for tasks whose spans carry no cost (`PriceTable`).
    public var prices: InputFile?
    /// For OTLP: which spans are tasks (nil: invoke_agent spans).
    public var tasks: TaskSpans?

    public init(file: InputFile, format: MetricsFormat, prices: InputFile? = nil, tasks: TaskSpans? = nil) {
        self.file = file
        self.format = format
        self.prices = prices
        self.tasks = tasks
    }

    public func perform(on releases: Releases) throws(LedgerError) -> Reply {
        let outcome = try releases.metrics.ingest(
            file, format: format, prices: try prices.map(PriceFile.init), tasks: tasks ?? .invokeAgent)
        var json: [String: JSONValue] = [
            "seq": .int(outcome.seq), "records": .number(Double(outcome.records)),
            "new": .number(Double(outcome.new)),
            "versions": .object(outcome.versions.mapValues { .number(Double($0)) }),
        ]
        var text = [
            "ingested \(outcome.records) task records (\(outcome.new) new, \(outcome.records - outcome.new) already known) as seq \(outcome.seq)"
        ]
        if format == .otlp {
            json["unattributed"] = .number(Double(outcome.unattributed))
            if outcome.unattributed > 0 {
                text.append(
                    "\(outcome.unattributed) span(s) belong to no task: no invoke_agent span above them, or one without a version or an environment"
                )
            }
        }
        return Reply(json: .object(json), text: text)
    }
}

/// `purser append --body`: one custom entry.
public struct AppendEntry: LedgerOperation {
    public static let name = "entries/append"
    public static let summary =
        "Append one custom entry (a kind with a dot, outside purser's own) with a JSON object body."
    public static let role = Role.writer

    public var kind: String
    /// The body's JSON text, parsed on the side that appends (strictly: canonical JSON's number range, depth 256).
    public var body: InputFile
    /// The entry `prepared()` made of the body; never sent.
    private var event: Event?

    private enum CodingKeys: String, CodingKey {
        case kind, body
    }

    public init(kind: String, body: InputFile) {
        self.kind = kind
        self.body = body
    }

    /// Parses the body into the entry's event.
    public func prepared() throws(LedgerError) -> AppendEntry {
        var prepared = self
        if event == nil { prepared.event = try makeEvent() }
        return prepared
    }

    private func makeEvent() throws(LedgerError) -> Event {
        let value: JSONValue
        do {
            value = try JSONValue(parsing: body.bytes)
        } catch {
            throw LedgerError(.invalidInput, "\(body.source): invalid JSON: \(error)")
        }
        guard case .object = value else { throw LedgerError(.invalidInput, "\(body.source): expected a JSON object") }
        return try EntryKind.customEvent(kind: kind, body: value, place: body.source)
    }

    public func perform(on releases: Releases) throws(LedgerError) -> Reply {
        let entry = try releases.ledger.append(prepared().event!)
        return Reply(
            json: .object([
                "seq": .int(entry.seq), "at": .string(entry.at), "kind": .string(entry.kind),
                "leaf_hash": .string(entry.leafHash.hex),
            ]),
            text: ["appended seq \(entry.seq) (\(entry.kind)) at \(entry.at), leaf \(entry.leafHash.hex)"])
    }
}

/// `purser append --lines`: custom entries from JSON Lines, appended together.
public struct AppendLines: LedgerOperation {
    public static let name = "entries/append-lines"
    public static let summary =
        "Append custom entries from JSON Lines (one object per line); a bad line appends nothing."
    public static let role = Role.writer

    public var kind: String
    public var lines: InputFile
    /// The entries `prepared()` made of the lines; never sent.
    private var events: [Event]?

    private enum CodingKeys: String, CodingKey {
        case kind, lines
    }

    public init(kind: String, lines: InputFile) {
        self.kind = kind
        self.lines = lines
    }

    /// Parses every line into its entry's event.
    public func prepared() throws(LedgerError) -> AppendLines {
        var prepared = self
        if events == nil { prepared.events = try makeEvents() }
        return prepared
    }

    private func makeEvents() throws(LedgerError) -> [Event] {
        let events = try Inputs.jsonObjectLines(lines.bytes, source: lines.source) {
            (object, line) throws(LedgerError) in try EntryKind.customEvent(kind: kind, body: object, place: line)
        }
        guard !events.isEmpty else { throw LedgerError(.invalidInput, "\(lines.source): no JSON lines to append") }
        return events
    }

    public func perform(on releases: Releases) throws(LedgerError) -> Reply {
        let entries = try releases.ledger.append(prepared().events!)
        return appendedLinesReply(first: entries.first!.seq, last: entries.last!.seq, count: entries.count)
    }
}

/// What `append --lines` prints.
public func appendedLinesReply(first: UInt64, last: UInt64, count: Int) -> Reply {
    Reply(
        json: .object(["first": .int(first), "last": .int(last), "count": .int(UInt64(count))]),
        text: ["appended \(count) entries, seq \(first)…\(last)"])
}
