import Foundation
import PurserLedger
import Testing

/// The commands of the ledger, run as the built binary the way a user runs them.
@Suite struct EndToEndTests {
    @Test func helpListsTheCommandsWithExamples() throws {
        let workspace = Workspace()
        let help = try workspace.run(["--help"])
        #expect(help.status == 0)
        for command in ["init", "append", "log", "verify", "checkpoint", "proof", "export", "verify-bundle"] {
            #expect(help.stdout.contains(command), "--help lists \(command)")
        }
        #expect(help.stdout.contains("Examples:"))
        let appendHelp = try workspace.run(["append", "--help"])
        #expect(appendHelp.stdout.contains("purser append --kind custom."))
    }

    @Test func theWholeTour() throws {
        let workspace = Workspace()
        let created = try workspace.run(["init", "--origin", "e2e.example/tour", "--json"])
        #expect(created.status == 0, "\(created.stderr)")
        let identity = try workspace.json(created.stdout)
        #expect(identity["origin"]?.stringValue == "e2e.example/tour")
        #expect(identity["verifier_key"]?.stringValue?.hasPrefix("e2e.example/tour+") == true)

        workspace.write("note.json", #"{"ticket":"OPS-12","severity":2}"#)
        let appended = try workspace.run(["append", "--kind", "custom.incident-note", "--body", "note.json", "--json"])
        #expect(appended.status == 0, "\(appended.stderr)")
        #expect(try workspace.json(appended.stdout)["seq"]?.numberValue == 1)
        #expect(
            try workspace.run(
                ["append", "--kind", "custom.incident-note", "--body", "-"], input: #"{"ticket":"OPS-13"}"#
            ).status == 0)
        workspace.write("history.jsonl", (1...2500).map { #"{"n":\#($0)}"# }.joined(separator: "\n") + "\n")
        let imported = try workspace.run(["append", "--kind", "custom.import", "--lines", "history.jsonl", "--json"])
        #expect(imported.status == 0, "\(imported.stderr)")
        let range = try workspace.json(imported.stdout)
        #expect(
            range["first"]?.numberValue == 3 && range["last"]?.numberValue == 2502
                && range["count"]?.numberValue == 2500)

        // log: filters and JSON Lines whose "entry" is the exact entry text.
        let log = try workspace.run(["log", "--kind", "custom.incident-note", "--json"])
        let lines = log.stdout.split(separator: "\n")
        #expect(lines.count == 2)
        let first = try workspace.json(String(lines[0]))
        let entryText = try #require(first["entry"]?.stringValue)
        #expect(first["leaf_hash"]?.stringValue == Hash.leaf(Array(entryText.utf8)).hex)
        #expect(entryText.contains(#""body":{"severity":2,"ticket":"OPS-12"}"#))
        #expect(try workspace.run(["log", "--limit", "3"]).stdout.split(separator: "\n").count == 3)
        #expect(try workspace.run(["log", "--since", "2999-01-01"]).stdout.isEmpty)

        // verify without and with a held checkpoint.
        let selfConsistent = try workspace.json(try workspace.run(["verify", "--json"]).stdout)
        #expect(selfConsistent["ok"] == .bool(true) && selfConsistent["trusted"] == .bool(false))
        #expect(selfConsistent["size"]?.numberValue == 2503)
        let checkpoint = try workspace.run(["checkpoint", "--out", "held.checkpoint", "--json"])
        #expect(checkpoint.status == 0, "\(checkpoint.stderr)")
        let note = try #require(try workspace.json(checkpoint.stdout)["note"]?.stringValue)
        #expect(note == workspace.read("held.checkpoint"))
        #expect(note.hasPrefix("e2e.example/tour\n2503\n"))
        #expect(note.contains("\n\n\u{2014} e2e.example/tour "))
        let trusted = try workspace.json(
            try workspace.run(["verify", "--checkpoint", "held.checkpoint", "--json"]).stdout)
        #expect(trusted["trusted"] == .bool(true) && trusted["fault"] == .null)
        #expect(trusted["root"] == selfConsistent["root"])

        // proofs verify against the printed roots.
        let inclusion = try workspace.json(
            try workspace.run(["proof", "inclusion", "--seq", "1", "--size", "1000", "--json"]).stdout)
        let path = try #require(
            inclusion["proof"].flatMap { value -> [Hash]? in
                guard case .array(let items) = value else { return nil }
                return items.compactMap { $0.stringValue.flatMap { Hash(hex: $0) } }
            })
        #expect(
            MerkleProof.verifyInclusion(
                leaf: Hash(hex: inclusion["leaf_hash"]!.stringValue!)!, index: 1, size: 1000, proof: path,
                root: Hash(hex: inclusion["root"]!.stringValue!)!))
        let consistency = try workspace.json(
            try workspace.run(["proof", "consistency", "--from", "1000", "--json"]).stdout)
        #expect(consistency["to"]?.numberValue == 2503)
        #expect(consistency["to_root"] == selfConsistent["root"])

        // export and verify the bundle offline.
        let exported = try workspace.run(["export", "--out", "bundle"])
        #expect(exported.status == 0, "\(exported.stderr)")
        let bundleLines = workspace.read("bundle/entries.jsonl").split(
            separator: "\n", omittingEmptySubsequences: false)
        #expect(bundleLines.count == 2504 && bundleLines.last == "")
        #expect(String(bundleLines[1]) == entryText)
        let bundleVerdict = try workspace.run(["verify-bundle", "bundle", "--json"])
        #expect(bundleVerdict.status == 0)
        #expect(try workspace.json(bundleVerdict.stdout)["trusted"] == .bool(true))

        // A changed byte in the bundle is found.
        var tampered = workspace.read("bundle/entries.jsonl")
        tampered = tampered.replacingOccurrences(of: #"{"n":17}"#, with: #"{"n":71}"#)
        workspace.write("bundle/entries.jsonl", tampered)
        let tamperedVerdict = try workspace.run(["verify-bundle", "bundle", "--json"])
        #expect(tamperedVerdict.status == 3)
        let fault = try workspace.json(tamperedVerdict.stdout)["fault"]
        #expect(fault?["kind"]?.stringValue == "broken-link" && fault?["seq"]?.numberValue == 20)
    }

    @Test func initIfMissingIsIdempotent() throws {
        let workspace = Workspace()
        let first = try workspace.run(["init", "--if-missing", "--origin", "e2e.example/idem", "--json"])
        #expect(try first.status == 0 && workspace.json(first.stdout)["created"] == .bool(true))
        let before = workspace.ledgerSnapshot()
        let second = try workspace.run(["init", "--if-missing", "--json"])
        #expect(second.status == 0)
        #expect(try workspace.json(second.stdout)["created"] == .bool(false))
        #expect(try workspace.json(second.stdout)["origin"]?.stringValue == "e2e.example/idem")
        #expect(workspace.ledgerSnapshot() == before)
        let otherOrigin = try workspace.run(["init", "--if-missing", "--origin", "e2e.example/other"])
        #expect(otherOrigin.status == 65 && otherOrigin.stderr.contains("not the requested e2e.example/other"))
    }

    @Test func verifyReportsADamagedGenesisEntryAsAFault() throws {
        let workspace = Workspace()
        try workspace.initLedger()
        let attacker = try Connection(path: workspace.ledgerPath, mode: .readWrite)
        try attacker.execute("DROP TRIGGER entries_append_only_delete; DELETE FROM entries WHERE seq = 0;")
        let result = try workspace.run(["verify", "--json"])
        #expect(result.status == 3, "\(result.stderr)")
        #expect(try workspace.json(result.stdout)["fault"]?["seq"]?.numberValue == 0)
        #expect(try workspace.run(["log"]).status == 65, "other commands refuse the damaged ledger")
    }

    @Test func verifyBundleWithHeldCheckpointsAndAPinnedKey() throws {
        let workspace = Workspace()
        try workspace.initLedger(origin: "e2e.example/audit")
        workspace.write("lines.jsonl", (1...30).map { #"{"n":\#($0)}"# }.joined(separator: "\n"))
        #expect(try workspace.run(["append", "--kind", "custom.x", "--lines", "lines.jsonl"]).status == 0)
        #expect(try workspace.run(["checkpoint", "--out", "held-31"]).status == 0)
        let publicKey = try workspace.json(try workspace.run(["init", "--if-missing", "--json"]).stdout)[
            "verifier_key"]!.stringValue!
        workspace.write("prod.pub", publicKey + "\n")

        // An honest bundle checks out against the held checkpoint and the pinned key (string or file).
        #expect(try workspace.run(["export", "--out", "bundle"]).status == 0)
        #expect(
            try workspace.run(["verify-bundle", "bundle", "--checkpoint", "held-31", "--key", publicKey]).status == 0)
        #expect(try workspace.run(["verify-bundle", "bundle", "--key", "prod.pub"]).status == 0)

        // A bundle made from a copy cut back to 20 entries and re-signed with the real key is self-consistent,
        // but the held checkpoint shows it was truncated.
        let copy = try Ledger(openingAt: workspace.ledgerPath)
        let key = try SigningKey.load(from: workspace.file("ledger/purser.key"))
        try FileManager.default.createDirectory(atPath: workspace.file("short"), withIntermediateDirectories: true)
        var lines: [String] = []
        try copy.forEachEntry(limit: 20) { lines.append($0.text) }
        workspace.write("short/entries.jsonl", lines.joined(separator: "\n") + "\n")
        let head = try copy.checkpoint(size: 20)
        workspace.write("short/checkpoint", try copy.sign(head, with: key))
        workspace.write("short/key.pub", publicKey + "\n")
        #expect(try workspace.run(["verify-bundle", "short"]).status == 0)
        let cut = try workspace.run(["verify-bundle", "short", "--checkpoint", "held-31", "--json"])
        #expect(cut.status == 3)
        #expect(try workspace.json(cut.stdout)["fault"]?["kind"]?.stringValue == "truncated")

        // A bundle from another ledger fails the pinned key.
        let other = Workspace()
        try other.initLedger(origin: "e2e.example/audit")
        #expect(try other.run(["export", "--out", "bundle"]).status == 0)
        let foreign = try workspace.run(["verify-bundle", other.file("bundle"), "--key", publicKey, "--json"])
        #expect(foreign.status == 3)
        #expect(try workspace.json(foreign.stdout)["fault"]?["kind"]?.stringValue == "bad-signature")
    }

    @Test func ledgerAndKeyLocationsFollowFlagsAndEnvironment() throws {
        let workspace = Workspace()
        let custom = ["--ledger", "elsewhere/team.sqlite"]
        #expect(try workspace.run(["init", "--origin", "e2e.example/env"] + custom).status == 0)
        #expect(FileManager.default.fileExists(atPath: workspace.file("elsewhere/team.key")))
        let viaEnvironment = try workspace.run(["verify"], environment: ["PURSER_LEDGER": "elsewhere/team.sqlite"])
        #expect(viaEnvironment.status == 0 && viaEnvironment.stdout.hasPrefix("self-consistent: 1 entries"))
        let noDefault = try workspace.run(["verify"])
        #expect(noDefault.status == 66)
        try FileManager.default.moveItem(
            atPath: workspace.file("elsewhere/team.key"), toPath: workspace.file("team.key"))
        #expect(try workspace.run(["checkpoint"] + custom).status == 66)
        #expect(try workspace.run(["checkpoint", "--key", "team.key"] + custom).status == 0)
        #expect(try workspace.run(["checkpoint"] + custom, environment: ["PURSER_KEY": "team.key"]).status == 0)
    }
}
