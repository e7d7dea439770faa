import PurserCore
import PurserLedger
import Testing

/// An input that must be refused, and the exact message.
struct RefusedResults: Sendable, CustomTestStringConvertible {
    let input: String
    let message: String

    init(_ input: String, _ message: String) {
        self.input = input
        self.message = message
    }

    var testDescription: String { message }
}

@Suite("EvaluationResults: reading evaluation results files")
struct EvaluationResultsTests {
    func parse(_ text: String, _ format: EvaluationFormat) throws -> EvaluationRun {
        try EvaluationResults.parse(Array(text.utf8), format: format, source: "results")
    }

    /// The error `bytes` raise, or nil if they parse.
    func refusal(_ bytes: [UInt8], _ format: EvaluationFormat, source: String) -> LedgerError? {
        do {
            _ = try EvaluationResults.parse(bytes, format: format, source: source)
            return nil
        } catch {
            return error
        }
    }

    func refusal(_ text: String, _ format: EvaluationFormat, source: String) -> LedgerError? {
        refusal(Array(text.utf8), format, source: source)
    }

    @Test("the formats are named as --format spells them")
    func formatNames() {
        #expect(EvaluationFormat.allCases.map(\.rawValue) == ["json", "junit", "promptfoo"])
    }

    // MARK: purser JSON

    @Test("purser JSON: suite, time in ledger form, cases in order with repeats, unknown fields ignored")
    func genericObject() throws {
        let run = try parse(
            """
            {
              "suite": "refunds",
              "observed_at": "2026-11-27T16:03:00.25+02:00",
              "tool": {"name": "homegrown-evals", "version": "1.4"},
              "cases": [
                {"name": "refund over limit", "passed": true, "score": 0.92, "latency_ms": 812},
                {"name": "angry customer", "passed": false, "score": null},
                {"name": "refund over limit", "passed": false, "reason": "approved without a manager"}
              ]
            }
            """, .json)
        #expect(
            run
                == EvaluationRun(
                    suite: "refunds",
                    cases: [
                        CaseResult(name: "refund over limit", passed: true),
                        CaseResult(name: "angry customer", passed: false),
                        CaseResult(name: "refund over limit", passed: false),
                    ],
                    observedAt: "2026-11-27T14:03:00.250Z"))
    }

    @Test("purser JSON: a bare array of cases has no suite or time; null suite and time are absent")
    func genericArray() throws {
        let array = try parse(#"[{"name": "a", "passed": true}, {"name": "a", "passed": true}]"#, .json)
        #expect(
            array == EvaluationRun(cases: [CaseResult(name: "a", passed: true), CaseResult(name: "a", passed: true)]))
        let nulls = try parse(
            #"{"suite": null, "observed_at": null, "cases": [{"name": "b", "passed": false}]}"#, .json)
        #expect(nulls == EvaluationRun(cases: [CaseResult(name: "b", passed: false)]))
    }

    static let refusedJSON: [RefusedResults] = [
        .init(#"{"cases": [}"#, "results.json: invalid JSON: unexpected character '}' at byte 12"),
        .init("", "results.json: invalid JSON: unexpected end of input at byte 1"),
        .init(#""cases""#, #"results.json: expected an object with "cases" or an array of cases, got "cases""#),
        .init(
            #"{"suite": "refunds"}"#,
            #"results.json: cases: missing: the array of {"name": …, "passed": true|false} objects"#),
        .init(
            #"{"cases": {"a": true}}"#,
            #"results.json: cases: expected an array of {"name", "passed"} objects, got an object"#),
        .init(#"{"cases": []}"#, "results.json: no test cases"),
        .init("[]", "results.json: no test cases"),
        .init(#"{"cases": [true]}"#, #"results.json: cases[0]: expected an object with "name" and "passed", got true"#),
        .init(#"{"cases": [{"passed": true}]}"#, "results.json: cases[0].name: missing"),
        .init(
            #"{"cases": [{"name": "", "passed": true}]}"#,
            #"results.json: cases[0].name: expected a non-empty string, got """#),
        .init(
            #"{"cases": [{"name": " \t", "passed": true}]}"#,
            #"results.json: cases[0].name: expected a non-empty string, got " \t""#),
        .init(
            #"{"cases": [{"name": 7, "passed": true}]}"#,
            "results.json: cases[0].name: expected a non-empty string, got 7"),
        .init(
            #"{"cases": [{"name": "a", "passed": true}, {"name": "b", "passed": true}, "#
                + #"{"name": "c", "passed": true}, {"name": "d", "passed": "yes"}]}"#,
            #"results.json: cases[3].passed: expected true or false, got "yes""#),
        .init(#"{"cases": [{"name": "a"}]}"#, "results.json: cases[0].passed: missing: expected true or false"),
        .init(#"[{"name": "a", "passed": 1}]"#, "results.json: [0].passed: expected true or false, got 1"),
        .init(
            #"{"cases": [{"name": "a", "passed": true, "score": "high"}]}"#,
            #"results.json: cases[0].score: expected a number, got "high""#),
        .init(
            #"{"suite": "", "cases": [{"name": "a", "passed": true}]}"#,
            #"results.json: suite: expected a non-empty string, got """#),
        .init(
            #"{"suite": ["x"], "cases": [{"name": "a", "passed": true}]}"#,
            "results.json: suite: expected a non-empty string, got an array"),
        .init(
            #"{"observed_at": "yesterday", "cases": [{"name": "a", "passed": true}]}"#,
            #"results.json: observed_at: expected an RFC 3339 time such as 2026-11-27T14:03:00Z, got "yesterday""#),
        .init(
            #"{"observed_at": "2026-11-27T14:03:00", "cases": [{"name": "a", "passed": true}]}"#,
            "results.json: observed_at: expected an RFC 3339 time such as 2026-11-27T14:03:00Z, "
                + #"got "2026-11-27T14:03:00""#
        ),
    ]

    @Test("purser JSON: each invalid file is refused naming the field", arguments: refusedJSON)
    func genericRefused(_ refused: RefusedResults) {
        let error = refusal(refused.input, .json, source: "results.json")
        #expect(error?.message == refused.message)
        #expect(error?.code == .invalidInput)
    }

    // MARK: JUnit

    @Test("JUnit from pytest: failures and errors fail, skipped cases are left out, repeats kept, time with offset")
    func junitPytest() throws {
        let run = try parse(
            """
            <?xml version="1.0" encoding="utf-8"?>
            <testsuites><testsuite name="pytest" errors="1" failures="1" skipped="1" tests="6" time="0.412" \
            timestamp="2026-11-27T15:03:00.123456+01:00" hostname="ci-runner-7">\
            <testcase classname="tests.test_refunds" name="test_within_limit" time="0.002" />\
            <testcase classname="tests.test_refunds" name="test_over_limit" time="0.004">\
            <failure message="AssertionError: assert 120 &lt;= 100">def test_over_limit():
            &gt;       assert refund(120) &lt;= 100
            E       AssertionError: assert 120 &lt;= 100</failure></testcase>\
            <testcase classname="tests.test_refunds" name="test_ledger" time="0.000">\
            <error message="failed on setup with &quot;fixture 'db' not found&quot;">file /src/tests/test_refunds.py, \
            line 30</error></testcase>\
            <testcase classname="tests.test_refunds" name="test_currency" time="0.000">\
            <skipped type="pytest.skip" message="needs network">/src/tests/test_refunds.py:41: needs network</skipped>\
            </testcase>\
            <testcase classname="tests.test_refunds" name="test_flaky_llm" time="1.2" />\
            <testcase classname="tests.test_refunds" name="test_flaky_llm" time="1.1">\
            <failure message="judge said no">judge said no</failure></testcase>\
            </testsuite></testsuites>
            """, .junit)
        #expect(
            run
                == EvaluationRun(
                    suite: "pytest",
                    cases: [
                        CaseResult(name: "tests.test_refunds.test_within_limit", passed: true),
                        CaseResult(name: "tests.test_refunds.test_over_limit", passed: false),
                        CaseResult(name: "tests.test_refunds.test_ledger", passed: false),
                        CaseResult(name: "tests.test_refunds.test_flaky_llm", passed: true),
                        CaseResult(name: "tests.test_refunds.test_flaky_llm", passed: false),
                    ],
                    observedAt: "2026-11-27T14:03:00.123Z"))
    }

    @Test("JUnit from jest-junit: <testsuites name> is the suite, zoneless timestamps are UTC, CDATA is only text")
    func junitJest() throws {
        let run = try parse(
            """
            <?xml version="1.0" encoding="UTF-8"?>
            <testsuites name="jest tests" tests="3" failures="1" errors="0" time="1.234">
              <testsuite name="refunds" errors="0" failures="1" skipped="0" timestamp="2026-11-27T14:03:02"
                time="0.8" tests="2">
                <testcase classname="refunds over limit" name="refunds over limit" time="0.01">
                </testcase>
                <testcase classname="refunds rejects negative" name="refunds rejects negative" time="0.02">
                  <failure><![CDATA[Error: expect(received).toBe(expected) // Object.is equality

            Expected: <b>rejected</b>
            Received: "accepted" </testcase> <failure>
                at Object.<anonymous> (refunds.test.js:12:5)]]></failure>
                </testcase>
              </testsuite>
              <testsuite name="greetings" errors="0" failures="0" skipped="0" timestamp="2026-11-27T14:03:00"
                time="0.1" tests="1">
                <testcase classname="greets politely" name="greets politely" time="0.003">
                  <system-out><![CDATA[</testcase><failure message="not a real failure"/><error>]]></system-out>
                </testcase>
              </testsuite>
            </testsuites>
            """, .junit)
        #expect(
            run
                == EvaluationRun(
                    suite: "jest tests",
                    cases: [
                        CaseResult(name: "refunds over limit.refunds over limit", passed: true),
                        CaseResult(name: "refunds rejects negative.refunds rejects negative", passed: false),
                        CaseResult(name: "greets politely.greets politely", passed: true),
                    ],
                    observedAt: "2026-11-27T14:03:00.000Z"))
    }

    @Test("JUnit from Maven Surefire: a lone <testsuite> root after a BOM, with properties, and no timestamp")
    func junitSurefire() throws {
        let xml = """
            <?xml version="1.0" encoding="UTF-8"?>
            <testsuite xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" \
            xsi:noNamespaceSchemaLocation=\
            "https://maven.apache.org/surefire/maven-surefire-plugin/xsd/surefire-test-report-3.0.xsd" \
            version="3.0" name="com.example.RefundTest" time="0.052" tests="3" errors="0" skipped="1" failures="1">
              <properties>
                <property name="java.version" value="21.0.2"/>
                <property name="line.separator" value="&#10;"/>
              </properties>
              <testcase name="overLimit" classname="com.example.RefundTest" time="0.011">
                <failure message="expected: &lt;100&gt; but was: &lt;120&gt;"
                  type="org.opentest4j.AssertionFailedError">\
            <![CDATA[org.opentest4j.AssertionFailedError: expected: <100> but was: <120>
                at com.example.RefundTest.overLimit(RefundTest.java:21)
            ]]></failure>
                <system-out><![CDATA[refund requested: 120]]></system-out>
              </testcase>
              <testcase name="withinLimit" classname="com.example.RefundTest" time="0.001"/>
              <testcase name="currency" classname="com.example.RefundTest" time="0">
                <skipped message="not yet"/>
              </testcase>
            </testsuite>
            """
        let run = try EvaluationResults.parse([0xEF, 0xBB, 0xBF] + Array(xml.utf8), format: .junit, source: "r.xml")
        #expect(
            run
                == EvaluationRun(
                    suite: "com.example.RefundTest",
                    cases: [
                        CaseResult(name: "com.example.RefundTest.overLimit", passed: false),
                        CaseResult(name: "com.example.RefundTest.withinLimit", passed: true),
                    ]))
    }

    static let junitCases: [(xml: String, expected: EvaluationRun)] = [
        // Comments, also around the root and holding markup, are skipped.
        (
            """
            <!-- generated by ci --><testsuite name="s"><!-- <testcase name="ghost"/> -->
            <testcase name="real"><!-- <failure/> --></testcase><!----></testsuite><!-- after -->
            """,
            EvaluationRun(suite: "s", cases: [CaseResult(name: "real", passed: true)])
        ),
        // Entity and character references in either quote style; whitespace in values becomes spaces.
        (
            """
            <testsuite name='s'><testcase classname='refunds "v2"' \
            name="a &amp; b &lt;c&gt; &quot;d&quot; &apos;e&apos; &#65;&#x42;&#x1F600;"/>
            <testcase name="two
            \tlines" /><testcase name="x&#10;y&#9;z"/></testsuite>
            """,
            EvaluationRun(
                suite: "s",
                cases: [
                    CaseResult(name: #"refunds "v2".a & b <c> "d" 'e' AB😀"#, passed: true),
                    CaseResult(name: "two  lines", passed: true),
                    CaseResult(name: "x\ny\tz", passed: true),
                ])
        ),
        // Nested suites: no single suite to name, the earliest timestamp, document order.
        (
            """
            <testsuites><testsuite name="outer" timestamp="2026-11-27T14:05:00">
            <testsuite name="inner" timestamp="2026-11-27T14:03:00.5"><testcase name="deep"/></testsuite>
            <testcase name="shallow"><error/></testcase></testsuite></testsuites>
            """,
            EvaluationRun(
                cases: [CaseResult(name: "deep", passed: true), CaseResult(name: "shallow", passed: false)],
                observedAt: "2026-11-27T14:03:00.500Z")
        ),
        // The <testsuites> timestamp and name win over the suites'.
        (
            """
            <testsuites name="all" timestamp="2026-11-27T10:00:00Z">
            <testsuite name="one" timestamp="2026-11-27T09:00:00Z"><testcase name="a"/></testsuite></testsuites>
            """,
            EvaluationRun(
                suite: "all", cases: [CaseResult(name: "a", passed: true)], observedAt: "2026-11-27T10:00:00.000Z")
        ),
        // A DOCTYPE with an internal subset, processing instructions, a space for the T, an empty classname.
        (
            """
            <?xml version="1.0"?>
            <?xml-stylesheet type="text/xsl" href="junit.xsl"?>
            <!DOCTYPE testsuite [ <!ENTITY note "a > b"> ]>
            <testsuite name="s" timestamp="2026-11-27 14:03:00"><testcase classname="" name="a"/></testsuite>
            """,
            EvaluationRun(
                suite: "s", cases: [CaseResult(name: "a", passed: true)], observedAt: "2026-11-27T14:03:00.000Z")
        ),
        // Windows line endings; <skipped> wins over <failure>; failure elements deeper than a child don't count.
        (
            "<testsuite name=\"s\">\r\n<testcase name=\"a\"><skipped/><failure/></testcase>\r\n"
                + "<testcase name=\"b\"><system-out><failure/></system-out></testcase>\r\n</testsuite>\r\n",
            EvaluationRun(suite: "s", cases: [CaseResult(name: "b", passed: true)])
        ),
    ]

    @Test("JUnit: comments, entities, nested suites, DOCTYPE and PIs", arguments: 0..<junitCases.count)
    func junitVariants(_ index: Int) throws {
        let (xml, expected) = Self.junitCases[index]
        #expect(try parse(xml, .junit) == expected)
    }

    static let refusedJUnit: [RefusedResults] = [
        .init(
            "<testsuite name=\"s\">\n  <testcase name=\"a\">\n  </testsuite>\n",
            "results.xml: line 3: </testsuite> does not match <testcase> opened on line 2"),
        .init(
            "<testsuite name=\"s\">\r\n  <testcase name=\"a\">\r\n  </testsuite>\r\n",
            "results.xml: line 3: </testsuite> does not match <testcase> opened on line 2"),
        .init(
            "<testsuite name=\"s\">\n<testcase name=\"a\"/>\n",
            "results.xml: line 1: <testsuite> is never closed (no </testsuite>)"),
        .init(
            "<testsuite name=\"s\">\n<testcase name=\"a\"\n<failure/></testcase></testsuite>",
            "results.xml: line 2: <testcase> is not closed with > before the next < on line 3"),
        .init("<testsuite name=\"s\">\n<testcase name=\"a\"", "results.xml: line 2: <testcase> is never closed with >"),
        .init(
            "<testsuite name=\"s\"></testsuite>\n</testsuite>",
            "results.xml: line 2: </testsuite> closes an element that was never opened"),
        .init(
            "<testsuite name=\"s\"></testsuite>\n<testsuite name=\"t\"/>",
            "results.xml: line 2: a second root element <testsuite> after </testsuite>"),
        .init("<testsuite>\n<!-- unfinished\n</testsuite>", "results.xml: line 2: comment is never closed (no -->)"),
        .init(
            "<testsuite>\n<testcase name=\"a\"><failure><![CDATA[boom</failure></testcase></testsuite>",
            "results.xml: line 2: CDATA section is never closed (no ]]>)"),
        .init("<?xml version=\"1.0\"", "results.xml: line 1: processing instruction is never closed (no ?>)"),
        .init(
            "<testsuite>\n<testcase name=\"caf&eacute;\"/></testsuite>",
            "results.xml: line 2: unknown entity &eacute; in attribute name of <testcase>"),
        .init(
            "<testsuite>\n<testcase name=\"a&#0;\"/></testsuite>",
            "results.xml: line 2: invalid character reference &#0; in attribute name of <testcase>"),
        .init(
            "<testsuite>\n<testcase name=\"R&D\"/></testsuite>",
            "results.xml: line 2: the value of attribute name of <testcase> has a bare & (write &amp;)"),
        .init(
            "<testsuite>\n<testcase name=\"a<b\"/></testsuite>",
            "results.xml: line 2: the value of attribute name of <testcase> contains '<' "
                + "(write &lt;, or close the quote)"
        ),
        .init(
            "<testsuite>\n<testcase name=a/></testsuite>",
            "results.xml: line 2: the value of attribute name of <testcase> is not in quotes"),
        .init(
            "<testsuite>\n<testcase name/></testsuite>",
            "results.xml: line 2: attribute name of <testcase> has no value (expected name=\"…\")"),
        .init(
            "<testsuite>\n<testcase name=\"a\" name=\"b\"/></testsuite>",
            "results.xml: line 2: attribute name appears twice in <testcase>"),
        .init(
            "<testsuite>\n<testcase name=\"a\"time=\"1\"/></testsuite>",
            "results.xml: line 2: unexpected 't' in <testcase> (expected an attribute, > or />)"),
        .init(
            "<testsuite>\n<testcase name=\"a\" / ></testsuite>",
            "results.xml: line 2: expected /> to end <testcase>"),
        .init(
            "<testsuite>\n< testcase name=\"a\"/></testsuite>",
            "results.xml: line 2: '<' is not followed by an element name (write &lt; for a literal <)"),
        .init("<testsuite>\n</ >\n</testsuite>", "results.xml: line 2: expected an element name after </"),
        .init("<testsuite></testsuite", "results.xml: line 1: </testsuite is not closed with >"),
        .init(
            "<testsuite><!ELEMENT x ANY></testsuite>",
            "results.xml: line 1: unexpected <! (expected a comment <!-- -->, or <![CDATA[ ]]>)"),
        .init("<![CDATA[x]]><testsuite/>", "results.xml: line 1: CDATA section outside the root element"),
        .init("<testsuite/><!DOCTYPE testsuite>", "results.xml: line 1: <!DOCTYPE must come before the root element"),
        .init("<!DOCTYPE testsuite [ <!ENTITY x \"y\"> ", "results.xml: line 1: <!DOCTYPE is never closed (no >)"),
        .init("\n\nPASS 3 tests\n<testsuite/>", "results.xml: line 3: text before the root element"),
        .init("<testsuite/>\n# done", "results.xml: line 2: text after the root element </testsuite>"),
        .init("", "results.xml: no XML element found (expected a JUnit XML report)"),
        .init(
            "<?xml version=\"1.0\"?>\n<!-- nothing -->\n",
            "results.xml: no XML element found (expected a JUnit XML report)"),
        .init(
            "<html>\n<body/></html>",
            "results.xml: line 1: expected <testsuites> or <testsuite> as the root element, found <html>"),
        .init(
            "<testsuite>\n<testcase classname=\"c\"/></testsuite>",
            "results.xml: line 2: <testcase> has no name attribute"),
        .init("<testsuite>\n<testcase name=\" \"/></testsuite>", "results.xml: line 2: <testcase> has an empty name"),
        .init("<testsuites><testsuite name=\"empty\"/></testsuites>", "results.xml: no test cases"),
        .init(
            "<testsuite><testcase name=\"a\"><skipped/></testcase>"
                + "<testcase name=\"b\"><skipped/></testcase></testsuite>",
            "results.xml: no test cases (all 2 were skipped)"),
        .init(
            "<testsuites>\n<testsuite name=\"s\" timestamp=\"yesterday\">"
                + "<testcase name=\"a\"/></testsuite></testsuites>",
            "results.xml: line 2: <testsuite> timestamp \"yesterday\" is not a time such as 2026-11-27T14:03:00"),
        .init(
            "<testsuites timestamp=\"27/11/2026\">\n"
                + "<testsuite name=\"s\"><testcase name=\"a\"/></testsuite></testsuites>",
            "results.xml: line 1: <testsuites> timestamp \"27/11/2026\" is not a time such as 2026-11-27T14:03:00"),
    ]

    @Test("JUnit: malformed XML and invalid reports are refused with the line", arguments: refusedJUnit)
    func junitRefused(_ refused: RefusedResults) {
        let error = refusal(refused.input, .junit, source: "results.xml")
        #expect(error?.message == refused.message)
        #expect(error?.code == .invalidInput)
    }

    @Test("JUnit: attribute values that are not UTF-8, and UTF-16 files, are refused")
    func junitEncodings() {
        let latin1 = Array("<testsuite>\n<testcase name=\"caf".utf8) + [0xE9] + Array("\"/></testsuite>".utf8)
        #expect(
            refusal(latin1, .junit, source: "r.xml")?.message
                == "r.xml: line 2: the value of attribute name of <testcase> is not UTF-8 text")
        #expect(
            refusal([0xFF, 0xFE, 0x3C, 0x00], .junit, source: "r.xml")?.message
                == "r.xml: UTF-16 XML is not supported; save the report as UTF-8")
    }

    // MARK: promptfoo

    /// Written by promptfoo 0.121 (`{"evalId", "results": {"version": 3, …}}`), modelled on a published
    /// export of that version, with `evaluateOptions.repeat: 2` so that every test runs twice.
    static let promptfooV3 = #"""
        {
          "evalId": "eval-7Qx-2026-11-27T14:03:00",
          "results": {
            "version": 3,
            "timestamp": "2026-11-27T14:03:00.250Z",
            "prompts": [
              {
                "id": "9c1e0a7d2f8b4c31a6e5d9f0b2c4e6a8d0f2b4c6e8a0c2e4f6a8b0d2f4a6c8e0",
                "raw": "You are a support agent.\n\nCustomer: {{message}}",
                "label": "support",
                "provider": "openai:gpt-4o-mini",
                "metrics": {
                  "score": 3, "testPassCount": 4, "testFailCount": 1, "testErrorCount": 1,
                  "assertPassCount": 4, "assertFailCount": 1, "totalLatencyMs": 4120,
                  "tokenUsage": {"prompt": 610, "completion": 240, "cached": 0, "total": 850, "numRequests": 6},
                  "namedScores": {}, "namedScoresCount": {}, "cost": 0.0012
                }
              }
            ],
            "results": [
              {
                "cost": 0.0002,
                "gradingResult": {
                  "pass": true, "score": 1, "reason": "All assertions passed", "namedScores": {},
                  "tokensUsed": {"total": 0, "prompt": 0, "completion": 0, "cached": 0, "numRequests": 0},
                  "componentResults": [
                    {"pass": true, "score": 1, "reason": "Assertion passed",
                     "assertion": {"type": "icontains", "value": "manager"}}
                  ]
                },
                "id": "59370eae-c089-4a0e-96a8-63dec4143ed9",
                "latencyMs": 812,
                "namedScores": {},
                "prompt": {"raw": "You are a support agent.\n\nCustomer: I want 120 EUR back", "label": "support"},
                "promptId": "9c1e0a7d2f8b4c31a6e5d9f0b2c4e6a8d0f2b4c6e8a0c2e4f6a8b0d2f4a6c8e0",
                "promptIdx": 0,
                "provider": {"id": "openai:gpt-4o-mini", "label": ""},
                "response": {"output": "A manager must approve refunds over 100 EUR.", "cached": false,
                             "tokenUsage": {"total": 140, "prompt": 100, "completion": 40}},
                "score": 1,
                "success": true,
                "testCase": {
                  "description": "refund over limit",
                  "vars": {"message": "I want 120 EUR back"},
                  "assert": [{"type": "icontains", "value": "manager"}],
                  "options": {},
                  "metadata": {}
                },
                "testIdx": 0,
                "vars": {"message": "I want 120 EUR back"},
                "metadata": {"_promptfooFileMetadata": {}},
                "failureReason": 0
              },
              {
                "cost": 0.0002,
                "error": "Expected output to contain \"manager\"",
                "gradingResult": {"pass": false, "score": 0, "reason": "Expected output to contain \"manager\""},
                "id": "449267e7-2eaf-4c27-b16a-9f5394488571",
                "latencyMs": 790,
                "namedScores": {},
                "prompt": {"raw": "You are a support agent.\n\nCustomer: I want 120 EUR back", "label": "support"},
                "promptIdx": 0,
                "provider": {"id": "openai:gpt-4o-mini", "label": ""},
                "response": {"output": "Sure, refunded!"},
                "score": 0,
                "success": false,
                "testCase": {"description": "refund over limit", "vars": {"message": "I want 120 EUR back"}},
                "testIdx": 0,
                "vars": {"message": "I want 120 EUR back"},
                "failureReason": 1
              },
              {
                "prompt": {"raw": "You are a support agent.\n\nCustomer: Where is my parcel?", "label": "support"},
                "promptIdx": 0,
                "provider": {"id": "openai:gpt-4o-mini", "label": ""},
                "score": 1,
                "success": true,
                "testCase": {"vars": {"message": "Where is my parcel?", "locale": "de"}, "assert": []},
                "testIdx": 1,
                "vars": {"message": "Where is my parcel?", "locale": "de"},
                "failureReason": 0
              },
              {
                "prompt": {"raw": "You are a support agent.\n\nCustomer: Where is my parcel?", "label": "support"},
                "promptIdx": 0,
                "provider": {"id": "openai:gpt-4o-mini", "label": ""},
                "score": 1,
                "success": true,
                "testCase": {"vars": {"locale": "de", "message": "Where is my parcel?"}, "assert": []},
                "testIdx": 1,
                "vars": {"locale": "de", "message": "Where is my parcel?"},
                "failureReason": 0
              },
              {
                "error": "API error: 429 Too Many Requests",
                "prompt": {"raw": "You are a support agent.\n\nCustomer: THIS IS A DISGRACE", "label": "support"},
                "promptIdx": 0,
                "provider": {"id": "openai:gpt-4o-mini", "label": ""},
                "response": {"error": "API error: 429 Too Many Requests"},
                "score": 0,
                "success": false,
                "testCase": {"description": "angry customer", "vars": {"message": "THIS IS A DISGRACE"}},
                "testIdx": 2,
                "vars": {"message": "THIS IS A DISGRACE"},
                "failureReason": 2
              },
              {
                "prompt": {"raw": "You are a support agent.\n\nCustomer: THIS IS A DISGRACE", "label": "support"},
                "promptIdx": 0,
                "provider": {"id": "openai:gpt-4o-mini", "label": ""},
                "score": 1,
                "success": true,
                "testCase": {"description": "angry customer", "vars": {"message": "THIS IS A DISGRACE"}},
                "testIdx": 2,
                "vars": {"message": "THIS IS A DISGRACE"},
                "failureReason": 0
              }
            ],
            "stats": {
              "successes": 4, "failures": 1, "errors": 1,
              "tokenUsage": {"prompt": 610, "completion": 240, "cached": 0, "total": 850, "numRequests": 6},
              "durationMs": 5210
            }
          },
          "config": {
            "description": "support agent regression",
            "prompts": ["file://prompts/support.txt"],
            "providers": ["openai:gpt-4o-mini"],
            "tests": "file://tests.yaml",
            "evaluateOptions": {"repeat": 2}
          },
          "shareableUrl": null,
          "metadata": {
            "promptfooVersion": "0.121.11", "nodeVersion": "v22.11.0", "platform": "linux", "arch": "x64",
            "exportedAt": "2026-11-27T14:03:09.000Z", "evaluationCreatedAt": "2026-11-27T14:03:00.250Z"
          }
        }
        """#

    @Test("promptfoo v3: description or canonical vars names the case, repeats kept, suite and time read")
    func promptfooVersion3() throws {
        let run = try parse(Self.promptfooV3, .promptfoo)
        let parcel = #"{"locale":"de","message":"Where is my parcel?"}"#
        #expect(
            run
                == EvaluationRun(
                    suite: "support agent regression",
                    cases: [
                        CaseResult(name: "refund over limit", passed: true),
                        CaseResult(name: "refund over limit", passed: false),
                        CaseResult(name: parcel, passed: true),
                        CaseResult(name: parcel, passed: true),
                        CaseResult(name: "angry customer", passed: false),
                        CaseResult(name: "angry customer", passed: true),
                    ],
                    observedAt: "2026-11-27T14:03:00.250Z"))
    }

    /// One result of a v3 file comparing prompts and providers.
    static func comparison(prompt: String, provider: String, label: String, passed: Bool) -> String {
        #"""
        {"prompt": {"raw": "…", "label": "\#(prompt)"}, "provider": {"id": "\#(provider)", "label": "\#(label)"},
         "success": \#(passed), "score": \#(passed ? 1 : 0), "testCase": {"description": "refund over limit"},
         "vars": {"message": "I want 120 EUR back"}, "testIdx": 0, "failureReason": \#(passed ? 0 : 1)}
        """#
    }

    @Test("promptfoo: several prompts and providers prefix the name, so their runs stay separate cases")
    func promptfooComparison() throws {
        let openai = "openai:gpt-4o-mini"
        let claude = "anthropic:messages:claude-3-5-haiku-20241022"
        let both = [
            Self.comparison(prompt: "concise", provider: openai, label: "", passed: true),
            Self.comparison(prompt: "concise", provider: claude, label: "haiku", passed: false),
            Self.comparison(prompt: "friendly", provider: openai, label: "", passed: true),
            Self.comparison(prompt: "friendly", provider: claude, label: "haiku", passed: true),
        ]
        let run = try parse(
            #"{"evalId": "e", "results": {"version": 3, "results": [\#(both.joined(separator: ","))]}}"#, .promptfoo)
        #expect(
            run.cases == [
                CaseResult(name: "[openai:gpt-4o-mini] concise: refund over limit", passed: true),
                CaseResult(name: "[haiku] concise: refund over limit", passed: false),
                CaseResult(name: "[openai:gpt-4o-mini] friendly: refund over limit", passed: true),
                CaseResult(name: "[haiku] friendly: refund over limit", passed: true),
            ])
        #expect(run.observedAt == nil && run.suite == nil)

        let providersOnly = [
            Self.comparison(prompt: "concise", provider: openai, label: "", passed: true),
            Self.comparison(prompt: "concise", provider: claude, label: "", passed: false),
        ]
        let compared = try parse(
            #"{"results": {"version": 3, "results": [\#(providersOnly.joined(separator: ","))]}}"#, .promptfoo)
        #expect(
            compared.cases == [
                CaseResult(name: "[openai:gpt-4o-mini] refund over limit", passed: true),
                CaseResult(name: "[\(claude)] refund over limit", passed: false),
            ])
    }

    /// Written by older releases (`{"evalId", "results": {"version": 2, …, "table"}}`), modelled on their
    /// evaluator: results carry no `testCase` and come in completion order; descriptions are in `table.body`.
    static let promptfooV2 = #"""
        {
          "evalId": "eval-2024-02-12T09:30:00",
          "results": {
            "version": 2,
            "timestamp": "2024-02-12T09:30:00.123Z",
            "results": [
              {
                "provider": {"id": "openai:gpt-3.5-turbo"},
                "prompt": {"raw": "Summarize: Shipping takes 3 days.",
                           "label": "prompts/summarize.txt: Summarize: {{text}}"},
                "vars": {"text": "Shipping takes 3 days."},
                "response": {"output": "3-day shipping.", "cached": false,
                             "tokenUsage": {"total": 30, "prompt": 22, "completion": 8}},
                "success": false,
                "score": 0,
                "namedScores": {},
                "latencyMs": 512,
                "cost": 0.00004,
                "error": "Expected output to contain \"three\"",
                "gradingResult": {"pass": false, "score": 0, "reason": "Expected output to contain \"three\""}
              },
              {
                "provider": {"id": "openai:gpt-3.5-turbo"},
                "prompt": {"raw": "Summarize: Refunds over 100 EUR need a manager.",
                           "label": "prompts/summarize.txt: Summarize: {{text}}"},
                "vars": {"text": "Refunds over 100 EUR need a manager."},
                "success": true,
                "score": 1,
                "namedScores": {},
                "latencyMs": 640,
                "gradingResult": {"pass": true, "score": 1, "reason": "All assertions passed"}
              },
              {
                "provider": {"id": "openai:gpt-3.5-turbo"},
                "prompt": {"raw": "Summarize: And in German?", "label": "prompts/summarize.txt: Summarize: {{text}}"},
                "vars": {"text": "And in German?", "_conversation": [{"input": "…", "output": "…"}]},
                "success": true,
                "score": 1,
                "namedScores": {},
                "latencyMs": 700
              },
              {
                "provider": {"id": "openai:gpt-3.5-turbo"},
                "prompt": {"raw": "Summarize: Thanks!", "label": "prompts/summarize.txt: Summarize: {{text}}"},
                "vars": {"text": "Thanks!",
                         "_conversation": [{"input": "…", "output": "…"}, {"input": "…", "output": "…"}]},
                "success": true,
                "score": 1,
                "namedScores": {},
                "latencyMs": 300
              }
            ],
            "table": {
              "head": {
                "prompts": [{"raw": "Summarize: {{text}}", "label": "prompts/summarize.txt: Summarize: {{text}}",
                             "id": "5b1f", "provider": "openai:gpt-3.5-turbo"}],
                "vars": ["text"]
              },
              "body": [
                {
                  "description": "refund policy",
                  "outputs": [{"pass": true, "score": 1, "text": "Managers approve refunds over 100 EUR.",
                               "prompt": "Summarize: Refunds over 100 EUR need a manager.", "latencyMs": 640}],
                  "test": {"description": "refund policy", "vars": {"text": "Refunds over 100 EUR need a manager."},
                           "assert": [{"type": "icontains", "value": "manager"}]},
                  "vars": ["Refunds over 100 EUR need a manager."]
                },
                {
                  "outputs": [{"pass": false, "score": 0, "text": "3-day shipping.", "prompt": "…",
                               "latencyMs": 512}],
                  "test": {"vars": {"text": "Shipping takes 3 days."},
                           "assert": [{"type": "icontains", "value": "three"}]},
                  "vars": ["Shipping takes 3 days."]
                },
                {
                  "description": "follow-up",
                  "outputs": [{"pass": true, "score": 1, "text": "Auf Deutsch …", "prompt": "…", "latencyMs": 700}],
                  "test": {"description": "follow-up",
                           "vars": {"text": "And in German?", "_conversation": [{"input": "…", "output": "…"}]}},
                  "vars": ["And in German?"]
                }
              ]
            },
            "stats": {"successes": 2, "failures": 1,
                      "tokenUsage": {"total": 130, "prompt": 100, "completion": 30, "cached": 0}}
          },
          "config": {"prompts": ["prompts/summarize.txt"], "providers": ["openai:gpt-3.5-turbo"]},
          "shareableUrl": null
        }
        """#

    @Test("promptfoo v2: descriptions come from table.body by vars; _conversation is not part of a name")
    func promptfooVersion2() throws {
        let run = try parse(Self.promptfooV2, .promptfoo)
        #expect(
            run
                == EvaluationRun(
                    cases: [
                        CaseResult(name: #"{"text":"Shipping takes 3 days."}"#, passed: false),
                        CaseResult(name: "refund policy", passed: true),
                        CaseResult(name: "follow-up", passed: true),
                        CaseResult(name: #"{"text":"Thanks!"}"#, passed: true),
                    ],
                    observedAt: "2024-02-12T09:30:00.123Z"))
    }

    /// Written by the first releases, which saved the summary itself: `results` is the array, prompts have
    /// `display` rather than `label`, and there is no timestamp.
    static let promptfooSummary = #"""
        {
          "version": 1,
          "results": [
            {"provider": {"id": "openai:gpt-3.5-turbo"},
             "prompt": {"raw": "Translate to French: Hello", "display": "Translate to French: {{input}}"},
             "vars": {"input": "Hello"},
             "response": {"output": "Bonjour", "tokenUsage": {"total": 20, "prompt": 15, "completion": 5}},
             "success": true, "score": 1, "latencyMs": 412,
             "gradingResult": {"pass": true, "score": 1, "reason": "Assertion passed", "assertion": null}},
            {"provider": {"id": "openai:gpt-3.5-turbo"},
             "prompt": {"raw": "Traduis en français : Hello", "display": "Traduis en français : {{input}}"},
             "vars": {"input": "Hello"}, "success": false, "score": 0, "latencyMs": 380,
             "error": "Expected output to contain \"Bonjour\""},
            {"provider": {"id": "openai:gpt-3.5-turbo"},
             "prompt": {"raw": "Translate to French: Goodbye", "display": "Translate to French: {{input}}"},
             "vars": {"input": "Goodbye"}, "success": true, "score": 1, "latencyMs": 401}
          ],
          "table": {
            "head": {
              "prompts": [
                {"raw": "Translate to French: {{input}}", "display": "Translate to French: {{input}}"},
                {"raw": "Traduis en français : {{input}}", "display": "Traduis en français : {{input}}"}
              ],
              "vars": ["input"]
            },
            "body": [
              {"outputs": [{"pass": true, "score": 1, "text": "Bonjour", "prompt": "…", "latencyMs": 412}],
               "vars": ["Hello"]}
            ]
          },
          "stats": {"successes": 2, "failures": 1, "tokenUsage": {"total": 60, "prompt": 45, "completion": 15}}
        }
        """#

    @Test("promptfoo, first releases: the summary at top level, prompts told apart by their display text")
    func promptfooTopLevelSummary() throws {
        let run = try parse(Self.promptfooSummary, .promptfoo)
        #expect(
            run
                == EvaluationRun(cases: [
                    CaseResult(name: #"Translate to French: {{input}}: {"input":"Hello"}"#, passed: true),
                    CaseResult(name: #"Traduis en français : {{input}}: {"input":"Hello"}"#, passed: false),
                    CaseResult(name: #"Translate to French: {{input}}: {"input":"Goodbye"}"#, passed: true),
                ]))
    }

    @Test("promptfoo: a test with neither description nor vars is named by its index")
    func promptfooTestIndex() throws {
        let run = try parse(
            #"""
            {"results": {"version": 3, "results": [
              {"success": true, "testIdx": 3, "vars": {}, "testCase": {"vars": {}}},
              {"success": false, "testCaseIdx": 4, "testCase": {"description": "  "}}
            ]}}
            """#, .promptfoo)
        #expect(run.cases == [CaseResult(name: "test 3", passed: true), CaseResult(name: "test 4", passed: false)])
    }

    static let refusedPromptfoo: [RefusedResults] = [
        .init(#"{"results": "#, "out.json: invalid JSON: unexpected end of input at byte 13"),
        .init("[]", "out.json: expected the JSON object that promptfoo eval -o FILE.json writes"),
        .init(#"{"evalId": "e"}"#, "out.json: results: missing: not the output of promptfoo eval -o FILE.json"),
        .init(#"{"results": 3}"#, "out.json: results: expected promptfoo's summary object, got 3"),
        .init(#"{"results": {"version": 3}}"#, "out.json: results.results: expected the array of test results"),
        .init(
            #"{"results": {"version": 3, "results": {}}}"#,
            "out.json: results.results: expected the array of test results"),
        .init(#"{"results": {"version": 3, "results": []}}"#, "out.json: no test cases (results.results is empty)"),
        .init(#"{"version": 1, "results": []}"#, "out.json: no test cases (results is empty)"),
        .init(#"{"results": {"results": [7]}}"#, "out.json: results.results[0]: expected a result object, got 7"),
        .init(
            #"{"results": {"results": [{"success": true, "testIdx": 0}, {"testIdx": 1}]}}"#,
            "out.json: results.results[1].success: expected true or false, got nothing"),
        .init(
            #"{"results": {"results": [{"success": "true", "testIdx": 0}]}}"#,
            #"out.json: results.results[0].success: expected true or false, got "true""#),
        .init(
            #"{"results": [{"pass": true, "testIdx": 0}]}"#,
            "out.json: results[0].success: expected true or false, got nothing"),
        .init(
            #"{"results": {"results": [{"success": true, "vars": {}}]}}"#,
            "out.json: results.results[0]: no testCase.description, vars or testIdx to name the case by"),
        .init(
            #"{"results": {"timestamp": "12 Feb 2024", "results": [{"success": true, "testIdx": 0}]}}"#,
            #"out.json: results.timestamp: expected an RFC 3339 time such as 2026-11-27T14:03:00Z, got "12 Feb 2024""#),
    ]

    @Test("promptfoo: each invalid file is refused naming the field", arguments: refusedPromptfoo)
    func promptfooRefused(_ refused: RefusedResults) {
        let error = refusal(refused.input, .promptfoo, source: "out.json")
        #expect(error?.message == refused.message)
        #expect(error?.code == .invalidInput)
    }
}
