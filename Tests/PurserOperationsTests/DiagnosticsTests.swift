import Testing

@testable import PurserOperations

@Suite("The one printer of purser: error|warning|note lines")
struct DiagnosticsTests {
    @Test("a message is one escaped line under its label: line breaks and escapes written out, tabs kept")
    func oneEscapedLine() {
        #expect(
            Diagnostics.line("error", "bad\nname \u{1B}[31mred\tcell")
                == "purser: error: bad\\nname \\u{1B}[31mred\tcell\n")
        #expect(Diagnostics.line("warning", "no tokens") == "purser: warning: no tokens\n")
        #expect(Diagnostics.line("note", "soft\u{AD}hyphen") == "purser: note: soft\\u{AD}hyphen\n")
    }
}
