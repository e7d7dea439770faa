import Foundation
import PurserCore
import Testing

@Suite struct TextDiffTests {
    @Test func equalTextsHaveNoDiff() {
        #expect(TextDiff.unified(old: "a\nb\n", new: "a\nb\n", oldName: "a", newName: "b") == "")
        #expect(TextDiff.unified(old: "", new: "", oldName: "a", newName: "b") == "")
        #expect(TextDiff.unified(old: Case.longPrompt, new: Case.longPrompt, oldName: "a", newName: "b") == "")
    }

    @Test func aChangeIsShownWithItsContext() {
        let diff = TextDiff.unified(
            old: Case.numbered(1...10), new: Case.numbered(1...4) + "five\n" + Case.numbered(6...10),
            oldName: "prompt@1", newName: "prompt@2")
        #expect(
            diff == """
                --- prompt@1
                +++ prompt@2
                @@ -2,7 +2,7 @@
                 line 2
                 line 3
                 line 4
                -line 5
                +five
                 line 6
                 line 7
                 line 8

                """)
    }

    @Test func contextCanBeChosen() {
        let old = Case.numbered(1...10)
        let new = Case.numbered(1...4) + "five\n" + Case.numbered(6...10)
        #expect(
            TextDiff.unified(old: old, new: new, oldName: "a", newName: "b", context: 0)
                == "--- a\n+++ b\n@@ -5 +5 @@\n-line 5\n+five\n")
        #expect(
            TextDiff.unified(old: old, new: new, oldName: "a", newName: "b", context: 1)
                == "--- a\n+++ b\n@@ -4,3 +4,3 @@\n line 4\n-line 5\n+five\n line 6\n")
    }

    @Test func changesFarApartGetTheirOwnHunksAndNearOnesShareOne() {
        let old = Case.numbered(1...30)
        let far = old.replacingOccurrences(of: "line 3\n", with: "three\n")
            .replacingOccurrences(of: "line 20\n", with: "twenty\n")
        #expect(
            TextDiff.unified(old: old, new: far, oldName: "a", newName: "b").components(separatedBy: "\n@@ ").count
                == 3)
        // Six unchanged lines between two changes: one hunk, since each would show three of them.
        let near = old.replacingOccurrences(of: "line 3\n", with: "three\n")
            .replacingOccurrences(of: "line 10\n", with: "ten\n")
        let diff = TextDiff.unified(old: old, new: near, oldName: "a", newName: "b")
        #expect(diff.components(separatedBy: "\n@@ ").count == 2)
        #expect(diff.contains("@@ -1,13 +1,13 @@\n"))
    }

    @Test func aMissingNewlineAtTheEndIsMarked() {
        #expect(
            TextDiff.unified(old: "a\nb", new: "a\nc", oldName: "a", newName: "b")
                == "--- a\n+++ b\n@@ -1,2 +1,2 @@\n a\n-b\n\\ No newline at end of file\n"
                + "+c\n\\ No newline at end of file\n"
        )
        #expect(
            TextDiff.unified(old: "a\n", new: "a", oldName: "a", newName: "b")
                == "--- a\n+++ b\n@@ -1 +1 @@\n-a\n+a\n\\ No newline at end of file\n")
    }

    @Test func emptySidesUseLineZero() {
        #expect(
            TextDiff.unified(old: "", new: "x\ny\n", oldName: "a", newName: "b")
                == "--- a\n+++ b\n@@ -0,0 +1,2 @@\n+x\n+y\n")
        #expect(
            TextDiff.unified(old: "x\n", new: "", oldName: "a", newName: "b") == "--- a\n+++ b\n@@ -1 +0,0 @@\n-x\n")
    }

    @Test(arguments: Case.all)
    func theDiffIsMinimal(diffCase: Case) {
        let diff = TextDiff.unified(old: diffCase.old, new: diffCase.new, oldName: "a", newName: "b")
        #expect(Self.edits(in: diff) == Self.editDistance(Self.lines(diffCase.old), Self.lines(diffCase.new)))
    }

    /// Random small texts over a three-line alphabet: many equal lines, many optimal paths.
    @Test func randomTextsGetMinimalDiffs() {
        var generator = SeededGenerator(seed: 42)
        for _ in 0..<500 {
            let old = Self.randomText(&generator)
            let new = Self.randomText(&generator)
            let diff = TextDiff.unified(old: old, new: new, oldName: "a", newName: "b", context: 2)
            #expect(
                Self.edits(in: diff) == Self.editDistance(Self.lines(old), Self.lines(new)),
                "\(old.debugDescription) → \(new.debugDescription)")
            #expect(diff.isEmpty == (Array(old.utf8) == Array(new.utf8)))
        }
    }

    @Test(
        .enabled(if: FileManager.default.isExecutableFile(atPath: "/usr/bin/patch"), "/usr/bin/patch is not installed"),
        arguments: Case.all)
    func patchTurnsOldIntoNew(diffCase: Case) throws {
        let diff = TextDiff.unified(old: diffCase.old, new: diffCase.new, oldName: "old.txt", newName: "new.txt")
        #expect(try Self.patch(diffCase.old, with: diff) == Array(diffCase.new.utf8))
    }

    @Test(
        .enabled(if: FileManager.default.isExecutableFile(atPath: "/usr/bin/patch"), "/usr/bin/patch is not installed"))
    func patchAcceptsRandomDiffs() throws {
        var generator = SeededGenerator(seed: 7)
        for _ in 0..<40 {
            let old = Self.randomText(&generator)
            let new = Self.randomText(&generator)
            let diff = TextDiff.unified(old: old, new: new, oldName: "a", newName: "b", context: 1)
            guard !diff.isEmpty else { continue }
            let patched = try Self.patch(old, with: diff)
            #expect(patched == Array(new.utf8), "\(old.debugDescription) → \(new.debugDescription)")
        }
    }

    @Test func longPromptsDifferingInAFewLinesAreFast() {
        let old = Case.longPrompt
        var lines = old.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        lines[10] = "changed"
        lines.insert("inserted", at: 900)
        lines.remove(at: 1_500)
        let new = lines.joined(separator: "\n")
        #expect(old.utf8.count > 100_000)
        let clock = ContinuousClock()
        var fastest = Duration.seconds(60)
        var diff = ""
        for _ in 0..<3 {
            fastest = min(
                fastest, clock.measure { diff = TextDiff.unified(old: old, new: new, oldName: "a", newName: "b") })
        }
        #expect(Self.edits(in: diff) == 4)
        #expect(fastest < .milliseconds(100), "took \(fastest)")
    }

    // MARK: - Helpers

    /// How many lines `diff` deletes or inserts.
    static func edits(in diff: String) -> Int {
        lines(diff).dropFirst(2).count(where: { $0.first == UInt8(ascii: "-") || $0.first == UInt8(ascii: "+") })
    }

    static func lines(_ text: String) -> [[UInt8]] {
        var lines: [[UInt8]] = []
        var current: [UInt8] = []
        for byte in text.utf8 {
            current.append(byte)
            if byte == UInt8(ascii: "\n") {
                lines.append(current)
                current = []
            }
        }
        if !current.isEmpty { lines.append(current) }
        return lines
    }

    /// Lines deleted plus lines inserted by a shortest edit, by the textbook O(NM) table.
    static func editDistance(_ a: [[UInt8]], _ b: [[UInt8]]) -> Int {
        var previous = Array(0...b.count)
        for (i, line) in a.enumerated() {
            var row = [i + 1] + Array(repeating: 0, count: b.count)
            for j in b.indices {
                row[j + 1] = line == b[j] ? previous[j] : min(previous[j + 1], row[j]) + 1
            }
            previous = row
        }
        return previous[b.count]
    }

    static func randomText(_ generator: inout SeededGenerator) -> String {
        let count = Int.random(in: 0...12, using: &generator)
        var text = (0..<count).map { _ in ["a\n", "b\n", "c\n"].randomElement(using: &generator)! }.joined()
        if !text.isEmpty && Bool.random(using: &generator) { text.removeLast() }
        return text
    }

    /// Runs `patch` on a file holding `old` and returns the patched bytes.
    static func patch(_ old: String, with diff: String) throws -> [UInt8] {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent(
            "purser-diff-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let oldFile = directory.appendingPathComponent("old.txt")
        let diffFile = directory.appendingPathComponent("change.diff")
        let output = directory.appendingPathComponent("out.txt")
        try Data(old.utf8).write(to: oldFile)
        try Data(diff.utf8).write(to: diffFile)
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/patch")
        process.arguments = ["--silent", "--force", "-o", output.path, oldFile.path, diffFile.path]
        let messages = Pipe()
        process.standardOutput = messages
        process.standardError = messages
        try process.run()
        let text = String(decoding: messages.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        #expect(process.terminationStatus == 0, "patch: \(text)\n\(diff)")
        return Array(try Data(contentsOf: output))
    }
}

extension TextDiffTests {
    /// A pair of texts to diff, named for the test log.
    struct Case: Sendable, CustomTestStringConvertible {
        let name: String
        let old: String
        let new: String

        var testDescription: String { name }

        static func numbered(_ range: ClosedRange<Int>) -> String {
            range.map { "line \($0)\n" }.joined()
        }

        /// About 100 KB in 2,000 lines, like a long prompt.
        static let longPrompt = (1...2_000).map { "\($0): " + String(repeating: "lorem ipsum ", count: 4) + "\n" }
            .joined()

        static let all: [Case] = [
            Case(
                name: "insertion in the middle", old: numbered(1...10),
                new: numbered(1...5) + "new\n" + numbered(6...10)),
            Case(name: "deletions", old: numbered(1...20), new: numbered(1...3) + numbered(6...14) + numbered(16...20)),
            Case(name: "change at the start", old: numbered(1...8), new: "first\n" + numbered(2...8)),
            Case(name: "change at the end", old: numbered(1...8), new: numbered(1...7) + "last\n"),
            Case(name: "old has no newline at the end", old: "a\nb\nc", new: "a\nb\nc\n"),
            Case(name: "new has no newline at the end", old: "a\nb\nc\n", new: "a\nb\nc"),
            Case(name: "neither has a newline at the end", old: "a\nb\nc", new: "a\nB\nc"),
            Case(name: "unchanged last line without newline", old: "a\nb\nc\nd\ne\nf\ng", new: "A\nb\nc\nd\ne\nf\ng"),
            Case(name: "completely different", old: numbered(1...30), new: (1...25).map { "other \($0)\n" }.joined()),
            Case(name: "empty old", old: "", new: "a\nb\n"),
            Case(name: "empty new", old: "a\nb\n", new: ""),
            Case(name: "one line without newline from nothing", old: "", new: "only"),
            Case(name: "repeated lines", old: "a\na\nb\na\na\nb\na\n", new: "a\nb\na\nb\nb\na\na\n"),
            Case(name: "blank lines", old: "\n\n\nx\n\n\n", new: "\n\nx\n\n\n\n\n"),
            Case(name: "CRLF lines", old: "one\r\ntwo\r\nthree\r\n", new: "one\r\n2\r\nthree\r\n"),
            Case(
                name: "lines that look like diff syntax", old: "--- a\n+++ b\n@@ x\n\\ y\n", new: "--- a\n@@ x\n+++ c\n"
            ),
            Case(name: "same text in two Unicode forms", old: "caf\u{E9}\nbar\n", new: "cafe\u{301}\nbar\n"),
            Case(
                name: "far apart changes in a long prompt", old: longPrompt,
                new: "Changed first line\n"
                    + longPrompt.split(separator: "\n", omittingEmptySubsequences: false)
                    .dropFirst().enumerated().map {
                        $0.offset == 1_000 ? "inserted\n\($0.element)" : String($0.element)
                    }
                    .joined(separator: "\n") + "appended"),
        ]
    }
}
