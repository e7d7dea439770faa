import Foundation
import PurserCore
import Testing

@Suite("Figure: one written form per kind of number")
struct FigureTests {
    @Test(
        "percentages: one decimal, none when whole",
        arguments: [
            (0.6666666666666666, false, "66.7%"), (0.67, false, "67%"), (0.5, false, "50%"), (1, false, "100%"),
            (0.99996, false, "100%"), (0, false, "0%"), (-0.00001, false, "0%"), (2, true, "+200%"),
            (-0.0235, true, "-2.4%"), (0.000001, true, "0%"), (0.975, false, "97.5%"),
        ])
    func percent(_ fraction: Double, _ signed: Bool, _ expected: String) {
        #expect(Figure.percent(fraction, signed: signed) == expected)
    }

    @Test(
        "p-values: 3 significant digits, < 0.0001 below",
        arguments: [
            (0.00013926739868614632, "0.000139"), (0.0001, "0.0001"), (0.00009999, "< 0.0001"),
            (3.704324524225255e-8, "< 0.0001"), (0.05, "0.05"), (0.9999994304004833, "1"),
            (0.8824929858628129, "0.882"),
            (1, "1"), (0, "< 0.0001"),
        ])
    func pValue(_ p: Double, _ expected: String) {
        #expect(Figure.pValue(p) == expected)
    }

    @Test(
        "values in a metric's unit: 4 significant digits, whole from 1,000 up, never e-notation",
        arguments: [
            (0.011927483588621446, false, "0.01193"), (7876.2, false, "7876"), (-207.59999999999945, true, "-207.6"),
            (0.0005342319869993291, true, "+0.0005342"), (0.00000123456, false, "0.000001235"),
            (
                1e15, false,
                "1000000000000000"
            ), (999.96, false, "1000"), (9.99996, false, "10"), (0.02, false, "0.02"),
            (0, true, "0"), (-1e-20, true, "0"), (0.025, false, "0.025"), (12, false, "12"),
        ])
    func value(_ number: Double, _ signed: Bool, _ expected: String) {
        #expect(Figure.value(number, signed: signed) == expected)
    }

    @Test("a change of a rate in percentage points; none of a metric is -")
    func pointsAndNone() {
        #expect(Figure.change(0.04788813095514471, rate: true) == "+4.8 pp")
        #expect(Figure.change(0.02, rate: true, signed: false) == "2 pp")
        #expect(Figure.change(-207.6, rate: false) == "-207.6")
        #expect(Figure.quantity(0.015317286652078774, rate: true) == "1.5%")
        #expect(Figure.quantity(0.8432835820895521, rate: false) == "0.8433")
        #expect(Figure.value(nil) == "-" && Figure.percent(.nan) == "-" && Figure.pValue(nil) == "-")
    }

    @Test("any finite number is written whole, however large; a share too large to multiply by 100 too")
    func largeNumbers() {
        #expect(Figure.value(1e32) == "100000000000000005366162204393472")
        #expect(
            Figure.value(-Double.greatestFiniteMagnitude) == "-"
                + String(format: "%.0f", Double.greatestFiniteMagnitude))
        #expect(Figure.percent(1e307) == String(format: "%.0f", 1e307) + "00%")
        #expect(Figure.points(-1e307) == "-" + String(format: "%.0f", 1e307) + "00 pp")
        #expect(Figure.percent(1e13 + 0.25) == "1000000000000025%")
        #expect(Figure.percent(1e13 + 0.0625) == "1000000000000006.2%")
        #expect(Figure.percent(.infinity) == "-" && Figure.points(-.infinity) == "-" && Figure.value(.nan) == "-")
    }

    @Test(
        "the last digit is rounded from the exact binary value, a tie to even, as printf rounds",
        arguments: [
            (1.0005, "1"), (1.0625, "1.062"), (1.1875, "1.188"), (0.00012345, "0.0001234"), (2.675, "2.675"),
            (0.0000012345, "0.000001234"),
        ])
    func roundsAsPrintf(_ number: Double, _ expected: String) {
        #expect(Figure.value(number) == expected)
    }

    /// `String(format:)` of `number` to `decimals` decimals without trailing zeros after the point, and without a
    /// minus sign on zero: the reference the hand-written digits must equal.
    private static func printf(_ number: Double, decimals: Int) -> String {
        var text = String(format: "%.\(decimals)f", number)
        if text.contains(".") {
            while text.hasSuffix("0") { text.removeLast() }
            if text.hasSuffix(".") { text.removeLast() }
        }
        return text == "-0" ? "0" : text
    }

    /// Numbers of every kind a format meets: uniform, spread over many magnitudes, and halves of the last digit
    /// (decimal ones such as 1.0005, whose binary value lies just above or below, and binary ones such as 1.0625).
    private static func samples(
        _ range: ClosedRange<Double>, decimals: Int, _ generator: inout SeededGenerator
    )
        -> [Double]
    {
        (0..<100_000).map { index in
            let magnitude: Double
            switch index % 4 {
            case 0: magnitude = Double.random(in: range, using: &generator)
            case 1:
                let exponent = Double.random(in: log10(range.lowerBound)...log10(range.upperBound), using: &generator)
                magnitude = min(max(pow(10, exponent), range.lowerBound), range.upperBound)
            case 2:
                let digits = Double(Int.random(in: 0...99_999, using: &generator)) + 0.5
                magnitude = min(
                    max(
                        digits / pow(10, Double(Int.random(in: decimals...decimals + 4, using: &generator))),
                        range.lowerBound), range.upperBound)
            default:
                let sixteenths = Double(Int.random(in: 0...160_000, using: &generator)) / 16
                magnitude = min(max(sixteenths / pow(10, Double(decimals)), range.lowerBound), range.upperBound)
            }
            return Bool.random(using: &generator) ? magnitude : -magnitude
        }
    }

    @Test("randomized: values, percentages and p-values equal String(format:) rounded to the same decimals")
    func randomizedAgainstPrintf() {
        var generator = SeededGenerator(seed: 17)
        var mismatches: [String] = []
        for number in Self.samples(1e-12...1e40, decimals: 3, &generator) {
            let magnitude = abs(number)
            let decimals = magnitude >= 1_000 ? 0 : min(12, 3 - Int(log10(magnitude).rounded(.down)))
            let expected = Self.printf(number, decimals: decimals)
            if Figure.value(number) != expected {
                mismatches.append("value(\(number)): \(Figure.value(number)), not \(expected)")
            }
        }
        for fraction in Self.samples(1e-6...1e6, decimals: 3, &generator) {
            let expected = Self.printf(fraction * 100, decimals: 1) + "%"
            if Figure.percent(fraction) != expected {
                mismatches.append("percent(\(fraction)): \(Figure.percent(fraction)), not \(expected)")
            }
        }
        for p in Self.samples(0.0001...1, decimals: 4, &generator).map(abs) {
            let expected = Self.printf(p, decimals: max(0, 2 - Int(log10(p).rounded(.down))))
            if Figure.pValue(p) != expected { mismatches.append("pValue(\(p)): \(Figure.pValue(p)), not \(expected)") }
        }
        #expect(mismatches.isEmpty, "\(mismatches.count) mismatches, first: \(mismatches.prefix(5))")
    }
}
