import ArgumentParser
import Foundation
import PurserLedger
import PurserOperations

struct Log: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "List entries, oldest first.",
        discussion: reflowed(
            """
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
        guard let serverURL = ledgerOptions.serverURL else {
            // A local ledger's entries are printed as they are read, however many there are.
            try query.forEachEntry(in: ledgerOptions.open()) { entry, line in
                if json { Output.json(entry) } else { Output.line(line) }
            }
            return
        }
        // The server answers a page at a time: each is printed as it comes.
        let client = try Client(server: serverURL, token: ProcessInfo.processInfo.environment["PURSER_TOKEN"])
        try client.forEachPage(query) { reply in
            if !json {
                reply.text.forEach(Output.line)
            } else if case .array(let entries) = reply.json["entries"] ?? .null {
                // JSON Lines, as locally: each element of the reply's entries on its own line.
                entries.forEach(Output.json)
            }
        }
    }
}
