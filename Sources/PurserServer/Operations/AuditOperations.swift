public import PurserCore
public import PurserLedger

/// `purser audit`: the compliance report, made where the ledger is, with templates and held checkpoints sent by
/// the client; the client writes the files.
public struct AuditLedger: SigningLedgerOperation {
    public static let name = "audit"
    public static let summary =
        "A compliance report of a window of the ledger (md, html or json), verified first; the templates come with the request."
    public static let role = Role.reader

    public var format: String
    public var from: String?
    public var to: String?
    public var envs: [String]
    public var checkpoints: [InputFile]
    /// A model pins table, or nil for the built-in one.
    public var pins: InputFile?
    /// The `.mustache` files by name (none for json), and the folder they came from (named in errors).
    public var templates: [String: InputFile]
    public var templateDirectory: String
    /// The name of the picture written beside a Markdown report, which the report links to.
    public var timelineFile: String?

    public init(
        format: String, from: String?, to: String?, envs: [String], checkpoints: [InputFile], pins: InputFile?,
        templates: [String: InputFile], templateDirectory: String, timelineFile: String?
    ) {
        self.format = format
        self.from = from
        self.to = to
        self.envs = envs
        self.checkpoints = checkpoints
        self.pins = pins
        self.templates = templates
        self.templateDirectory = templateDirectory
        self.timelineFile = timelineFile
    }

    /// The reply's JSON is `{"report":"<the report>","timeline_svg":"<svg>"|null,"summary":{…},"fault":"…"|null}`;
    /// a verification fault makes its status `integrity` (the report is written all the same).
    public func perform(on releases: Releases, signingKey: SigningKey?) throws(LedgerError) -> Reply {
        guard let format = AuditFormat(rawValue: format) else {
            throw LedgerError(.usage, "--format \"\(format)\" is not one of md, html, json")
        }
        let from = try ledgerTimestamp(from, option: "--from")
        let to = try ledgerTimestamp(to, option: "--to")
        if let from, let to, from >= to { throw LedgerError(.usage, "--from \(from) is not before --to \(to)") }
        let rendering = try format == .json ? nil : ReportTemplates(files: templates, directory: templateDirectory)
        let scope = AuditScope(
            from: from, to: to, envs: envs,
            checkpoints: checkpoints.map {
                Ledger.HeldCheckpoint(source: $0.source, text: String(decoding: $0.bytes, as: UTF8.self))
            },
            pins: try pins.map { (file) throws(LedgerError) in
                try ModelPins(table: YAML.parse(file.bytes, source: file.source), source: file.source)
            } ?? .builtIn,
            signingKey: signingKey)
        let report = try releases.audit(scope)
        let bytes =
            try rendering?.render(report, format: format, timelineFile: timelineFile) ?? ReportTemplates.json(report)
        let fault = report.verification.fault
        return Reply(
            json: .object([
                "report": .string(String(decoding: bytes, as: UTF8.self)),
                "timeline_svg": format == .md ? .string(TimelinePicture.svg(report.timelines)) : .null,
                "summary": report.document["summary"] ?? .null,
                "fault": fault.map { .string("\($0)") } ?? .null,
            ]),
            status: fault == nil ? .done : .integrity)
    }
}
