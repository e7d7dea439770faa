/// Canonical JSON (RFC 8785, JCS): the one byte sequence the ledger hashes for a JSON value.
///
/// Object members sorted by the UTF-16 code units of their keys, no whitespace, strings with the
/// minimal escapes, numbers formatted as ECMAScript's `Number.prototype.toString` does.
public enum CanonicalJSON {
    /// The canonical bytes of `value`.
    public static func encode(_ value: JSONValue) -> [UInt8] {
        var output: [UInt8] = []
        output.reserveCapacity(256)
        write(value, into: &output)
        return output
    }

    /// Appends the canonical bytes of `value` to `output`.
    public static func write(_ value: JSONValue, into output: inout [UInt8]) {
        switch value {
        case .null: output.append(contentsOf: "null".utf8)
        case .bool(let flag): output.append(contentsOf: (flag ? "true" : "false").utf8)
        case .number(let number): output.append(contentsOf: format(number).utf8)
        case .string(let string): writeString(string, into: &output)
        case .array(let elements):
            output.append(UInt8(ascii: "["))
            for (position, element) in elements.enumerated() {
                if position > 0 { output.append(UInt8(ascii: ",")) }
                write(element, into: &output)
            }
            output.append(UInt8(ascii: "]"))
        case .object(let members):
            output.append(UInt8(ascii: "{"))
            for (position, member) in sortedMembers(members).enumerated() {
                if position > 0 { output.append(UInt8(ascii: ",")) }
                writeString(member.key, into: &output)
                output.append(UInt8(ascii: ":"))
                write(member.value, into: &output)
            }
            output.append(UInt8(ascii: "}"))
        }
    }

    /// RFC 8785 orders keys by UTF-16 code units. When every key is ASCII that is the order of
    /// Swift's own string comparison, which is much cheaper.
    private static func sortedMembers(_ members: [String: JSONValue]) -> [(key: String, value: JSONValue)] {
        if members.keys.allSatisfy({ $0.utf8.allSatisfy { $0 < 0x80 } }) {
            return members.sorted { $0.key < $1.key }
        }
        return members.sorted { $0.key.utf16.lexicographicallyPrecedes($1.key.utf16) }
    }

    private static let hexDigits = Array("0123456789abcdef".utf8)

    /// Writes `string` as a canonical JSON string literal.
    public static func writeString(_ string: String, into output: inout [UInt8]) {
        output.append(UInt8(ascii: "\""))
        var string = string
        let plain = string.withUTF8 { bytes in
            // Most strings need no escape: copy them whole.
            guard !bytes.contains(where: { $0 < 0x20 || $0 == UInt8(ascii: "\"") || $0 == UInt8(ascii: "\\") }) else {
                return false
            }
            output.append(contentsOf: bytes)
            return true
        }
        if plain {
            output.append(UInt8(ascii: "\""))
            return
        }
        for byte in string.utf8 {
            switch byte {
            case UInt8(ascii: "\""): output.append(contentsOf: [0x5C, 0x22])
            case UInt8(ascii: "\\"): output.append(contentsOf: [0x5C, 0x5C])
            case 0x08: output.append(contentsOf: [0x5C, UInt8(ascii: "b")])
            case 0x09: output.append(contentsOf: [0x5C, UInt8(ascii: "t")])
            case 0x0A: output.append(contentsOf: [0x5C, UInt8(ascii: "n")])
            case 0x0C: output.append(contentsOf: [0x5C, UInt8(ascii: "f")])
            case 0x0D: output.append(contentsOf: [0x5C, UInt8(ascii: "r")])
            case 0x00..<0x20:
                output.append(contentsOf: [0x5C, UInt8(ascii: "u"), 0x30, 0x30])
                output.append(hexDigits[Int(byte >> 4)])
                output.append(hexDigits[Int(byte & 0x0F)])
            default: output.append(byte)
            }
        }
        output.append(UInt8(ascii: "\""))
    }

    /// Formats a finite double as ECMAScript's `Number.prototype.toString` (RFC 8785 §3.2.2.3).
    public static func format(_ number: Double) -> String {
        precondition(number.isFinite, "canonical JSON has no NaN or Infinity")
        if number == 0 { return "0" }
        if number.rounded() == number && abs(number) <= 9_007_199_254_740_992 {
            return String(Int64(number))
        }
        // Swift's description is the shortest digit string that round-trips; only its layout differs.
        let text = abs(number).description
        let parts = text.split(separator: "e", maxSplits: 1)
        let mantissa = parts[0]
        let exponent = parts.count > 1 ? Int(parts[1])! : 0
        var digits = Array(mantissa.utf8.filter { $0 != UInt8(ascii: ".") })
        var integerDigits =
            mantissa.utf8.firstIndex(of: UInt8(ascii: ".")).map {
                mantissa.utf8.distance(from: mantissa.utf8.startIndex, to: $0)
            } ?? mantissa.utf8.count
        while digits.first == UInt8(ascii: "0") {
            digits.removeFirst()
            integerDigits -= 1
        }
        while digits.last == UInt8(ascii: "0") { digits.removeLast() }
        let k = digits.count
        let n = integerDigits + exponent  // value = 0.d1d2…dk × 10^n
        let digitString = String(decoding: digits, as: UTF8.self)
        var result = number < 0 ? "-" : ""
        if k <= n && n <= 21 {
            result += digitString + String(repeating: "0", count: n - k)
        } else if 0 < n && n <= 21 {
            result += String(digitString.prefix(n)) + "." + String(digitString.dropFirst(n))
        } else if -6 < n && n <= 0 {
            result += "0." + String(repeating: "0", count: -n) + digitString
        } else {
            let e = n - 1
            let sign = e < 0 ? "-" : "+"
            result += String(digitString.prefix(1))
            if k > 1 { result += "." + String(digitString.dropFirst()) }
            result += "e" + sign + String(abs(e))
        }
        return result
    }
}
