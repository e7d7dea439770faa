import PurserLedger
import Testing

@Suite("error messages that name parameters")
struct ErrorMessageTests {
    let error = LedgerError(
        .usage, naming: "\(parameter: "breakGlass") needs \(parameter: "breakGlassReason") {here}: \(42) of them")

    @Test("the message names parameters by their request field; each transport can name them its own way")
    func rendering() {
        #expect(error.message == "breakGlass needs breakGlassReason {here}: 42 of them")
        #expect(error.text.rendered { "--" + $0 } == "--breakGlass needs --breakGlassReason {here}: 42 of them")
        #expect(error.text.namesParameters)
        #expect(!LedgerError(.usage, "plain {text}").text.namesParameters)
    }

    @Test("the template marks parameters with braces and doubles every other brace, and reads back")
    func template() throws {
        #expect(error.text.template == "{breakGlass} needs {breakGlassReason} {{here}}: 42 of them")
        let read = try #require(LedgerError.Message(template: error.text.template))
        #expect(read.template == error.text.template)
        #expect(read.rendered { "<\($0)>" } == "<breakGlass> needs <breakGlassReason> {here}: 42 of them")
        #expect(LedgerError.Message(template: "")?.rendered { $0 } == "")
    }

    @Test("a brace with a combining mark after it is still doubled: readers other than Swift see scalars")
    func combiningMark() throws {
        let error = LedgerError(.usage, naming: "\(parameter: "margins") {\u{301}quality=x}\u{301}: unknown metric")
        #expect(Array(error.text.template.unicodeScalars.prefix(13)) == Array("{margins} {{\u{301}".unicodeScalars))
        let read = try #require(LedgerError.Message(template: error.text.template))
        #expect(read.rendered { _ in "--margin" } == "--margin {\u{301}quality=x}\u{301}: unknown metric")
        #expect(LedgerError.Message(template: "{\u{301}x}") == nil, "a single brace, then a mark, is no parameter")
    }

    @Test(
        "a template with a lone brace or a name that is not a field is refused",
        arguments: [
            "{", "}", "a } b", "{reason", "{}", "{two words}", "{a-b}", "x {{ {y}}",
        ])
    func malformed(template: String) {
        #expect(LedgerError.Message(template: template) == nil)
    }
}
