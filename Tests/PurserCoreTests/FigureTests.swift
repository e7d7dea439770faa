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
}
