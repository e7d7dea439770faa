internal import Foundation

/// How purser writes a number for a person: one rule per kind of number, which every command's text, `history`
/// and the HTML and Markdown audit reports follow (ledger/README.md §15.4). None of them uses e-notation. JSON
/// output and ledger entries keep every number at full precision.
public enum Figure {
    /// A share, rate or score as a percentage, to one decimal that a whole percentage goes without:
    /// 0.6667 → `66.7%`, 0.5 → `50%`; with `signed`, a relative change: `+4.5%`, `-2%`. `-` for none.
    public static func percent(_ fraction: Double?, signed: Bool = false) -> String {
        guard let fraction, fraction.isFinite else { return "-" }
        return hundredfold(fraction, signed: signed) + "%"
    }

    /// A change of a rate, in percentage points to one decimal as `percent`: 0.0479 → `+4.8 pp` (`4.8 pp` for a
    /// size, not `signed`).
    public static func points(_ difference: Double?, signed: Bool = true) -> String {
        guard let difference, difference.isFinite else { return "-" }
        return hundredfold(difference, signed: signed) + " pp"
    }

    /// A p-value to 3 significant digits, and `< 0.0001` below 0.0001: 0.000139 → `0.000139`, 0.05 → `0.05`.
    public static func pValue(_ p: Double?) -> String {
        guard let p, p.isFinite else { return "-" }
        if p < 0.0001 { return "< 0.0001" }
        return fixed(p, decimals: max(0, 2 - Int(log10(p).rounded(.down))))
    }

    /// `name` and a p-value as a clause: `p = 0.0234`, `p < 0.0001`.
    public static func p(_ p: Double?, named name: String = "p") -> String {
        let text = pValue(p)
        return text.hasPrefix("<") ? "\(name) \(text)" : "\(name) = \(text)"
    }

    /// A value in its metric's unit (milliseconds, dollars, tokens, a mean quality): 4 significant digits, but
    /// whole from 1,000 up, trailing zeros dropped: 0.011927 → `0.01193`, 7876.2 → `7876`, 207.6 → `207.6`; with
    /// `signed`, a change: `+0.0005342`, `-207.6`. Below 10⁻¹² it is 0.
    public static func value(_ number: Double?, signed: Bool = false) -> String {
        guard let number, number.isFinite else { return "-" }
        let magnitude = abs(number)
        let decimals = magnitude >= 1_000 || magnitude == 0 ? 0 : min(12, 3 - Int(log10(magnitude).rounded(.down)))
        return signing(fixed(number, decimals: decimals), signed)
    }

    /// A canary metric's statistic in each arm: a rate as `percent`, else a `value`.
    public static func quantity(_ number: Double?, rate: Bool) -> String {
        rate ? percent(number) : value(number)
    }

    /// A change of a canary or shadow metric, signed unless it is a size (a margin): of a rate in `points`, else a
    /// `value`.
    public static func change(_ difference: Double?, rate: Bool, signed: Bool = true) -> String {
        rate ? points(difference, signed: signed) : value(difference, signed: signed)
    }

    /// `number` × 100 to one decimal, the decimal left out when it is 0. Where the product overflows (from about
    /// 1.8e306 up, where every Double is a whole number) it is the whole number's digits and two zeros.
    private static func hundredfold(_ number: Double, signed: Bool) -> String {
        let scaled = number * 100
        guard scaled.isFinite else { return signing(fixed(number, decimals: 0) + "00", signed) }
        return signing(fixed(scaled, decimals: 1), signed)
    }

    /// `text` without a minus sign on zero, and with `+` before a positive number when `signed`.
    private static func signing(_ text: String, _ signed: Bool) -> String {
        if text == "0" || text == "-0" { return "0" }
        return signed && !text.hasPrefix("-") ? "+" + text : text
    }

    /// `number` to `decimals` decimals (at most 12), without trailing zeros after the point (nor the point then),
    /// rounded as `String(format: "%.*f")` rounds: the exact binary value, a tie to even. The digits of the rounded,
    /// scaled number are written by hand: `String(format:)` takes microseconds a call, and an audit report of a
    /// year's canary judgements holds tens of thousands of numbers.
    private static func fixed(_ number: Double, decimals: Int) -> String {
        let magnitude = abs(number)
        let power = powersOfTen[decimals]  // exact: 10¹² < 2⁵³
        let product = magnitude * power
        guard product < 1e15 else { return format(number, decimals: decimals) }
        // The exact magnitude × 10^decimals is `product + error` (a fused multiply-add gives the product's
        // rounding error exactly). Below 10¹⁵ Doubles lie at most 1/8 apart and the error is at most half of that,
        // so it decides only a product that falls exactly on a half: above it, below it, or a tie.
        let error = (-product).addingProduct(magnitude, power)
        var rest = UInt64(product)  // rounded down
        let fraction = product - Double(rest)
        if fraction > 0.5 || (fraction == 0.5 && (error > 0 || (error == 0 && rest % 2 == 1))) { rest += 1 }
        if rest == 0 { return "0" }
        return withUnsafeTemporaryAllocation(of: UInt8.self, capacity: 40) { buffer in
            var index = buffer.count
            var trailing = true
            for _ in 0..<decimals {
                let digit = UInt8(rest % 10)
                rest /= 10
                if trailing && digit == 0 { continue }
                trailing = false
                index -= 1
                buffer[index] = 0x30 + digit
            }
            if index < buffer.count {
                index -= 1
                buffer[index] = 0x2E
            }
            repeat {
                index -= 1
                buffer[index] = 0x30 + UInt8(rest % 10)
                rest /= 10
            } while rest > 0
            if number < 0 {
                index -= 1
                buffer[index] = 0x2D
            }
            return String(decoding: UnsafeMutableBufferPointer(rebasing: buffer[index...]), as: UTF8.self)
        }
    }

    private static let powersOfTen: [Double] = (0...12).map { pow(10, Double($0)) }

    /// `String(format: "%.*f")` of one number, from the C library directly, without trailing zeros after the point
    /// (nor the point then). A finite Double has at most 309 digits before the point.
    private static func format(_ number: Double, decimals: Int) -> String {
        withUnsafeTemporaryAllocation(of: CChar.self, capacity: 340) { buffer in
            _ = withVaList([Int32(decimals), number]) { vsnprintf(buffer.baseAddress!, buffer.count, "%.*f", $0) }
            var text = String(cString: buffer.baseAddress!)
            if text.contains(".") {
                while text.hasSuffix("0") { text.removeLast() }
                if text.hasSuffix(".") { text.removeLast() }
            }
            return text
        }
    }
}
