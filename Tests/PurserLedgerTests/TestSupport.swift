import Foundation
import PurserLedger
import Testing

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

/// The project root, found from this file's path.
let projectRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
    .deletingLastPathComponent()

/// `../shared/testdata` beside the project; absent in a user's clone.
let sharedTestdata = projectRoot.deletingLastPathComponent().appendingPathComponent("shared/testdata")

/// A ledger in a temporary directory, with `count` custom entries after the genesis entry.
struct TestLedger {
    let directory = TemporaryDirectory()
    var path: String { directory.file("ledger.sqlite") }
    var keyPath: String { directory.file("ledger.key") }
    let origin = "test.example/ledger"

    init(entries count: Int = 0) throws {
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

    func copy(to name: String) throws -> String {
        let destination = directory.file(name)
        try FileManager.default.copyItem(atPath: path, toPath: destination)
        return destination
    }
}
