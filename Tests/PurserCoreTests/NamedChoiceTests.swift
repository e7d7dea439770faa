import Foundation
import PurserCore
import Testing

/// The typed inputs decode from their names and refuse any other name, at the field, with the allowed names.
@Suite struct NamedChoiceTests {
    private struct Request: Codable {
        var strategy: Strategy
    }

    @Test("every case is encoded as its name and decoded back")
    func roundTrip() throws {
        for strategy in Strategy.allCases {
            let data = try JSONEncoder().encode(Request(strategy: strategy))
            #expect(String(decoding: data, as: UTF8.self) == #"{"strategy":"\#(strategy.rawValue)"}"#)
            #expect(try JSONDecoder().decode(Request.self, from: data).strategy == strategy)
        }
    }

    @Test("an unknown name is refused at its field, with the allowed names")
    func unknownName() throws {
        do {
            _ = try JSONDecoder().decode(Request.self, from: Data(#"{"strategy":"big-bang"}"#.utf8))
            Issue.record("big-bang was decoded")
        } catch DecodingError.dataCorrupted(let context) {
            #expect(context.codingPath.map(\.stringValue) == ["strategy"])
            #expect(context.debugDescription == #"must be blue-green, canary or shadow, not "big-bang""#)
        }
    }

    @Test("the allowed names read as a list")
    func allowedNames() {
        #expect(Strategy.allowedNames == "blue-green, canary or shadow")
        #expect(DrillResult.allowedNames == "passed or failed")
        #expect(MetricsFormat.allowedNames == "jsonl, csv or otlp")
    }
}
