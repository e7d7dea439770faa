import Foundation
import PurserLedger
import PurserOperations
import Testing

/// Every `LedgerError.Code` declared anywhere in Sources, with the exit status and HTTP status the README gives it.
/// A new code is added here and to `ErrorStatus.table`, or these tests fail.
let everyCode: [(code: LedgerError.Code, exit: Int32, http: Int)] = [
    (.usage, 64, 400),
    (.unauthorized, 64, 401),
    (.forbidden, 64, 403),
    (.unsupportedMediaType, 64, 415),
    (.http, 64, 400),
    (.overloaded, 70, 429),
    (.invalidInput, 65, 422),
    (.alreadyExists, 65, 409),
    (.tooLarge, 65, 413),
    (.notALedger, 65, 500),
    (.notFound, 66, 404),
    (.blocked, 1, 409),
    (.integrity, 3, 500),
    (.internal, 70, 500),
]
// Not listed, because no error carries them out of the function that makes them: `read-again`
// (Projection.swift) and `page-full` (Paging.swift) are signals caught where they are thrown.

/// README.md, read from the package's root.
private func readme() throws -> String {
    let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent()
    return try String(contentsOf: root.appendingPathComponent("README.md"), encoding: .utf8)
}

/// The codes in the first column of the README's "Exit codes" table.
private func readmeExitCodes() throws -> Set<Int32> {
    let text = try readme()
    let section = try #require(text.range(of: "\n## Exit codes\n"))
    var codes: Set<Int32> = []
    for line in text[section.upperBound...].split(separator: "\n", omittingEmptySubsequences: false) {
        if line.hasPrefix("## ") { break }
        let cells = line.split(separator: "|").map { $0.trimmingCharacters(in: .whitespaces) }
        if line.hasPrefix("|"), let first = cells.first, let code = Int32(first) { codes.insert(code) }
    }
    return codes
}

/// The statuses the README says the server's errors come with: "with 400, 422, … or 500".
private func readmeHTTPStatuses() throws -> Set<Int> {
    let text = try readme()
    let errors = try #require(text.range(of: "`{\"error\":{\"code\":"))
    let with = try #require(text.range(of: "with ", range: errors.upperBound..<text.endIndex))
    let end = try #require(text.range(of: ".", range: with.upperBound..<text.endIndex))
    let list = text[with.upperBound..<end.lowerBound].replacingOccurrences(of: "or", with: ",")
    return Set(list.split(whereSeparator: { $0 == "," || $0.isWhitespace }).compactMap { Int($0) })
}

@Suite("One table from error code to exit status and HTTP status")
struct ErrorStatusTests {
    @Test("every code is in the table, and the table holds no other")
    func tableListsEveryCode() {
        #expect(Set(ErrorStatus.table.keys) == Set(everyCode.map(\.code)))
        #expect(ErrorStatus.table.count == everyCode.count)
    }

    @Test("every code's exit status and HTTP status are the README's")
    func statusesAreTheReadmes() throws {
        let exitCodes = try readmeExitCodes()
        #expect(exitCodes == [0, 1, 2, 3, 64, 65, 66, 70])
        let httpStatuses = try readmeHTTPStatuses()
        #expect(httpStatuses == [400, 422, 404, 409, 401, 403, 413, 415, 429, 500])
        for (code, exit, http) in everyCode {
            #expect(code.status == ErrorStatus(exit: exit, http: http), "\(code)")
            #expect(exitCodes.contains(code.status.exit), "\(code): exit \(code.status.exit) is not in the README")
            #expect(httpStatuses.contains(code.status.http), "\(code): HTTP \(code.status.http) is not in the README")
            #expect(ExitCodes.code(for: LedgerError(code, "")) == exit, "\(code)")
        }
    }

    @Test("a code read back from its name on the wire has the same statuses; an unknown one is internal")
    func namesMapBack() {
        for (code, _, _) in everyCode {
            #expect(LedgerError.Code(name: code.name).status == code.status, "\(code)")
        }
        #expect(LedgerError.Code(name: "from-a-newer-server").status == ErrorStatus(exit: 70, http: 500))
    }
}
