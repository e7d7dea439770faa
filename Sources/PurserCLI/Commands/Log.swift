import ArgumentParser
import Foundation
import PurserCore
import PurserLedger
import PurserOperations

struct Log: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "log",
        abstract: "List entries, oldest first.",
        discussion: reflowed(
            """
            Without --json, one line per entry: its seq, time and kind, then the key facts of its body as name=value
            (versions by their first label, else 12 hex digits; a custom kind's first members), cut to 120 columns
            or to COLUMNS or the terminal's width if narrower. Control characters in entries are shown escaped
            (\\u{1B}); a name or value holding a space, =, " or \\ is in double quotes, with " and \\ escaped.

            --json prints JSON Lines:
              {"seq":N,"at":"…","kind":"…","leaf_hash":"<hex>",
               "entry":"<the exact entry text>"}

            Examples:
              purser log --limit 20
              purser log --kind custom.incident-note --since 2026-11-01 \\
                --until 2026-12-01T00:00:00Z --json
            """))

    @OptionGroup var ledgerOptions: LedgerOptions

    @Option(help: ArgumentHelp("Only entries of this kind.", valueName: "kind")) var kind: String?
    @Option(help: ArgumentHelp("Only entries at or after this time (RFC 3339 or a date).", valueName: "time"))
    var since: String?
    @Option(help: ArgumentHelp("Only entries before this time.", valueName: "time")) var until: String?
    @Option(help: ArgumentHelp("At most this many entries.", valueName: "n")) var limit: Int?
    @Flag(help: "Print JSON Lines.") var json = false

    func validate() throws {
        if let limit, limit < 0 { throw ValidationError("--limit must be 0 or more") }
    }

    func run() throws {
        let query = LogQuery(kind: kind, since: since, until: until, limit: limit)
        let width = Self.width
        func print(_ line: String) {
            Output.line(width < EntrySummary.width ? TerminalText.truncated(line, to: width) : line)
        }
        guard let serverURL = ledgerOptions.serverURL else {
            // A local ledger's entries are printed as they are read, however many there are.
            try query.forEachEntry(in: ledgerOptions.open()) { entry, line in
                if json { Output.json(entry) } else { print(line()) }
            }
            return
        }
        // The server answers a page at a time: each is printed as it comes.
        let client = try Client(server: serverURL, token: environmentValue("PURSER_TOKEN"))
        try client.forEachPage(query) { reply in
            if !json {
                reply.text.forEach(print)
            } else if case .array(let entries) = reply.json["entries"] ?? .null {
                // JSON Lines, as locally: each element of the reply's entries on its own line.
                entries.forEach(Output.json)
            }
        }
    }

    /// The columns a line may take: COLUMNS if set, else the width of the terminal standard output is, at most
    /// `EntrySummary.width` (the lines come cut to that from the ledger or the server).
    private static var width: Int {
        if let columns = ProcessInfo.processInfo.environment["COLUMNS"].flatMap(Int.init), columns > 0 {
            return min(columns, EntrySummary.width)
        }
        var size = winsize()
        guard isatty(STDOUT_FILENO) == 1, ioctl(STDOUT_FILENO, UInt(TIOCGWINSZ), &size) == 0, size.ws_col > 0 else {
            return EntrySummary.width
        }
        return min(Int(size.ws_col), EntrySummary.width)
    }
}
