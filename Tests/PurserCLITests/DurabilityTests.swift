import Foundation
import PurserLedger
import Testing

/// Nothing acknowledged is lost, and writers from several processes land in one valid chain.
@Suite struct DurabilityTests {
    /// Starts `script` under sh. Foundation's Process makes the child a process group leader, so
    /// killing the group kills the shell and every purser it started.
    private func startShell(_ script: String, in workspace: Workspace, output: String) throws -> Process {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/bin/sh")
        process.arguments = ["-c", script]
        process.currentDirectoryURL = URL(fileURLWithPath: workspace.path)
        var environment = ProcessInfo.processInfo.environment
        environment["PURSER"] = purserBinary
        environment.removeValue(forKey: "PURSER_LEDGER")
        process.environment = environment
        _ = FileManager.default.createFile(atPath: output, contents: nil)
        process.standardOutput = FileHandle(forWritingAtPath: output)
        process.standardError = FileHandle.nullDevice
        try process.run()
        return process
    }

    /// The sequence numbers purser reported as appended ("appended seq N …" lines).
    private func acknowledged(_ output: String) -> [UInt64] {
        output.split(separator: "\n").compactMap { line in
            guard line.hasPrefix("appended seq ") else { return nil }
            return UInt64(line.dropFirst("appended seq ".count).prefix { $0.isNumber })
        }
    }

    @Test func appendsReportedDoneSurviveSIGKILL() throws {
        let workspace = Workspace()
        try workspace.initLedger()
        var allAcknowledged: [UInt64] = []
        for round in 0..<8 {
            let output = workspace.file("round-\(round).out")
            let shell = try startShell(
                #"i=0; while :; do i=$((i+1)); echo "{\"round\":\#(round),\"i\":$i}" | "$PURSER" append --kind custom.crash --body - || exit 1; done"#,
                in: workspace, output: output)
            // Killed at a random moment once the loop is appending (a busy machine can take a while to start it). The
            // sleeps are about real time itself: polling for the first append, then a random moment to kill at.
            let started = Date()
            while acknowledged(workspace.read("round-\(round).out")).isEmpty && Date().timeIntervalSince(started) < 30 {
                usleep(20_000)
            }
            usleep(UInt32.random(in: 0...400_000))
            #expect(kill(-shell.processIdentifier, SIGKILL) == 0, "the shell leads its own process group")
            shell.waitUntilExit()
            let reported = acknowledged(workspace.read("round-\(round).out"))
            #expect(!reported.isEmpty, "round \(round) appended something before the kill")
            allAcknowledged += reported
        }
        let ledger = try Ledger(openingAt: workspace.ledgerPath)
        let report = try ledger.verify()
        #expect(report.ok, "\(String(describing: report.fault))")
        var present = Set<UInt64>()
        var seqs: [UInt64] = []
        try ledger.forEachEntry { entry in
            present.insert(entry.seq)
            seqs.append(entry.seq)
        }
        #expect(seqs == Array(0..<UInt64(seqs.count)), "sequence numbers are contiguous")
        for seq in allAcknowledged {
            #expect(present.contains(seq), "acknowledged append \(seq) is present")
        }
        #expect(seqs.count >= allAcknowledged.count + 1)
    }

    @Test func fourProcessesAppendingAtOnceMakeOneValidChain() throws {
        let workspace = Workspace()
        try workspace.initLedger()
        let writers = try (0..<4).map { writer in
            try startShell(
                #"i=0; while [ $i -lt 250 ]; do i=$((i+1)); echo "{\"writer\":\#(writer),\"i\":$i}" | "$PURSER" append --kind custom.concurrent --body - || exit 1; done"#,
                in: workspace, output: workspace.file("writer-\(writer).out"))
        }
        for writer in writers {
            writer.waitUntilExit()
            #expect(writer.terminationStatus == 0, "every append succeeded (no 'database is locked')")
        }
        let reported = (0..<4).flatMap { acknowledged(workspace.read("writer-\($0).out")) }
        #expect(reported.count == 1000)
        #expect(Set(reported).count == 1000, "no two appends got the same seq")
        let ledger = try Ledger(openingAt: workspace.ledgerPath)
        let report = try ledger.verify()
        #expect(report.ok && report.size == 1001, "\(String(describing: report.fault))")
        var perWriter = [Double: Int]()
        try ledger.forEachEntry(kind: "custom.concurrent") { entry in
            perWriter[try entry.body["writer"]?.numberValue ?? -1, default: 0] += 1
        }
        #expect(perWriter == [0: 250, 1: 250, 2: 250, 3: 250])
    }

    @Test func concurrentDeploymentsInSeveralEnvironmentsKeepTheQueryTablesExact() throws {
        let workspace = Workspace()
        try workspace.initLedger()
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent()
        try FileManager.default.copyItem(
            atPath: root.appendingPathComponent("templates").path, toPath: workspace.file("templates"))
        let first = try workspace.run(["version", "record", "templates/agent.yaml", "--label", "agent@1"])
        #expect(first.status == 0, "\(first.stderr)")
        workspace.write("templates/agent/system-prompt.md", "A different prompt.\n")
        let second = try workspace.run(["version", "record", "templates/agent.yaml", "--label", "agent@2"])
        #expect(second.status == 0, "\(second.stderr)")
        let writers = try (0..<3).map { writer in
            try startShell(
                #"set -e; "$PURSER" deploy start agent@1 --env e\#(writer) --strategy blue-green --break-glass --reason test --approver tests; i=0; while [ $i -lt 15 ]; do i=$((i+1)); "$PURSER" deploy start agent@2 --env e\#(writer) --strategy canary --weight 5 --break-glass --reason test --approver tests; "$PURSER" deploy abort --env e\#(writer); done"#,
                in: workspace, output: workspace.file("writer-\(writer).out"))
        }
        for writer in writers {
            writer.waitUntilExit()
            #expect(writer.terminationStatus == 0, "every deployment command succeeded")
        }
        let verify = try workspace.run(["verify", "--json"])
        #expect(verify.status == 0, "the query tables match a rebuild from the entries: \(verify.stdout)")
        let status = try workspace.json(try workspace.run(["status", "--json"]).stdout)
        guard case .array(let environments) = status["environments"] ?? .null else {
            Issue.record("no environments in \(status)")
            return
        }
        #expect(environments.count == 3)
        for environment in environments {
            guard case .array(let traffic) = environment["traffic"] ?? .null else { continue }
            #expect(traffic.map { $0["label"]?.stringValue ?? "" } == ["agent@1", "agent@2"])
            #expect(traffic.map { $0["state"]?.stringValue ?? "" } == ["serving", "draining"])
        }
        let history = try workspace.json(try workspace.run(["history", "--env", "e1", "--json"]).stdout)
        if case .array(let events) = history["events"] ?? .null { #expect(events.count == 31) }
    }
}

/// A server's ledger read by another process meanwhile (`purser log` beside `purser serve`).
@Suite("another process beside the server")
struct BesideTheServerTests {
    @Test("a purser run beside the server leaves its WAL alone: what the server commits after survives a SIGKILL")
    func readerBesideTheServer() throws {
        let workspace = Workspace()
        try workspace.recordTwoVersions()
        let token = try workspace.token("writer", name: "ci")
        let server = try RunningServer(in: workspace)
        let client = ["PURSER_SERVER": server.url, "PURSER_TOKEN": token]
        let first = try workspace.run(
            ["append", "--kind", "custom.note", "--body", "-"], input: #"{"n":1}"#, environment: client)
        try #require(first.status == 0, "\(first.stderr)")
        // Another process opens the ledger and closes it while the server holds it open.
        #expect(try workspace.run(["log"]).status == 0)
        #expect(FileManager.default.fileExists(atPath: workspace.ledgerPath + "-wal"), "the server's WAL is gone")
        let second = try workspace.run(
            ["append", "--kind", "custom.note", "--body", "-"], input: #"{"n":2}"#, environment: client)
        try #require(second.status == 0, "\(second.stderr)")
        _ = server.stop(with: SIGKILL)
        let log = try workspace.run(["log", "--kind", "custom.note", "--json"])
        #expect(
            log.stdout.split(separator: "\n").count == 2, "both acknowledged appends are in the ledger: \(log.stdout)")
        #expect(try workspace.run(["verify"]).status == 0)
    }
}
