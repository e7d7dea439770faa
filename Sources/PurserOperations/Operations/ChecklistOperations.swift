import Foundation
public import PurserCore
public import PurserLedger

// The release checklist, split where its evidence is: the policy, the files it names and the queue and dashboard
// evidence are read on the machine that runs `purser check` (a CI runner can reach its queue's probe; the server
// may not), then judged against the ledger wherever the ledger is.

/// A version's id and labels, for a client that must name it before it acts (`purser check` substitutes them
/// into evidence sources).
public struct ResolveVersion: LedgerOperation {
    public static let name = "versions/resolve"
    public static let summary = "A version's id and labels, from an id, a unique prefix (8+ hex) or a label."
    public static let role = Role.reader
    public static let isQuick = true

    public var version: String

    public init(version: String) { self.version = version }

    public func perform(on releases: Releases) throws(LedgerError) -> Reply {
        let version = try releases.versions.find(version)
        return Reply(
            json: .object(["id": .string(version.id), "labels": .array(version.labels.map(JSONValue.string))]),
            text: [version.shortName])
    }
}

/// `purser check`: the checklist run on evidence gathered by the client.
public struct RunChecklist: LedgerOperation {
    public static let name = "checklist/run"
    public static let summary =
        "Run the release checklist on evidence gathered by the client, and record the run (checklist.evaluated)."
    public static let role = Role.writer

    public var version: String
    public var env: EnvironmentName
    public var policy: InputFile
    /// The policy's folder on the client: reasons name files by the paths the client resolved.
    public var baseDirectory: String
    /// The files the policy names, as read on the client (`ChecklistPolicy.files`).
    public var files: [String: InputFile]
    /// The queue's and the dashboard's evidence.
    public var gathered: [GatheredEvidence]

    public init(
        version: String, env: EnvironmentName, policy: ChecklistPolicy, gathered: [Result<Evidence, LedgerError>]
    ) {
        self.version = version
        self.env = env
        self.policy = InputFile(source: policy.source, bytes: policy.bytes)
        baseDirectory = policy.baseDirectory
        files = policy.files
        self.gathered = gathered.map(GatheredEvidence.init)
    }

    public func perform(on releases: Releases) throws(LedgerError) -> Reply {
        let policy = try ChecklistPolicy(
            bytes: policy.bytes, source: policy.source, baseDirectory: baseDirectory, files: files)
        guard gathered.count == 2 else {
            throw LedgerError(
                .usage, "a checklist run needs the queue's and the dashboard's evidence, got \(gathered.count)")
        }
        // The client gathered the evidence: it is judged again here, as `gather` judges it.
        let resolved = try releases.versions.find(version)
        let substitutions = ["version": resolved.id, "label": resolved.labels.first ?? resolved.id, "env": env.name]
        let now = releases.now
        var evidence: [Result<Evidence, LedgerError>] = []
        for (index, (item, source)) in zip(gathered, [policy.queue.evidence, policy.dashboard]).enumerated() {
            evidence.append(
                try item.result(from: source, substitutions: substitutions, now: now, field: "gathered[\(index)]"))
        }
        let run = try releases.checklist.run(version: version, env: env, policy: policy, gathered: evidence)
        var text: [String] = []
        for check in run.checks {
            text.append("\(padded(check.verdict.rawValue.uppercased(), 7)) \(padded(check.id, 19)) \(check.reason)")
            for evidence in check.evidence {
                text.append(
                    "        \(padded("", 19)) evidence: \(evidence.source) sha256:\(evidence.digest.hex.prefix(16))")
            }
        }
        let failing = run.checks.filter { $0.verdict == .fail || $0.verdict == .error }.map(\.id)
        let waived = run.checks.filter { $0.verdict == .waived }.count
        text.append(
            run.allowed
                ? "ALLOWED: \(run.version.shortName) may be released to \(env)\(waived > 0 ? " (\(waived) check(s) waived)" : "") (recorded as seq \(run.seq))"
                : "BLOCKED: \(failing.joined(separator: ", ")) (recorded as seq \(run.seq))")
        return Reply(json: run.document, text: text, status: run.allowed ? .done : .blocked)
    }
}

/// Evidence as gathered on the client, or why it could not be: what travels to the server.
public struct GatheredEvidence: Codable, Sendable {
    public var source: String?
    public var contents: InputFile?
    /// The parsed value as canonical JSON (a YAML file's value is not its bytes).
    public var value: String?
    public var observedAt: String?
    public var errorCode: String?
    public var errorMessage: String?

    public init(_ result: Result<Evidence, LedgerError>) {
        switch result {
        case .success(let evidence):
            source = evidence.source
            contents = InputFile(source: evidence.source, bytes: evidence.bytes)
            value = String(decoding: CanonicalJSON.encode(evidence.value), as: UTF8.self)
            observedAt = evidence.observedAt
        case .failure(let error):
            errorCode = error.code.name
            errorMessage = error.message
        }
    }

    /// The evidence again, judged as `source.gather` judges it.
    /// - Throws: `.usage` when neither evidence nor an error came or the value is not JSON; `.invalidInput` for
    ///   evidence `gather` never returns (`EvidenceSource.received`), or an error of an unknown code or another
    ///   source.
    func result(
        from origin: EvidenceSource, substitutions: [String: String], now: Date, field: String
    ) throws(LedgerError) -> Result<Evidence, LedgerError> {
        let name = origin.name(substitutions: substitutions)
        if let errorCode, let errorMessage {
            let codes: [LedgerError.Code] = [.invalidInput, .notFound, .usage, .internal]
            guard let code = codes.first(where: { $0.name == errorCode }) else {
                throw LedgerError(
                    .invalidInput,
                    "\(field).errorCode \(errorCode) is not one of \(codes.map(\.name).joined(separator: ", "))")
            }
            guard errorMessage.hasPrefix(name + ": ") else {
                throw LedgerError(.invalidInput, "\(field).errorMessage must start with the source's name, \(name): ")
            }
            return .failure(LedgerError(code, errorMessage))
        }
        guard let source, let contents, let value else {
            throw LedgerError(
                .usage, "\(field) needs source, contents and value, or errorCode and errorMessage")
        }
        let parsed: JSONValue
        do {
            parsed = try JSONValue(parsing: Array(value.utf8))
        } catch {
            throw LedgerError(.usage, "\(field).value of the evidence \(source) is not JSON: \(error)")
        }
        return try origin.received(
            source: source, bytes: contents.bytes, value: parsed, observedAt: observedAt, substitutions: substitutions,
            now: now, field: field)
    }
}
