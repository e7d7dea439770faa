import Dispatch
import Foundation
import PurserCore
import PurserLedger

/// The OTLP receiver's inbox (`Inbox`) on a thread of its own: the requests kept at the same time share one
/// transaction (a group commit), and keeping one never waits for the ledger's writer.
final class InboxWriter: @unchecked Sendable {
    private struct Job {
        let request: (payload: [UInt8], encoding: String, sender: String)
        let done: @Sendable (Result<(request: Int64, receivedAt: String), LedgerError>) -> Void
    }

    private let inbox: Inbox
    private let queue = DispatchQueue(label: "purser.inbox")
    private let lock = NSLock()
    private var pending: [Job] = []
    private var draining = false

    /// The most requests one transaction keeps.
    static let maximumGroup = 256

    init(_ inbox: Inbox) {
        self.inbox = inbox
    }

    /// The inbox's file.
    var path: String { inbox.path }

    /// Keeps a request's body in the next group; returns once the group has committed.
    func keep(_ payload: [UInt8], encoding: String, sender: String) async throws -> (request: Int64, receivedAt: String)
    {
        try await withCheckedThrowingContinuation { continuation in
            let job = Job(request: (payload, encoding, sender)) { continuation.resume(with: $0) }
            let start = lock.withLock {
                pending.append(job)
                defer { draining = true }
                return !draining
            }
            if start { queue.async { self.drain() } }
        }
    }

    /// `Inbox.finish`, between two groups.
    func finish(done: [Int64], taken: [(request: Int64, trace: String)]) async throws {
        try await withCheckedThrowingContinuation { continuation in
            queue.async {
                continuation.resume(
                    with: Result { () throws(LedgerError) in
                        try self.inbox.finish(done: done, taken: taken)
                    })
            }
        }
    }

    /// `Inbox.move`, `Inbox.finish` and `Inbox.requests`, before serving starts.
    func beforeServing<T>(_ work: (Inbox) throws -> T) throws -> T {
        try queue.sync { try work(inbox) }
    }

    /// On the queue: commits one group of the requests waiting, then lets other work (a `finish`) run before the next.
    private func drain() {
        let group = lock.withLock { Array(pending.prefix(Self.maximumGroup)) }
        let result = Result { () throws(LedgerError) in try inbox.keep(group.map(\.request)) }
        for (index, job) in group.enumerated() { job.done(result.map { $0[index] }) }
        let more = lock.withLock {
            pending.removeFirst(group.count)
            draining = !pending.isEmpty
            return draining
        }
        if more { queue.async { self.drain() } }
    }
}
