import Foundation
import Testing

/// The README teaches by example: its tour runs as written, in a fresh folder laid out like the repository.
@Suite(.enabled(if: python3 != nil, "python3 is not installed: the README tour runs ledger/verify_bundle.py"))
struct ReadmeTests {
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent()

    /// The first ```sh block after the heading `title`.
    static func shellBlock(after title: String) throws -> String {
        let readme = try String(contentsOf: root.appendingPathComponent("README.md"), encoding: .utf8)
        let section = try #require(readme.range(of: title))
        let start = try #require(readme.range(of: "```sh\n", range: section.upperBound..<readme.endIndex))
        let end = try #require(readme.range(of: "```", range: start.upperBound..<readme.endIndex))
        return String(readme[start.upperBound..<end.lowerBound])
    }

    /// The workflow shown under "In a CI pipeline" is the example file, byte for byte.
    @Test func theCIWorkflowIsTheExampleFile() throws {
        let readme = try String(contentsOf: Self.root.appendingPathComponent("README.md"), encoding: .utf8)
        let section = try #require(readme.range(of: "### In a CI pipeline"))
        let start = try #require(readme.range(of: "```yaml\n", range: section.upperBound..<readme.endIndex))
        let end = try #require(readme.range(of: "```", range: start.upperBound..<readme.endIndex))
        let example = try String(
            contentsOf: Self.root.appendingPathComponent("examples/github-actions/release.yml"), encoding: .utf8)
        #expect(String(readme[start.upperBound..<end.lowerBound]) == example)
    }

    /// The tour runs as written from a copy of the repository's root, and leaves that root as it found it: its
    /// ledger and files go to a scratch folder (under `TMPDIR`, here inside the workspace).
    @Test func theTourRunsAsWrittenOutsideTheRepository() throws {
        let script = try Self.shellBlock(after: "## A five-minute tour")
        let workspace = Workspace()
        try FileManager.default.createDirectory(atPath: workspace.file("ledger"), withIntermediateDirectories: true)
        try FileManager.default.createDirectory(atPath: workspace.file("tmp"), withIntermediateDirectories: true)
        try FileManager.default.copyItem(
            atPath: Self.root.appendingPathComponent("ledger/verify_bundle.py").path,
            toPath: workspace.file("ledger/verify_bundle.py"))
        try FileManager.default.copyItem(
            atPath: Self.root.appendingPathComponent("templates").path, toPath: workspace.file("templates"))
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/bin/sh")
        process.arguments = ["-e", "-x", "-c", script]
        process.currentDirectoryURL = URL(fileURLWithPath: workspace.path)
        var environment = ProcessInfo.processInfo.environment
        let binaries = URL(fileURLWithPath: purserBinary).deletingLastPathComponent().path
        environment["PATH"] = binaries + ":" + (environment["PATH"] ?? "/usr/bin:/bin")
        for name in ["PURSER_LEDGER", "PURSER_KEY", "PURSER_SERVER", "PURSER_TOKEN"] {
            environment.removeValue(forKey: name)
        }
        environment["TMPDIR"] = workspace.file("tmp")
        process.environment = environment
        let log = workspace.file("tour.log")
        _ = FileManager.default.createFile(atPath: log, contents: nil)
        process.standardOutput = FileHandle(forWritingAtPath: log)
        process.standardError = FileHandle(forWritingAtPath: log)
        try process.run()
        process.waitUntilExit()
        #expect(process.terminationStatus == 0, "the README tour failed:\n\(workspace.read("tour.log"))")
        #expect(workspace.read("tour.log").contains("intact: 2017 entries"))
        // The repository root: what the test put there, nothing more.
        let root = try FileManager.default.contentsOfDirectory(atPath: workspace.path).sorted()
        #expect(root == ["ledger", "templates", "tmp", "tour.log"])
        #expect(try FileManager.default.contentsOfDirectory(atPath: workspace.file("ledger")) == ["verify_bundle.py"])
        let scratch = try FileManager.default.contentsOfDirectory(atPath: workspace.file("tmp"))
        #expect(scratch.count == 1, "one scratch folder: \(scratch)")
    }
}
