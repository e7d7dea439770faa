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
        #expect(TerminalText.escaped(text) == expected)
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
        // A character is wide if any of its scalars makes it so: ❤️ is ❤ and variation selector 16.
        ("\u{2764}\u{FE0F}\u{2764}\u{FE0F}\u{2764}\u{FE0F}", 5, "\u{2764}\u{FE0F}\u{2764}\u{FE0F}…"),
        ("a\u{1F1EB}\u{1F1F7}b\u{1F1EB}\u{1F1F7}", 4, "a\u{1F1EB}\u{1F1F7}…"),
        // A character of more scalars than any emoji sequence ends the line: 200 skin tones, 5,000 combining marks.
        // (b and the skin tones after it are one character.)
        ("ab" + String(repeating: "\u{1F3FB}", count: 200) + "cd", 80, "a…"),
        ("x" + String(repeating: "\u{301}", count: 5_000) + "yz", 80, "…"),
        // A kiss with skin tones is ten scalars, two columns.
        ("é 👩🏽‍❤️‍💋‍👨🏿 " + String(repeating: "z", count: 20), 10, "é 👩🏽‍❤️‍💋‍👨🏿 zzzz…"),
    ])
    func truncation(text: String, columns: Int, expected: String) {
        #expect(TerminalText.truncated(text, to: columns) == expected)
    }
}
