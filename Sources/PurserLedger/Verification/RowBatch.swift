internal import Foundation

/// Entry rows copied out of SQLite in order, so that their leaf hashes are computed on every core at
/// once while the chain itself is still checked in order, on one thread.
struct RowBatch {
    private struct Slot {
        var seq: Int64
        var entry: Range<Int>
        var leaf: Range<Int>
        var at: Range<Int>
        var kind: Range<Int>
    }

    private var storage: [UInt8] = []
    private var slots: [Slot] = []
    /// The recomputed leaf hash of each row.
    private(set) var leaves: [Hash] = []

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
            guard try statement.step() else {
                hashLeaves()
                return false
            }
            slots.append(Slot(seq: statement.int64(0), entry: copy(4), leaf: copy(3), at: copy(1), kind: copy(2)))
        }
        hashLeaves()
        return true
    }

    /// Buffers shared with the hashing threads. Safe because `concurrentPerform` returns only when every
    /// iteration is done, the input is only read, and each output index is written by one iteration.
    private struct SharedBuffers: @unchecked Sendable {
        let input: UnsafeRawBufferPointer
        let output: UnsafeMutableBufferPointer<Hash>
    }

    private mutating func hashLeaves() {
        let count = slots.count
        let ranges = slots.map(\.entry)
        leaves = storage.withUnsafeBytes { bytes in
            [Hash](unsafeUninitializedCapacity: count) { output, initialized in
                let shared = SharedBuffers(input: bytes, output: output)
                let parts = count < 256 ? 1 : ProcessInfo.processInfo.activeProcessorCount
                DispatchQueue.concurrentPerform(iterations: parts) { part in
                    for index in stride(from: part, to: count, by: parts) {
                        let entry = UnsafeRawBufferPointer(rebasing: shared.input[ranges[index]])
                        (shared.output.baseAddress! + index).initialize(to: Hash.leaf(entry))
                    }
                }
                initialized = count
            }
        }
    }

    /// Calls `body` with row `index` as the verifier takes it; the pointers are valid only inside `body`.
    func withRow<T>(_ index: Int, _ body: (ChainVerifier.Row) -> T) -> T {
        let slot = slots[index]
        return storage.withUnsafeBytes { bytes in
            body(
                ChainVerifier.Row(
                    bytes: UnsafeRawBufferPointer(rebasing: bytes[slot.entry]), storedSeq: slot.seq,
                    storedLeaf: UnsafeRawBufferPointer(rebasing: bytes[slot.leaf]),
                    storedAt: UnsafeRawBufferPointer(rebasing: bytes[slot.at]),
                    storedKind: UnsafeRawBufferPointer(rebasing: bytes[slot.kind]), leaf: leaves[index]))
        }
    }
}
