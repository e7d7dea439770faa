import PurserLedger
import Testing

@testable import PurserCore

@Suite struct YAMLTests {
    private func canonical(_ value: JSONValue) -> String {
        String(decoding: CanonicalJSON.encode(value), as: UTF8.self)
    }

    private func parse(_ text: String) throws -> JSONValue {
        try YAML.parse(text, source: "agent.yaml")
    }

    /// The message of the error `text` is refused with, after checking it is one line of invalid input.
    private func refusal(_ text: String) -> String? {
        let error = #expect(throws: LedgerError.self) { try parse(text) }
        #expect(error?.code == .invalidInput)
        #expect(error?.message.contains("\n") == false)
        return error?.message
    }

    @Test func keyOrderWhitespaceCommentsAndStyleDoNotChangeTheValue() throws {
        let block = """
            # The agent
            name: support-bot
            model:   gpt-4o
            temperature: 0.2
            tools:
              - name: search
                limits: {results: 10, timeout: 2.5}
              - name: refund
                limits:
                  timeout: 30
            """
        let flow = """
            {tools: [{limits: {timeout: 2.5, results: 10}, name: search},
                     {name: refund, limits: {timeout: 30}}],
             temperature: 0.2, "model": 'gpt-4o', name: "support-bot"}
            """
        let json = #"""
            {"name":"support-bot","model":"gpt-4o","temperature":0.2,"tools":[{"name":"search",
            "limits":{"results":10,"timeout":2.5}},{"name":"refund","limits":{"timeout":30}}]}
            """#
        let expected = canonical(try JSONValue(parsing: json))
        #expect(canonical(try parse(block)) == expected)
        #expect(canonical(try parse(flow)) == expected)
    }

    @Test(arguments: [
        #"{"name":"get_weather","description":"Weather for a city","parameters":{"type":"object","properties":"#
            + #"{"city":{"type":"string"},"days":{"type":"integer","minimum":1,"maximum":14}},"required":["city"]}}"#,
        #"{"temperature": 0.2, "max_tokens": 1024, "offset": -3, "budget": 1e3, "tiny": 2.5E-7, "zero": -0.0}"#,
        #"[[1, [2, [3, []]]], {}, [], "", "a\"b\\c\nd\te\u00e9\u0001", true, false, null]"#,
        #"{"stop": ["\n\n", "User:"], "nested": {"a": {"b": {"c": [0.1, 0.25, 1.5e+300]}}}}"#,
        " { \"spaced\" :\t[ 1 ,2 ]\r\n}",
        "1.0",
        #""just a string""#,
    ])
    func jsonDocumentsReadAsTheSameValueAsTheJSONParserReadsThem(json: String) throws {
        let viaJSON = try JSONValue(parsing: json)
        let viaYAML = try YAML.parseYAML(json, source: "agent.json")
        #expect(viaYAML == viaJSON)
        #expect(canonical(viaYAML) == canonical(viaJSON))
        #expect(try parse(json) == viaJSON)
    }

    @Test(arguments: ["\t{\"name\": \"a\"}\n", #"{"emoji": "\uD83D\uDE00"}"#])
    func jsonThatLibyamlRefusesIsReadAsJSON(json: String) throws {
        #expect(throws: LedgerError.self) { try YAML.parseYAML(json, source: "agent.json") }
        #expect(try parse(json) == JSONValue(parsing: json))
    }

    @Test(arguments: [
        ("~", JSONValue.null), ("null", .null), ("Null", .null), ("", .null),
        ("true", .bool(true)), ("False", .bool(false)), ("yes", .bool(true)), ("off", .bool(false)),
        ("42", .number(42)), ("-3", .number(-3)), ("+7", .number(7)), ("1_000", .number(1000)),
        ("0x1F", .number(31)), ("0o17", .number(15)), ("017", .number(15)), ("0b101", .number(5)),
        ("190:20:30", .number(685_230)),
        ("0.2", .number(0.2)), ("1e3", .number(1000)), ("-1.5E-3", .number(-0.0015)), (".5", .number(0.5)),
        ("1.", .number(1)), ("1:30.5", .number(90.5)),
        ("\"1.0\"", .string("1.0")), ("'42'", .string("42")), ("\"true\"", .string("true")),
        ("'null'", .string("null")), ("\"\"", .string("")), ("!!str 12", .string("12")),
        ("hello world", .string("hello world")), ("2001-12-14", .string("2001-12-14")),
        ("2001-12-14t21:59:43.10-05:00", .string("2001-12-14t21:59:43.10-05:00")),
        ("!!binary aGVsbG8=", .string("aGVsbG8=")), ("!custom thing", .string("thing")), ("=", .string("=")),
        ("!!int '12'", .number(12)), ("!!float 3", .number(3)),
    ])
    func scalarsAreTypedByTheirResolvedTag(scalar: String, expected: JSONValue) throws {
        #expect(try parse("value: \(scalar)\n") == .object(["value": expected]))
    }

    @Test func anEmptyDocumentIsNull() throws {
        #expect(try parse("") == .null)
        #expect(try parse("# only a comment\n") == .null)
        #expect(try parse("---\n...\n") == .null)
    }

    @Test(arguments: [
        (
            "name: a\nmodel: x\ntools: []\nmodel: y\n",
            #"agent.yaml line 4 column 1: duplicate key "model" (first at line 2)"#
        ),
        (
            "tools:\n  - name: a\n    name: b\n", #"agent.yaml line 3 column 5: duplicate key "name" (first at line 2)"#
        ),
        ("a: 1\n\"a\": 2\n", #"agent.yaml line 2 column 1: duplicate key "a" (first at line 1)"#),
        // The same text with different types: Yams keeps them apart, JSON cannot.
        ("1: x\n\"1\": y\n", #"agent.yaml line 2 column 1: duplicate key "1" (first at line 1)"#),
        (
            "limits: {timeout: 1, timeout: 2}\n",
            #"agent.yaml line 1 column 10: duplicate key "timeout" (the same mapping has it again later)"#
        ),
        (
            "b: 1\na: 1\nb: 2\na: 2\n",
            #"agent.yaml line 4 column 1: duplicate key "a" (first at line 2; also repeated: "b")"#
        ),
    ])
    func duplicateKeysAreRefusedWithTheKeyAndItsLine(yaml: String, message: String) {
        #expect(refusal(yaml) == message)
    }

    @Test(arguments: [
        ("name: a\nmodel:\n  id: x\n   size: 3\n", "agent.yaml line 4 column 8: invalid YAML: mapping values are not"),
        ("tools: [a, b\n", "agent.yaml line 2 column 1: invalid YAML: did not find expected ',' or ']'"),
        (
            "name: a\n\tmodel: x\n",
            "agent.yaml line 2 column 1: invalid YAML: found a tab character that violates indentation"
        ),
        ("a: *missing\n", "agent.yaml line 1 column 4: invalid YAML: found undefined alias"),
        ("a: 1\u{7}\n", "agent.yaml line 1 column 5: invalid YAML: control characters are not allowed"),
    ])
    func invalidYAMLIsRefusedOnOneLineWithItsPosition(yaml: String, prefix: String) {
        let message = refusal(yaml)
        #expect(message?.hasPrefix(prefix) == true, "\(message ?? "no error")")
    }

    @Test(arguments: [
        ("? [a, b]\n: 1\n", "agent.yaml line 1 column 3: a mapping key must be a string, not a sequence"),
        ("{a: 1}: 2\n", "agent.yaml line 1 column 1: a mapping key must be a string, not a mapping"),
    ])
    func keysMustBeScalars(yaml: String, message: String) {
        #expect(refusal(yaml) == message)
    }

    @Test func scalarKeysBecomeTheirText() throws {
        #expect(
            try parse("1: a\ntrue: b\n~: c\n1.50: d\n")
                == .object(["1": .string("a"), "true": .string("b"), "~": .string("c"), "1.50": .string("d")]))
    }

    @Test(arguments: [
        "9007199254740993", "-9007199254740993", "12345678901234567890", "0x20000000000001",
        "0b" + String(repeating: "1", count: 64),
    ])
    func integersAJSONNumberCannotHoldExactlyAreRefused(integer: String) {
        #expect(
            refusal("count: \(integer)\n")
                == "agent.yaml line 1 column 8: integer \(integer) is beyond ±2^53 and would change as a JSON number;"
                + " quote it to keep it as text")
    }

    @Test func integersUpTo2To53AndCanonicalSpellingsBeyondAreAccepted() throws {
        #expect(try parse("n: 9007199254740992") == .object(["n": .number(9_007_199_254_740_992)]))
        #expect(try parse("n: -9007199254740992") == .object(["n": .number(-9_007_199_254_740_992)]))
        #expect(try parse("n: 0x20000000000000") == .object(["n": .number(9_007_199_254_740_992)]))
        // As the JSON parser does: the spelling canonical JSON writes for 1e20 reads back unchanged.
        #expect(try parse("n: 100000000000000000000") == JSONValue(parsing: #"{"n": 100000000000000000000}"#))
    }

    @Test(arguments: [".nan", ".NaN", ".inf", "-.inf", "+.INF", "!!float nan"])
    func nanAndInfinityAreRefused(scalar: String) {
        let message = refusal("threshold: \(scalar)\n")
        #expect(message?.hasPrefix("agent.yaml line 1 column 12: ") == true, "\(message ?? "no error")")
        #expect(message?.contains("is not a number JSON can hold") == true, "\(message ?? "no error")")
    }

    @Test func quotedSpecialNumbersAreStrings() throws {
        #expect(
            try parse("a: '.nan'\nb: \"9007199254740993\"\n")
                == .object(["a": .string(".nan"), "b": .string("9007199254740993")]))
    }

    @Test(arguments: ["a: 1\n---\nb: 2\n", "---\na: 1\n---\n", "a: 1\n...\n---\nb: 2\n"])
    func moreThanOneDocumentIsRefused(yaml: String) {
        let message = refusal(yaml)
        #expect(message?.hasPrefix("agent.yaml line ") == true, "\(message ?? "no error")")
        #expect(message?.hasSuffix("a second YAML document starts here; a file must hold one document") == true)
    }

    @Test func aliasesAreExpandedAndMergeKeysApplied() throws {
        let yaml = """
            defaults: &defaults {timeout: 30, retries: 2}
            fast: &fast {timeout: 5}
            search:
              <<: [*fast, *defaults]
              retries: 4
            refund: *defaults
            """
        let expected = #"""
            {"defaults":{"timeout":30,"retries":2},"fast":{"timeout":5},
             "search":{"timeout":5,"retries":4},"refund":{"timeout":30,"retries":2}}
            """#
        #expect(try parse(yaml) == JSONValue(parsing: expected))
        #expect(
            refusal("a: &a 1\nb:\n  <<: *a\n")
                == "agent.yaml line 1 column 4: a merge key (<<) takes a mapping or a sequence of mappings")
        #expect(try parse("\"<<\": 1\n") == .object(["<<": .number(1)]))
    }

    @Test func aliasesCannotExpandWithoutBound() {
        var yaml = "a0: &a0 [x, x, x, x, x, x, x, x, x, x]\n"
        for level in 1...9 {
            yaml +=
                "a\(level): &a\(level) [" + Array(repeating: "*a\(level - 1)", count: 10).joined(separator: ", ")
                + "]\n"
        }
        #expect(refusal(yaml)?.contains("expands to more than 1000000 values through aliases") == true)
    }

    @Test func nestingIsLimitedAsForJSON() throws {
        let deepest = String(repeating: "[", count: 256) + String(repeating: "]", count: 256)
        #expect(try parse(deepest) == JSONValue(parsing: deepest))
        let tooDeep = "[" + deepest + "]"
        #expect(throws: JSONError.self) { try JSONValue(parsing: tooDeep) }
        #expect(refusal(tooDeep) == "agent.yaml line 1 column 257: nesting deeper than 256 levels")
    }
}
