public import Foundation
public import PurserLedger

/// The release checklist's policy (`templates/checklist.yaml`): each check's parameters and where its
/// evidence comes from. Every check must be configured: a policy that leaves one out is refused, so
/// that no check is skipped by omission. Paths are relative to the policy file.
public struct ChecklistPolicy: Sendable {
    /// The stable ids of the checks, in the order they run and are reported.
    public static let checkIDs = [
        "version-recorded", "components-pinned", "queue-healthy", "dashboards-updated", "rollback-tested",
        "eval-passed", "canary-configured",
    ]

    /// The policy file as named, its folder, and its exact bytes (recorded by digest with every run).
    public let source: String
    public let baseDirectory: String
    public let bytes: [UInt8]
    /// How long an allowing run lets `purser deploy start` proceed, in seconds.
    public let maxAge: Double

    public let pins: ModelPins
    /// The pins table the policy names (as it names it), or nil for the built-in one.
    public let pinsFile: String?
    public let queue: Queue
    public let dashboard: EvidenceSource
    public let rollback: Rollback
    public let evaluation: Evaluation
    /// The canary configuration file, as the policy names it (see `resolve`).
    public let canaryConfig: String
    /// The files the policy names (the model pins table, the rollback runbook, the canary configuration), as read
    /// when the policy was loaded, by the name the policy gives them; a file that was not there is absent. Checks
    /// read them here, never from disk, so that a run performed elsewhere (by `purser serve`) judges the bytes
    /// read where the policy is.
    public let files: [String: InputFile]

    public struct Queue: Sendable {
        public let evidence: EvidenceSource
        /// depth / capacity above this fails.
        public let maxUtilization: Double
        public let minConsumers: Int
        /// Seconds.
        public let maxOldestAge: Double
    }

    public struct Rollback: Sendable {
        /// The runbook file, as the policy names it (see `resolve`).
        public let runbook: String
        /// How old a passed drill may be, in seconds.
        public let maxAge: Double
    }

    public struct Evaluation: Sendable {
        /// Only runs of this suite count; nil: the latest run of any suite.
        public let suite: String?
        public let maxAge: Double
        public let minPassRate: Double
        public let minCasePassRate: Double
    }

    /// Reads and validates the policy at `path`.
    /// - Throws: `.notFound` if it is missing; `.invalidInput` naming the file and field otherwise.
    public static func load(at path: String) throws(LedgerError) -> ChecklistPolicy {
        let bytes = try Inputs.read(path)
        let folder = URL(fileURLWithPath: path).deletingLastPathComponent().path
        return try ChecklistPolicy(
            json: try YAML.parse(bytes, source: path), bytes: bytes, source: path, baseDirectory: folder, files: nil)
    }

    /// A policy loaded elsewhere, with the files it names as they were read there (`files`).
    public init(bytes: [UInt8], source: String, baseDirectory: String, files: [String: InputFile]) throws(LedgerError) {
        try self.init(
            json: try YAML.parse(bytes, source: source), bytes: bytes, source: source, baseDirectory: baseDirectory,
            files: files)
    }

    /// - Parameter given: the named files as read elsewhere; nil: read them from disk, relative to `baseDirectory`.
    init(
        json: JSONValue, bytes: [UInt8], source: String, baseDirectory: String, files given: [String: InputFile]?
    ) throws(LedgerError) {
        func named(_ name: String) throws(LedgerError) -> InputFile? {
            if let given { return given[name] }
            let path = Self.resolve(name, in: baseDirectory)
            guard FileManager.default.fileExists(atPath: path) else { return nil }
            return InputFile(source: path, bytes: try InputBytes.read(path, source: path))
        }
        let reader = PolicyReader(source: source)
        let top = try reader.mapping(json, "", allowed: ["max-age", "checks"])
        let checks = try reader.mapping(top["checks"] ?? .null, "checks", allowed: Set(Self.checkIDs))
        for id in Self.checkIDs where checks[id] == nil {
            throw reader.invalid(
                "checks.\(id)", "missing: every check must be configured (waive a check you cannot pass yet)")
        }
        self.source = source
        self.baseDirectory = baseDirectory
        self.bytes = bytes
        self.maxAge = try reader.duration(top["max-age"], "max-age", default: 24 * 3600)

        _ = try reader.mapping(checks["version-recorded"]!, "checks.version-recorded", allowed: [])

        let pinning = try reader.mapping(
            checks["components-pinned"]!, "checks.components-pinned", allowed: ["pins", "allow"])
        var pins = ModelPins.builtIn
        self.pinsFile = try pinning["pins"].map { (table) throws(LedgerError) in
            try reader.path(table, "checks.components-pinned.pins")
        }
        if let pinsFile {
            let path = Self.resolve(pinsFile, in: baseDirectory)
            guard let table = try named(pinsFile) else { throw LedgerError(.notFound, "\(path) not found") }
            pins = try ModelPins(table: try YAML.parse(table.bytes, source: path), source: path)
        }
        if let allow = pinning["allow"] {
            guard case .array(let items) = allow else {
                throw reader.invalid("checks.components-pinned.allow", "expected a list of {provider:, id:}")
            }
            var exceptions: [(provider: String, id: String)] = []
            for (index, item) in items.enumerated() {
                guard let provider = item["provider"]?.stringValue, let id = item["id"]?.stringValue else {
                    throw reader.invalid("checks.components-pinned.allow[\(index)]", "expected {provider:, id:}")
                }
                exceptions.append((provider, id))
            }
            pins = pins.allowing(exceptions)
        }
        self.pins = pins

        let queue = try reader.mapping(
            checks["queue-healthy"]!, "checks.queue-healthy",
            allowed: ["evidence", "max-utilization", "min-consumers", "max-oldest-age"])
        self.queue = Queue(
            evidence: try reader.evidence(queue["evidence"], "checks.queue-healthy.evidence"),
            maxUtilization: try reader.fraction(
                queue["max-utilization"], "checks.queue-healthy.max-utilization", default: 0.8),
            minConsumers: try reader.count(queue["min-consumers"], "checks.queue-healthy.min-consumers", default: 1),
            maxOldestAge: try reader.duration(
                queue["max-oldest-age"], "checks.queue-healthy.max-oldest-age", default: 300))

        let dashboards = try reader.mapping(
            checks["dashboards-updated"]!, "checks.dashboards-updated", allowed: ["evidence"])
        self.dashboard = try reader.evidence(dashboards["evidence"], "checks.dashboards-updated.evidence")

        let rollback = try reader.mapping(
            checks["rollback-tested"]!, "checks.rollback-tested", allowed: ["runbook", "max-age"])
        self.rollback = Rollback(
            runbook: try reader.path(rollback["runbook"], "checks.rollback-tested.runbook"),
            maxAge: try reader.duration(rollback["max-age"], "checks.rollback-tested.max-age", default: 7 * 86_400))

        let evaluation = try reader.mapping(
            checks["eval-passed"]!, "checks.eval-passed",
            allowed: ["suite", "max-age", "min-pass-rate", "min-case-pass-rate"])
        if let suite = evaluation["suite"], suite.stringValue == nil {
            throw reader.invalid("checks.eval-passed.suite", "expected the name of an evaluation suite")
        }
        self.evaluation = Evaluation(
            suite: evaluation["suite"]?.stringValue,
            maxAge: try reader.duration(evaluation["max-age"], "checks.eval-passed.max-age", default: 3 * 86_400),
            minPassRate: try reader.fraction(
                evaluation["min-pass-rate"], "checks.eval-passed.min-pass-rate", default: 0.95),
            minCasePassRate: try reader.fraction(
                evaluation["min-case-pass-rate"], "checks.eval-passed.min-case-pass-rate", default: 0.8))

        let canary = try reader.mapping(checks["canary-configured"]!, "checks.canary-configured", allowed: ["config"])
        self.canaryConfig = try reader.path(canary["config"], "checks.canary-configured.config")
        var files: [String: InputFile] = [:]
        for name in [self.pinsFile, self.rollback.runbook, self.canaryConfig].compactMap(\.self) {
            files[name] = try named(name)
        }
        self.files = files
    }

    /// Gathers the queue's and the dashboard's evidence (files, commands, HTTP probes, in parallel), where the
    /// policy is: `{version}`, `{label}` and `{env}` in their names are replaced first.
    /// - Parameter label: the version's first label, if it has one (else `{label}` is its id).
    public func gather(
        version: String, label: String?, env: EnvironmentName, now: Date
    ) -> [Result<Evidence, LedgerError>] {
        gatherAll(
            [queue.evidence, dashboard],
            substitutions: ["version": version, "label": label ?? version, "env": env.name],
            baseDirectory: baseDirectory, now: now)
    }

    /// The SHA-256 of the policy file.
    public var digest: Hash { Hash.sha256(bytes) }

    /// A path the policy names, relative to the policy's folder unless absolute. Reports show paths as
    /// the policy names them, so that the same policy gives the same verdict document anywhere.
    public func resolve(_ path: String) -> String {
        Self.resolve(path, in: baseDirectory)
    }

    static func resolve(_ path: String, in folder: String) -> String {
        path.hasPrefix("/") ? path : folder + "/" + path
    }
}

/// Reads policy fields, naming the file and field in every error.
private struct PolicyReader {
    let source: String

    func invalid(_ field: String, _ problem: String) -> LedgerError {
        LedgerError(.invalidInput, field.isEmpty ? "\(source): \(problem)" : "\(source): \(field): \(problem)")
    }

    /// A mapping (an empty one for `null` or `{}`) with only `allowed` keys.
    func mapping(_ value: JSONValue, _ field: String, allowed: Set<String>) throws(LedgerError) -> [String: JSONValue] {
        if value == .null { return [:] }
        guard case .object(let members) = value else { throw invalid(field, "expected a mapping") }
        for key in members.keys.sorted() where !allowed.contains(key) {
            let expected = allowed.isEmpty ? "no fields" : allowed.sorted().joined(separator: ", ")
            throw invalid(field.isEmpty ? key : "\(field).\(key)", "unknown field (expected \(expected))")
        }
        return members
    }

    func duration(_ value: JSONValue?, _ field: String, default fallback: Double) throws(LedgerError) -> Double {
        guard let value else { return fallback }
        return try PolicyDuration.parse(value, field: field, source: source)
    }

    func fraction(_ value: JSONValue?, _ field: String, default fallback: Double) throws(LedgerError) -> Double {
        guard let value else { return fallback }
        guard let number = value.numberValue, (0...1).contains(number) else {
            throw invalid(field, "expected a number from 0 to 1")
        }
        return number
    }

    func count(_ value: JSONValue?, _ field: String, default fallback: Int) throws(LedgerError) -> Int {
        guard let value else { return fallback }
        guard let number = value.numberValue, let whole = Int(exactly: number), whole >= 0 else {
            throw invalid(field, "expected a whole number ≥ 0")
        }
        return whole
    }

    func path(_ value: JSONValue?, _ field: String) throws(LedgerError) -> String {
        guard let path = value?.stringValue, !path.isEmpty else {
            throw invalid(field, "missing: a file path relative to the policy")
        }
        return path
    }

    func evidence(_ value: JSONValue?, _ field: String) throws(LedgerError) -> EvidenceSource {
        guard let value else {
            throw invalid(
                field, "missing: where the evidence comes from, {file: PATH}, {command: [...]} or {http: URL}")
        }
        var evidence = try EvidenceSource(json: value, field: field, source: source)
        // Every piece of evidence has a freshness limit: a day unless the policy says otherwise.
        evidence.maxAge = evidence.maxAge ?? 24 * 3600
        return evidence
    }
}
