/// The m·n differences xᵢ − yⱼ of two sorted samples, ranked without being listed.
///
/// For 100,000 values per sample there are 10¹⁰ differences. For sorted x and y, the j with xᵢ − yⱼ ≤ t are a
/// suffix of y whose start only moves right as i grows, so one merge-like O(m + n) pass counts the differences at
/// most t and finds the nearest differences on either side of t. The k-th smallest is found by narrowing a
/// bracket (low, high] around it (first guess from the differences of 128 evenly spaced values of each sample,
/// then secant steps on the counts, bisection when those stall) until at most m + n differences remain inside,
/// which are listed and selected from: about five passes per rank for 100,000 values per sample. Each difference
/// is the rounded `x[i] - y[j]`, and rounding is monotonic, so the result is bit for bit the one of sorting all
/// differences. The same idea, with random pivots, is J. F. Monahan, "Fast computation of the Hodges-Lehmann
/// location estimator", ACM TOMS 10 (1984).
///
/// The passes run over the distinct values of each sample with their counts: a difference of distinct values
/// stands for as many differences as the product of their counts. Durations or token counts repeat a few
/// thousand values over 100,000 tasks, and a pass is then over those few thousand; without ties nothing changes.
struct PairwiseDifferences: Sendable {
    /// What a pass learned about a value t.
    struct Probe: Sendable {
        /// The value probed.
        var value: Double
        /// How many differences are at most `value`.
        var count: Int
        /// How many differences of distinct values are at most `value`: how many a listing would hold.
        var distinct: Int
        /// The largest difference at most `value` (−∞ when none is), when the pass looked for it.
        var floor: Double?
        /// The smallest difference above `value` (+∞ when none is), when the pass looked for it.
        var next: Double?
    }

    /// The distinct values of the first sample, ascending (±0 apart, as their differences can differ).
    let x: [Double]
    /// How often each value of `x` occurs.
    let xCounts: [Int]
    /// The distinct values of the second sample, ascending.
    let y: [Double]
    /// How often each value of `y` occurs.
    let yCounts: [Int]
    /// `yAbove[j]`: how many values of the second sample are `y[j]` or above; `yAbove[y.count]` is 0.
    let yAbove: [Int]
    /// The number of differences, m·n.
    let count: Int
    /// Probes made so far, reused to start later searches from a tight bracket.
    private(set) var probes: [Probe] = []
    /// The sorted differences of every so many values of x and y, whose quantiles approximate those of all
    /// differences to about 2% of the ranks: where to probe first.
    private var sketch: [Double] = []
    /// The sample values `sketch` is made of, taken at evenly spaced ranks of each sample.
    private let sketchValues: (x: [Double], y: [Double])

    /// - Parameters:
    ///   - x: the first sample, sorted ascending.
    ///   - y: the second sample, sorted ascending.
    init(x: [Double], y: [Double]) {
        precondition(!x.isEmpty && !y.isEmpty, "no differences between empty samples")
        (self.x, xCounts) = Self.distinct(x)
        (self.y, yCounts) = Self.distinct(y)
        var above = [Int](repeating: 0, count: self.y.count + 1)
        for j in stride(from: self.y.count - 1, through: 0, by: -1) { above[j] = above[j + 1] + yCounts[j] }
        yAbove = above
        count = x.count * y.count
        sketchValues = (Self.every(x, 128), Self.every(y, 128))
    }

    /// The runs of equal values (by bit pattern) of sorted `values`: each value once, with its count.
    private static func distinct(_ values: [Double]) -> (values: [Double], counts: [Int]) {
        var distinct: [Double] = []
        var counts: [Int] = []
        for value in values {
            if let last = distinct.last, last.bitPattern == value.bitPattern {
                counts[counts.count - 1] += 1
            } else {
                distinct.append(value)
                counts.append(1)
            }
        }
        return (distinct, counts)
    }

    /// How many differences of distinct values there are.
    private var distinctCount: Int { x.count * y.count }

    /// Counts the differences at most `t` and finds its neighbours among them, in one O(m + n) pass.
    mutating func probe(_ t: Double) -> Probe {
        let result = x.withUnsafeBufferPointer { x in
            xCounts.withUnsafeBufferPointer { xCounts in
                y.withUnsafeBufferPointer { y in
                    yAbove.withUnsafeBufferPointer { yAbove in
                        let (m, n) = (x.count, y.count)
                        var i = 0
                        var j = 0
                        var total = 0
                        var distinct = 0
                        var floor = -Double.infinity
                        var next = Double.infinity
                        // Each step either moves past y[j] (the difference with x[i] is above t) or closes row i,
                        // whose differences at most t are those with y[j...].
                        while i < m && j < n {
                            let value = x[i]
                            let difference = value - y[j]
                            let previous = value - y[j > 0 ? j - 1 : 0]
                            let above = difference > t
                            total &+= above ? 0 : xCounts[i] &* yAbove[j]
                            distinct &+= above ? 0 : n &- j
                            floor = !above && difference > floor ? difference : floor
                            next = !above && j > 0 && previous < next ? previous : next
                            j &+= above ? 1 : 0
                            i &+= above ? 0 : 1
                        }
                        // Rows left when every y was passed have no difference at most t; the smallest above is
                        // in the first of them.
                        if i < m {
                            let difference = x[i] - y[n - 1]
                            if difference < next { next = difference }
                        }
                        return Probe(value: t, count: total, distinct: distinct, floor: floor, next: next)
                    }
                }
            }
        }
        probes.append(result)
        return result
    }

    /// Counts the differences at most `a` and at most `b` in one pass. The two merges are independent, so the
    /// processor overlaps them and two counts cost about as much as one.
    private mutating func count(atMost a: Double, _ b: Double) {
        let (countA, countB) = x.withUnsafeBufferPointer { x in
            xCounts.withUnsafeBufferPointer { xCounts in
                y.withUnsafeBufferPointer { y in
                    yAbove.withUnsafeBufferPointer { yAbove in
                        let (m, n) = (x.count, y.count)
                        var (i, j, total, distinct) = (0, 0, 0, 0)
                        var (k, l, other, otherDistinct) = (0, 0, 0, 0)
                        while i < m && j < n && k < m && l < n {
                            let aboveA = x[i] - y[j] > a ? 1 : 0
                            total &+= (xCounts[i] &* yAbove[j]) & (aboveA &- 1)
                            distinct &+= (n &- j) & (aboveA &- 1)
                            j &+= aboveA
                            i &+= 1 &- aboveA
                            let aboveB = x[k] - y[l] > b ? 1 : 0
                            other &+= (xCounts[k] &* yAbove[l]) & (aboveB &- 1)
                            otherDistinct &+= (n &- l) & (aboveB &- 1)
                            l &+= aboveB
                            k &+= 1 &- aboveB
                        }
                        while i < m && j < n {
                            let aboveA = x[i] - y[j] > a ? 1 : 0
                            total &+= (xCounts[i] &* yAbove[j]) & (aboveA &- 1)
                            distinct &+= (n &- j) & (aboveA &- 1)
                            j &+= aboveA
                            i &+= 1 &- aboveA
                        }
                        while k < m && l < n {
                            let aboveB = x[k] - y[l] > b ? 1 : 0
                            other &+= (xCounts[k] &* yAbove[l]) & (aboveB &- 1)
                            otherDistinct &+= (n &- l) & (aboveB &- 1)
                            l &+= aboveB
                            k &+= 1 &- aboveB
                        }
                        return ((total, distinct), (other, otherDistinct))
                    }
                }
            }
        }
        probes.append(Probe(value: a, count: countA.0, distinct: countA.1))
        probes.append(Probe(value: b, count: countB.0, distinct: countB.1))
    }

    /// The k-th smallest difference, k counting from 1.
    ///
    /// Rounds of two kinds narrow a bracket (low, high] with count(low) < k ≤ count(high). A secant round fits a
    /// line through the two probes whose counts are nearest k and counts at the values it predicts for ranks
    /// k ∓ budget/4 (in differences of distinct values), so that where the counts are smooth the next bracket
    /// holds about budget/2 of those. When that does not cut the bracket to a quarter, a bisection round probes
    /// the middle and snaps the bounds to actual differences, which ends searches whose answer repeats more often
    /// than the budget (ties). Bisection is by value while that is fast, else by bit pattern: 64 steps at most,
    /// however many orders of magnitude the values span. When at most the budget of differences of distinct
    /// values remain inside, they are listed and selected from.
    mutating func kthSmallest(_ k: Int) -> Double {
        precondition(k >= 1 && k <= count, "rank \(k) outside 1...\(count)")
        if probes.isEmpty { _ = probe(x[0] - y[y.count - 1]) }
        let budget = max(x.count + y.count, 4096)
        // How many differences a difference of distinct values stands for, on average.
        let weight = Double(count) / Double(distinctCount)
        var secant = true
        var guessed = false
        var bisections = 0
        while true {
            // The bracket from everything probed so far; lowNext, when known, is the smallest difference above
            // low, so the answer is in [lowNext, high].
            var (low, countLow, distinctLow, lowNext): (Double, Int, Int, Double?) =
                (-.infinity, 0, 0, x[0] - y[y.count - 1])
            var (high, countHigh, distinctHigh, highIsDifference) = (
                x[x.count - 1] - y[0], count, distinctCount, true
            )
            for probe in probes {
                if probe.count < k {
                    if probe.value > low || probe.value == low && probe.next != nil {
                        (low, countLow, distinctLow, lowNext) = (probe.value, probe.count, probe.distinct, probe.next)
                    }
                } else {
                    let bound = probe.floor ?? probe.value
                    if bound < high || bound == high && probe.floor != nil {
                        (high, countHigh, distinctHigh, highIsDifference) = (
                            bound, probe.count, probe.distinct, probe.floor != nil
                        )
                    }
                }
            }
            if let lowNext, lowNext >= high { return high }
            if low.nextUp >= high { return high }
            let gap = countHigh - countLow
            if distinctHigh - distinctLow <= budget {
                return select(k - countLow, above: low, atMost: high, count: gap)
            }
            if !guessed && gap > count / 16 {
                firstGuess(k)
                guessed = true
                continue
            }
            let margin = Int(min(Double(budget / 4) * weight, Double(count)))
            let targets = secant ? secantTargets(k, margin: margin).filter { $0 > low && $0 < high } : []
            if let first = targets.first, let last = targets.last {
                count(atMost: first, last)
                let narrowed = probes.suffix(2).reduce(into: (countLow, countHigh)) { bracket, probe in
                    if probe.count < k {
                        bracket.0 = max(bracket.0, probe.count)
                    } else {
                        bracket.1 = min(bracket.1, probe.count)
                    }
                }
                secant = narrowed.1 - narrowed.0 <= gap / 4
            } else if lowNext == nil {
                // Snap the bounds to actual differences: when one value repeats more often than the budget, this
                // is what shows that it is the only one left in the bracket.
                _ = probe(low)
                secant = true
            } else if !highIsDifference {
                _ = probe(high)
                secant = true
            } else {
                let start = lowNext ?? low.nextUp
                let middle = start / 2 + high / 2
                let valid = bisections < 64 && middle >= start && middle < high
                _ = probe(valid ? middle : Self.bitMidpoint(start, high) ?? start)
                bisections += 1
                secant = true
            }
        }
    }

    /// The `rank`-th smallest of the `count` differences in (low, high].
    private func select(_ rank: Int, above low: Double, atMost high: Double, count: Int) -> Double {
        var values: [Double] = []
        var counts: [Int] = []
        listDifferences(above: low, atMost: high) { value, repeats in
            values.append(value)
            counts.append(repeats)
        }
        if values.count == count {
            return OrderStatistics.kthSmallest(&values, rank)
        }
        // Ties: the differences of distinct values by value, until their counts reach the rank.
        let order = values.indices.sorted { values[$0] < values[$1] }
        var seen = 0
        for index in order {
            seen += counts[index]
            if seen >= rank { return values[index] }
        }
        preconditionFailure("rank \(rank) beyond the \(seen) differences in the bracket")
    }

    /// Counts at the sketch's quantiles 3% of the ranks either side of k, which usually bracket the answer
    /// closely enough for the secant rounds to converge at once.
    private mutating func firstGuess(_ k: Int) {
        if sketch.isEmpty {
            let (xs, ys) = sketchValues
            sketch = xs.flatMap { value in ys.map { value - $0 } }.sorted()
        }
        let share = Double(k) / Double(count)
        let last = Double(sketch.count - 1)
        let below = sketch[Int(min(max((last * (share - 0.03)).rounded(.down), 0), last))]
        let above = sketch[Int(min(max((last * (share + 0.03)).rounded(.up), 0), last))]
        count(atMost: below, above)
    }

    /// `limit` values spread evenly over sorted `values`, first and last included.
    private static func every(_ values: [Double], _ limit: Int) -> [Double] {
        guard values.count > limit else { return values }
        return (0..<limit).map { values[$0 * (values.count - 1) / (limit - 1)] }
    }

    /// The values where the line through the two probes whose counts are nearest k reaches counts
    /// k − margin and k + margin; none when those probes do not define a rising line.
    private func secantTargets(_ k: Int, margin: Int) -> [Double] {
        let nearest = probes.sorted { abs($0.count - k) < abs($1.count - k) }
        guard let first = nearest.first,
            let second = nearest.dropFirst().first(where: { $0.count != first.count && $0.value != first.value })
        else { return [] }
        let slope = (second.value - first.value) / Double(second.count - first.count)
        guard slope > 0, slope.isFinite else { return [] }
        return [k - margin, k + margin].map { first.value + slope * Double($0 - first.count) }.filter(\.isFinite)
    }

    /// The differences of distinct values in (low, high], in no particular order, each with how many
    /// differences it stands for.
    private func listDifferences(above low: Double, atMost high: Double, _ body: (Double, Int) -> Void) {
        x.withUnsafeBufferPointer { x in
            y.withUnsafeBufferPointer { y in
                var startHigh = 0
                var startLow = 0
                for (i, value) in x.enumerated() {
                    while startHigh < y.count && value - y[startHigh] > high { startHigh += 1 }
                    while startLow < y.count && value - y[startLow] > low { startLow += 1 }
                    for j in startHigh..<max(startHigh, startLow) { body(value - y[j], xCounts[i] * yCounts[j]) }
                }
            }
        }
    }

    /// A double strictly between `low` and `high`, halfway in the order of all doubles, or nil when they are
    /// neighbours.
    private static func bitMidpoint(_ low: Double, _ high: Double) -> Double? {
        let (a, b) = (orderedKey(low), orderedKey(high))
        let span = UInt64(bitPattern: b &- a)
        guard span > 1 else { return nil }
        return fromOrderedKey(a &+ Int64(bitPattern: span / 2))
    }

    /// An integer that orders like the double: 0 for ±0, the bit pattern for positives, its negation for negatives.
    private static func orderedKey(_ value: Double) -> Int64 {
        let magnitude = Int64(bitPattern: value.bitPattern & ~(1 << 63))
        return value.sign == .minus ? -magnitude : magnitude
    }

    private static func fromOrderedKey(_ key: Int64) -> Double {
        key >= 0 ? Double(bitPattern: UInt64(key)) : -Double(bitPattern: UInt64(-key))
    }
}
