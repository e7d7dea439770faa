public import Foundation
public import PurserLedger
internal import PurserStatistics

/// A metric's trend over a window, per behavioral version: the per-period means and a Mann–Kendall test
/// with Sen's slope, so that a slow, steady degradation that looks like noise day to day is flagged.
public struct DriftReport: Sendable {
    public let version: String
    public let metric: String
    /// Each period that had tasks: its start, the metric's mean and the number of tasks.
    public let periods: [(start: String, mean: Double, tasks: Int)]
    /// Sen's slope per week, and relative to the mean of the series; nil with fewer than 4 periods.
    public let slopePerWeek: Double?
    public let relativeSlopePerWeek: Double?
    public let p: Double?
    /// A significant trend (p < 0.05) in the bad direction.
    public let flagged: Bool
}

extension Metrics {
    /// The metrics `drift` follows, with the direction that is bad and how a task contributes.
    public static let driftMetrics: [String: (column: String, badDirection: CanaryConfig.Direction)] = [
        "quality": ("quality", .decrease), "error_rate": ("error", .increase),
        "completion_rate": ("completed", .decrease), "duration_ms": ("duration_ms", .increase),
        "cost_usd": ("cost_usd", .increase), "input_tokens": ("input_tokens", .increase),
        "output_tokens": ("output_tokens", .increase), "tool_latency_ms": ("tool_latency_ms", .increase),
    ]

    /// Detects drift of `metric` per version over `window` seconds ending at `until` (default: now, by the ledger's
    /// clock), in periods of `period` seconds (daily by default).
    /// - Throws: `.usage` for an unknown metric, or a window that is not 1 to 100,000 periods long.
    public func drift(
        metric: String = "quality", env: EnvironmentName? = nil, versions: [String] = [], window: Double = 28 * 86_400,
        period: Double = 86_400, until: Date? = nil
    ) throws(LedgerError) -> [DriftReport] {
        let until = until ?? ledger.clock()
        guard let (column, bad) = Metrics.driftMetrics[metric] else {
            throw LedgerError(
                .usage,
                "unknown metric \(metric); drift follows \(Metrics.driftMetrics.keys.sorted().joined(separator: ", "))"
            )
        }
        guard window.isFinite, period.isFinite, period > 0, window >= period, window / period <= 100_000 else {
            throw LedgerError(
                .usage, "the window must be at least one period and at most 100,000 periods long, with both finite")
        }
        let start = until.addingTimeInterval(-window)
        let sums: [String: [Int: (sum: Double, count: Int)]] = try ledger.readTables { (tables: any TaskTables) in
            var sums: [String: [Int: (sum: Double, count: Int)]] = [:]
            try tables.forEachTaskValue(
                of: column, since: Timestamp.format(start), until: Timestamp.format(until), env: env?.name,
                versions: versions
            ) { version, startedAt, value in
                guard let time = Timestamp.parse(startedAt) else { return }
                let index = Int(time.timeIntervalSince(start) / period)
                let current = sums[version, default: [:]][index] ?? (0, 0)
                sums[version, default: [:]][index] = (current.sum + value, current.count + 1)
            }
            return sums
        }
        return sums.keys.sorted().map { version in
            let periods = sums[version]!.keys.sorted().map { index in
                let (sum, count) = sums[version]![index]!
                return (
                    start: Timestamp.format(start.addingTimeInterval(Double(index) * period)),
                    mean: sum / Double(count), tasks: count
                )
            }
            let series = periods.map(\.mean)
            // Each mean at its period's index, so that periods without tasks keep the slope per period.
            let indices = sums[version]!.keys.sorted().map(Double.init)
            guard series.count >= 4, let test = MannKendall(series, times: indices) else {
                return DriftReport(
                    version: version, metric: metric, periods: periods, slopePerWeek: nil, relativeSlopePerWeek: nil,
                    p: nil, flagged: false)
            }
            let perWeek = test.slope * 7 * 86_400 / period
            let average = series.reduce(0, +) / Double(series.count)
            let worse = bad == .increase ? test.slope > 0 : test.slope < 0
            return DriftReport(
                version: version, metric: metric, periods: periods, slopePerWeek: perWeek,
                relativeSlopePerWeek: average == 0 ? nil : perWeek / abs(average), p: test.p,
                flagged: test.p < CanaryJudge.alpha && worse)
        }
    }
}
