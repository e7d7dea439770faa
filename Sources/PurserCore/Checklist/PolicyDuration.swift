public import PurserLedger

/// Durations as policies write them and reports print them: `90s`, `10m`, `24h`, `7d`, `1.5h`, `500ms`.
public enum PolicyDuration {
    /// Parses a duration: `"90s"`, `"10m"`, `"24h"`, `"7d"`, `"1.5h"`, `"500ms"`, or a number of seconds.
    /// - Throws: `.invalidInput` naming the policy and the field, for anything else or a duration that is not
    ///   more than zero.
    public static func parse(_ value: JSONValue, field: String, source: String) throws(LedgerError) -> Double {
        let seconds: Double?
        switch value {
        case .number(let number): seconds = number
        case .string(let text): seconds = parse(text)
        default: seconds = nil
        }
        guard let seconds, seconds.isFinite else {
            throw LedgerError(
                .invalidInput,
                "\(source): \(field): expected a duration such as 90s, 10m, 24h or 7d (or a number of seconds), "
                    + "got \(EvidenceSource.describe(value))")
        }
        guard seconds > 0 else {
            throw LedgerError(.invalidInput, "\(source): \(field): a duration must be more than zero")
        }
        return seconds
    }

    private static func parse(_ text: String) -> Double? {
        let units: [(suffix: String, seconds: Double)] = [
            ("ms", 0.001), ("s", 1), ("m", 60), ("h", 3600), ("d", 86_400),
        ]
        var number = Substring(text)
        var scale = 1.0
        for unit in units where text.hasSuffix(unit.suffix) {
            number = text.dropLast(unit.suffix.count)
            scale = unit.seconds
            break
        }
        let digits = number.filter { $0 != "." }
        guard !digits.isEmpty, digits.allSatisfy({ ("0"..."9").contains($0) }), number.count - digits.count <= 1,
            number.first != ".", number.last != ".", let value = Double(number)
        else { return nil }
        return value * scale
    }

    /// A number of seconds as people read it: `45s`, `12m`, `2h13m`, `3d4h`.
    static func describe(_ seconds: Double) -> String {
        let whole = Int(seconds.rounded())
        if whole < 120 { return "\(whole)s" }
        if whole < 7200 { return "\(whole / 60)m" }
        if whole < 172_800 { return "\(whole / 3600)h\(whole % 3600 / 60 > 0 ? "\(whole % 3600 / 60)m" : "")" }
        return "\(whole / 86_400)d\(whole % 86_400 / 3600 > 0 ? "\(whole % 86_400 / 3600)h" : "")"
    }
}
