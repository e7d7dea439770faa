import PurserCore
import Testing

/// The text helpers of `purser log`'s lines: escaping untrusted text and cutting it to terminal columns.
@Suite struct EntrySummaryTests {
    @Test(arguments: [
        ("plain", "plain"),
        ("a\u{1B}[2Jb", #"a\u{1B}[2Jb"#),
        ("line\nbreak\r\ttab", #"line\nbreak\r\ttab"#),
        ("del\u{7F} c1\u{9B}", #"del\u{7F} c1\u{9B}"#),
        ("\u{202E}txt.exe \u{2066}x\u{2069} zw\u{200B}sp", #"\u{202E}txt.exe \u{2066}x\u{2069} zw\u{200B}sp"#),
        ("sep\u{2028}par\u{2029}", #"sep\u{2028}par\u{2029}"#),
        ("👩‍💻 名前 é", "👩‍💻 名前 é"),
    ])
    func escaping(text: String, expected: String) {
        #expect(EntrySummary.escaped(text) == expected)
    }

    @Test(arguments: [
        ("short", 10, "short"),
        ("exactly10!", 10, "exactly10!"),
        ("eleven chars", 10, "eleven ch…"),
        // Wide characters take two columns: 名前 is 4, and the ellipsis 1.
        ("名前名前名前", 5, "名前…"),
        ("名前名前名前", 6, "名前…"),
        ("名前名前名前", 12, "名前名前名前"),
        ("ab🙂cd", 4, "ab…"),
        ("anything", 1, "…"),
        ("anything", 0, ""),
    ])
    func truncation(text: String, columns: Int, expected: String) {
        #expect(EntrySummary.truncated(text, to: columns) == expected)
    }
}
