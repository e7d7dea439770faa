import Foundation
import Testing

@testable import PurserLedger

/// A fresh temporary directory per test, removed afterwards.
final class TemporaryDirectory {
    let path: String

    init() {
        path = NSTemporaryDirectory() + "purser-test-" + UUID().uuidString
        try! FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
    }

    deinit { try? FileManager.default.removeItem(atPath: path) }

    func file(_ name: String) -> String { path + "/" + name }
}

/// A ledger in a temporary directory, with `count` custom entries after the genesis entry.
struct TestLedger {
    let directory = TemporaryDirectory()
    var path: String { directory.file("ledger.sqlite") }
    var keyPath: String { directory.file("ledger.key") }
    let origin: String

    init(entries count: Int = 0, origin: String = "test.example/ledger") throws {
        self.origin = origin
        let ledger = try Ledger.create(at: path, origin: origin, keyPath: keyPath)
        if count > 0 {
            try ledger.append(contentsOf: (1...count).map { try TestLedger.event($0) })
        }
    }

    static func event(_ n: Int, kind: String = "custom.test") throws -> Event {
        try Event(kind: kind, body: .object(["n": .number(Double(n)), "note": .string("entry \(n)")]))
    }

    func open() throws -> Ledger { try Ledger(openingAt: path) }

    func key() throws -> SigningKey { try SigningKey.load(from: keyPath) }

    /// A signed checkpoint of the first `size` entries (all if nil), as held outside the ledger.
    func heldCheckpoint(size: UInt64? = nil) throws -> Ledger.HeldCheckpoint {
        let ledger = try open()
        let note = try ledger.sign(try ledger.checkpoint(size: size), with: try key())
        return Ledger.HeldCheckpoint(source: "checkpoint-\(size.map(String.init) ?? "current")", text: note)
    }

    /// A raw connection with the append-only triggers dropped, as an attacker would have.
    func attacker() throws -> Connection {
        let connection = try Connection(path: path, mode: .readWrite)
        try connection.execute(
            """
            DROP TRIGGER entries_append_only_update; DROP TRIGGER entries_append_only_delete;
            DROP TRIGGER tree_nodes_append_only_update; DROP TRIGGER tree_nodes_append_only_delete;
            """)
        return connection
    }

    /// What a careful attacker does after editing entries: recompute every leaf hash column and rebuild
    /// the stored tree nodes from them, so that only the chain itself can give the edit away.
    func rebuildTree(_ attacker: Connection) throws {
        let read = try attacker.prepare("SELECT seq, entry FROM entries ORDER BY seq")
        var leaves: [(Int64, Hash)] = []
        while try read.step() { leaves.append((read.int64(0), Hash.leaf(read.bytes(1)))) }
        try attacker.execute("DELETE FROM tree_nodes")
        let updateLeaf = try attacker.prepare("UPDATE entries SET leaf_hash = ? WHERE seq = ?")
        let insertNode = try attacker.prepare("INSERT INTO tree_nodes (position, hash) VALUES (?, ?)")
        var frontier = MerkleFrontier()
        for (seq, leaf) in leaves {
            try updateLeaf.bind(1, bytes: leaf.bytes)
            try updateLeaf.bind(2, seq)
            try updateLeaf.step()
            updateLeaf.reset()
            var nodes: [MerkleFrontier.Node] = []
            frontier.append(leaf) { nodes.append($0) }
            for node in nodes where node.level >= Ledger.storedNodeLevel {
                try insertNode.bind(1, Ledger.nodePosition(level: node.level, index: node.index))
                try insertNode.bind(2, bytes: node.hash.bytes)
                try insertNode.step()
                insertNode.reset()
            }
        }
    }

    func copy(to name: String) throws -> String {
        let destination = directory.file(name)
        try FileManager.default.copyItem(atPath: path, toPath: destination)
        return destination
    }
}
