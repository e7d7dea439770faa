import Foundation
import PurserLedger
import Testing

/// ledger/verify_bundle.py, written from the format specification alone, agrees with `purser verify-bundle`.
@Suite(.enabled(if: python3 != nil, "python3 is not installed: these tests run ledger/verify_bundle.py"))
struct ReferenceVerifierTests {
    private func reference(
        _ workspace: Workspace, _ arguments: [String], script name: String = "verify_bundle.py"
    ) throws -> RunResult {
        let script = ReadmeTests.root.appendingPathComponent("ledger/\(name)").path
        let process = Process()
        process.executableURL = URL(fileURLWithPath: python3!)
        process.arguments = [script] + arguments
        process.currentDirectoryURL = URL(fileURLWithPath: workspace.path)
        let out = Pipe()
        process.standardOutput = out
        process.standardError = FileHandle.nullDevice
        try process.run()
        let data = out.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return RunResult(status: process.terminationStatus, stdout: String(decoding: data, as: UTF8.self), stderr: "")
    }

    @Test func verdictsAgreeWithPurser() throws {
        let workspace = Workspace()
        try workspace.initLedger(origin: "e2e.example/reference")
        workspace.write(
            "lines.jsonl", (1...300).map { #"{"n":\#($0),"text":"é \u0001 \"quoted\""}"# }.joined(separator: "\n"))
        #expect(try workspace.run(["append", "--kind", "custom.x", "--lines", "lines.jsonl"]).status == 0)
        #expect(try workspace.run(["export", "--out", "bundle"]).status == 0)

        func verdicts() throws -> (purser: RunResult, reference: RunResult) {
            (try workspace.run(["verify-bundle", "bundle", "--json"]), try reference(workspace, ["bundle", "--json"]))
        }
        let intact = try verdicts()
        #expect(intact.purser.status == 0 && intact.reference.status == 0, "\(intact.reference.stdout)")
        #expect(try workspace.json(intact.reference.stdout)["root"] == workspace.json(intact.purser.stdout)["root"])

        // One changed byte in entry 100: both name the broken link at 101.
        let original = workspace.read("bundle/entries.jsonl")
        workspace.write("bundle/entries.jsonl", original.replacingOccurrences(of: #"{"n":100,"#, with: #"{"n":109,"#))
        let tampered = try verdicts()
        #expect(tampered.purser.status == 3 && tampered.reference.status == 3)
        let purserFault = try workspace.json(tampered.purser.stdout)["fault"]
        let referenceFault = try workspace.json(tampered.reference.stdout)["fault"]
        #expect(purserFault?["kind"]?.stringValue == "broken-link" && purserFault?["seq"]?.numberValue == 101)
        #expect(referenceFault?["kind"] == purserFault?["kind"] && referenceFault?["seq"] == purserFault?["seq"])

        // A deleted line: both see the gap.
        var lines = original.split(separator: "\n", omittingEmptySubsequences: false)
        lines.remove(at: 50)
        workspace.write("bundle/entries.jsonl", lines.joined(separator: "\n"))
        let gapped = try verdicts()
        let purserGap = try workspace.json(gapped.purser.stdout)["fault"]
        let referenceGap = try workspace.json(gapped.reference.stdout)["fault"]
        #expect(purserGap?["kind"]?.stringValue == "gap" && purserGap?["seq"]?.numberValue == 50)
        #expect(referenceGap?["kind"] == purserGap?["kind"] && referenceGap?["seq"] == purserGap?["seq"])
    }

    @Test func versionIdsRecomputeFromMaterializedFilesWithTheSpecAlone() throws {
        let workspace = Workspace()
        try workspace.initLedger()
        try FileManager.default.copyItem(
            atPath: ReadmeTests.root.appendingPathComponent("templates").path, toPath: workspace.file("templates"))
        let recorded = try workspace.run(["version", "record", "templates/agent.yaml", "--json"])
        let id = try #require(try workspace.json(recorded.stdout)["id"]?.stringValue)
        #expect(try workspace.run(["version", "materialize", id, "--out", "restored"]).status == 0)
        #expect(try workspace.run(["export", "--out", "bundle"]).status == 0)

        let intact = try reference(workspace, ["restored", "--bundle", "bundle"], script: "version_id.py")
        #expect(intact.status == 0)
        #expect(intact.stdout.contains(id), "\(intact.stdout)")

        workspace.write("restored/prompt.md", workspace.read("restored/prompt.md") + " ")
        let changed = try reference(workspace, ["restored", "--bundle", "bundle"], script: "version_id.py")
        #expect(changed.status == 1, "one changed byte of the prompt is found: \(changed.stdout)")
    }
}
