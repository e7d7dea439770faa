import Foundation
import PurserLedger
import Testing

@Suite struct AuditBundleWriterTests {
    @Test("entries that do not make the checkpoint's tree are refused, and no bundle file or folder is left")
    func entriesThatDisagreeWithTheCheckpointWriteNothing() throws {
        let test = try TestLedger(entries: 3)
        let ledger = try test.open()
        let checkpoint = try ledger.checkpoint()
        let note = try ledger.sign(checkpoint, with: test.key())
        var entries: [[UInt8]] = []
        try ledger.forEachEntry { entries.append($0.bytes) }
        #expect(entries.count == 4)
        let folder = test.directory.file("bundle")

        // One entry short, then one byte changed: both refused.
        for bad in [
            Array(entries.dropLast()), entries.enumerated().map { $0.offset == 2 ? $0.element + [0x20] : $0.element },
        ] {
            do {
                let writer = try AuditBundle.Writer(directory: folder)
                for entry in bad { try entry.withUnsafeBytes { try writer.append($0) } }
                try writer.finish(checkpoint: checkpoint, note: note, key: ledger.verifierKey)
                Issue.record("a bundle of \(bad.count) entries that do not make the checkpoint was written")
            } catch let error as LedgerError {
                #expect(error.code == .integrity)
                #expect(error.message.contains("do not hash to the root of the checkpoint of 4 entries"), "\(error)")
            }
            #expect(!FileManager.default.fileExists(atPath: folder), "the folder the writer made is removed")
        }

        // The same entries whole make the bundle, and it verifies.
        let writer = try AuditBundle.Writer(directory: folder)
        for entry in entries { try entry.withUnsafeBytes { try writer.append($0) } }
        try writer.finish(checkpoint: checkpoint, note: note, key: ledger.verifierKey)
        #expect(try AuditBundle.verify(directory: folder).ok)
    }
}
