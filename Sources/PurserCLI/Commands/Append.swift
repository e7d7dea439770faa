import ArgumentParser
import Foundation
import PurserCore
import PurserLedger
import PurserOperations

struct Append: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "append",
        abstract: "Append caller-defined JSON events (kinds under custom.).",
        discussion: reflowed(
            """
            --body appends one JSON object as one entry. --lines appends each non-blank line of a JSON Lines file as
            one entry, 1,000 per transaction; every line is checked before the first is written, so one bad line
            means nothing is appended. Domain kinds (version.recorded, …) are written by their own commands.

            Examples:
              purser append --kind custom.incident-note --body note.json
              echo '{"ticket":"OPS-12"}' | purser append --kind custom.note --body -
              purser append --kind custom.import --lines history.jsonl --json
            """))

    @OptionGroup var ledgerOptions: LedgerOptions

    @Option(help: ArgumentHelp("The entry kind, custom.NAME.", valueName: "kind"))
    var kind: String

    @Option(help: ArgumentHelp("A JSON object file, or - for standard input.", valueName: "file"))
    var body: String?

    @Option(help: ArgumentHelp("A JSON Lines file (one object per line), or - for standard input.", valueName: "file"))
    var lines: String?

    @Flag(help: "Print the result as JSON.") var json = false

    func validate() throws {
        guard (body == nil) != (lines == nil) else {
            throw ValidationError("give exactly one of --body FILE and --lines FILE")
        }
        do {
            try EntryKind.checkCustom(kind)
        } catch {
            throw ValidationError(error.message)
        }
    }

    func run() throws {
        if let body {
            // Checked where it is performed (here or on the server) before anything is written.
            try ledgerOptions.perform(AppendEntry(kind: kind, body: InputFile.read(body)), json: json)
            return
        }
        if ledgerOptions.serverURL != nil {
            try ledgerOptions.perform(AppendLines(kind: kind, lines: InputFile.read(lines!)), json: json)
            return
        }
        // Here, in batches with progress. Check all input before opening the ledger: bad input leaves it untouched.
        let events = try Inputs.jsonObjectLines(Inputs.read(lines!), source: Inputs.name(lines!)) {
            (body, line) throws(LedgerError) in try EntryKind.customEvent(kind: kind, body: body, place: line)
        }
        guard !events.isEmpty else {
            throw LedgerError(.invalidInput, "\(Inputs.name(lines!)): no JSON lines to append")
        }
        let ledger = try ledgerOptions.open()
        let range = try ledger.append(contentsOf: events) { done in
            Output.progress("appended \(done)/\(events.count)")
        }!
        Output.endProgress()
        try ledgerOptions.print(
            appendedLinesReply(first: range.lowerBound, last: range.upperBound, count: events.count), json: json)
    }
}
