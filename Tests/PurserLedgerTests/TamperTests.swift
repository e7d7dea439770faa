import Foundation
import PurserLedger
import Testing

/// An attacker with write access to the file drops the triggers and edits it with SQL. Each kind of
/// tampering is reported with the first bad sequence number and the right fault.
@Suite struct TamperTests {
    private func verify(
        _ test: TestLedger, path: String? = nil, checkpoints: [Ledger.HeldCheckpoint] = []
    ) throws -> VerificationReport {
        try Ledger.verify(at: path ?? test.path, checkpoints: checkpoints)
    }

    @Test func untouchedLedgerIsSelfConsistentOnlyWithoutCheckpoints() throws {
        let test = try TestLedger(entries: 20)
        let report = try verify(test)
        #expect(report.ok && !report.trusted && report.size == 21)
        let trusted = try verify(test, checkpoints: [try test.heldCheckpoint(size: 7), try test.heldCheckpoint()])
        #expect(trusted.ok && trusted.trusted)
    }

    @Test func changedByteIsAModifiedEntry() throws {
        let test = try TestLedger(entries: 20)
        try test.attacker().execute(
            #"UPDATE entries SET entry = CAST(replace(CAST(entry AS TEXT), '"n":7', '"n":8') AS BLOB) WHERE seq = 7"#)
        let fault = try #require(try verify(test).fault)
        #expect(fault.kind == .modified && fault.seq == 7, "\(fault)")
    }

    /// Edits entry `seq` and recomputes its leaf_hash column, as an attacker who read the schema would.
    private func modifyWithLeafHash(_ test: TestLedger, seq: Int) throws {
        let attacker = try test.attacker()
        try attacker.execute(
            #"UPDATE entries SET entry = CAST(replace(CAST(entry AS TEXT), '"n":\#(seq)', '"n":1\#(seq)') AS BLOB) WHERE seq = \#(seq)"#
        )
        let read = try attacker.prepare("SELECT entry FROM entries WHERE seq = \(seq)")
        try read.step()
        let update = try attacker.prepare("UPDATE entries SET leaf_hash = ? WHERE seq = \(seq)")
        try update.bind(1, bytes: Hash.leaf(read.bytes(0)).bytes)
        try update.step()
    }

    @Test func changedEntryWithItsLeafHashColumnBreaksTheNextLink() throws {
        let test = try TestLedger(entries: 20)
        try modifyWithLeafHash(test, seq: 7)
        let fault = try #require(try verify(test).fault)
        #expect(fault.kind == .brokenLink && fault.seq == 8, "\(fault)")
    }

    @Test func changedLastEntryWithItsLeafHashIsCaughtByTheStoredTree() throws {
        // No later entry links to the last one; the stored node over entries 16…31 still remembers it.
        let test = try TestLedger(entries: 31)
        try modifyWithLeafHash(test, seq: 31)
        let fault = try #require(try verify(test).fault)
        #expect(fault.kind == .treeNode && fault.seq == 31, "\(fault)")
        #expect(fault.detail.contains("entries 16…31"))
    }

    @Test func changedEntryWithARebuiltTreeBreaksTheNextLink() throws {
        let test = try TestLedger(entries: 20)
        let attacker = try test.attacker()
        try attacker.execute(
            #"UPDATE entries SET entry = CAST(replace(CAST(entry AS TEXT), '"n":7', '"n":8') AS BLOB) WHERE seq = 7"#)
        try test.rebuildTree(attacker)
        let fault = try #require(try verify(test).fault)
        #expect(fault.kind == .brokenLink && fault.seq == 8, "\(fault)")
    }

    @Test func zeroedLinkOfTheFirstEntryIsABrokenLink() throws {
        let test = try TestLedger(entries: 5)
        let attacker = try test.attacker()
        let read = try attacker.prepare("SELECT entry FROM entries WHERE seq = 1")
        try read.step()
        var text = String(decoding: read.bytes(0), as: UTF8.self)
        let genesisLeaf = try #require(try test.open().entry(0)).leafHash.hex
        text = text.replacingOccurrences(of: genesisLeaf, with: String(repeating: "0", count: 64))
        let update = try attacker.prepare("UPDATE entries SET entry = ? WHERE seq = 1")
        try update.bind(1, bytes: Array(text.utf8))
        try update.step()
        try test.rebuildTree(attacker)
        let fault = try #require(try verify(test).fault)
        #expect(fault.kind == .brokenLink && fault.seq == 1, "\(fault)")
    }

    @Test(arguments: [
        "INSERT INTO entries (seq, at, kind, leaf_hash, entry) VALUES (-1, '', '', x'00', x'00')",
        "INSERT INTO entries (seq, at, kind, leaf_hash, entry) VALUES (288230376151711744, '', '', x'00', x'00')",
        "INSERT INTO tree_nodes (position, hash) VALUES (-1, zeroblob(32))",
    ])
    func sequenceNumbersAndNodePositionsOutOfRangeCannotBeStored(insert: String) throws {
        let test = try TestLedger(entries: 2)
        #expect(throws: SQLiteError.self) { try test.attacker().execute(insert) }
        #expect(try verify(test).ok)
    }

    @Test func damagedGenesisIsAFaultAtSeqZero() throws {
        let test = try TestLedger(entries: 3)
        let attacker = try test.attacker()
        try attacker.execute(
            "UPDATE entries SET entry = CAST(replace(CAST(entry AS TEXT), 'test.example', 'evil.example') AS BLOB) WHERE seq = 0"
        )
        #expect { _ = try test.open() } throws: { ($0 as? LedgerError)?.code == .notALedger }
        let fault = try #require(try verify(test, checkpoints: [try TestLedger().heldCheckpoint()]).fault)
        #expect(fault.seq == 0 && fault.kind == .modified, "\(fault)")
        try attacker.execute("DELETE FROM entries WHERE seq = 0")
        let gap = try #require(try verify(test).fault)
        #expect(gap.seq == 0 && gap.kind == .gap, "\(gap)")
    }

    @Test func checkpointWithNonCanonicalBase64IsMalformed() throws {
        let test = try TestLedger(entries: 2)
        var lines = try test.heldCheckpoint().text.split(separator: "\n", omittingEmptySubsequences: false).map(
            String.init)
        lines[2] += "="  // Foundation alone would still decode this root
        #expect {
            _ = try verify(
                test, checkpoints: [Ledger.HeldCheckpoint(source: "padded", text: lines.joined(separator: "\n"))])
        } throws: { ($0 as? LedgerError)?.code == .invalidInput }
        #expect(Hash(base64: Hash.zero.base64) == Hash.zero)
    }

    @Test func checkpointOfSizeZeroIsMalformed() throws {
        let test = try TestLedger(entries: 2)
        let note = try Checkpoint(origin: test.origin, size: 0, root: Hash.emptyRoot).signed(with: try test.key())
        #expect {
            _ = try verify(test, checkpoints: [Ledger.HeldCheckpoint(source: "empty", text: note)])
        } throws: { ($0 as? LedgerError)?.code == .invalidInput }
    }

    @Test func deletedEntryIsAGap() throws {
        let test = try TestLedger(entries: 20)
        try test.attacker().execute("DELETE FROM entries WHERE seq = 5")
        let fault = try #require(try verify(test).fault)
        #expect(fault.kind == .gap && fault.seq == 5, "\(fault)")
    }

    @Test func deletedAndRenumberedEntryIsAGap() throws {
        let test = try TestLedger(entries: 20)
        try test.attacker().execute(
            "DELETE FROM entries WHERE seq = 5; UPDATE entries SET seq = seq + 999999 WHERE seq > 5; UPDATE entries SET seq = seq - 1000000 WHERE seq > 1000000;"
        )
        let fault = try #require(try verify(test).fault)
        #expect(fault.kind == .gap && fault.seq == 5, "\(fault)")
    }

    @Test func insertedEntryIsNamed() throws {
        let test = try TestLedger(entries: 20)
        let ledger = try test.open()
        let previous = try #require(try ledger.entry(4))
        // A well-formed entry claiming seq 5 and linking to entry 4, with later entries moved up by one.
        let forged =
            #"{"at":"\#(previous.at)","body":{"n":99},"kind":"custom.test","prev":"\#(previous.leafHash.hex)","seq":5,"v":1}"#
        let attacker = try test.attacker()
        try attacker.execute(
            "UPDATE entries SET seq = seq + 1000001 WHERE seq >= 5; UPDATE entries SET seq = seq - 1000000 WHERE seq > 1000000;"
        )
        let insert = try attacker.prepare(
            "INSERT INTO entries (seq, at, kind, leaf_hash, entry) VALUES (5, ?, 'custom.test', ?, ?)")
        try insert.bind(1, previous.at)
        try insert.bind(2, bytes: Hash.leaf(Array(forged.utf8)).bytes)
        try insert.bind(3, bytes: Array(forged.utf8))
        try insert.step()
        try test.rebuildTree(attacker)
        let fault = try #require(try verify(test).fault)
        #expect(fault.kind == .inserted && fault.seq == 5, "\(fault)")
    }

    @Test func swappedEntriesAreReordered() throws {
        let test = try TestLedger(entries: 20)
        try test.attacker().execute(
            "UPDATE entries SET seq = 1000000 WHERE seq = 9; UPDATE entries SET seq = 9 WHERE seq = 10; UPDATE entries SET seq = 10 WHERE seq = 1000000;"
        )
        let fault = try #require(try verify(test).fault)
        #expect(fault.kind == .reordered && fault.seq == 9, "\(fault)")
    }

    @Test func swapAcrossAVerifyBatchBoundaryIsReordered() throws {
        // verify reads rows in batches of 4,096: the swapped pair straddles two batches.
        let test = try TestLedger(entries: 4_100)
        let attacker = try test.attacker()
        try attacker.execute(
            "UPDATE entries SET seq = 1000000 WHERE seq = 4095; UPDATE entries SET seq = 4095 WHERE seq = 4096; UPDATE entries SET seq = 4096 WHERE seq = 1000000;"
        )
        let fault = try #require(try verify(test).fault)
        #expect(fault.kind == .reordered && fault.seq == 4095, "\(fault)")
        try attacker.execute("DELETE FROM entries WHERE seq = 4096")
        let gap = try #require(try verify(test).fault)
        #expect(gap.kind == .gap && gap.seq == 4095, "\(gap)")
    }

    @Test func truncatedTailIsFoundWithAHeldCheckpoint() throws {
        let test = try TestLedger(entries: 20)
        let held = try test.heldCheckpoint()
        // A careful attacker removes the entries and the tree nodes that covered them.
        try test.attacker().execute(
            "DELETE FROM entries WHERE seq >= 18; DELETE FROM tree_nodes WHERE (position >> 6) >= 18;")
        let alone = try verify(test)
        #expect(alone.ok && !alone.trusted, "without a held checkpoint a clean truncation is self-consistent")
        let fault = try #require(try verify(test, checkpoints: [held]).fault)
        #expect(fault.kind == .truncated && fault.seq == 18, "\(fault)")
    }

    @Test func truncationLeavingTreeNodesIsFoundWithoutACheckpoint() throws {
        let test = try TestLedger(entries: 40)
        try test.attacker().execute("DELETE FROM entries WHERE seq >= 20")
        let fault = try #require(try verify(test).fault)
        #expect(fault.kind == .truncated && fault.seq == 20, "\(fault)")
    }

    @Test func consistentRewriteIsFoundWithAHeldCheckpoint() throws {
        // The attacker rewrites history from seq 6 on, rebuilding every later hash, link and tree node.
        let test = try TestLedger(entries: 5)
        let rewritten = try test.copy(to: "rewritten.sqlite")
        try test.open().append(contentsOf: (6...12).map { try TestLedger.event($0) })
        try Ledger(openingAt: rewritten).append(contentsOf: (6...12).map { try TestLedger.event($0 * 100) })
        let held = [try test.heldCheckpoint(size: 6), try test.heldCheckpoint()]
        #expect(try verify(test, path: rewritten).ok, "the rewrite is self-consistent")
        let fault = try #require(try verify(test, path: rewritten, checkpoints: held).fault)
        #expect(fault.kind == .rewritten && fault.seq == 6, "\(fault)")
    }

    @Test func forkIsFoundFromTwoCheckpointsOfTheSameSize() throws {
        let test = try TestLedger(entries: 5)
        let other = try test.copy(to: "other.sqlite")
        let common = try test.heldCheckpoint()
        try test.open().append(contentsOf: (6...9).map { try TestLedger.event($0) })
        let otherLedger = try Ledger(openingAt: other)
        try otherLedger.append(contentsOf: (6...9).map { try TestLedger.event(-$0) })
        let mine = try test.heldCheckpoint()
        let theirs = Ledger.HeldCheckpoint(
            source: "other", text: try otherLedger.sign(try otherLedger.checkpoint(), with: try test.key()))
        let fault = try #require(try verify(test, checkpoints: [common, mine, theirs]).fault)
        #expect(fault.kind == .fork && fault.seq == 6, "\(fault)")
        #expect(fault.detail.contains("this ledger matches one of them"))
        // The other copy, checked against this one's checkpoint alone, is a rewrite after the common prefix.
        let otherFault = try #require(try verify(test, path: other, checkpoints: [common, mine]).fault)
        #expect(otherFault.kind == .rewritten && otherFault.seq == 6, "\(otherFault)")
    }

    @Test func tamperedTreeNodeIsFound() throws {
        let test = try TestLedger(entries: 100)
        try test.attacker().execute(
            "UPDATE tree_nodes SET hash = zeroblob(32) WHERE position = (SELECT position FROM tree_nodes ORDER BY position LIMIT 1 OFFSET 2)"
        )
        let fault = try #require(try verify(test).fault)
        #expect(fault.kind == .treeNode && fault.seq == 31, "the third stored node covers entries 0…31: \(fault)")
        // A proof that passes through the damaged node is refused rather than handed out.
        #expect { _ = try test.open().inclusionProof(seq: 40, size: 100) } throws: {
            ($0 as? LedgerError)?.code == .integrity
        }
    }

    @Test func checkpointWithABadSignatureIsAFault() throws {
        let test = try TestLedger(entries: 3)
        let held = try test.heldCheckpoint()
        var lines = held.text.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        // Change the root line but keep the signature: it no longer verifies.
        lines[2] = Hash.sha256(Array("forged".utf8)).base64
        let forged = Ledger.HeldCheckpoint(source: "forged", text: lines.joined(separator: "\n"))
        let fault = try #require(try verify(test, checkpoints: [forged]).fault)
        #expect(fault.kind == .badSignature, "\(fault)")
    }

    @Test func checkpointOfAnotherOriginIsBadInput() throws {
        let test = try TestLedger(entries: 3)
        let foreign = try TestLedger(origin: "another.example/ledger")
        #expect {
            _ = try verify(test, checkpoints: [try foreign.heldCheckpoint()])
        } throws: { error in
            (error as? LedgerError)?.code == .invalidInput && "\(error)".contains("another.example/ledger")
        }
        #expect {
            _ = try verify(test, checkpoints: [Ledger.HeldCheckpoint(source: "junk", text: "not a checkpoint")])
        } throws: { ($0 as? LedgerError)?.code == .invalidInput }
    }
}
