/// Selection of order statistics without sorting: the k-th smallest value and the median.
enum OrderStatistics {
    /// The median as numpy computes it: the middle value, or the mean of the two middle values.
    /// Reorders `values`; `values` must not be empty.
    static func median(_ values: inout [Double]) -> Double {
        let count = values.count
        let upper = kthSmallest(&values, count / 2 + 1)
        if count % 2 == 1 { return upper }
        // After selecting rank count / 2 + 1, the smaller half sits before it, so its maximum is the other middle.
        let lower = values[..<(count / 2)].max()!
        return (lower + upper) / 2
    }

    /// The k-th smallest value (k counts from 1), by quickselect with a median-of-three pivot that falls back to
    /// sorting a range that does not shrink fast enough, so that the time is O(n) on average and O(n log n) at
    /// worst. Reorders `values` so that the k-1 values before index k-1 are not larger than it.
    static func kthSmallest(_ values: inout [Double], _ k: Int) -> Double {
        precondition(k >= 1 && k <= values.count, "rank \(k) outside 1...\(values.count)")
        let target = k - 1
        return values.withUnsafeMutableBufferPointer { buffer in
            var low = 0
            var high = buffer.count - 1
            var budget = 2 * (Int.bitWidth - buffer.count.leadingZeroBitCount) + 4
            while high > low {
                if budget == 0 {
                    buffer[low...high].sort()
                    break
                }
                budget -= 1
                let middle = low + (high - low) / 2
                if buffer[middle] < buffer[low] { buffer.swapAt(middle, low) }
                if buffer[high] < buffer[low] { buffer.swapAt(high, low) }
                if buffer[high] < buffer[middle] { buffer.swapAt(high, middle) }
                let pivot = buffer[middle]
                var i = low
                var j = high
                while i <= j {
                    while buffer[i] < pivot { i += 1 }
                    while buffer[j] > pivot { j -= 1 }
                    if i <= j {
                        buffer.swapAt(i, j)
                        i += 1
                        j -= 1
                    }
                }
                if target <= j {
                    high = j
                } else if target >= i {
                    low = i
                } else {
                    break
                }
            }
            return buffer[target]
        }
    }
}
