internal import Foundation
internal import PurserLedger

/// What ran when in one environment over the report's window: a band per behavioral version with its
/// share of new tasks over time, and the moments of canary verdicts and rollbacks.
public struct Timeline: Sendable {
    public struct Segment: Sendable {
        public let from: String
        public let to: String
        /// Percent of new tasks; 0 while draining.
        public let weight: Int
        public let draining: Bool
    }

    public struct Band: Sendable {
        public let version: String
        public let name: String
        public var segments: [Segment]
    }

    public struct Marker: Sendable {
        public let seq: UInt64
        public let at: String
        /// `canary.judged` or `rollback.performed`.
        public let kind: String
        /// A judgement's `promote`, `hold` or `rollback`.
        public let verdict: String?
    }

    public let env: String
    public let from: String
    public let to: String
    public let bands: [Band]
    public let markers: [Marker]

    var document: JSONValue {
        .object([
            "env": .string(env), "from": .string(from), "to": .string(to),
            "versions": .array(
                bands.map { band in
                    .object([
                        "version": .string(band.version), "name": .string(band.name),
                        "segments": .array(
                            band.segments.map {
                                .object([
                                    "from": .string($0.from), "to": .string($0.to),
                                    "weight": .number(Double($0.weight)),
                                    "draining": .bool($0.draining),
                                ])
                            }),
                    ])
                }),
            "markers": .array(
                markers.map {
                    .object([
                        "seq": .number(Double($0.seq)), "at": .string($0.at), "kind": .string($0.kind),
                        "verdict": $0.verdict.map(JSONValue.string) ?? .null,
                    ])
                }),
        ])
    }
}

extension AuditCollector {
    /// The timelines of the environments in scope with traffic in the window: from the window's start (or
    /// the environment's first change) to its end (or now).
    func timelines() -> [Timeline] {
        points.keys.sorted().compactMap { env in
            let changes = points[env]!
            let start = scope.from ?? changes[0].effectiveAt
            let end = min(scope.to ?? now, now)
            guard start < end else { return nil }
            var bands: [Timeline.Band] = []
            func add(_ version: String, _ segment: Timeline.Segment) {
                guard let index = bands.firstIndex(where: { $0.version == version }) else {
                    bands.append(Timeline.Band(version: version, name: name(version), segments: [segment]))
                    return
                }
                if let last = bands[index].segments.last, last.to == segment.from, last.weight == segment.weight,
                    last.draining == segment.draining
                {
                    bands[index].segments[bands[index].segments.count - 1] = Timeline.Segment(
                        from: last.from, to: segment.to, weight: last.weight, draining: last.draining)
                } else {
                    bands[index].segments.append(segment)
                }
            }
            for (index, change) in changes.enumerated() {
                let from = max(change.effectiveAt, start)
                let to = min(index + 1 < changes.count ? changes[index + 1].effectiveAt : end, end)
                guard from < to else { continue }
                for share in change.state.serving where share.weight > 0 {
                    add(share.version, Timeline.Segment(from: from, to: to, weight: share.weight, draining: false))
                }
                for version in change.state.draining {
                    add(version, Timeline.Segment(from: from, to: to, weight: 0, draining: true))
                }
            }
            let markers = (markers[env] ?? []).compactMap { marker -> Timeline.Marker? in
                guard let at = marker["at"]?.stringValue, at >= start, at <= end else { return nil }
                return Timeline.Marker(
                    seq: UInt64(marker["seq"]?.numberValue ?? 0), at: at, kind: marker["kind"]?.stringValue ?? "",
                    verdict: marker["verdict"]?.stringValue)
            }
            guard !bands.isEmpty || !markers.isEmpty else { return nil }
            return Timeline(env: env, from: start, to: end, bands: bands, markers: markers)
        }
    }
}

/// Draws timelines as one self-contained SVG picture: a panel per environment, a row per version whose
/// filled height is its share of new tasks, hatched while it drains; a line per canary verdict (green
/// promote, amber hold, red rollback) and per rollback (red, dashed).
public enum TimelinePicture {
    static let width = 960.0
    static let labelWidth = 170.0
    static let rowHeight = 24.0
    static let palette = ["#3b6fb6", "#d9822b", "#4a9c5d", "#8e5bb5", "#c44e52", "#2a9d9c", "#a0782a", "#6d6d6d"]

    public static func svg(_ timelines: [Timeline]) -> String {
        var body = ""
        var y = 8.0
        for timeline in timelines {
            body += panel(timeline, top: y)
            y += panelHeight(timeline) + 16
        }
        if timelines.isEmpty {
            body += ##"<text x="12" y="28" class="note">No traffic in this window.</text>"##
            y = 44
        }
        return """
            <svg xmlns="http://www.w3.org/2000/svg" width="\(Int(width))" height="\(Int(y))" viewBox="0 0 \(Int(width)) \(Int(y))" role="img" aria-label="What ran when">
            <defs><pattern id="drain" width="6" height="6" patternUnits="userSpaceOnUse" patternTransform="rotate(45)"><rect width="2" height="6" fill="#9a9a9a"/></pattern></defs>
            <style>text{font-family:-apple-system,"Segoe UI",Helvetica,Arial,sans-serif;font-size:12px;fill:#222}.env{font-weight:600;font-size:13px}.tick{fill:#666;font-size:11px}.note{fill:#666}.share{font-size:10px}</style>
            \(body)</svg>
            """
    }

    static func panelHeight(_ timeline: Timeline) -> Double {
        22 + Double(max(timeline.bands.count, 1)) * rowHeight + 44
    }

    static func panel(_ timeline: Timeline, top: Double) -> String {
        guard let start = Timestamp.parse(timeline.from), let end = Timestamp.parse(timeline.to) else { return "" }
        let span = max(end.timeIntervalSince(start), 0.001)
        let plotWidth = width - labelWidth - 16
        func x(_ time: String) -> Double {
            let date = Timestamp.parse(time) ?? start
            return labelWidth + plotWidth * min(max(date.timeIntervalSince(start) / span, 0), 1)
        }
        var out = ##"<g><text x="8" y="\##(top + 14)" class="env">\##(escape(timeline.env))</text>"##
        let rowsTop = top + 22
        for (row, band) in timeline.bands.enumerated() {
            let rowTop = rowsTop + Double(row) * rowHeight
            let color = palette[row % palette.count]
            out +=
                ##"<rect x="\##(labelWidth)" y="\##(rowTop)" width="\##(plotWidth)" height="\##(rowHeight - 4)" fill="#f3f4f6"/>"##
            out +=
                ##"<text x="8" y="\##(rowTop + 14)"><title>\##(escape(band.version))</title>\##(escape(clip(band.name)))</text>"##
            for piece in pieces(band, x: x) {
                let height = piece.draining ? 6 : max((rowHeight - 4) * Double(piece.weight) / 100, 2)
                let fill = piece.draining ? "url(#drain)" : color
                // A title to hover on, except on slivers that stand for many changes.
                let title =
                    piece.merged
                    ? ""
                    : "<title>\(escape("\(band.name) \(piece.draining ? "draining" : "\(piece.weight)%"), \(piece.from) to \(piece.to)"))</title>"
                out +=
                    ##"<rect x="\##(format(piece.left))" y="\##(format(rowTop + rowHeight - 4 - height))" width="\##(format(max(piece.right - piece.left, 1)))" height="\##(format(height))" fill="\##(fill)">\##(title)</rect>"##
                // The share as text where there is room: white on a full bar, dark above a low one.
                if !piece.draining, !piece.merged, piece.right - piece.left >= 34 {
                    let ink = piece.weight >= 60 ? "#fff" : "#333"
                    out +=
                        ##"<text x="\##(format(piece.left + 3))" y="\##(format(rowTop + 12))" class="share" style="fill:\##(ink)">\##(piece.weight)%</text>"##
                }
            }
        }
        let rowsBottom = rowsTop + Double(max(timeline.bands.count, 1)) * rowHeight
        for (marker, at) in placed(timeline.markers, x: x, right: labelWidth + plotWidth) {
            let color = color(of: marker)
            let position = format(at)
            let dash = marker.kind == "rollback.performed" ? ##" stroke-dasharray="4 3""## : ""
            let title =
                marker.kind == "rollback.performed"
                ? "rollback (seq \(marker.seq)) at \(marker.at)"
                : "canary verdict \(marker.verdict ?? "?") (seq \(marker.seq)) at \(marker.at)"
            out +=
                ##"<g><title>\##(escape(title))</title><line x1="\##(position)" y1="\##(rowsTop - 4)" x2="\##(position)" y2="\##(rowsBottom)" stroke="\##(color)" stroke-width="2"\##(dash)/><circle cx="\##(position)" cy="\##(rowsTop - 4)" r="4" fill="\##(color)"/></g>"##
        }
        out += axis(start: start, span: span, left: labelWidth, width: plotWidth, top: rowsBottom + 4)
        return out + "</g>"
    }

    /// The least distance between two marks, so that each is seen even when events are milliseconds apart.
    static let markerSpacing = 10.0
    /// How far a mark may be moved from its time to stand apart from the others.
    static let markerNudge = 3 * markerSpacing

    static func color(of marker: Timeline.Marker) -> String {
        marker.kind == "rollback.performed" || marker.verdict == "rollback"
            ? "#c0392b" : marker.verdict == "hold" ? "#d68910" : "#1e8449"
    }

    /// The marks to draw and where: each at its time, moved right (or, at the end of the axis, left) just enough
    /// to stand `markerSpacing` from its neighbours, in the order of the ledger; its title keeps the exact time.
    /// When the marks are too many or too close for that without moving one further than `markerNudge` (a year
    /// of rollouts), each stays at its time and a mark within a pixel and a half of the last of its colour and kind
    /// is left out: it would add nothing to the picture. Rollbacks are then drawn last, over any verdict at their
    /// place, so that none hides under a promotion.
    static func placed(
        _ markers: [Timeline.Marker], x: (String) -> Double, right: Double
    ) -> [(Timeline.Marker, Double)] {
        let times = markers.map { x($0.at) }
        var spaced = times
        for index in spaced.indices.dropFirst() {
            spaced[index] = max(spaced[index], spaced[index - 1] + markerSpacing)
        }
        if let last = spaced.indices.last, spaced[last] > right {
            spaced[last] = right
            for index in spaced.indices.dropLast().reversed() {
                spaced[index] = min(spaced[index], spaced[index + 1] - markerSpacing)
            }
        }
        if zip(spaced, times).allSatisfy({ abs($0 - $1) <= markerNudge }) {
            return Array(zip(markers, spaced))
        }
        var drawn: [String: Double] = [:]  // the last position of each colour and kind
        let kept = zip(markers, times).filter { marker, at in
            let key = color(of: marker) + marker.kind
            if let last = drawn[key], abs(at - last) < 1.5 { return false }
            drawn[key] = at
            return true
        }
        func layer(_ marker: Timeline.Marker) -> Int {
            marker.kind == "rollback.performed" ? 2 : marker.verdict == "rollback" ? 1 : 0
        }
        return (0...2).flatMap { level in kept.filter { layer($0.0) == level } }
    }

    /// A band's segments as rectangles to draw (each at least 1 px wide when drawn). Touching segments of
    /// the same share are drawn as one; so are runs of segments narrower than a pixel and a half (a long
    /// window has thousands), as high as the highest share among them.
    static func pieces(_ band: Timeline.Band, x: (String) -> Double) -> [Piece] {
        var pieces: [Piece] = []
        for segment in band.segments {
            let left = x(segment.from)
            let right = x(segment.to)
            let narrow = right - left < 1.5
            if var last = pieces.last, left - last.right < 0.5,
                (last.weight == segment.weight && last.draining == segment.draining)
                    || (narrow && last.right - last.left < 1.5)
            {
                last.right = max(last.right, right)
                last.to = segment.to
                last.merged = last.merged || last.weight != segment.weight || last.draining != segment.draining
                last.weight = max(last.weight, segment.weight)
                last.draining = last.draining && segment.draining
                pieces[pieces.count - 1] = last
            } else {
                pieces.append(
                    Piece(
                        left: left, right: right, from: segment.from, to: segment.to, weight: segment.weight,
                        draining: segment.draining, merged: false))
            }
        }
        return pieces
    }

    struct Piece {
        var left: Double
        var right: Double
        let from: String
        var to: String
        var weight: Int
        var draining: Bool
        /// Stands for segments of different shares.
        var merged: Bool
    }

    /// Ticks at a round step that gives at most eight of them, labelled in UTC, and under them the day (or days)
    /// and the step, which short labels such as `08:22:28.500` leave out. Steps run from 1 ms to a week, then in
    /// calendar months and years, so that a window of any length gets several ticks.
    static func axis(start: Date, span: TimeInterval, left: Double, width: Double, top: Double) -> String {
        let (ticks, step) = ticks(start: start, span: span)
        var out = ##"<line x1="\##(left)" y1="\##(top)" x2="\##(left + width)" y2="\##(top)" stroke="#999"/>"##
        for (tick, label) in ticks {
            let position = format(left + width * tick.timeIntervalSince(start) / span)
            out += ##"<line x1="\##(position)" y1="\##(top)" x2="\##(position)" y2="\##(top + 4)" stroke="#999"/>"##
            out +=
                ##"<text x="\##(position)" y="\##(top + 16)" text-anchor="middle" class="tick">\##(escape(label))</text>"##
        }
        // What the labels leave out: the day (or days) and the unit of a tick.
        let first = String(Timestamp.format(start).prefix(10))
        let last = String(Timestamp.format(start.addingTimeInterval(span)).prefix(10))
        let days = first == last ? first : "\(first) to \(last)"
        let caption = ticks.isEmpty ? "UTC, \(days); no tick" : "UTC, \(days); a tick every \(step)"
        return out + ##"<text x="\##(left)" y="\##(top + 30)" class="tick">\##(caption)</text>"##
    }

    /// Steps of ticks shorter than a month, in milliseconds.
    static let stepsInMilliseconds: [Int64] = [
        1, 5, 10, 50, 100, 500, 1_000, 5_000, 15_000, 60_000, 300_000, 900_000, 3_600_000, 6 * 3_600_000,
        86_400_000, 7 * 86_400_000,
    ]
    /// Steps of a month and longer, in months.
    static let stepsInMonths = [1, 3, 6, 12, 24, 60, 120, 240, 600, 1_200, 2_400, 6_000, 12_000, 24_000, 60_000]

    /// The ticks of an axis from `start` over `span` seconds, each with its label, and the step in words. Ticks
    /// are counted in whole milliseconds (the ledger's precision) or calendar months, so none is lost to
    /// rounding at either end.
    static func ticks(start: Date, span: TimeInterval) -> (ticks: [(Date, String)], step: String) {
        // A millisecond's time is half a millisecond in, as `Timestamp.parse` gives it: `Timestamp.format` rounds
        // down, and must not fall on the millisecond before.
        func date(_ milliseconds: Int64) -> Date {
            Date(timeIntervalSince1970: (Double(milliseconds) + 0.5) / 1_000)
        }
        let from = Int64((start.timeIntervalSince1970 * 1_000).rounded(.down))
        let to = Int64((start.addingTimeInterval(span).timeIntervalSince1970 * 1_000).rounded(.down))
        if let step = stepsInMilliseconds.first(where: { Double(to - from) / Double($0) <= 8 }) {
            var ticks: [(Date, String)] = []
            // The first multiple of the step from `from` on (division truncates: a ceiling before 1970).
            var tick = (from / step + (from % step > 0 ? 1 : 0)) * step
            while tick <= to {
                let text = Timestamp.format(date(tick))  // 2026-11-27T14:03:05.123Z
                let label =
                    step < 1_000
                    ? String(text.dropFirst(11).prefix(12))
                    : step < 60_000
                        ? String(text.dropFirst(11).prefix(8))
                        : step < 86_400_000
                            ? String(text.dropFirst(5).prefix(11)).replacingOccurrences(of: "T", with: " ")
                            : String(text.prefix(10))
                ticks.append((date(tick), label))
                tick += step
            }
            return (ticks, duration(TimeInterval(step) / 1_000))
        }
        // Calendar months: a month index counts months from the year 0.
        let averageMonth = 30.436875 * 86_400
        let step = stepsInMonths.first { span <= 7 * Double($0) * averageMonth } ?? stepsInMonths.last!
        let text = Timestamp.format(start)
        let index = Int(text.prefix(4))! * 12 + Int(text.dropFirst(5).prefix(2))! - 1
        let atMonthStart = text.dropFirst(8).hasPrefix("01T00:00:00.000")
        var tick = index + (atMonthStart ? 0 : 1)
        tick = (tick + step - 1) / step * step
        var ticks: [(Date, String)] = []
        while true {
            let year = String(tick / 12)
            let month = String(tick % 12 + 1)
            let day = String(repeating: "0", count: 4 - year.count) + year + "-" + (month.count < 2 ? "0" : "") + month
            guard let date = Timestamp.parse(day + "-01"), date <= start.addingTimeInterval(span) else { break }
            ticks.append((date, step < 12 ? day : String(day.prefix(4))))
            tick += step
        }
        let words =
            step == 1 ? "month" : step < 12 ? "\(step) months" : step == 12 ? "year" : "\(step / 12) years"
        return (ticks, words)
    }

    /// A tick's step in words: `100 ms`, `15 s`, `5 min`, `6 h`, `7 days`.
    static func duration(_ step: TimeInterval) -> String {
        if step < 1 { return "\(Int((step * 1_000).rounded())) ms" }
        if step < 60 { return "\(Int(step)) s" }
        if step < 3_600 { return "\(Int(step / 60)) min" }
        if step < 86_400 { return "\(Int(step / 3_600)) h" }
        let days = Int(step / 86_400)
        return days == 1 ? "day" : "\(days) days"
    }

    static func clip(_ text: String) -> String {
        text.count > 24 ? String(text.prefix(23)) + "…" : text
    }

    /// One decimal, without Foundation's formatter (a year's picture has tens of thousands of numbers).
    static func format(_ value: Double) -> String {
        let tenths = Int((value * 10).rounded())
        return "\(tenths < 0 ? "-" : "")\(abs(tenths) / 10).\(abs(tenths) % 10)"
    }

    /// Escapes text for SVG and HTML: `&`, `<`, `>`, and both quotes.
    public static func escape(_ text: String) -> String {
        ReportTemplates.HTML().escapeText(text)
    }
}
