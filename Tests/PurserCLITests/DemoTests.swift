import Foundation
import PurserLedger
import Testing

/// `purser demo`: the story of the example agent, from nothing to a verified ledger, with real commands.
@Suite struct DemoTests {
    /// The entries the story writes, by kind.
    static let storyKinds: [String: Int] = [
        "ledger.created": 1, "version.recorded": 3, "evaluation.recorded": 4, "checklist.evaluated": 5,
        "waiver.granted": 1, "deployment.started": 3, "rollback.drilled": 2, "metrics.summarized": 2,
        "canary.judged": 2, "rollback.performed": 1, "deployment.drained": 2, "deployment.promoted": 1,
    ]

    /// How many entries of each kind the workspace's ledger holds, from `purser log --json`.
    func kinds(in workspace: Workspace) throws -> [String: Int] {
        let log = try workspace.run(["log", "--json"])
        #expect(log.status == 0, "log failed: \(log.stderr)")
        var counts: [String: Int] = [:]
        for line in log.stdout.split(separator: "\n") {
            let kind = try #require(try workspace.json(String(line))["kind"]?.stringValue)
            counts[kind, default: 0] += 1
        }
        return counts
    }

    @Test func runsFromNothingToAVerifiedLedgerTheSameWayTwice() throws {
        var histograms: [[String: Int]] = []
        for _ in 1...2 {
            let workspace = Workspace()
            let demo = try workspace.run(["demo"])
            #expect(demo.status == 0, "the demo failed:\n\(demo.stdout)\n\(demo.stderr)")
            #expect(demo.stdout.contains("$ purser canary judge --env prod --config ledger/demo/canary.yaml"))
            #expect(demo.stdout.contains("ROLLBACK: score"))
            #expect(demo.stdout.contains("PROMOTE: score 100%"))

            #expect(demo.stdout.contains("\naudit report: ledger/demo/audit.html\n"))
            let report = workspace.read("ledger/demo/audit.html")
            #expect(report.contains("support-agent@1.2.0"))
            #expect(report.contains("floating-model"), "1.0.0 shipped with a floating model id: the report's finding")

            let verify = try workspace.run(["verify", "--checkpoint", "ledger/demo/checkpoint"])
            #expect(verify.status == 0, "verify failed: \(verify.stdout) \(verify.stderr)")
            #expect(verify.stdout.hasPrefix("intact: 27 entries"))
            // Held checkpoints vouch for the entries up to theirs, no further: the demo claims no more.
            let words = demo.stdout.split(whereSeparator: \.isWhitespace).joined(separator: " ")
            #expect(words.contains("a later verify that holds it says intact up to here."))
            let status = try workspace.run(["status", "--env", "prod"])
            #expect(status.stdout.contains("(support-agent@1.2.0)       100%  serving"))
            histograms.append(try kinds(in: workspace))
        }
        #expect(histograms[0] == Self.storyKinds)
        #expect(histograms[1] == histograms[0])
    }

    /// A newcomer reads the demo with nothing beside it: what it prints stands on its own, and what it suggests
    /// at the end works as printed, with the purser they ran.
    @Test func theDemoStandsOnItsOwnAndItsTryNextLinesRunAsPrinted() throws {
        let workspace = Workspace()
        let demo = try workspace.run(["demo", "--ledger", "story/purser.sqlite"])
        #expect(demo.status == 0, "the demo failed:\n\(demo.stdout)\n\(demo.stderr)")
        #expect(!demo.stdout.lowercased().contains("article"))
        // Each step's heading on a line of its own after a blank one, not an escaped line break.
        #expect(!demo.stdout.contains("\\n"), "\(demo.stdout.prefix(400))")
        #expect(demo.stdout.hasPrefix("\n==> 1. ") && demo.stdout.contains("\n\n==> 2. "))

        let tryNext = try #require(demo.stdout.components(separatedBy: "\nTry next:\n").last)
        let commands = tryNext.split(separator: "\n").map { $0.trimmingCharacters(in: .whitespaces) }
            .filter { !$0.hasPrefix("xdg-open ") }
        #expect(commands.count == 3, "\(tryNext)")
        for command in commands {
            #expect(command.hasPrefix(purserBinary + " ") && command.hasSuffix(" --ledger story/purser.sqlite"))
            let run = try shell(command, in: workspace)
            #expect(run.status == 0, "\(command): \(run.stderr)")
            #expect(!run.stdout.isEmpty, "\(command) printed nothing")
        }

        // The audit report's timeline: the whole story takes well under a second, yet each verdict and the
        // rollback are marks of their own, and the axis says which day and what a tick is.
        let report = workspace.read("story/demo/audit.html")
        let marks = report.matches(of: try Regex(#"<g><title>[^<]*</title><line x1="([0-9.]+)""#)).map {
            Double(String(report[$0.output[1].range!]))!
        }
        #expect(marks.count == 3, "two verdicts and a rollback: \(marks)")
        for (left, right) in zip(marks, marks.dropFirst()) { #expect(right - left >= 10, "marks at \(marks)") }
        let caption = try Regex(#">UTC, [0-9-]{10}( to [0-9-]{10})?; a tick every [0-9]+ (ms|s)</text>"#)
        #expect(report.contains(caption), "the timeline's axis names no day or step")
    }

    /// Invoked from the PATH, the demo suggests `purser …`, as the user would type it.
    @Test func fromThePathTheTryNextLinesSayPurser() throws {
        let workspace = Workspace()
        let folder = (purserBinary as NSString).deletingLastPathComponent
        let demo = try shell(
            "PATH=\(shellWord(folder)):$PATH purser demo --ledger story/purser.sqlite > demo.out", in: workspace)
        #expect(demo.status == 0, "\(demo.stderr)")
        #expect(workspace.read("demo.out").contains("\nTry next:\n  purser at now --ledger story/purser.sqlite\n"))
    }

    /// The task metrics are drawn from a fixed seed: two runs print the same rates, and the README quotes them.
    @Test func everyRunPrintsTheErrorRatesTheReadmeQuotes() throws {
        var printed: [[String]] = []
        var counted: [String] = []
        for _ in 1...2 {
            let workspace = Workspace()
            let demo = try workspace.run(["demo"])
            #expect(demo.status == 0, "the demo failed:\n\(demo.stdout)\n\(demo.stderr)")
            printed.append(
                demo.stdout.split(separator: "\n").map(String.init).filter {
                    $0.hasPrefix("error rate ") || $0.contains(" error_rate* ")
                })
            // The share of tasks that failed, per version, as the README writes it (one decimal).
            counted = []
            for canary in ["1.1.0", "1.2.0"] {
                let lines = workspace.read("ledger/demo/metrics/canary-\(canary).jsonl").split(separator: "\n")
                for version in ["support-agent@1.0.0", "support-agent@\(canary)"] {
                    let tasks = lines.filter { $0.contains(#""version":"\#(version)""#) }
                    let failed = tasks.filter { $0.contains(#""error":true"#) }
                    #expect(tasks.count == 1_000)
                    counted.append(String(format: "%.1f%%", Double(failed.count) / 10))
                }
            }
        }
        #expect(printed[0].count == 3, "\(printed[0])")
        #expect(printed[1] == printed[0])

        let readme = try String(contentsOf: ReadmeTests.root.appendingPathComponent("README.md"), encoding: .utf8)
        let section = try #require(readme.components(separatedBy: "## What the demo did").dropFirst().first)
            .components(separatedBy: "\n## ")[0]
        #expect(section.contains("\(counted[1]) of the canary's tasks failed, against \(counted[0]) of the baseline's"))
        #expect(section.contains("(\(counted[3]) failed, against \(counted[2]))"))
    }

    /// Runs `command` with /bin/sh in the workspace, as a user pastes it into a terminal there.
    func shell(_ command: String, in workspace: Workspace) throws -> RunResult {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/bin/sh")
        process.arguments = ["-c", command]
        process.currentDirectoryURL = URL(fileURLWithPath: workspace.path)
        let output = Pipe()
        let errors = Pipe()
        process.standardOutput = output
        process.standardError = errors
        try process.run()
        let out = output.fileHandleForReading.readDataToEndOfFile()
        let err = errors.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return RunResult(
            status: process.terminationStatus, stdout: String(decoding: out, as: UTF8.self),
            stderr: String(decoding: err, as: UTF8.self))
    }

    /// `text` quoted for /bin/sh.
    func shellWord(_ text: String) -> String { "'" + text.replacingOccurrences(of: "'", with: "'\\''") + "'" }

    /// With --ledger, every step names that ledger, and the work folder is beside it.
    @Test func aSecondDemoOnTheSameLedgerIsRefusedAndChangesNothing() throws {
        let workspace = Workspace()
        let ledger = "custom/purser.sqlite"
        let first = try workspace.run(["demo", "--ledger", ledger])
        #expect(first.status == 0, "the demo failed:\n\(first.stdout)\n\(first.stderr)")
        #expect(first.stdout.contains("$ purser deploy promote --env prod --ledger custom/purser.sqlite\n"))
        #expect(first.stdout.contains("  \(purserBinary) at now --ledger custom/purser.sqlite\n"))
        let files = [ledger, ledger + "-wal", "custom/purser.key", "custom/demo/checkpoint", "custom/demo/agent.yaml"]
        func snapshot() -> [Data?] { files.map { FileManager.default.contents(atPath: workspace.file($0)) } }
        let before = snapshot()
        #expect(before[0] != nil && before[3] != nil)

        let again = try workspace.run(["demo", "--ledger", ledger])
        #expect(again.status == 64)
        #expect(again.stdout.isEmpty)
        #expect(
            again.stderr.contains(
                "custom/purser.sqlite, custom/purser.key, custom/purser.pub, custom/demo already exist"))
        #expect(again.stderr.contains("remove them or pass --ledger PATH"))
        #expect(snapshot() == before)
    }

    @Test func anEarlierDemosWorkFolderIsRefusedBeforeALedgerIsCreated() throws {
        let workspace = Workspace()
        try FileManager.default.createDirectory(
            atPath: workspace.file("ledger/demo"), withIntermediateDirectories: true)
        let demo = try workspace.run(["demo"])
        #expect(demo.status == 64)
        #expect(demo.stderr.contains("ledger/demo already exists"))
        #expect(!FileManager.default.fileExists(atPath: workspace.ledgerPath))
    }

    /// The demo's steps run in its process and would follow PURSER_SERVER into a team's ledger.
    @Test func aServerInTheEnvironmentIsRefusedBeforeAnythingIsWritten() throws {
        let workspace = Workspace()
        for (arguments, environment) in [
            (["demo"], ["PURSER_SERVER": "http://127.0.0.1:9"]),
            (["demo", "--server", "http://127.0.0.1:9"], [:]),
        ] {
            let demo = try workspace.run(arguments, environment: environment)
            #expect(demo.status == 64, "\(arguments): \(demo.stderr)")
            #expect(demo.stderr.contains("never writes to a server: unset PURSER_SERVER"))
            #expect(!FileManager.default.fileExists(atPath: workspace.file("ledger")))
        }
    }

    @Test func missingTemplatesAreNotFound() throws {
        let workspace = Workspace()
        let demo = try workspace.run(["demo", "--templates", "nowhere", "--ledger", "elsewhere/purser.sqlite"])
        #expect(demo.status == 66)
        #expect(demo.stderr.contains("--templates nowhere"))
        #expect(!FileManager.default.fileExists(atPath: workspace.file("elsewhere")))
    }
}
