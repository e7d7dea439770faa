/// An estimate with its standard error, whose standardized error follows Student's t (Welch's test) or the
/// standard normal (the quantile difference): the one-sided tests against a margin and the intervals that
/// match them.
///
/// A test at level α rejects exactly when the matching bound of the two-sided 1 − 2α interval lies beyond the
/// margin, so a p-value and an interval recorded together always tell the same story.
public struct Estimate: Sendable, Hashable {
    /// The point estimate.
    public let value: Double
    /// Its standard error, ≥ 0.
    let standardError: Double
    /// The t distribution's degrees of freedom, or nil for the standard normal.
    let degreesOfFreedom: Double?

    init(value: Double, standardError: Double, degreesOfFreedom: Double? = nil) {
        self.value = value
        self.standardError = standardError
        self.degreesOfFreedom = degreesOfFreedom
    }

    /// The p-value of H₀: θ ≤ margin against θ > margin. With a standard error of 0 (every value equal in
    /// both arms), 0 when the estimate is above the margin, else 1.
    public func pAbove(_ margin: Double) -> Double {
        guard standardError > 0 else { return value > margin ? 0 : 1 }
        return survival((value - margin) / standardError)
    }

    /// The p-value of H₀: θ ≥ margin against θ < margin.
    public func pBelow(_ margin: Double) -> Double {
        guard standardError > 0 else { return value < margin ? 0 : 1 }
        return survival((margin - value) / standardError)
    }

    /// The two-sided interval at `level`: value ± q·se, q the (1 + level)/2 quantile.
    public func interval(level: Double) -> ClosedRange<Double> {
        let quantile =
            degreesOfFreedom.map { StudentT.quantile((1 + level) / 2, degreesOfFreedom: $0) }
            ?? Distributions.normalQuantile((1 + level) / 2)
        let half = standardError > 0 ? quantile * standardError : 0
        return (value - half)...(value + half)
    }

    private func survival(_ z: Double) -> Double {
        degreesOfFreedom.map { StudentT.survival(z, degreesOfFreedom: $0) } ?? Distributions.normalSurvival(z)
    }
}
