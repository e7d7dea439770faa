import ArgumentParser
import Foundation
import PurserLedger
import PurserServer

struct Log: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "List entries, oldest first.",
        discussion: """
            --json prints JSON Lines: {"seq":N,"at":"…","kind":"…","leaf_hash":"<hex>","entry":"<the exact entry text>"}.

            Examples:
              purser log --limit 20
              purser log --kind custom.incident-note --since 2026-11-01 --until 2026-12-01T00:00:00Z --json
            """)

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
        let since = try ledgerTimestamp(since, option: "--since")
        let until = try ledgerTimestamp(until, option: "--until")
        let ledger = try ledgerOptions.open()
        try ledger.forEachEntry(kind: kind, since: since, until: until, limit: limit) { entry in
            if json {
                Output.json(
                    .object([
                        "seq": .int(entry.seq), "at": .string(entry.at), "kind": .string(entry.kind),
                        "leaf_hash": .string(entry.leafHash.hex), "entry": .string(entry.text),
                    ]))
            } else {
                let body = String(decoding: entry.bodyBytes, as: UTF8.self)
                Output.line("\(entry.seq)\t\(entry.at)\t\(entry.kind)\t\(body)")
            }
        }
    }
}
