/// SplitMix64: pseudo-random numbers that depend only on the seed, on every machine, so that generated
/// examples (the demo's task metrics), benchmark ledgers and randomized tests repeat from run to run.
public struct SeededGenerator: RandomNumberGenerator, Sendable {
    private var state: UInt64

    public init(seed: UInt64) { state = seed }

    public mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }

    /// A number in [0, 1), from the top 53 bits of the next one.
    public mutating func uniform() -> Double { Double(next() >> 11) / Double(1 << 53) }
}
