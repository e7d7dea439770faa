import Foundation

/// The command that moves the real traffic after a canary is rolled back automatically (`--on-rollback` of
/// `purser canary judge` and of `purser serve`): run by `/bin/sh -c` with `PURSER_ENV`, `PURSER_BASELINE` and
/// `PURSER_CANARY` set, where the judgement was asked for.
public struct RollbackHook: Sendable {
    public let command: String

    public init(_ command: String) { self.command = command }

    /// Runs the command for the rollback of `canary` to `baseline` in `env`, and waits for it to exit.
    /// - Returns: its exit status (0 when it succeeded).
    /// - Throws: what `Process` throws when `/bin/sh` cannot be started.
    public func run(env: String, baseline: String, canary: String) throws -> Int32 {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/bin/sh")
        process.arguments = ["-c", command]
        var environment = ProcessInfo.processInfo.environment
        environment["PURSER_ENV"] = env
        environment["PURSER_BASELINE"] = baseline
        environment["PURSER_CANARY"] = canary
        process.environment = environment
        try process.run()
        process.waitUntilExit()
        return process.terminationStatus
    }
}
