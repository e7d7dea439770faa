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

    @Test("a share is drawn as high as its weight, and a rollback on a rollback verdict is one mark")
    func sharesAndMarks() {
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
        // Both marks are red and 0.1 s apart: the second adds nothing to the picture.
        #expect(svg.components(separatedBy: "<line x1=").count - 1 == 1 + axisLines(svg))
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
