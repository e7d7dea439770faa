/// A canary sample and a baseline sample, sorted and ranked once for the Mann–Whitney test and the
/// Hodges–Lehmann shift.
///
/// Sorting is a radix sort (O(N) for N = m + n values, a few milliseconds for 200,000); ranking is one merge of
/// the sorted samples, with tied values given their average rank as `scipy.stats.rankdata(method='average')`
/// does.
public struct TwoSamples: Sendable {
    /// The canary's values, sorted ascending.
    public let canary: [Double]
    /// The baseline's values, sorted ascending.
    public let baseline: [Double]
    /// The sum of the canary's ranks in the pooled sample (ranks 1...N, ties averaged).
    let canaryRankSum: Double
    /// Σ (t³ − t) over the groups of t equal values in the pooled sample: the tie correction of the variance.
    let tieTerm: Double

    /// Sorts and ranks the samples.
    ///
    /// - Returns: nil when either sample is empty or holds a NaN or an infinity, for which no rank test is
    ///   defined.
    public init?(canary: [Double], baseline: [Double]) {
        guard !canary.isEmpty, !baseline.isEmpty, canary.allSatisfy(\.isFinite), baseline.allSatisfy(\.isFinite)
        else { return nil }
        self.canary = Self.sorted(canary)
        self.baseline = Self.sorted(baseline)
        (canaryRankSum, tieTerm) = Self.rank(self.canary, self.baseline)
    }

    /// Whether any value occurs more than once in the pooled sample.
    var hasTies: Bool { tieTerm > 0 }

    /// The canary's values minus the baseline's, all pairs.
    var differences: PairwiseDifferences { PairwiseDifferences(x: canary, y: baseline) }

    /// `values` sorted ascending: a least-significant-digit radix sort on 11-bit digits of keys that order like
    /// the doubles (the bit pattern with the sign bit flipped for positives, all bits flipped for negatives),
    /// skipping digits that all values share. Small arrays use the standard library's sort. With a NaN in
    /// `values` the order is unspecified.
    public static func sorted(_ values: [Double]) -> [Double] {
        guard values.count > 256 else { return values.sorted() }
        let digitBits = 11
        let buckets = 1 << digitBits
        let passes = (64 + digitBits - 1) / digitBits
        var keys = values.map { value in
            let bits = value.bitPattern
            return bits & (1 << 63) == 0 ? bits | (1 << 63) : ~bits
        }
        var scratch = [UInt64](repeating: 0, count: keys.count)
        // All digits' histograms in one read of the keys.
        var counts = [Int](repeating: 0, count: buckets * passes)
        counts.withUnsafeMutableBufferPointer { counts in
            for key in keys {
                for pass in 0..<passes {
                    counts[pass * buckets + Int((key >> UInt64(pass * digitBits)) & UInt64(buckets - 1))] += 1
                }
            }
        }
        for pass in 0..<passes {
            let histogram = pass * buckets..<(pass + 1) * buckets
            if counts[histogram].contains(keys.count) { continue }
            var total = 0
            for index in histogram { (counts[index], total) = (total, total + counts[index]) }
            let shift = UInt64(pass * digitBits)
            keys.withUnsafeBufferPointer { keys in
                scratch.withUnsafeMutableBufferPointer { scratch in
                    counts.withUnsafeMutableBufferPointer { counts in
                        for key in keys {
                            let slot = pass * buckets + Int((key >> shift) & UInt64(buckets - 1))
                            scratch[counts[slot]] = key
                            counts[slot] += 1
                        }
                    }
                }
            }
            swap(&keys, &scratch)
        }
        return keys.map { key in
            Double(bitPattern: key & (1 << 63) != 0 ? key & ~(1 << 63) : ~key)
        }
    }

    private static func rank(_ x: [Double], _ y: [Double]) -> (rankSum: Double, tieTerm: Double) {
        var rankSum = 0.0
        var tieTerm = 0.0
        var i = 0
        var j = 0
        var nextRank = 1.0
        while i < x.count || j < y.count {
            let value = j == y.count || (i < x.count && x[i] < y[j]) ? x[i] : y[j]
            var fromX = 0.0
            while i < x.count && x[i] == value {
                fromX += 1
                i += 1
            }
            var tied = fromX
            while j < y.count && y[j] == value {
                tied += 1
                j += 1
            }
            rankSum += fromX * (nextRank + (tied - 1) / 2)
            tieTerm += tied * tied * tied - tied
            nextRank += tied
        }
        return (rankSum, tieTerm)
    }
}
