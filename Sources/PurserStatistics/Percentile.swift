/// The `fraction` quantile of sorted `values` with linear interpolation between ranks (numpy's default,
/// `numpy.percentile(values, 100 * fraction)`).
///
/// - Parameters:
///   - sorted: The values, sorted ascending.
///   - fraction: The quantile, in [0, 1]: 0.5 for the median, 0.95 for the p95.
/// - Returns: NaN when there are no values.
public func percentile(_ sorted: [Double], _ fraction: Double) -> Double {
    guard !sorted.isEmpty else { return .nan }
    let position = fraction * Double(sorted.count - 1)
    let lower = Int(position.rounded(.down))
    let upper = min(lower + 1, sorted.count - 1)
    return sorted[lower] + (sorted[upper] - sorted[lower]) * (position - Double(lower))
}
