import Foundation
import PurserCore
import PurserLedger
import Testing

/// An environment name follows its rule wherever it is made: from a string, and from JSON at its field.
@Suite struct EnvironmentNameRuleTests {
    private struct Request: Codable {
        var env: EnvironmentName
    }

    static let good = ["prod", "eu-west.staging", "a", "0", "blue_green-2", String(repeating: "a", count: 64)]
    static let bad = [
        "", "Prod", "_prod", ".prod", "-prod", "../prod", "prod env", "prod/eu", "prød", "prod\n",
        String(repeating: "a", count: 65),
    ]

    @Test("a good name is kept as it is and travels as a plain string", arguments: good)
    func goodName(_ name: String) throws {
        #expect(try EnvironmentName(name).name == name)
        let data = try JSONEncoder().encode(Request(env: try EnvironmentName(name)))
        #expect(String(decoding: data, as: UTF8.self) == #"{"env":"\#(name)"}"#)
        #expect(try JSONDecoder().decode(Request.self, from: data).env.name == name)
    }

    @Test("a bad name is refused with the rule, from a string and at its JSON field", arguments: bad)
    func badName(_ name: String) throws {
        #expect(throws: LedgerError.self) { try EnvironmentName(name) }
        let data = try JSONSerialization.data(withJSONObject: ["env": name])
        do {
            _ = try JSONDecoder().decode(Request.self, from: data)
            Issue.record("\(name) was decoded")
        } catch DecodingError.dataCorrupted(let context) {
            #expect(context.codingPath.map(\.stringValue) == ["env"])
            #expect(context.debugDescription == EnvironmentName.refusal(of: name))
            #expect(context.debugDescription.hasPrefix("must be 1 to 64 lowercase letters"))
        }
    }
}
