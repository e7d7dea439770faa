import Foundation
import PurserCore
import Testing

@Suite struct InputFileTests {
    @Test("the name an entry records comes from the source as written, never from the working directory")
    func fileNameIsTheLastComponentOfTheSource() {
        let cases: [(source: String, name: String, stem: String?)] = [
            ("results/junit.xml", "junit.xml", "junit"),
            ("/ci/out/results.tar.gz", "results.tar.gz", "results.tar"),
            (".hidden", ".hidden", ".hidden"),
            ("", "unnamed", "unnamed"),
            ("/", "unnamed", "unnamed"),
            ("standard input", "standard input", nil),
        ]
        for (source, name, stem) in cases {
            let file = InputFile(source: source, bytes: [])
            #expect(file.fileName == name, "source \"\(source)\"")
            #expect(file.stem == stem, "source \"\(source)\"")
        }
        // A server resolving a client's empty source against its own working directory would record that folder.
        let here = URL(fileURLWithPath: FileManager.default.currentDirectoryPath).lastPathComponent
        #expect(InputFile(source: "", bytes: []).fileName != here)
        #expect(InputFile(source: ".", bytes: []).fileName == ".")
    }
}
