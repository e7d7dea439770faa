import Foundation
import PurserLedger
import Testing

/// What a hostile user found in file input and output: endless input files, outputs that cannot be kept,
/// ledger paths that are not files.
@Suite struct FileInputOutputTests {
    @Test("a file that never ends is refused past its cap with exit 65, naming the file and the cap")
    func endlessInputs() throws {
        let workspace = Workspace()
        try workspace.initLedger()
        let manifest = try workspace.copyAgentTemplate()
        #expect(try workspace.run(["version", "record", manifest, "--label", "agent@1"]).status == 0)
        let ledger = workspace.ledgerSnapshot()
        let cases: [[String]] = [
            ["append", "--kind", "custom.x", "--body", "/dev/zero"],
            ["eval", "record", "--version", "agent@1", "--results", "/dev/zero", "--format", "junit"],
        ]
        for arguments in cases {
            let result = try workspace.run(arguments)
            #expect(result.status == 65, "\(arguments): \(result.stderr)")
            #expect(
                result.stderr.contains("/dev/zero is over 64 MiB (67108864 bytes)"), "\(arguments): \(result.stderr)")
        }
        #expect(workspace.ledgerSnapshot() == ledger)
    }

    @Test("standard input and paths to pipes are still read whole")
    func pipesStillWork() throws {
        let workspace = Workspace()
        try workspace.initLedger()
        for body in ["-", "/dev/stdin"] {
            let result = try workspace.run(
                ["append", "--kind", "custom.x", "--body", body, "--json"], input: #"{"via":"pipe"}"#)
            #expect(result.status == 0, "\(body): \(result.stderr)")
        }
    }

    @Test("a metrics line longer than any task record is refused as a bad line, not parsed")
    func endlessMetricsLine() throws {
        let workspace = Workspace()
        try workspace.initLedger()
        workspace.write("tasks.jsonl", "[" + String(repeating: "0,", count: 600_000) + "0]\n")
        let result = try workspace.run(["metrics", "ingest", "tasks.jsonl"])
        #expect(result.status == 65, "\(result.stderr)")
        #expect(result.stderr.contains("tasks.jsonl line 1: over 1048576 bytes"), "\(result.stderr)")
    }

    @Test("a write the device refuses exits 65 naming the path and the reason, and leaves the device alone")
    func writesToAFullDevice() throws {
        let workspace = Workspace()
        try workspace.initLedger()
        for arguments in [["checkpoint", "--out", "/dev/full"], ["audit", "--format", "md", "--out", "/dev/full"]] {
            let result = try workspace.run(arguments)
            #expect(result.status == 65, "\(arguments): \(result.stderr)")
            #expect(!result.stdout.contains("written"), "\(arguments): \(result.stdout)")
            #expect(
                result.stderr.contains("cannot write to /dev/full: No space left on device"),
                "\(arguments): \(result.stderr)")
        }
        var info = stat()
        #expect(stat("/dev/full", &info) == 0 && info.st_mode & S_IFMT == S_IFCHR, "/dev/full was replaced")
    }

    @Test(
        "on a full disk checkpoint, audit and export exit 65 and leave nothing behind",
        .enabled(if: getuid() == 0, "mounting a small tmpfs needs root"))
    func writesToAFullDisk() throws {
        let workspace = Workspace()
        try workspace.initLedger()
        for index in 0..<40 {
            let padding = String(repeating: "x", count: 400)
            workspace.write("body.json", #"{"n":\#(index),"pad":"\#(padding)"}"#)
            try #require(try workspace.run(["append", "--kind", "custom.x", "--body", "body.json"]).status == 0)
        }
        let disk = workspace.file("disk")
        try FileManager.default.createDirectory(atPath: disk, withIntermediateDirectories: false)
        let mount = try runTool("/bin/mount", ["-t", "tmpfs", "-o", "size=12k", "tmpfs", disk])
        guard mount == 0 else {
            // Root in a container without the right to mount: the /dev/full test above covers failed writes.
            print("skipped: the full-disk test: mount -t tmpfs failed (exit \(mount)); root may not mount here")
            return
        }
        defer { _ = try? runTool("/bin/umount", [disk]) }
        // Fill it but for a few kilobytes: enough to start each file, not to finish it.
        _ = FileManager.default.createFile(atPath: disk + "/filler", contents: Data(count: 10 * 1024))
        let cases: [[String]] = [
            ["checkpoint", "--out", "disk/cp.txt"],
            ["audit", "--format", "html", "--out", "disk/audit.html"],
            ["export", "--out", "disk/bundle"],
            ["export", "--out", "disk/new/bundle"],
        ]
        for arguments in cases {
            let result = try workspace.run(arguments)
            #expect(result.status == 65, "\(arguments): \(result.stderr)")
            #expect(result.stderr.contains("No space left on device"), "\(arguments): \(result.stderr)")
            #expect(try FileManager.default.contentsOfDirectory(atPath: disk) == ["filler"], "\(arguments)")
        }
    }

    @Test("a ledger path that is not a regular file exits 65, not an internal SQLite error")
    func ledgerThatIsNotAFile() throws {
        let workspace = Workspace()
        let cases = [
            ("/proc/self/mem", "/proc/self/mem cannot be read (Input/output error), so it is not a purser ledger"),
            ("/dev/null", "/dev/null is not a regular file (a device, a pipe or a socket), not a purser ledger"),
        ]
        for (path, message) in cases {
            let result = try workspace.run(["status", "--ledger", path])
            #expect(result.status == 65, "\(path): \(result.stderr)")
            #expect(result.stderr.contains(message), "\(path): \(result.stderr)")
        }
    }

    @Test("token create prints its one-time notice as a note, not an error")
    func tokenNoteIsNotAnError() throws {
        let workspace = Workspace()
        try workspace.initLedger()
        let result = try workspace.run(["token", "create", "--role", "reader", "--name", "auditor"])
        #expect(result.status == 0, "\(result.stderr)")
        #expect(result.stderr.hasPrefix("purser: note: this is the only time the token is shown"), "\(result.stderr)")
        #expect(!result.stderr.contains("error"), "\(result.stderr)")
    }
}

/// Runs a system tool; returns its exit status.
private func runTool(_ path: String, _ arguments: [String]) throws -> Int32 {
    let process = Process()
    process.executableURL = URL(fileURLWithPath: path)
    process.arguments = arguments
    process.standardOutput = FileHandle.nullDevice
    process.standardError = FileHandle.nullDevice
    try process.run()
    process.waitUntilExit()
    return process.terminationStatus
}
