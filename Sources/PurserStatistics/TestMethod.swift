/// How a test's p-value was computed.
///
/// Small samples without ties get the exact null distribution of the statistic; larger samples, or samples
/// with ties, the normal approximation. The choice follows scipy's `method='auto'` for each test, so that a
/// reader can reproduce a p-value with the call named in the test's documentation.
enum TestMethod: String, Sendable, Hashable, CaseIterable {
    /// The exact null distribution of the statistic (for the signed-rank test with ties or zeros, the exact
    /// distribution over all sign assignments, which is what scipy's exhaustive permutation test computes).
    case exact
    /// The normal approximation, with tie correction of the variance and a continuity correction.
    case asymptotic
}
