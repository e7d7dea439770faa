import Dispatch
import Foundation
import PurserCore
import PurserLedger
import PurserOperations

/// The server's connections to its one ledger file: one writer that groups concurrent writes into shared
/// transactions (group commit) on a thread of its own; a few readers, each on its own thread, for queries that
/// may take long; and a pool of connections for quick queries, run on the request's own thread. SQLite's WAL lets
/// readers see the last commit while the writer works.
final class LedgerAccess: @unchecked Sendable {
    /// A write waiting for the next group: runs on the writer's thread.
    private struct Job {
        let actor: String
        let work: @Sendable (Releases) throws -> any Sendable
        let done: @Sendable (Result<any Sendable, any Error>) -> Void
    }

    private let writer: Releases
    private let writerQueue = DispatchQueue(label: "purser.writer")
    private let lock = NSLock()
    private var pending: [Job] = []
    private var draining = false

    /// A reading connection and the thread its queries run on.
    private final class Reader: @unchecked Sendable {
        let releases: Releases
        let queue: DispatchQueue

        init(_ releases: Releases, label: String) {
            self.releases = releases
            queue = DispatchQueue(label: label)
        }
    }

    private let readers: [Reader]
    private var nextReader = 0
    /// Connections for quick queries, run on the caller's thread: the hop to a reader's thread and back costs more
    /// than a query of what ran when.
    private var idle: [Releases] = []
    private let idleChanged = NSCondition()

    /// Called after each group commits, with the number of entries appended and the new tree size.
    private let onCommit: @Sendable (_ appended: UInt64, _ size: UInt64) -> Void

    /// The most writes one transaction holds.
    static let maximumGroup = 256

    /// Opens the ledger at `path` once for writing and `readers` times for reading.
    /// - Throws: what opening the ledger throws (not found, not a ledger, projections out of date).
    init(
        path: String, readers: Int, onCommit: @escaping @Sendable (_ appended: UInt64, _ size: UInt64) -> Void
    ) throws(LedgerError) {
        self.onCommit = onCommit
        // Every ledger here keeps the machine's clock: a server's time is its own (the CLI's PURSER_NOW is not read).
        writer = try Releases(ledger: Ledger(openingAt: path))
        var opened: [Reader] = []
        for index in 0..<max(1, readers) {
            opened.append(Reader(try Releases(ledger: Ledger(openingAt: path)), label: "purser.reader.\(index)"))
        }
        self.readers = opened
        for _ in 0..<Self.quickConnections {
            idle.append(try Releases(ledger: Ledger(openingAt: path)))
        }
    }

    /// As many as threads may run requests at once (an event loop per core), and spare ones.
    static let quickConnections = max(4, ProcessInfo.processInfo.activeProcessorCount * 2)

    /// The ledger's size now (only before serving starts: it uses the writer's connection).
    func size() throws(LedgerError) -> UInt64 { try writer.ledger.size() }

    /// Runs `work` now on the writer's connection, for writes made before serving starts.
    func beforeServing<T>(_ work: (Releases) throws -> T) rethrows -> T { try work(writer) }

    /// Runs `work` in the next group transaction, attributed to `actor`; returns once the group has committed.
    /// If `work` throws, only its own writes are undone; if the commit fails, every write of the group fails.
    func write<T: Sendable>(actor: String, _ work: @escaping @Sendable (Releases) throws -> T) async throws -> T {
        try await withCheckedThrowingContinuation { continuation in
            let job = Job(actor: actor, work: work) { result in continuation.resume(with: result.map { $0 as! T }) }
            let start = lock.withLock {
                pending.append(job)
                defer { draining = true }
                return !draining
            }
            if start { writerQueue.async { self.drain() } }
        }
    }

    /// Runs `work` here, on a connection of its own: for queries that take a fraction of a millisecond.
    func quickRead<T>(_ work: (Releases) throws -> T) throws -> T {
        idleChanged.lock()
        while idle.isEmpty { idleChanged.wait() }
        let releases = idle.removeLast()
        idleChanged.unlock()
        defer {
            idleChanged.lock()
            idle.append(releases)
            idleChanged.signal()
            idleChanged.unlock()
        }
        return try work(releases)
    }

    /// Runs `work` on one of the readers' threads: for queries that may take long (verify, audit, reports).
    func read<T: Sendable>(_ work: @escaping @Sendable (Releases) throws -> T) async throws -> T {
        let reader = lock.withLock {
            defer { nextReader &+= 1 }
            return readers[nextReader % readers.count]
        }
        return try await withCheckedThrowingContinuation { continuation in
            reader.queue.async {
                continuation.resume(with: Result { try work(reader.releases) })
            }
        }
    }

    /// On the writer's queue: commits groups of the writes waiting until none are left.
    private func drain() {
        while true {
            lock.lock()
            guard !pending.isEmpty else {
                draining = false
                lock.unlock()
                return
            }
            let group = Array(pending.prefix(Self.maximumGroup))
            pending.removeFirst(group.count)
            lock.unlock()
            commit(group)
        }
    }

    private func commit(_ group: [Job]) {
        let ledger = writer.ledger
        var results: [Result<any Sendable, any Error>] = []
        do {
            let (before, after) = try ledger.group {
                // A busy database makes the whole group run again: start its results afresh.
                results = []
                let before = try ledger.size()
                for job in group {
                    ledger.recordedBy = job.actor
                    defer { ledger.recordedBy = nil }
                    results.append(Result { try ledger.write { _ in try job.work(self.writer) } })
                }
                return (before, try ledger.size())
            }
            if after > before { onCommit(after - before, after) }
        } catch {
            // Nothing of the group was written: no write may be acknowledged.
            results = group.map { _ in .failure(error) }
        }
        for (job, result) in zip(group, results) { job.done(result) }
    }
}
