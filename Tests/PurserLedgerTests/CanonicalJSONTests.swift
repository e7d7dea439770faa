import PurserLedger
import Testing

@Suite struct CanonicalJSONTests {
    private func canonical(_ text: String) throws -> String {
        String(decoding: CanonicalJSON.encode(try JSONValue(parsing: text)), as: UTF8.self)
    }

    @Test func rfc8785Example() throws {
        // RFC 8785 §3.2.4, "Sorting of Object Properties" input and the expected output.
        let input = #"""
            {
              "numbers": [333333333.33333329, 1E30, 4.50, 2e-3, 0.000000000000000000000000001],
              "string": "\u20ac$\u000F\u000aA'\u0042\u0022\u005c\\\"\/",
              "literals": [null, true, false]
            }
            """#
        #expect(
            try canonical(input)
                == #"{"literals":[null,true,false],"numbers":[333333333.3333333,1e+30,4.5,0.002,1e-27],"string":"€$\u000f\nA'B\"\\\\\"/"}"#
        )
    }

    @Test func keysSortByUTF16CodeUnits() throws {
        // RFC 8785 §3.2.3 example: the order is by UTF-16 code units, not by code points or UTF-8.
        let input =
            #"{"\u20ac":"Euro Sign","\r":"Carriage Return","\ufb33":"Hebrew Letter Dalet With Dagesh","1":"One","\ud83d\ude00":"Emoji: Grinning Face","\u0080":"Control","\u00f6":"Latin Small Letter O With Diaeresis"}"#
        let expected =
            "{\"\\r\":\"Carriage Return\",\"1\":\"One\",\"\u{80}\":\"Control\","
            + "\"\u{f6}\":\"Latin Small Letter O With Diaeresis\",\"\u{20ac}\":\"Euro Sign\","
            + "\"\u{1F600}\":\"Emoji: Grinning Face\",\"\u{fb33}\":\"Hebrew Letter Dalet With Dagesh\"}"
        #expect(try canonical(input) == expected)
    }

    @Test(arguments: [
        (0.0, "0"), (-0.0, "0"), (1.0, "1"), (-1.5, "-1.5"), (1e21, "1e+21"), (1e20, "100000000000000000000"),
        (1e-7, "1e-7"), (1e-6, "0.000001"), (123.456, "123.456"), (9_007_199_254_740_992, "9007199254740992"),
        (Double.leastNonzeroMagnitude, "5e-324"), (1.7976931348623157e308, "1.7976931348623157e+308"), (0.1, "0.1"),
        (295_147_905_179_352_825_856, "295147905179352830000"), (4.35, "4.35"), (1.5e300, "1.5e+300"),
        (4.480595794980661e16, "44805957949806610"), (9_007_199_254_740_994, "9007199254740994"),
        (-1e20, "-100000000000000000000"),
    ])
    func numbersFormatLikeECMAScript(value: Double, expected: String) {
        #expect(CanonicalJSON.format(value) == expected)
    }

    @Test func controlCharactersUseShortEscapesOrLowercaseHex() throws {
        #expect(try canonical(#""\u0001\b\t\n\f\r\u001F\u007f""#) == "\"\\u0001\\b\\t\\n\\f\\r\\u001f\u{7f}\"")
    }

    @Test(arguments: [
        (#"{"a":1,"a":2}"#, "duplicate key"),
        ("12345678901234567890", "beyond ±2^53"),
        ("9007199254740993", "beyond ±2^53"),
        ("44805957949806608", "beyond ±2^53"),
        (#"{"\u00e9":1,"e\u0301":2}"#, "different Unicode normal forms"),
        (#""\ud800""#, "lone surrogate"),
        ("{} x", "unexpected data"),
        ("[1,]", "unexpected character"),
        ("01", "unexpected data"),
        ("1e999", "out of range"),
        ("\"a\u{01}\"", "control character"),
        (String(repeating: "[", count: 300) + String(repeating: "]", count: 300), "nesting deeper"),
    ])
    func refusesWhatCanonicalJSONCannotKeep(input: String, reason: String) {
        #expect {
            _ = try JSONValue(parsing: input)
        } throws: { error in
            "\(error)".contains(reason)
        }
    }

    @Test(arguments: ["100000000000000000000", "44805957949806610", "9007199254740992", "-9007199254740992", "1e+300"])
    func canonicalSpellingsOfLargeNumbersReadBack(text: String) throws {
        let value = try JSONValue(parsing: text)
        let canonical = CanonicalJSON.encode(value)
        #expect(try JSONValue(parsing: canonical) == value)
    }

    @Test func roundTripsThroughCanonicalBytes() throws {
        let text = #"{"z":[1,2.5,"é",{"b":null,"a":true}],"a":-0.000001}"#
        let once = CanonicalJSON.encode(try JSONValue(parsing: text))
        let twice = CanonicalJSON.encode(try JSONValue(parsing: once))
        #expect(once == twice)
        #expect(String(decoding: once, as: UTF8.self) == #"{"a":-0.000001,"z":[1,2.5,"é",{"a":true,"b":null}]}"#)
    }
}
