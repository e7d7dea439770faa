import Foundation
import Testing

/// The README's Layout section is a map a newcomer follows: every folder it names exists.
@Suite struct ReadmeLayoutTests {
    /// Each line of the section's code block that starts in the first column names a folder of the repository
    /// (`Sources/PurserCore/`); the capitalised folders its description names (`Checklist/Evaluations/`,
    /// `Middleware/`) are inside that folder, or at the repository's root (`Tests/Fuzz/`).
    @Test func everyFolderTheLayoutNamesExists() throws {
        let root = ReadmeTests.root
        let readme = try String(contentsOf: root.appendingPathComponent("README.md"), encoding: .utf8)
        let section = try #require(readme.range(of: "## Layout\n"))
        let start = try #require(readme.range(of: "```\n", range: section.upperBound..<readme.endIndex))
        let end = try #require(readme.range(of: "```", range: start.upperBound..<readme.endIndex))
        func exists(_ path: String) -> Bool {
            var isFolder: ObjCBool = false
            let path = root.appendingPathComponent(path).path
            return FileManager.default.fileExists(atPath: path, isDirectory: &isFolder) && isFolder.boolValue
        }
        var folder = ""
        var named = 0
        for line in readme[start.upperBound..<end.lowerBound].split(separator: "\n") {
            var description = line
            if line.first != " " {
                folder = String(line.prefix { $0 != " " })
                #expect(exists(folder), "README Layout: no folder \(folder)")
                description = line.drop { $0 != " " }
            }
            for word in description.split(whereSeparator: { " (),;:`".contains($0) })
            where word.wholeMatch(of: /(?:[A-Z][A-Za-z]*\/)+/) != nil {
                let path = String(word)
                named += 1
                #expect(exists(folder + path) || exists(path), "README Layout: no folder \(path) in \(folder)")
            }
        }
        #expect(named > 10)
    }
}
