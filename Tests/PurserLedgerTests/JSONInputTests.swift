import PurserLedger
import Testing

/// What the parser refuses, and how its messages name what they refuse (ledger/README.md §3.2).
@Suite struct JSONInputTests {
    private func reason(_ bytes: [UInt8]) -> String? {
        do {
            _ = try JSONValue(parsing: bytes)
            return nil
        } catch {
            return error.description
        }
    }

    @Test("a byte-order mark is named, not shown as the Latin-1 reading of its first byte")
    func byteOrderMark() throws {
        let message = try #require(reason([0xEF, 0xBB, 0xBF] + Array(#"{"a":1}"#.utf8)))
        #expect(message.contains("byte-order mark (U+FEFF)"), "\(message)")
        #expect(!message.contains("ï"), "\(message)")
        let inside = try #require(reason(Array(#"{"a":"#.utf8) + [0xEF, 0xBB, 0xBF] + Array("1}".utf8)))
        #expect(inside.contains("U+FEFF, a byte-order mark"), "\(inside)")
        #expect(reason(Array("{\"a\":é}".utf8))?.contains("unexpected character 'é' (U+00E9) at byte 6") == true)
        #expect(reason(Array("{\"a\":\u{1}}".utf8))?.contains("unexpected character U+0001 at byte 6") == true)
        #expect(reason(Array("{\"a\":}".utf8))?.contains("unexpected character '}' at byte 6") == true)
        #expect(reason(Array(#"{"a":"#.utf8) + [0xFF])?.contains("byte 0xFF (not UTF-8)") == true)
    }

    @Test("a number of 100,000 digits is named in a line, not echoed in full")
    func longNumbers() throws {
        for text in [String(repeating: "9", count: 100_000), "1" + String(repeating: "0", count: 99_999) + "1"] {
            let message = try #require(reason(Array("[\(text)]".utf8)))
            #expect(message.utf8.count < 200, "\(message.prefix(300))")
            #expect(message.contains("(100001 characters)") || message.contains("(100000 characters)"), "\(message)")
        }
        // Short numbers are still named whole.
        #expect(reason(Array("[9007199254740993]".utf8))?.contains("integer 9007199254740993 is beyond") == true)
    }

    @Test(
        "a number that is not zero but would become 0 is refused, as one that would become infinite is",
        arguments: ["1e-400", "-2.5e-330", "0.\(String(repeating: "0", count: 400))1", "1E-400"])
    func underflow(_ text: String) throws {
        let message = try #require(reason(Array("{\"a\":\(text)}".utf8)))
        #expect(message.contains("is too small for a double and would become 0"), "\(message)")
    }

    @Test(
        "zero written any way, and the smallest doubles, are accepted",
        arguments: ["0", "-0", "0.000", "0e-400", "5e-324", "2.2250738585072014e-308"])
    func smallButFine(_ text: String) throws {
        #expect(reason(Array("{\"a\":\(text)}".utf8)) == nil)
    }
}
