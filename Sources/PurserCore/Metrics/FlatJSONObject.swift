internal import PurserLedger

/// A fast path for the common JSON Lines task record: one flat object whose keys are all task record
/// fields, each once, and whose values are plain strings, numbers, booleans or null.
///
/// The general parser builds a `JSONValue` tree with a dictionary per line, which made ingesting cost about
/// 20 µs a record. This scanner reads such a line straight into the values of `TaskRecord.fields`. It only
/// accepts what the general parser accepts and yields the same values; anything else (escapes, nesting,
/// unknown or repeated keys, long integers, malformed JSON) makes it return nil, and the caller parses the
/// line the general way, so that results and error messages stay exactly those of `JSONValue(parsing:)`.
enum FlatJSONObject {
    /// The values of `TaskRecord.fields` in `line` (nil: absent), or nil when the line needs the general
    /// parser.
    static func taskFields(_ line: UnsafeBufferPointer<UInt8>) -> [JSONValue?]? {
        var scanner = Scanner(bytes: line)
        return scanner.object()
    }

    private struct Scanner {
        let bytes: UnsafeBufferPointer<UInt8>
        var index = 0

        init(bytes: UnsafeBufferPointer<UInt8>) {
            self.bytes = bytes
        }

        private var current: UInt8? { index < bytes.count ? bytes[index] : nil }

        private mutating func skipWhitespace() {
            while let byte = current, byte == 0x20 || byte == 0x09 || byte == 0x0A || byte == 0x0D { index += 1 }
        }

        /// Consumes `byte` if it is next.
        private mutating func take(_ byte: UInt8) -> Bool {
            guard current == byte else { return false }
            index += 1
            return true
        }

        mutating func object() -> [JSONValue?]? {
            var values = [JSONValue?](repeating: nil, count: TaskRecord.fields.count)
            var seen: UInt32 = 0
            var previous = -1
            skipWhitespace()
            guard take(UInt8(ascii: "{")) else { return nil }
            skipWhitespace()
            if !take(UInt8(ascii: "}")) {
                while true {
                    skipWhitespace()
                    guard let field = key(after: previous), seen & 1 << field == 0 else { return nil }
                    seen |= 1 << field
                    previous = field
                    skipWhitespace()
                    guard take(UInt8(ascii: ":")) else { return nil }
                    skipWhitespace()
                    guard let value = value() else { return nil }
                    values[field] = value
                    skipWhitespace()
                    if take(UInt8(ascii: ",")) { continue }
                    guard take(UInt8(ascii: "}")) else { return nil }
                    break
                }
            }
            skipWhitespace()
            return index == bytes.count ? values : nil
        }

        /// The position in `TaskRecord.fields` of the key that starts here, looked for from the field after
        /// `previous` on: files usually list the fields in the same order.
        private mutating func key(after previous: Int) -> Int? {
            guard let range = plainString() else { return nil }
            let key = UnsafeBufferPointer(rebasing: bytes[range])
            let count = Self.fieldBytes.count
            for offset in 1...count {
                let field = (previous + offset) % count
                if Self.fieldBytes[field].count == key.count && Self.fieldBytes[field].elementsEqual(key) {
                    return field
                }
            }
            return nil
        }

        private static let fieldBytes = TaskRecord.fields.map { Array($0.utf8) }

        /// The bytes between the quotes of a string that starts here, when it has no escape and no control
        /// character.
        private mutating func plainString() -> Range<Int>? {
            guard take(UInt8(ascii: "\"")) else { return nil }
            let start = index
            while let byte = current {
                if byte == UInt8(ascii: "\"") {
                    index += 1
                    return start..<index - 1
                }
                if byte == UInt8(ascii: "\\") || byte < 0x20 { return nil }
                index += 1
            }
            return nil
        }

        private mutating func value() -> JSONValue? {
            switch current {
            case UInt8(ascii: "\"")?:
                guard let range = plainString() else { return nil }
                let text = UnsafeBufferPointer(rebasing: bytes[range])
                // ASCII is valid UTF-8, and decoding it is cheaper than validating it.
                if text.allSatisfy({ $0 < 0x80 }) { return .string(String(decoding: text, as: UTF8.self)) }
                return String(validating: text, as: UTF8.self).map(JSONValue.string)
            case UInt8(ascii: "t")?: return literal("true") ? .bool(true) : nil
            case UInt8(ascii: "f")?: return literal("false") ? .bool(false) : nil
            case UInt8(ascii: "n")?: return literal("null") ? .null : nil
            default: return number().map(JSONValue.number)
            }
        }

        private mutating func literal(_ text: StaticString) -> Bool {
            let count = text.utf8CodeUnitCount
            guard index + count <= bytes.count else { return false }
            for offset in 0..<count where bytes[index + offset] != text.utf8Start[offset] { return false }
            index += count
            return true
        }

        /// A number in JSON's grammar. Integers of up to 15 digits, and decimals whose digits make such an
        /// integer with at most 15 of them after the point, are exact as doubles, and so is their quotient
        /// by a power of ten rounded once: the same double that parsing the text gives. Others are parsed
        /// from their text, as the general parser does; integers beyond 15 digits go to it (it checks those
        /// beyond ±2^53).
        private mutating func number() -> Double? {
            let start = index
            let negative = take(UInt8(ascii: "-"))
            var mantissa: Int64 = 0
            var digits = 0
            func digit() -> Int64? {
                guard let byte = current, byte >= UInt8(ascii: "0"), byte <= UInt8(ascii: "9") else { return nil }
                return Int64(byte - UInt8(ascii: "0"))
            }
            guard let first = digit() else { return nil }
            index += 1
            if first != 0 {
                mantissa = first
                digits = 1
                while let next = digit() {
                    index += 1
                    mantissa = digits < 18 ? mantissa * 10 + next : mantissa
                    digits += 1
                }
            }
            var decimals = 0
            if take(UInt8(ascii: ".")) {
                guard digit() != nil else { return nil }
                while let next = digit() {
                    index += 1
                    mantissa = digits < 18 ? mantissa * 10 + next : mantissa
                    digits += mantissa == 0 ? 0 : 1
                    decimals += 1
                }
            }
            var exponent = false
            if take(UInt8(ascii: "e")) || take(UInt8(ascii: "E")) {
                exponent = true
                _ = take(UInt8(ascii: "+")) || take(UInt8(ascii: "-"))
                guard digit() != nil else { return nil }
                while digit() != nil { index += 1 }
            }
            if !exponent && digits <= 15 && decimals <= 15 {
                let value = Double(mantissa) / Self.powersOfTen[decimals]
                return negative ? -value : value
            }
            guard decimals > 0 || exponent else { return nil }
            let text = String(decoding: UnsafeBufferPointer(rebasing: bytes[start..<index]), as: UTF8.self)
            // Out of range, or a number that is not zero rounded to 0: the general parser refuses both.
            guard let value = Double(text), value.isFinite, value != 0 || mantissa == 0 else { return nil }
            return value
        }

        private static let powersOfTen: [Double] = (0...15).map { power in
            (0..<power).reduce(1.0) { product, _ in product * 10 }
        }
    }
}
