public import Foundation

/// RFC 3339 UTC timestamps with millisecond precision, the only form the ledger writes (`2026-11-27T14:03:00.000Z`).
/// Strings of this form sort in time order.
public enum Timestamp {
    /// Formats `date` as `YYYY-MM-DDTHH:MM:SS.mmmZ`.
    public static func format(_ date: Date) -> String {
        format(milliseconds: Int64((date.timeIntervalSince1970 * 1000).rounded(.down)))
    }

    /// Formats the time `milliseconds` after 1970 (before it, when negative), exactly: a time given in integer
    /// units (an OpenTelemetry span's nanoseconds) need not pass through a floating-point `Date`.
    public static func format(milliseconds: Int64) -> String {
        // Floor division: before 1970 the remainder must still be 0…999.
        let (quotient, remainder) = milliseconds.quotientAndRemainder(dividingBy: 1000)
        var seconds = time_t(remainder < 0 ? quotient - 1 : quotient)
        let fraction = remainder < 0 ? remainder + 1000 : remainder
        var parts = tm()
        gmtime_r(&seconds, &parts)
        func pad(_ value: Int32, _ width: Int) -> String {
            let text = String(value)
            return String(repeating: "0", count: max(0, width - text.count)) + text
        }
        return "\(pad(parts.tm_year + 1900, 4))-\(pad(parts.tm_mon + 1, 2))-\(pad(parts.tm_mday, 2))T"
            + "\(pad(parts.tm_hour, 2)):\(pad(parts.tm_min, 2)):\(pad(parts.tm_sec, 2))."
            + "\(pad(Int32(fraction), 3))Z"
    }

    /// The times the ledger's form can write: from 0001-01-01T00:00:00.000Z up to, not including, the year
    /// 10000. Outside it `format` would write five digits or a sign, text that no longer sorts in time order
    /// and that slips past every comparison of timestamps.
    public static let range: Range<Date> = midnight(year: 1)..<midnight(year: 10_000)

    private static func midnight(year: Int) -> Date {
        Date(timeIntervalSince1970: Double(daysFromCivil(year: year, month: 1, day: 1)) * 86_400)
    }

    /// Parses an RFC 3339 timestamp with any offset and optional fractional seconds
    /// (`2026-11-27T14:03:00Z`, `2026-11-27t16:03:00.250+02:00`), or a plain date (`2026-11-27`,
    /// midnight UTC). Nil for anything else, and for a time outside `range` once its offset is applied
    /// (`0001-01-01T00:30:00+01:00` is in the year 0). Hand-written: a Foundation date formatter costs milliseconds to set up, which a
    /// short-lived command pays on every run.
    public static func parse(_ text: String) -> Date? {
        let bytes = Array(text.utf8)
        var position = 0
        func number(_ digits: Int) -> Int? {
            guard position + digits <= bytes.count else { return nil }
            var value = 0
            for byte in bytes[position..<position + digits] {
                guard (0x30...0x39).contains(byte) else { return nil }
                value = value * 10 + Int(byte - 0x30)
            }
            position += digits
            return value
        }
        func expect(_ characters: String) -> Bool {
            guard position < bytes.count, characters.utf8.contains(bytes[position]) else { return false }
            position += 1
            return true
        }
        guard let year = number(4), expect("-"), let month = number(2), expect("-"), let day = number(2),
            (1...12).contains(month), (1...daysIn(month: month, year: year)).contains(day)
        else { return nil }
        let days = Double(daysFromCivil(year: year, month: month, day: day))
        if position == bytes.count {
            let date = Date(timeIntervalSince1970: days * 86_400)
            return range.contains(date) ? date : nil
        }
        guard expect("Tt"), let hour = number(2), expect(":"), let minute = number(2), expect(":"),
            let second = number(2), hour < 24, minute < 60, second < 60
        else { return nil }
        // Milliseconds, truncated: digits beyond the third are read and dropped.
        var milliseconds = 0
        if expect(".") {
            let start = position
            while position < bytes.count, (0x30...0x39).contains(bytes[position]) {
                if position - start < 3 { milliseconds = milliseconds * 10 + Int(bytes[position] - 0x30) }
                position += 1
            }
            guard position > start else { return nil }
            for _ in min(position - start, 3)..<3 { milliseconds *= 10 }
        }
        var offset = 0
        if !expect("Zz") {
            guard position < bytes.count, bytes[position] == 0x2B || bytes[position] == 0x2D else { return nil }
            let sign = bytes[position] == 0x2D ? -1 : 1
            position += 1
            guard let hours = number(2), expect(":"), let minutes = number(2), hours < 24, minutes < 60 else {
                return nil
            }
            offset = sign * (hours * 3600 + minutes * 60)
        }
        guard position == bytes.count else { return nil }
        let seconds = days * 86_400 + Double(hour * 3600 + minute * 60 + second - offset)
        // Half a millisecond more, so that `format`, which rounds down, gives back exactly these milliseconds
        // whatever the rounding of the Double.
        let date = Date(timeIntervalSince1970: seconds + (Double(milliseconds) + 0.5) / 1000)
        return range.contains(date) ? date : nil
    }

    private static func daysIn(month: Int, year: Int) -> Int {
        switch month {
        case 2: year % 4 == 0 && (year % 100 != 0 || year % 400 == 0) ? 29 : 28
        case 4, 6, 9, 11: 30
        default: 31
        }
    }

    /// Days from 1970-01-01 to a proleptic Gregorian date (H. Hinnant's `days_from_civil`).
    private static func daysFromCivil(year: Int, month: Int, day: Int) -> Int {
        let y = month <= 2 ? year - 1 : year
        let era = (y >= 0 ? y : y - 399) / 400
        let yearOfEra = y - era * 400
        let dayOfYear = (153 * (month + (month > 2 ? -3 : 9)) + 2) / 5 + day - 1
        let dayOfEra = yearOfEra * 365 + yearOfEra / 4 - yearOfEra / 100 + dayOfYear
        return era * 146_097 + dayOfEra - 719_468
    }

    /// Whether `text` is exactly in the ledger's own form.
    public static func isCanonical(_ text: some StringProtocol) -> Bool {
        guard text.utf8.count == 24, let date = parse(String(text)) else { return false }
        return format(date) == text
    }
}
