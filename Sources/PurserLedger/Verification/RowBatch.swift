internal import Foundation

/// Entry rows copied out of SQLite in order, so that their leaf hashes are computed on another core
/// while the next rows are read, and the chain itself is still checked in order, on one thread.
struct RowBatch: Sendable {
    private struct Slot: Sendable {
        var seq: Int64
        var entry: Range<Int>
        var leaf: Range<Int>
        var at: Range<Int>
        var kind: Range<Int>
    }

    private var storage: [UInt8] = []
    private var slots: [Slot] = []
    /// The leaf hash and envelope of each row, once `parse()` ran.
    private var parsed: [ChainVerifier.Parsed] = []

    var count: Int { slots.count }

    /// Replaces the batch with up to `limit` rows of `SELECT seq, at, kind, leaf_hash, entry`.
    /// - Returns: false when the statement has no more rows.
    mutating func fill(from statement: Statement, limit: Int) throws -> Bool {
        storage.removeAll(keepingCapacity: true)
        slots.removeAll(keepingCapacity: true)
        func copy(_ column: Int32) -> Range<Int> {
            statement.withBlob(column) { bytes in
                let start = storage.count
                storage.append(contentsOf: bytes)
                return start..<storage.count
            }
        }
        while slots.count < limit {
            guard try statement.step() else { return false }
            slots.append(Slot(seq: statement.int64(0), entry: copy(4), leaf: copy(3), at: copy(1), kind: copy(2)))
        }
        return true
    }

    /// The entry bytes of row `index`, hashed.
    func leafOfRow(_ index: Int) -> Hash {
        storage.withUnsafeBytes { Hash.leaf(UnsafeRawBufferPointer(rebasing: $0[slots[index].entry])) }
    }

    /// Hashes and parses every row.
    mutating func parse() {
        parsed = storage.withUnsafeBytes { bytes in
            slots.map { ChainVerifier.Parsed(UnsafeRawBufferPointer(rebasing: bytes[$0.entry])) }
        }
    }

    /// The leaf hash of row `index`, after `parse()`.
    func leaf(_ index: Int) -> Hash { parsed[index].leaf }

    /// Calls `body` with row `index` as the verifier takes it; the pointers are valid only inside `body`.
    func withRow<T>(_ index: Int, _ body: (ChainVerifier.Row) -> T) -> T {
        let slot = slots[index]
        return storage.withUnsafeBytes { bytes in
            body(
                ChainVerifier.Row(
                    bytes: UnsafeRawBufferPointer(rebasing: bytes[slot.entry]), storedSeq: slot.seq,
                    storedLeaf: UnsafeRawBufferPointer(rebasing: bytes[slot.leaf]),
                    storedAt: UnsafeRawBufferPointer(rebasing: bytes[slot.at]),
                    storedKind: UnsafeRawBufferPointer(rebasing: bytes[slot.kind]), parsed: parsed[index]))
        }
    }
}

/// Parses a batch on another thread while the caller reads the next one.
final class BatchParsing: @unchecked Sendable {
    // Touched by the hashing thread until `done` is signalled, and only by the caller after `wait()`.
    private var batch: RowBatch
    private let done = DispatchSemaphore(value: 0)

    init(_ batch: RowBatch) {
        self.batch = batch
        DispatchQueue.global().async {
            self.batch.parse()
            self.done.signal()
        }
    }

    /// The batch, parsed.
    func wait() -> RowBatch {
        done.wait()
        return batch
    }
}
