public import PurserCore
public import PurserLedger

/// `purser audit`: the compliance report's document and timeline picture, made where the ledger is (with the held
/// checkpoints and pins table the client sends); the client renders them with its own templates and writes the
/// files, so that no template a client sends ever runs on the server.
public struct AuditLedger: SigningLedgerOperation {
    public static let name = "audit"
    public static let summary =
        "A compliance report of a window of the ledger, verified first: its document (schema purser-audit/1) and timeline picture."
    public static let role = Role.reader

    public var from: String?
    public var to: String?
    public var envs: [EnvironmentName]
    public var checkpoints: [InputFile]
    /// A model pins table, or nil for the built-in one.
    public var pins: InputFile?

    public init(from: String?, to: String?, envs: [EnvironmentName], checkpoints: [InputFile], pins: InputFile?) {
        self.from = from
        self.to = to
        self.envs = envs
        self.checkpoints = checkpoints
        self.pins = pins
    }

    /// The reply's JSON is `{"document":{…},"timeline_svg":"<svg>","fault":"…"|null}`; a verification fault makes
    /// its status `integrity` (the report is written all the same).
    public func perform(on releases: Releases, signingKey: SigningKey?) throws(LedgerError) -> Reply {
        let from = try ledgerTimestamp(from, parameter: "from")
        let to = try ledgerTimestamp(to, parameter: "to")
        if let from, let to, from >= to {
            throw LedgerError(.usage, naming: "\(parameter: "from") \(from) is not before \(parameter: "to") \(to)")
        }
        let scope = AuditScope(
            from: from, to: to, envs: envs.map(\.name),
            checkpoints: checkpoints.map {
                Ledger.HeldCheckpoint(source: $0.source, text: String(decoding: $0.bytes, as: UTF8.self))
            },
            pins: try pins.map { (file) throws(LedgerError) in
                try ModelPins(table: YAML.parse(file.bytes, source: file.source), source: file.source)
            } ?? .builtIn,
            signingKey: signingKey)
        let report = try releases.audit.report(scope)
        let fault = report.verification.fault
        return Reply(
            json: .object([
                "document": report.document, "timeline_svg": .string(TimelinePicture.svg(report.timelines)),
                "fault": fault.map { .string("\($0)") } ?? .null,
            ]),
            status: fault == nil ? .done : .integrity)
    }
}
