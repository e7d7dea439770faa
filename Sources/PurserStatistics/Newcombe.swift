/// Newcombe's hybrid score interval for the difference of two proportions, canary − baseline (R. G. Newcombe,
/// Statist. Med. 17, 1998, method 10), built from each arm's Wilson interval (l, u) at the same level:
///
///     [d − √((p̂_c − l_c)² + (u_b − p̂_b)²),  d + √((u_c − p̂_c)² + (p̂_b − l_b)²)],   d = p̂_c − p̂_b.
///
/// It stays sensible at rates of 0 and 1 and in small arms, where the Wald interval collapses.
public enum Newcombe {
    /// The interval at `level`.
    ///
    /// - Returns: nil without trials in an arm, or with impossible counts.
    public static func interval(
        canary: (successes: Int, trials: Int), baseline: (successes: Int, trials: Int), level: Double
    ) -> ClosedRange<Double>? {
        guard let c = Wilson(successes: canary.successes, trials: canary.trials, level: level),
            let b = Wilson(successes: baseline.successes, trials: baseline.trials, level: level)
        else { return nil }
        let d = c.estimate - b.estimate
        let low =
            d
            - ((c.estimate - c.lower) * (c.estimate - c.lower) + (b.upper - b.estimate) * (b.upper - b.estimate))
            .squareRoot()
        let high =
            d
            + ((c.upper - c.estimate) * (c.upper - c.estimate) + (b.estimate - b.lower) * (b.estimate - b.lower))
            .squareRoot()
        return low...high
    }
}
