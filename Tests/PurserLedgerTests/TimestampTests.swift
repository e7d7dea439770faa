import Foundation
import PurserLedger
import Testing

@Suite("Timestamps: RFC 3339 in, the ledger's one form out")
struct TimestampTests {
    static let accepted: [(String, String)] = [
        ("2026-11-27T14:03:00Z", "2026-11-27T14:03:00.000Z"),
        ("2026-11-27t14:03:00z", "2026-11-27T14:03:00.000Z"),
        ("2026-11-27T14:03:00.25Z", "2026-11-27T14:03:00.250Z"),
        ("2026-11-27T14:03:00.123456789Z", "2026-11-27T14:03:00.123Z"),
        ("2026-11-27T14:03:00.0009999Z", "2026-11-27T14:03:00.000Z"),
        ("2026-11-27T14:03:00.9999999Z", "2026-11-27T14:03:00.999Z"),
        ("2026-11-27T16:03:00+02:00", "2026-11-27T14:03:00.000Z"),
        ("2026-11-27T00:30:00-01:00", "2026-11-27T01:30:00.000Z"),
        ("2026-11-27", "2026-11-27T00:00:00.000Z"),
        ("2024-02-29T23:59:59.999Z", "2024-02-29T23:59:59.999Z"),
        ("2000-03-01T00:00:00Z", "2000-03-01T00:00:00.000Z"),
        ("1970-01-01T00:00:00Z", "1970-01-01T00:00:00.000Z"),
        ("1969-12-31T23:59:59Z", "1969-12-31T23:59:59.000Z"),
        ("1969-12-31T23:59:59.5Z", "1969-12-31T23:59:59.500Z"),
        ("1900-03-01T12:00:00.001Z", "1900-03-01T12:00:00.001Z"),
        ("0001-01-01T00:00:00Z", "0001-01-01T00:00:00.000Z"),
        ("0001-01-01T00:30:00+00:30", "0001-01-01T00:00:00.000Z"),
        ("0001-01-01", "0001-01-01T00:00:00.000Z"),
        ("9999-12-31T23:59:59.999Z", "9999-12-31T23:59:59.999Z"),
        ("9999-12-31T22:59:59-01:00", "9999-12-31T23:59:59.000Z"),
    ]

    @Test("accepted forms, normalized to UTC with milliseconds", arguments: accepted)
    func accepts(_ text: String, _ expected: String) throws {
        let date = try #require(Timestamp.parse(text))
        #expect(Timestamp.format(date) == expected)
    }

    @Test(
        "malformed or impossible times are refused",
        arguments: [
            "", "yesterday", "2026-11-27T14:03Z", "2026-11-27T14:03:00", "2026-13-01", "2025-02-29",
            "2026-04-31", "2026-11-27T24:00:00Z", "2026-11-27T14:60:00Z", "2026-11-27T14:03:00.Z",
            "2026-11-27T14:03:00+0200", "2026-11-27 14:03:00Z", "2026-11-27T14:03:00Zjunk", "26-11-27",
        ])
    func refuses(_ text: String) {
        #expect(Timestamp.parse(text) == nil, "\(text)")
    }

    /// Outside them `format` wrote `10000-01-01T…` or `0000-…`, text that sorts before real times: a time in the
    /// year 10000 passed every "not in the future" check.
    @Test(
        "times outside the years 0001 to 9999, after their offset, are refused",
        arguments: [
            "0000-12-31T23:59:59.999Z", "0000-01-01", "0000-02-29T00:00:00Z", "0001-01-01T00:00:00+00:01",
            "0001-01-01T00:59:59.999+01:00", "9999-12-31T23:59:59-00:01", "9999-12-31T23:30:00-01:00",
            "9999-12-31T01:00:00.000-23:00",
        ])
    func refusesOutOfRange(_ text: String) {
        #expect(Timestamp.parse(text) == nil, "\(text)")
    }

    @Test("the range's bounds are the first instant of year 1 and the first of year 10000")
    func rangeBounds() {
        #expect(Timestamp.format(Timestamp.range.lowerBound) == "0001-01-01T00:00:00.000Z")
        #expect(Timestamp.format(Timestamp.range.upperBound.addingTimeInterval(-0.001)) == "9999-12-31T23:59:59.999Z")
    }

    @Test("reads back what Foundation's formatter writes, and agrees with it on the instant, for 2,000 random times")
    func agreesWithFoundation() throws {
        let formatter = ISO8601DateFormatter()
        formatter.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        var generator = SystemRandomNumberGenerator()
        for _ in 0..<2_000 {
            let millis = Int64.random(in: -2_000_000_000_000...4_000_000_000_000, using: &generator)
            let text = formatter.string(from: Date(timeIntervalSince1970: Double(millis) / 1000))
            let parsed = try #require(Timestamp.parse(text), "\(text)")
            #expect(Timestamp.format(parsed) == text)
            #expect(abs(parsed.timeIntervalSince(formatter.date(from: text)!)) < 0.001, "\(text)")
        }
    }
}
