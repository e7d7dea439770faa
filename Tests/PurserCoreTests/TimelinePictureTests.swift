import Foundation
import PurserLedger
import Testing

@testable import PurserCore

@Suite("The timeline picture")
struct TimelinePictureTests {
    private let hostile = #"<script>alert("x")</script> & 'y'"#

    private func timeline(env: String, name: String, segments: [Timeline.Segment]) -> Timeline {
        Timeline(
            env: env, from: "2026-11-01T00:00:00.000Z", to: "2026-11-08T00:00:00.000Z",
            bands: [Timeline.Band(version: String(repeating: "ab", count: 32), name: name, segments: segments)],
            markers: [
                Timeline.Marker(seq: 7, at: "2026-11-03T00:00:00.000Z", kind: "canary.judged", verdict: "rollback"),
                Timeline.Marker(seq: 8, at: "2026-11-03T00:00:00.100Z", kind: "rollback.performed", verdict: nil),
            ])
    }

    @Test("text from outside (environment and version names) is escaped; no markup gets through")
    func escapesHostileText() {
        let svg = TimelinePicture.svg([
            timeline(
                env: hostile, name: hostile,
                segments: [
                    Timeline.Segment(
                        from: "2026-11-01T00:00:00.000Z", to: "2026-11-05T00:00:00.000Z", weight: 100, draining: false)
                ])
        ])
        #expect(svg.hasPrefix("<svg xmlns=\"http://www.w3.org/2000/svg\""))
        #expect(!svg.contains("<script"))
        #expect(svg.contains("&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt; &amp; &#39;y&#39;"))
        #expect(!svg.contains("'y'") && !svg.contains("\"x\""))
    }

    @Test("a share is drawn as high as its weight, and a rollback just after its verdict is a mark of its own")
    func sharesAndMarks() throws {
        let svg = TimelinePicture.svg([
            timeline(
                env: "prod", name: "agent@1.0.0",
                segments: [
                    Timeline.Segment(
                        from: "2026-11-01T00:00:00.000Z", to: "2026-11-04T00:00:00.000Z", weight: 95, draining: false),
                    Timeline.Segment(
                        from: "2026-11-04T00:00:00.000Z", to: "2026-11-05T00:00:00.000Z", weight: 0, draining: true),
                ])
        ])
        #expect(svg.contains(">95%</text>"))
        #expect(svg.contains("url(#drain)"))
        // Both marks are red and 0.1 s apart in a week: the rollback stands beside its verdict.
        #expect(svg.components(separatedBy: "<line x1=").count - 1 == 2 + axisLines(svg))
        #expect(try markPositions(svg).count == 2)
    }

    @Test("events milliseconds apart: every mark at its own place, and the axis names the day and the step")
    func millisecondsApart() throws {
        func at(_ milliseconds: Int) -> String { "2026-12-07T08:22:28.\(String(format: "%03d", milliseconds))Z" }
        let picture = Timeline(
            env: "prod", from: at(0), to: at(300),
            bands: [
                Timeline.Band(
                    version: "v1", name: "agent@1",
                    segments: [Timeline.Segment(from: at(0), to: at(300), weight: 100, draining: false)])
            ],
            markers: [
                Timeline.Marker(seq: 15, at: at(120), kind: "canary.judged", verdict: "rollback"),
                Timeline.Marker(seq: 16, at: at(120), kind: "rollback.performed", verdict: nil),
                Timeline.Marker(seq: 20, at: at(121), kind: "canary.judged", verdict: "hold"),
                Timeline.Marker(seq: 24, at: at(300), kind: "canary.judged", verdict: "promote"),
                Timeline.Marker(seq: 25, at: at(300), kind: "canary.judged", verdict: "promote"),
            ])
        let svg = TimelinePicture.svg([picture])
        let marks = try markPositions(svg)
        #expect(marks.count == 5, "\(marks)")
        for (left, right) in zip(marks, marks.dropFirst()) {
            #expect(right - left >= TimelinePicture.markerSpacing - 0.1, "marks at \(marks)")
        }
        #expect(marks.allSatisfy { $0 >= TimelinePicture.labelWidth && $0 <= TimelinePicture.width - 16 })
        #expect(svg.contains(">08:22:28.100</text>"))
        #expect(svg.contains(">UTC, 2026-12-07; a tick every 50 ms</text>"))
        #expect(svg.contains("<title>rollback (seq 16) at 2026-12-07T08:22:28.120Z</title>"))
    }

    @Test("a year of marks too close to stand apart stays at their times, one mark per colour and place")
    func crowdedMarksStayAtTheirTimes() throws {
        let start = Timestamp.parse("2026-01-01T00:00:00Z")!
        // A judgement every two hours: about nine to a pixel.
        let markers = (0..<4_380).map { index in
            Timeline.Marker(
                seq: UInt64(index), at: Timestamp.format(start.addingTimeInterval(Double(index) * 7_200)),
                kind: "canary.judged", verdict: "promote")
        }
        let picture = Timeline(
            env: "prod", from: Timestamp.format(start), to: Timestamp.format(start.addingTimeInterval(365 * 86_400)),
            bands: [], markers: markers)
        let svg = TimelinePicture.svg([picture])
        let marks = try markPositions(svg)
        #expect(marks.count < 1_000, "\(marks.count) marks for 4,380 judgements on a 774-pixel axis")
        let drawn = svg.matches(of: try Regex(#"\(seq ([0-9]+)\) at [^<]*</title><line x1="([0-9.]+)""#)).map {
            (seq: Double(String(svg[$0.output[1].range!]))!, x: Double(String(svg[$0.output[2].range!]))!)
        }
        #expect(drawn.count == marks.count)
        for mark in drawn {
            let atItsTime = TimelinePicture.labelWidth + 774 * mark.seq * 7_200 / (365 * 86_400)
            #expect(abs(mark.x - atItsTime) <= 0.051, "seq \(mark.seq) drawn at \(mark.x), not \(atItsTime)")
        }
        #expect(svg.contains(">UTC, 2026-01-01 to 2027-01-01; a tick every 3 months</text>"))
    }

    /// The marks in the order they are drawn (a later one covers an earlier one): title, x and colour.
    private func marksInDrawingOrder(_ svg: String) throws -> [(title: String, x: Double, color: String)] {
        let mark = try Regex(#"<g><title>([^<]*)</title><line x1="([0-9.]+)"[^>]* stroke="(#[0-9a-f]+)""#)
        return svg.matches(of: mark).map {
            (
                String(svg[$0.output[1].range!]), Double(String(svg[$0.output[2].range!]))!,
                String(svg[$0.output[3].range!])
            )
        }
    }

    @Test(
        "many events at one instant: a rollback is drawn over the verdicts beside it, never under a promotion",
        arguments: [(5, "rollback.performed"), (1_000, "canary.judged")])
    func rollbackOnTop(events: Int, rollbackKind: String) throws {
        func at(_ milliseconds: Int) -> String { "2026-12-07T08:22:28.\(String(format: "%03d", milliseconds))Z" }
        // The rollback comes first in the ledger; the promotions after it share its millisecond (or the next).
        let markers =
            [
                Timeline.Marker(
                    seq: 1, at: at(500), kind: rollbackKind, verdict: rollbackKind == "canary.judged" ? "rollback" : nil
                )
            ]
            + (2...events).map {
                Timeline.Marker(seq: UInt64($0), at: at(500 + $0 % 2), kind: "canary.judged", verdict: "promote")
            }
        let svg = TimelinePicture.svg([Timeline(env: "prod", from: at(0), to: at(999), bands: [], markers: markers)])
        let marks = try marksInDrawingOrder(svg)
        let rollback = try #require(marks.lastIndex { $0.title.contains("(seq 1)") })
        #expect(marks[rollback].color == "#c0392b")
        let covering = marks[(rollback + 1)...].filter { abs($0.x - marks[rollback].x) < 4 }
        #expect(covering.isEmpty, "drawn over the rollback: \(covering.map(\.title))")
    }

    /// The labels under the ticks of the axis, and the caption under them.
    private func axis(_ svg: String) throws -> (labels: [String], caption: String) {
        let texts = svg.matches(of: try Regex(#"class="tick">([^<]*)</text>"#)).map { String(svg[$0.output[1].range!]) }
        return (texts.filter { !$0.hasPrefix("UTC") }, texts.first { $0.hasPrefix("UTC") } ?? "")
    }

    @Test(
        "the axis has several ticks at the step its caption names, from a millisecond to years",
        arguments: [
            ("2026-12-07T08:22:28.000Z", "2026-12-07T08:22:28.001Z", "1 ms", ["08:22:28.000", "08:22:28.001"]),
            (
                "2026-12-07T08:22:28.003Z", "2026-12-07T08:22:28.050Z", "10 ms",
                ["08:22:28.010", "08:22:28.020", "08:22:28.030", "08:22:28.040", "08:22:28.050"]
            ),
            (
                "2026-01-10T00:00:00.000Z", "2026-05-01T00:00:00.000Z", "month",
                ["2026-02", "2026-03", "2026-04", "2026-05"]
            ),
            (
                "2020-01-01T00:00:00.000Z", "2029-01-01T00:00:00.000Z", "2 years",
                ["2020", "2022", "2024", "2026", "2028"]
            ),
            (
                "2017-03-15T12:00:00.000Z", "2026-03-01T00:00:00.000Z", "2 years",
                ["2018", "2020", "2022", "2024", "2026"]
            ),
        ])
    func ticks(from: String, to: String, step: String, labels: [String]) throws {
        let svg = TimelinePicture.svg([Timeline(env: "prod", from: from, to: to, bands: [], markers: [])])
        let axis = try axis(svg)
        #expect(axis.labels == labels)
        #expect(axis.caption.hasSuffix("; a tick every \(step)"), "\(axis.caption)")
    }

    /// The x of every canary verdict and rollback mark, left to right.
    private func markPositions(_ svg: String) throws -> [Double] {
        let mark = try Regex(#"<g><title>[^<]*</title><line x1="([0-9.]+)""#)
        return svg.matches(of: mark).compactMap { Double(String(svg[$0.output[1].range!])) }.sorted()
    }

    @Test("thousands of sub-pixel segments are drawn as a few slivers")
    func mergesSlivers() {
        let start = Timestamp.parse("2026-01-01T00:00:00Z")!
        func time(_ index: Int) -> String { Timestamp.format(start.addingTimeInterval(Double(index) * 1_500)) }
        let segments: [Timeline.Segment] = (0..<20_000).map { index in
            Timeline.Segment(from: time(index), to: time(index + 1), weight: index % 2 == 0 ? 5 : 100, draining: false)
        }
        let picture = Timeline(
            env: "prod", from: segments[0].from, to: segments.last!.to,
            bands: [Timeline.Band(version: "v", name: "v", segments: segments)], markers: [])
        let rectangles = TimelinePicture.svg([picture]).components(separatedBy: "<rect x=").count - 1
        #expect(rectangles < 1_000, "\(rectangles) rectangles for 20,000 segments on a 774-pixel axis")
    }

    /// The tick lines of the axes (every `<line` that is not a marker).
    private func axisLines(_ svg: String) -> Int {
        svg.components(separatedBy: "stroke=\"#999\"").count - 1
    }
}
