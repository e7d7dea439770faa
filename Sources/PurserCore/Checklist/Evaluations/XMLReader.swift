internal import PurserLedger

/// A strict reader for the XML of JUnit reports. It keeps elements, their attributes (entity references
/// resolved) and the line each starts on; it checks that tags nest and close, and skips text, comments,
/// CDATA sections, processing instructions and a DOCTYPE. Errors name the line. It reads in time linear in
/// the file's size, and refuses elements nested deeper than `maximumDepth` (the tree is visited and freed
/// by recursion).
struct XMLReader {
    /// The deepest nesting read, the root counting 1: JUnit reports nest a few levels; canonical JSON allows 256.
    static let maximumDepth = 256

    struct Element {
        let name: String
        let line: Int
        var attributes: [(name: String, value: String)] = []
        var children: [Element] = []

        func attribute(_ name: String) -> String? {
            attributes.first { $0.name == name }?.value
        }
    }

    private let bytes: [UInt8]
    private let source: String
    private var position = 0
    private var line = 1

    static func parse(_ bytes: [UInt8], source: String) throws(LedgerError) -> Element {
        var reader = XMLReader(bytes: bytes, source: source)
        return try reader.document()
    }

    private init(bytes: [UInt8], source: String) {
        self.bytes = bytes
        self.source = source
    }

    private func fail(_ line: Int, _ problem: String) -> LedgerError {
        LedgerError(.invalidInput, "\(source): line \(line): \(problem)")
    }

    private mutating func document() throws(LedgerError) -> Element {
        if bytes.starts(with: [0xEF, 0xBB, 0xBF]) {
            position = 3
        } else if bytes.starts(with: [0xFE, 0xFF]) || bytes.starts(with: [0xFF, 0xFE]) {
            throw LedgerError(.invalidInput, "\(source): UTF-16 XML is not supported; save the report as UTF-8")
        }
        var open: [Element] = []
        var root: Element?
        while position < bytes.count {
            guard bytes[position] == UInt8(ascii: "<") else {
                let end = bytes[position...].firstIndex(of: UInt8(ascii: "<")) ?? bytes.count
                if open.isEmpty, let stray = bytes[position..<end].firstIndex(where: { !Self.isSpace($0) }) {
                    advance(to: stray)
                    throw fail(
                        line, root.map { "text after the root element </\($0.name)>" } ?? "text before the root element"
                    )
                }
                advance(to: end)
                continue
            }
            let start = line
            if starts(with: "<!--") {
                try skip(past: "-->", from: position + 4, what: "comment")
            } else if starts(with: "<![CDATA[") {
                guard !open.isEmpty else { throw fail(start, "CDATA section outside the root element") }
                try skip(past: "]]>", from: position + 9, what: "CDATA section")
            } else if starts(with: "<?") {
                try skip(past: "?>", from: position + 2, what: "processing instruction")
            } else if starts(with: "<!DOCTYPE") {
                guard open.isEmpty, root == nil else {
                    throw fail(start, "<!DOCTYPE must come before the root element")
                }
                try skipDoctype()
            } else if starts(with: "<!") {
                throw fail(start, "unexpected <! (expected a comment <!-- -->, or <![CDATA[ ]]>)")
            } else if starts(with: "</") {
                advance(to: position + 2)
                guard let name = name() else { throw fail(start, "expected an element name after </") }
                skipSpaces()
                guard position < bytes.count, bytes[position] == UInt8(ascii: ">") else {
                    throw fail(start, "</\(name) is not closed with >")
                }
                advance(to: position + 1)
                guard let element = open.popLast() else {
                    throw fail(start, "</\(name)> closes an element that was never opened")
                }
                guard element.name == name else {
                    throw fail(start, "</\(name)> does not match <\(element.name)> opened on line \(element.line)")
                }
                Self.attach(element, to: &open, root: &root)
            } else {
                advance(to: position + 1)
                guard let name = name() else {
                    throw fail(start, "'<' is not followed by an element name (write &lt; for a literal <)")
                }
                if open.isEmpty, let root {
                    throw fail(start, "a second root element <\(name)> after </\(root.name)>")
                }
                var element = Element(name: name, line: start)
                if let parent = open.last, open.count >= Self.maximumDepth {
                    throw fail(
                        start,
                        "<\(name)> is nested deeper than \(Self.maximumDepth) elements (inside <\(parent.name)> of line \(parent.line))"
                    )
                }
                if try attributes(of: &element) {
                    Self.attach(element, to: &open, root: &root)
                } else {
                    open.append(element)
                }
            }
        }
        if let unclosed = open.last {
            throw fail(unclosed.line, "<\(unclosed.name)> is never closed (no </\(unclosed.name)>)")
        }
        guard let root else {
            throw LedgerError(.invalidInput, "\(source): no XML element found (expected a JUnit XML report)")
        }
        return root
    }

    private static func attach(_ element: Element, to open: inout [Element], root: inout Element?) {
        if open.isEmpty {
            root = element
        } else {
            open[open.count - 1].children.append(element)
        }
    }

    /// Reads a start tag's attributes up to its `>`; returns whether it ended with `/>`.
    private mutating func attributes(of element: inout Element) throws(LedgerError) -> Bool {
        let tag = "<\(element.name)>"
        var names: Set<String> = []
        while true {
            let spaced = skipSpaces()
            guard position < bytes.count else { throw fail(element.line, "\(tag) is never closed with >") }
            switch bytes[position] {
            case UInt8(ascii: ">"):
                advance(to: position + 1)
                return false
            case UInt8(ascii: "/"):
                guard position + 1 < bytes.count, bytes[position + 1] == UInt8(ascii: ">") else {
                    throw fail(line, "expected /> to end \(tag)")
                }
                advance(to: position + 2)
                return true
            case UInt8(ascii: "<"):
                throw fail(element.line, "\(tag) is not closed with > before the next < on line \(line)")
            default:
                break
            }
            let start = line
            guard spaced, let name = name() else {
                throw fail(
                    line,
                    "unexpected \(Self.character(at: position, in: bytes)) in \(tag) (expected an attribute, > or />)")
            }
            skipSpaces()
            guard position < bytes.count, bytes[position] == UInt8(ascii: "=") else {
                throw fail(start, "attribute \(name) of \(tag) has no value (expected \(name)=\"…\")")
            }
            advance(to: position + 1)
            skipSpaces()
            guard position < bytes.count, bytes[position] == UInt8(ascii: "\"") || bytes[position] == UInt8(ascii: "'")
            else {
                throw fail(line, "the value of attribute \(name) of \(tag) is not in quotes")
            }
            let quote = bytes[position]
            guard let end = bytes[(position + 1)...].firstIndex(of: quote) else {
                throw fail(start, "the value of attribute \(name) of \(tag) is never closed (no closing quote)")
            }
            let value = try decode(bytes[(position + 1)..<end], attribute: name, tag: tag, line: start)
            advance(to: end + 1)
            guard names.insert(name).inserted else { throw fail(start, "attribute \(name) appears twice in \(tag)") }
            element.attributes.append((name, value))
        }
    }

    /// An attribute value with entity references resolved and whitespace normalized, as XML prescribes.
    private func decode(
        _ raw: ArraySlice<UInt8>, attribute: String, tag: String, line: Int
    ) throws(LedgerError)
        -> String
    {
        var output: [UInt8] = []
        output.reserveCapacity(raw.count)
        var index = raw.startIndex
        while index < raw.endIndex {
            let byte = raw[index]
            index += 1
            switch byte {
            case UInt8(ascii: "<"):
                throw fail(
                    line, "the value of attribute \(attribute) of \(tag) contains '<' (write &lt;, or close the quote)")
            case UInt8(ascii: "&"):
                guard let end = raw[index...].prefix(12).firstIndex(of: UInt8(ascii: ";")) else {
                    throw fail(line, "the value of attribute \(attribute) of \(tag) has a bare & (write &amp;)")
                }
                let reference = String(decoding: raw[index..<end], as: UTF8.self)
                guard let scalar = Self.entity(reference) else {
                    let kind = reference.hasPrefix("#") ? "invalid character reference" : "unknown entity"
                    throw fail(line, "\(kind) &\(reference); in attribute \(attribute) of \(tag)")
                }
                UTF8.encode(scalar) { output.append($0) }
                index = end + 1
            case 0x0D:
                output.append(0x20)
                if index < raw.endIndex, raw[index] == 0x0A { index += 1 }
            case 0x09, 0x0A:
                output.append(0x20)
            default:
                output.append(byte)
            }
        }
        guard let text = String(validating: output, as: UTF8.self) else {
            throw fail(line, "the value of attribute \(attribute) of \(tag) is not UTF-8 text")
        }
        return text
    }

    /// The character a reference such as `amp`, `#60` or `#x3C` stands for, if XML allows it.
    private static func entity(_ reference: String) -> Unicode.Scalar? {
        switch reference {
        case "amp": return "&"
        case "lt": return "<"
        case "gt": return ">"
        case "quot": return "\""
        case "apos": return "'"
        default: break
        }
        let hex = reference.hasPrefix("#x")
        guard reference.hasPrefix("#") else { return nil }
        let digits = reference.dropFirst(hex ? 2 : 1)
        guard !digits.isEmpty, digits.allSatisfy({ hex ? $0.isHexDigit : $0.isASCII && $0.isNumber }),
            let code = UInt32(digits, radix: hex ? 16 : 10), let scalar = Unicode.Scalar(code)
        else { return nil }
        let allowed = code == 0x09 || code == 0x0A || code == 0x0D || (0x20...0xFFFD).contains(code) || code > 0xFFFF
        return allowed ? scalar : nil
    }

    /// An element or attribute name at the current position, if there is one.
    private mutating func name() -> String? {
        let start = position
        guard position < bytes.count, Self.isNameStart(bytes[position]) else { return nil }
        position += 1
        while position < bytes.count, Self.isNameStart(bytes[position]) || Self.isNamePart(bytes[position]) {
            position += 1
        }
        return String(decoding: bytes[start..<position], as: UTF8.self)
    }

    private static func isNameStart(_ byte: UInt8) -> Bool {
        (UInt8(ascii: "a")...UInt8(ascii: "z")).contains(byte) || (UInt8(ascii: "A")...UInt8(ascii: "Z")).contains(byte)
            || byte == UInt8(ascii: "_") || byte == UInt8(ascii: ":") || byte >= 0x80
    }

    private static func isNamePart(_ byte: UInt8) -> Bool {
        (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(byte) || byte == UInt8(ascii: "-") || byte == UInt8(ascii: ".")
    }

    private static func isSpace(_ byte: UInt8) -> Bool {
        byte == 0x20 || byte == 0x09 || byte == 0x0A || byte == 0x0D
    }

    /// The byte at `index` as a message shows it.
    private static func character(at index: Int, in bytes: [UInt8]) -> String {
        let byte = bytes[index]
        return (0x21..<0x7F).contains(byte)
            ? "'\(Character(Unicode.Scalar(byte)))'" : "byte 0x\(String(byte, radix: 16))"
    }

    /// Skips whitespace; returns whether there was any.
    @discardableResult
    private mutating func skipSpaces() -> Bool {
        let start = position
        while position < bytes.count, Self.isSpace(bytes[position]) {
            if bytes[position] == 0x0A { line += 1 }
            position += 1
        }
        return position > start
    }

    /// Moves to `target`, counting the lines passed.
    private mutating func advance(to target: Int) {
        var index = position
        while index < target {
            if bytes[index] == 0x0A { line += 1 }
            index += 1
        }
        position = target
    }

    private func starts(with literal: String) -> Bool {
        bytes[position...].starts(with: literal.utf8)
    }

    /// Moves past the first `terminator` at or after `start`.
    private mutating func skip(past terminator: String, from start: Int, what: String) throws(LedgerError) {
        let pattern = Array(terminator.utf8)
        var index = start
        while index + pattern.count <= bytes.count {
            if bytes[index] == pattern[0], bytes[index..<(index + pattern.count)].elementsEqual(pattern) {
                advance(to: index + pattern.count)
                return
            }
            index += 1
        }
        throw fail(line, "\(what) is never closed (no \(terminator))")
    }

    /// Skips `<!DOCTYPE …>`, including an internal subset in brackets.
    private mutating func skipDoctype() throws(LedgerError) {
        let start = line
        var index = position + 9
        var depth = 0
        var quote: UInt8?
        while index < bytes.count {
            let byte = bytes[index]
            if let open = quote {
                if byte == open { quote = nil }
            } else if byte == UInt8(ascii: "\"") || byte == UInt8(ascii: "'") {
                quote = byte
            } else if byte == UInt8(ascii: "[") {
                depth += 1
            } else if byte == UInt8(ascii: "]") {
                depth -= 1
            } else if byte == UInt8(ascii: ">"), depth <= 0 {
                advance(to: index + 1)
                return
            }
            index += 1
        }
        throw fail(start, "<!DOCTYPE is never closed (no >)")
    }
}
