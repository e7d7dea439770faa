import Foundation
import Testing

@testable import PurserLedger

@Suite struct LedgerTests {
    @Test func createWritesGenesisAndAPrivateKeyOfMode0600() throws {
        let test = try TestLedger()
        let ledger = try test.open()
        #expect(try ledger.size() == 1)
        let genesis = try #require(try ledger.entry(0))
        #expect(genesis.kind == "ledger.created")
        #expect(try genesis.body["origin"]?.stringValue == test.origin)
        #expect(try genesis.body["public_key"]?.stringValue == ledger.verifierKey.description)
        #expect(genesis.text.contains(#""prev":"0000000000000000000000000000000000000000000000000000000000000000""#))
        let attributes = try FileManager.default.attributesOfItem(atPath: test.keyPath)
        #expect((attributes[.posixPermissions] as? Int) == 0o600)
        #expect(try test.key().verifierKey == ledger.verifierKey)
        let published = try String(contentsOfFile: test.directory.file("ledger.pub"), encoding: .utf8)
        #expect(published == ledger.verifierKey.description + "\n")
        // The key is not inside the database.
        let database = try #require(FileManager.default.contents(atPath: test.path))
        let keyFile = try String(contentsOfFile: test.keyPath, encoding: .utf8)
        // PRIVATE+KEY+<name>+<id>+<base64>: the base64 itself may hold '+'.
        let seed = try #require(
            keyFile.split(separator: "+", maxSplits: 4).last?.trimmingCharacters(in: .whitespacesAndNewlines))
        let rawSeed = try #require(Data(base64Encoded: seed)).dropFirst()
        #expect(rawSeed.count == 32)
        #expect(database.range(of: Data(seed.utf8)) == nil && database.range(of: rawSeed) == nil)
    }

    @Test(arguments: ["", "has space", "a+b", "\u{301}x", "x\u{600}", "caf\u{e9}"])
    func originsOutsidePrintableASCIIAreRefused(origin: String) throws {
        let directory = TemporaryDirectory()
        #expect {
            _ = try Ledger.create(at: directory.file("l.sqlite"), origin: origin, keyPath: directory.file("l.key"))
        } throws: { ($0 as? LedgerError)?.code == .usage }
        #expect(try FileManager.default.contentsOfDirectory(atPath: directory.path).isEmpty, "nothing is left behind")
    }

    @Test func createRefusesAnExistingLedgerOrKey() throws {
        let test = try TestLedger()
        let before = try #require(FileManager.default.contents(atPath: test.path))
        #expect {
            _ = try Ledger.create(at: test.path, origin: "other", keyPath: test.directory.file("other.key"))
        } throws: { ($0 as? LedgerError)?.code == .alreadyExists }
        #expect(FileManager.default.contents(atPath: test.path) == before)
        #expect {
            _ = try Ledger.create(at: test.directory.file("second.sqlite"), origin: "other", keyPath: test.keyPath)
        } throws: { ($0 as? LedgerError)?.code == .alreadyExists }
        #expect(!FileManager.default.fileExists(atPath: test.directory.file("second.sqlite")))
    }

    @Test func entriesAreCanonicalAndChained() throws {
        let test = try TestLedger(entries: 5)
        let ledger = try test.open()
        var previous = Hash.zero
        var previousAt = ""
        try ledger.forEachEntry { entry in
            let parsed = try JSONValue(parsing: entry.bytes)
            #expect(CanonicalJSON.encode(parsed) == entry.bytes, "entry \(entry.seq) is stored in canonical form")
            #expect(parsed["seq"]?.numberValue == Double(entry.seq))
            #expect(parsed["v"]?.numberValue == 1)
            #expect(parsed["prev"]?.stringValue == previous.hex)
            #expect(Hash.leaf(entry.bytes) == entry.leafHash)
            #expect(entry.at >= previousAt)
            #expect(Timestamp.isCanonical(entry.at))
            previous = entry.leafHash
            previousAt = entry.at
        }
        #expect(try ledger.size() == 6)
    }

    @Test func timestampsNeverGoBackwards() throws {
        // A clock set back (within the tolerance; beyond it the append is refused) must not make `at` decrease.
        let test = try TestLedger()
        let ledger = try test.open()
        let first = try ledger.append(try TestLedger.event(1))
        let connection = try Connection(path: test.path, mode: .readWrite)
        let past = Date(timeIntervalSinceNow: -(Ledger.clockTolerance - 60))
        let entries = try connection.immediateTransaction {
            try Ledger.append([try TestLedger.event(2)], to: connection, now: past)
        }
        #expect(entries[0].at == first.at)
    }

    @Test func deeplyNestedAndLargeNumberBodiesReadBack() throws {
        let test = try TestLedger()
        let ledger = try test.open()
        let deep = String(repeating: #"{"a":"#, count: 255) + "1" + String(repeating: "}", count: 255)
        let big = #"{"n":100000000000000000000}"#
        for text in [deep, big] {
            let body = try JSONValue(parsing: text)
            let entry = try ledger.append(try Event(kind: "custom.shape", body: body))
            #expect(try #require(try ledger.entry(entry.seq)).body == body)
            #expect(Array(entry.bodyBytes) == CanonicalJSON.encode(body))
        }
        #expect(try ledger.verify().ok)
    }

    @Test func batchAppendIsAllOrNothing() throws {
        let test = try TestLedger(entries: 3)
        let ledger = try test.open()
        let range = try ledger.append(contentsOf: (1...2500).map { try TestLedger.event($0) }, batchSize: 1000)
        #expect(range == 4...2503)
        #expect(try ledger.size() == 2504)
        #expect(try ledger.verify().ok)
    }

    @Test func importFailingMidwaySaysWhatWasAppended() throws {
        let test = try TestLedger()
        // A failure in the second batch, as a full disk would cause.
        try Connection(path: test.path, mode: .readWrite).execute(
            "CREATE TRIGGER fail_at_1500 BEFORE INSERT ON entries WHEN NEW.seq = 1500 BEGIN SELECT RAISE(ABORT, 'simulated failure'); END;"
        )
        let ledger = try test.open()
        #expect {
            try ledger.append(contentsOf: (1...2500).map { try TestLedger.event($0) }, batchSize: 1000)
        } throws: { error in
            "\(error)".contains("simulated failure")
                && "\(error)".contains(
                    "the first 1000 events were appended before this failure, as seqs 1…1000; resume from event 1001")
        }
        #expect(try ledger.size() == 1001, "the failed batch left nothing behind")
        #expect(try ledger.verify().ok)
    }

    @Test func logFiltersByKindTimeAndLimit() throws {
        let test = try TestLedger(entries: 4)
        let ledger = try test.open()
        try ledger.append(try TestLedger.event(9, kind: "custom.other"))
        var kinds: [String] = []
        try ledger.forEachEntry(kind: "custom.other") { kinds.append($0.kind) }
        #expect(kinds == ["custom.other"])
        var limited: [UInt64] = []
        try ledger.forEachEntry(limit: 2) { limited.append($0.seq) }
        #expect(limited == [0, 1])
        var none = 0
        try ledger.forEachEntry(since: Timestamp.format(Date(timeIntervalSinceNow: 3600))) { _ in none += 1 }
        #expect(none == 0)
        var all = 0
        try ledger.forEachEntry(until: Timestamp.format(Date(timeIntervalSinceNow: 3600))) { _ in all += 1 }
        #expect(all == 6)
        // Bytes an entry holds somewhere, alone and with kinds (their parameters are numbered after the kinds').
        var holding: [UInt64] = []
        try ledger.forEachEntry(containing: Array("\"note\":\"entry 3\"".utf8)) { holding.append($0.seq) }
        #expect(holding == [3])
        holding = []
        try ledger.forEachEntry(kinds: ["custom.other", "custom.test"], containing: Array("entry 9".utf8)) {
            holding.append($0.seq)
        }
        #expect(holding == [5])
        try ledger.forEachEntry(kinds: ["custom.test"], containing: Array("entry 9".utf8)) { _ in none += 1 }
        #expect(none == 0)
    }

    @Test func proofsFromTheLedgerVerify() throws {
        let test = try TestLedger(entries: 40)
        let ledger = try test.open()
        for size in [UInt64(1), 2, 7, 16, 33, 41] {
            let head = try ledger.root(size: size)
            for seq in stride(from: UInt64(0), to: size, by: 3) {
                let proof = try ledger.inclusionProof(seq: seq, size: size)
                #expect(proof.root == head.root)
                #expect(
                    MerkleProof.verifyInclusion(
                        leaf: proof.leafHash, index: seq, size: size, proof: proof.path, root: proof.root))
            }
            let consistency = try ledger.consistencyProof(from: size, to: 41)
            #expect(
                MerkleProof.verifyConsistency(
                    from: size, to: 41, proof: consistency.path, fromRoot: consistency.fromRoot,
                    toRoot: consistency.toRoot))
        }
        #expect(try ledger.verify().root == ledger.root().root)
        #expect { _ = try ledger.inclusionProof(seq: 41) } throws: { ($0 as? LedgerError)?.code == .usage }
        #expect { _ = try ledger.consistencyProof(from: 0) } throws: { ($0 as? LedgerError)?.code == .usage }
        #expect { _ = try ledger.root(size: 42) } throws: { ($0 as? LedgerError)?.code == .usage }
    }

    @Test func appendOnlyTriggersRefuseUpdateAndDelete() throws {
        let test = try TestLedger(entries: 40)
        let connection = try Connection(path: test.path, mode: .readWrite)
        #expect(throws: SQLiteError.self) { try connection.execute("UPDATE entries SET kind = 'x' WHERE seq = 1") }
        #expect(throws: SQLiteError.self) { try connection.execute("DELETE FROM entries WHERE seq = 2") }
        #expect(throws: SQLiteError.self) { try connection.execute("DELETE FROM tree_nodes") }
        #expect(try test.open().verify().ok)
    }

    @Test func foreignAndCorruptFilesAreRefused() throws {
        let directory = TemporaryDirectory()
        let foreign = directory.file("foreign.sqlite")
        try Connection(path: foreign, mode: .create).execute("CREATE TABLE t(x); INSERT INTO t VALUES (1);")
        #expect { _ = try Ledger(openingAt: foreign) } throws: { error in
            (error as? LedgerError)?.code == .notALedger && "\(error)".contains("not a purser ledger")
        }
        let garbage = directory.file("garbage.sqlite")
        _ = FileManager.default.createFile(atPath: garbage, contents: Data(repeating: 0x42, count: 8192))
        #expect { _ = try Ledger(openingAt: garbage) } throws: { ($0 as? LedgerError)?.code == .notALedger }
        #expect { _ = try Ledger(openingAt: directory.file("missing.sqlite")) } throws: {
            ($0 as? LedgerError)?.code == .notFound
        }
        #expect(!FileManager.default.fileExists(atPath: directory.file("missing.sqlite")))
    }
}
