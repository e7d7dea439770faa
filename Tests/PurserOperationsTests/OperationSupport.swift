import Foundation
import PurserCore
import PurserLedger
import PurserOperations

/// A ledger file in a temporary folder, made as `purser init` makes it, on which operations are performed as
/// `purser` performs them without `--server`: each on the file opened afresh, dated by the clock `now` (as
/// `PURSER_NOW` dates a command), with the key beside the ledger for an operation that signs. Removed when released.
final class LocalLedger {
    let folder: String
    /// The time the next operation acts at.
    var now: Date

    var path: String { folder + "/ledger.sqlite" }
    var keyPath: String { folder + "/ledger.key" }

    init(now: Date) throws {
        folder = NSTemporaryDirectory() + "purser-operations-" + UUID().uuidString
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        self.now = now
        let ledger = try Ledger.create(at: path, origin: "test.example/operations", keyPath: keyPath, now: now)
        _ = try Releases(ledger: ledger)
    }

    deinit { try? FileManager.default.removeItem(atPath: folder) }

    /// The reply `purser` prints (with `--json`, its `json`; else its `text`) and whose `status` sets its exit code.
    func perform(_ operation: some LedgerOperation) throws(LedgerError) -> Reply {
        let ledger = try Ledger(openingAt: path)
        let now = self.now
        ledger.clock = { now }
        let releases = try Releases(ledger: ledger)
        if let signing = operation as? any SigningLedgerOperation {
            let key = FileManager.default.fileExists(atPath: keyPath) ? try SigningKey.load(from: keyPath) : nil
            return try signing.perform(on: releases, signingKey: key)
        }
        return try operation.perform(on: releases)
    }

    /// The number of entries in the ledger file.
    func size() throws -> UInt64 {
        try Ledger(openingAt: path).size()
    }
}

/// An operation as a client sends it: its JSON body (`POST /v1/<name>`), decoded.
func operation<Op: LedgerOperation>(_: Op.Type, _ json: JSONValue) throws -> Op {
    try JSONDecoder().decode(Op.self, from: Data(CanonicalJSON.encode(json)))
}

/// A file's contents as a request carries them: `{"source","base64"}`.
func contents(_ text: String, source: String) -> JSONValue {
    .object(["source": .string(source), "base64": .string(Data(text.utf8).base64EncodedString())])
}

/// A `versions/record` request for a small version of `agent` whose prompt is `prompt`: the components a
/// manifest names (prompt, tools, model, code, memory), each with its exact bytes.
func recordVersionRequest(agent: String = "support-agent", prompt: String, label: String) -> JSONValue {
    /// A text or data component is a file, with the path it was read from; a model or commit is its value alone.
    func part(_ name: String, _ kind: String, _ fileName: String, _ text: String) -> JSONValue {
        var members: [String: JSONValue] = [
            "name": .string(name), "kind": .string(kind), "fileName": .string(fileName),
            "contents": contents(text, source: fileName),
        ]
        if kind == "text" || kind == "data" { members["source"] = .string("agent/" + fileName) }
        return .object(members)
    }
    return .object([
        "agent": .string(agent), "label": .string(label),
        "components": .array([
            part("prompt", "text", "prompt.md", prompt),
            part("tools", "data", "tools.json", "[]"),
            part("model", "model", "model.json", #"{"id":"claude-3-5-sonnet-20241022","provider":"anthropic"}"#),
            part("code", "commit", "code.json", #"{"commit":"\#(String(repeating: "ab", count: 20))"}"#),
            part("memory", "data", "memory.json", "null"),
        ]),
    ])
}
