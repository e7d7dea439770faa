import Foundation
import PurserCore
import PurserLedger
import Testing

/// JUnit files a hostile writer could send: the reader refuses them as bad input, in time linear in their size.
@Suite("EvaluationResults: JUnit files built to exhaust the reader")
struct JUnitLimitsTests {
    /// `depth` nested `<testsuite>` elements with one passing case in the innermost.
    static func nested(_ depth: Int) -> [UInt8] {
        let open = String(repeating: "<testsuite name=\"s\">\n", count: depth)
        let close = String(repeating: "</testsuite>\n", count: depth)
        return Array((open + "<testcase name=\"deep\"/>\n" + close).utf8)
    }

    func refusal(_ bytes: [UInt8]) -> LedgerError? {
        do {
            _ = try EvaluationResults.parse(bytes, format: .junit, source: "deep.xml")
            return nil
        } catch {
            return error
        }
    }

    @Test("elements nested 256 deep are read; one level more is bad input naming its line and its parent")
    func depthLimit() throws {
        // 255 suites and the case inside the innermost: 256 levels.
        let run = try EvaluationResults.parse(Self.nested(255), format: .junit, source: "deep.xml")
        #expect(run.cases == [CaseResult(name: "deep", passed: true)])

        let deepCase = refusal(Self.nested(256))
        #expect(deepCase?.code == .invalidInput)
        #expect(
            deepCase?.message
                == "deep.xml: line 257: <testcase> is nested deeper than 256 elements (inside <testsuite> of line 256)")
        let deepSuite = refusal(Self.nested(300))
        #expect(
            deepSuite?.message
                == "deep.xml: line 257: <testsuite> is nested deeper than 256 elements (inside <testsuite> of line 256)"
        )
    }

    @Test("a document 100,000 elements deep is refused, not a stack overflow")
    func hundredThousandLevels() {
        #expect(refusal(Self.nested(100_000))?.code == .invalidInput)
    }

    @Test("a duplicate attribute after 100,000 others is found in linear time")
    func manyAttributes() {
        let attributes = (0..<100_000).map { " a\($0)=\"v\"" }.joined()
        let xml = Array("<testsuite\(attributes) a99999=\"again\"><testcase name=\"x\"/></testsuite>".utf8)
        let clock = ContinuousClock()
        var error: LedgerError?
        let elapsed = clock.measure { error = refusal(xml) }
        #expect(error?.message == "deep.xml: line 1: attribute a99999 appears twice in <testsuite>")
        // Quadratic, it took 26 s in a release build; linear, well under a second even in a debug build.
        #expect(elapsed < .seconds(5), "took \(elapsed)")
    }
}
