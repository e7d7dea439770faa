import Foundation
import PurserLedger
import Testing

/// The built `purser` binary, beside the test bundle in the build folder.
let purserBinary: String = {
    let beside = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent().appendingPathComponent(
        "purser"
    ).path
    if FileManager.default.isExecutableFile(atPath: beside) { return beside }
    let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent()
    return root.appendingPathComponent(".build/debug/purser").path
}()

/// python3 on the PATH, which runs the reference bundle verifier; a user's machine may not have it.
let python3: String? = (ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin").split(separator: ":")
    .map { "\($0)/python3" }.first { FileManager.default.isExecutableFile(atPath: $0) }

struct RunResult {
    let status: Int32
    let stdout: String
    let stderr: String
}

/// A working directory for one test, with helpers to run `purser` in it as a user would.
final class Workspace {
    let path: String
    /// The time every command runs at, or nil for the machine's clock. It is passed as `PURSER_NOW`, a hidden
    /// testing aid of the CLI (ledger/README.md §4.3): set it instead of sleeping when a test needs time to pass.
    /// The ledger refuses a clock more than 5 minutes behind its last entry, so only move it forward; evidence that
    /// scripts date by the machine's clock stays fresh if it moves by minutes. `purser serve` ignores it.
    var now: Date?

    init() {
        path = NSTemporaryDirectory() + "purser-e2e-" + UUID().uuidString
        try! FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
    }

    deinit { try? FileManager.default.removeItem(atPath: path) }

    func file(_ name: String) -> String { path + "/" + name }

    var ledgerPath: String { file("ledger/purser.sqlite") }

    func write(_ name: String, _ text: String) {
        _ = FileManager.default.createFile(atPath: file(name), contents: Data(text.utf8))
    }

    func read(_ name: String) -> String {
        String(decoding: FileManager.default.contents(atPath: file(name)) ?? Data(), as: UTF8.self)
    }

    /// Runs `purser` with `arguments` in this directory; standard input from `input` if given.
    @discardableResult
    func run(_ arguments: [String], input: String? = nil, environment: [String: String] = [:]) throws -> RunResult {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: purserBinary)
        process.arguments = arguments
        process.currentDirectoryURL = URL(fileURLWithPath: path)
        var env = ProcessInfo.processInfo.environment
        env.removeValue(forKey: "PURSER_LEDGER")
        env.removeValue(forKey: "PURSER_KEY")
        env.removeValue(forKey: "PURSER_NOW")
        if let now { env["PURSER_NOW"] = Timestamp.format(now) }
        env.merge(environment) { $1 }
        process.environment = env
        let outPath = file(".out-\(UUID().uuidString)")
        let errPath = file(".err-\(UUID().uuidString)")
        _ = FileManager.default.createFile(atPath: outPath, contents: nil)
        _ = FileManager.default.createFile(atPath: errPath, contents: nil)
        defer {
            try? FileManager.default.removeItem(atPath: outPath)
            try? FileManager.default.removeItem(atPath: errPath)
        }
        process.standardOutput = FileHandle(forWritingAtPath: outPath)
        process.standardError = FileHandle(forWritingAtPath: errPath)
        let inputPipe = Pipe()
        process.standardInput = input == nil ? FileHandle.nullDevice : inputPipe
        try process.run()
        if let input {
            inputPipe.fileHandleForWriting.write(Data(input.utf8))
            try inputPipe.fileHandleForWriting.close()
        }
        process.waitUntilExit()
        return RunResult(
            status: process.terminationStatus,
            stdout: String(decoding: FileManager.default.contents(atPath: outPath) ?? Data(), as: UTF8.self),
            stderr: String(decoding: FileManager.default.contents(atPath: errPath) ?? Data(), as: UTF8.self))
    }

    /// `purser init` with a fixed origin; fails the test if it does not succeed.
    func initLedger(origin: String = "e2e.example/ledger") throws {
        let result = try run(["init", "--origin", origin])
        #expect(result.status == 0, "init failed: \(result.stderr)")
    }

    /// The ledger's bytes on disk (main file and WAL), to show a failed command changed nothing.
    func ledgerSnapshot() -> [Data?] {
        [ledgerPath, ledgerPath + "-wal"].map { FileManager.default.contents(atPath: $0) }
    }

    func json(_ text: String) throws -> JSONValue {
        try JSONValue(parsing: text.trimmingCharacters(in: .whitespacesAndNewlines))
    }
}

extension Workspace {
    /// A ledger holding agent@1 and agent@2 (its prompt shortened), both from the agent template copied to agent/.
    func recordTwoVersions() throws {
        try initLedger()
        let manifest = try copyAgentTemplate(to: "agent")
        #expect(try run(["version", "record", manifest, "--label", "agent@1"]).status == 0)
        edit("agent/agent/system-prompt.md", replacing: "Be brief and friendly.", with: "Be brief.")
        #expect(try run(["version", "record", manifest, "--label", "agent@2"]).status == 0)
    }

    /// `recordTwoVersions`, then agent@1 serving prod (blue-green) and agent@2 a 10% canary there, both deployed
    /// with break-glass.
    func startCanaryRollout() throws {
        try recordTwoVersions()
        let glass = ["--break-glass", "--reason", "test", "--approver", "tests"]
        let blueGreen = ["deploy", "start", "agent@1", "--env", "prod", "--strategy", "blue-green"]
        #expect(try run(blueGreen + glass).status == 0)
        let canary = ["deploy", "start", "agent@2", "--env", "prod", "--strategy", "canary", "--weight", "10"]
        #expect(try run(canary + glass).status == 0)
    }
}
