import Foundation
import PurserCore
import PurserLedger
import Testing

@Suite("Drift: Sen's slope is per unit of time, also across periods without tasks")
struct DriftSlopeTests {
    @Test("weekdays only: a decline of 0.01 a day is 0.07 a week, not 0.098")
    func weekendsKeepTheSlopePerWeek() throws {
        let test = try TestReleases()
        let version = try test.record(prompt: "weekdays", label: "agent@1")
        // 2026-10-05 is a Monday; four weeks of weekdays, quality 0.9 − 0.01 per calendar day.
        let start = Timestamp.parse("2026-10-05T00:00:00Z")!
        var lines: [String] = []
        for day in 0..<28 where day % 7 < 5 {
            let time = Timestamp.format(start.addingTimeInterval(Double(day) * 86_400 + 3600))
            let quality = 0.9 - 0.01 * Double(day)
            lines.append(
                #"{"task_id":"t\#(day)","version":"agent@1","env":"prod","started_at":"\#(time)","duration_ms":100,"completed":true,"error":false,"quality":\#(quality)}"#
            )
        }
        let path = test.directory + "/weekdays.jsonl"
        try Data(lines.joined(separator: "\n").utf8).write(to: URL(fileURLWithPath: path))
        _ = try test.releases.metrics.ingest(path: path, format: .jsonl)
        let report = try #require(
            try test.releases.metrics.drift(until: start.addingTimeInterval(28 * 86_400))
                .first { $0.version == version }
        )
        #expect(report.periods.count == 20)
        #expect(abs(report.slopePerWeek! + 0.07) < 1e-9, "\(report.slopePerWeek!)")
        #expect(report.flagged)
    }
}
