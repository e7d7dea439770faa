import Foundation
import Testing

/// What a newcomer meets in the first hour: notes that are not errors, the files a ledger folder gets and which git
/// ignores, and `init` with a server named.
@Suite("notes, ignored ledger files and init with a server")
struct NotesAndInitTests {
    /// The repository's own .gitignore, found from this file's path.
    private static let gitignore = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .deletingLastPathComponent().deletingLastPathComponent().appendingPathComponent(".gitignore").path

    @Test("purser serve without tokens warns as purser: warning:, not as an error")
    func serverWarning() throws {
        let workspace = Workspace()
        try workspace.initLedger()
        let server = try RunningServer(in: workspace)
        let log = server.log
        #expect(server.stop() == 0)
        #expect(log.hasPrefix("purser: warning: ledger/purser.tokens has no tokens"), "\(log)")
        #expect(!log.contains("error"), "\(log)")
    }

    @Test(
        "git ignores every file init and token create put in ledger/",
        .enabled(if: gitExecutable != nil, "git is not installed"))
    func ledgerFilesAreIgnored() throws {
        let workspace = Workspace()
        try workspace.initLedger()
        #expect(try workspace.run(["token", "create", "--role", "reader", "--name", "auditor"]).status == 0)
        #expect(try workspace.run(["token", "revoke", "--name", "auditor"]).status == 0)
        try FileManager.default.copyItem(atPath: Self.gitignore, toPath: workspace.file(".gitignore"))
        #expect(try tool(gitExecutable!, ["init", "-q"], in: workspace.path) == 0)
        let files = try FileManager.default.contentsOfDirectory(atPath: workspace.file("ledger")).sorted()
        // The ledger, its WAL, the signing and verifier keys, the token file and its lock.
        for name in ["purser.sqlite", "purser.key", "purser.pub", "purser.tokens", "purser.tokens.lock"] {
            #expect(files.contains(name), "\(files)")
        }
        for name in files {
            let ignored = try tool(gitExecutable!, ["check-ignore", "-q", "ledger/" + name], in: workspace.path)
            #expect(ignored == 0, "git does not ignore ledger/\(name)")
        }
    }

    @Test(
        "init with PURSER_SERVER or --server refuses with 64 and creates nothing",
        arguments: [
            ([String](), ["PURSER_SERVER": "http://127.0.0.1:9"], "PURSER_SERVER is http://127.0.0.1:9"),
            (["--server", "http://127.0.0.1:9"], [:], "--server is http://127.0.0.1:9"),
            // An explicit --ledger does not make the server go away: init refuses as every local-only command does.
            (["--ledger", "team.sqlite"], ["PURSER_SERVER": "http://h:9"], "PURSER_SERVER is http://h:9"),
        ])
    func initRefusesAServer(arguments: [String], environment: [String: String], named: String) throws {
        let workspace = Workspace()
        let result = try workspace.run(["init"] + arguments, environment: environment)
        #expect(result.status == 64, "\(result.stderr)")
        #expect(
            result.stderr.hasPrefix(
                "purser: error: purser init creates a local ledger file and does not act on a server (\(named)); "
                    + "run purser init on the server's machine before purser serve"),
            "\(result.stderr)")
        #expect(try FileManager.default.contentsOfDirectory(atPath: workspace.path).isEmpty)
    }

    @Test("init --help says it is local only and how a server's ledger is made")
    func initHelp() throws {
        let help = try Workspace().run(["init", "--help"]).stdout
        let text = help.split(whereSeparator: \.isWhitespace).joined(separator: " ")
        #expect(
            text.contains("init works on a local file only: with --server or PURSER_SERVER set it refuses (exit 64)"))
        #expect(text.contains("running purser init on the server's machine, before purser serve"))
    }
}

/// Runs `executable` with `arguments` in `directory`, its output discarded; returns its exit status.
private func tool(_ executable: String, _ arguments: [String], in directory: String) throws -> Int32 {
    let process = Process()
    process.executableURL = URL(fileURLWithPath: executable)
    process.arguments = arguments
    process.currentDirectoryURL = URL(fileURLWithPath: directory)
    process.standardOutput = FileHandle.nullDevice
    process.standardError = FileHandle.nullDevice
    try process.run()
    process.waitUntilExit()
    return process.terminationStatus
}
