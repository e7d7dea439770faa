import Foundation
import PurserLedger
import Testing

/// Component files come from inside the manifest's folder: a manifest cannot record (and so keep forever, for any
/// reader to fetch) `/etc/passwd`, the process's environment or another ledger's signing key.
@Suite("manifest component paths")
struct ManifestPathTests {
    /// A workspace with the agent template in `agent-v1/`, a secret beside it, and an initialized ledger.
    private func prepare() throws -> Workspace {
        let workspace = Workspace()
        try workspace.initLedger()
        try workspace.copyAgentTemplate()
        workspace.write("secret.txt", "the signing key\n")
        return workspace
    }

    @Test(
        "an absolute path, a path through .. or a symbolic link out of the manifest's folder is refused with exit 65, naming the field, and nothing is recorded",
        arguments: ["/etc/passwd", "/proc/self/environ", "../secret.txt", "agent/link.md", "agent"])
    func outsideTheFolderIsRefused(path: String) throws {
        let workspace = try prepare()
        try FileManager.default.createSymbolicLink(
            atPath: workspace.file("agent-v1/agent/link.md"), withDestinationPath: workspace.file("secret.txt"))
        workspace.edit("agent-v1/agent.yaml", replacing: "file: agent/system-prompt.md", with: "file: \(path)")
        let before = workspace.ledgerSnapshot()
        for command in [["version", "record"], ["version", "digest"]] {
            let result = try workspace.run(command + ["agent-v1/agent.yaml"])
            #expect(result.status == 65, "\(command) \(path): \(result.status) \(result.stdout) \(result.stderr)")
            #expect(result.stderr.contains("agent-v1/agent.yaml: components.prompt.file: "), "\(result.stderr)")
        }
        #expect(workspace.ledgerSnapshot() == before)
        #expect(try workspace.run(["log"]).stdout.split(separator: "\n").count == 1)
    }

    @Test(
        "materialized files are 0666 less the umask, never executable, whatever the mode of the recorded source",
        arguments: [("022", 0o644 as UInt16, 0o755 as UInt16), ("077", 0o600, 0o700)])
    func materializedFileModes(umask: String, file: UInt16, folder: UInt16) throws {
        let workspace = try prepare()
        try FileManager.default.setAttributes(
            [.posixPermissions: 0o755], ofItemAtPath: workspace.file("agent-v1/agent/system-prompt.md"))
        #expect(try workspace.run(["version", "record", "agent-v1/agent.yaml", "--label", "a@1"]).status == 0)
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/bin/sh")
        process.arguments = ["-c", "umask \(umask); exec \"$0\" version materialize a@1 --out restored", purserBinary]
        process.currentDirectoryURL = URL(fileURLWithPath: workspace.path)
        var environment = ProcessInfo.processInfo.environment
        environment.removeValue(forKey: "PURSER_LEDGER")
        process.environment = environment
        try process.run()
        process.waitUntilExit()
        #expect(process.terminationStatus == 0)
        func mode(_ path: String) throws -> UInt16 {
            let attributes = try FileManager.default.attributesOfItem(atPath: workspace.file(path))
            return UInt16((attributes[.posixPermissions] as? NSNumber)?.intValue ?? -1) & 0o7777
        }
        #expect(try mode("restored") == folder)
        let names = try FileManager.default.contentsOfDirectory(atPath: workspace.file("restored"))
        #expect(names.contains("prompt.md"))
        for name in names {
            #expect(try mode("restored/\(name)") == file, "\(name)")
        }
    }

    @Test("a signing key is never recorded, even from inside the manifest's folder or an allowed path")
    func signingKeyIsRefused() throws {
        let workspace = try prepare()
        try FileManager.default.copyItem(
            atPath: workspace.file("ledger/purser.key"), toPath: workspace.file("agent-v1/agent/notes.md"))
        workspace.edit("agent-v1/agent.yaml", replacing: "file: agent/system-prompt.md", with: "file: agent/notes.md")
        let before = workspace.ledgerSnapshot()
        let refused = try workspace.run(["version", "record", "agent-v1/agent.yaml", "--allow-outside", "agent-v1"])
        #expect(refused.status == 65, "\(refused.stdout) \(refused.stderr)")
        #expect(refused.stderr.contains("components.prompt.file: agent/notes.md is a private signing key"))
        #expect(workspace.ledgerSnapshot() == before)
    }

    @Test("--allow-outside PATH admits component files under PATH only; links inside the folder stay allowed")
    func allowOutside() throws {
        let workspace = try prepare()
        try FileManager.default.createDirectory(
            atPath: workspace.file("shared"), withIntermediateDirectories: true)
        workspace.write("shared/prompt.md", "a shared prompt\n")
        workspace.edit(
            "agent-v1/agent.yaml", replacing: "file: agent/system-prompt.md", with: "file: ../shared/prompt.md")
        let refused = try workspace.run(["version", "record", "agent-v1/agent.yaml"])
        #expect(refused.status == 65 && refused.stderr.contains("--allow-outside"), "\(refused.stderr)")
        let elsewhere = try workspace.run(
            ["version", "record", "agent-v1/agent.yaml", "--allow-outside", "agent-v1"])
        #expect(elsewhere.status == 65, "an allowed folder admits only what is under it: \(elsewhere.stderr)")
        let missing = try workspace.run(["version", "record", "agent-v1/agent.yaml", "--allow-outside", "nowhere"])
        #expect(missing.status == 66, "\(missing.stderr)")
        let allowed = try workspace.run(
            ["version", "record", "agent-v1/agent.yaml", "--allow-outside", "shared", "--json"])
        #expect(allowed.status == 0, "\(allowed.stderr)")
        #expect(try workspace.json(allowed.stdout)["components"]?.arrayValue?.count == 7)

        // A link that stays inside the folder is the file it points at.
        workspace.edit(
            "agent-v1/agent.yaml", replacing: "file: ../shared/prompt.md", with: "file: agent/link.md")
        try FileManager.default.createSymbolicLink(
            atPath: workspace.file("agent-v1/agent/link.md"), withDestinationPath: "system-prompt.md")
        let linked = try workspace.run(["version", "record", "agent-v1/agent.yaml"])
        #expect(linked.status == 0, "\(linked.stderr)")
        #expect(try workspace.run(["verify"]).status == 0)
    }
}
