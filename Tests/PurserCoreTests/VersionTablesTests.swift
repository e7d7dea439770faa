import PurserLedger
import Testing

@testable import PurserCore

/// What `VersionTables` answers, on a real ledger: the reads a second store must answer the same way.
@Suite("VersionTables: the reads of versions and labels")
struct VersionTablesTests {
    /// Three versions: `a` labelled a@1 and later a@2, `b` labelled b@1, `c` unlabelled; their entries' seqs.
    private static func recorded(
        _ test: TestReleases
    ) throws -> (a: String, b: String, c: String, seqs: [String: Int64]) {
        var seqs: [String: Int64] = [:]
        func record(_ prompt: String, _ label: String?) throws -> String {
            let outcome = try test.releases.versions.record(makeVersion(prompt: prompt), label: label)
            seqs[label ?? outcome.id] = Int64(try #require(outcome.seq))
            return outcome.id
        }
        let a = try record("a", "a@1")
        let b = try record("b", "b@1")
        let c = try record("c", nil)
        _ = try record("a", "a@2")
        return (a, b, c, seqs)
    }

    @Test("a label names its id and the entry that recorded it; a version's labels carry their seqs")
    func labels() throws {
        let test = try TestReleases()
        let (a, b, c, seqs) = try Self.recorded(test)
        try test.ledger.readTables { tables in
            #expect(try tables.labelled("a@2")?.id == a)
            #expect(try tables.labelled("a@2")?.seq == seqs["a@2"])
            #expect(try tables.labelled("b@1")?.id == b)
            #expect(try tables.labelled("z@1") == nil)
            let labels = try tables.labels(of: a)
            #expect(labels.map(\.label) == ["a@1", "a@2"])
            #expect(labels.map(\.seq) == [seqs["a@1"]!, seqs["a@2"]!])
            #expect(try tables.labels(of: c).isEmpty)
            #expect(try tables.labelsNewestFirst().map(\.label) == ["a@2", "b@1", "a@1"])
            #expect(try tables.labelsNewestFirst().map(\.id) == [a, b, a])
            #expect(try tables.hasVersion(c))
            #expect(try !tables.hasVersion(String(repeating: "0", count: 64)))
        }
    }

    @Test("ids by prefix come in id order, at most the limit; rows page by seq, and an id picks one")
    func versions() throws {
        let test = try TestReleases()
        let (a, b, c, seqs) = try Self.recorded(test)
        try test.ledger.readTables { tables in
            let sorted = [a, b, c].sorted()
            #expect(try tables.versionIDs(prefix: "", limit: 10) == sorted)
            #expect(try tables.versionIDs(prefix: "", limit: 2) == Array(sorted.prefix(2)))
            #expect(try tables.versionIDs(prefix: String(b.prefix(8)), limit: 10) == [b])
            #expect(try tables.versionIDs(prefix: "g", limit: 10).isEmpty)

            let all = try tables.versionRows(id: nil, from: 0, limit: nil)
            #expect(all.map(\.id) == [a, b, c])
            #expect(all.map(\.labels) == [["a@1", "a@2"], ["b@1"], []])
            #expect(all.map(\.seq) == [seqs["a@1"]!, seqs["b@1"]!, seqs[c]!])
            #expect(all.allSatisfy { $0.agent == "test-agent" && !$0.components.isEmpty })
            #expect(try tables.versionRows(id: nil, from: seqs["b@1"]!, limit: 1).map(\.id) == [b])
            #expect(try tables.versionRows(id: nil, from: seqs[c]! + 1, limit: nil).isEmpty)
            #expect(try tables.versionRows(id: c, from: 0, limit: nil).map(\.id) == [c])
            #expect(try tables.versionRows(id: a, from: seqs["b@1"]!, limit: nil).isEmpty)
        }
    }
}
