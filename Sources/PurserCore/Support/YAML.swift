public import PurserLedger
internal import Yams

/// Reading a YAML file (an agent definition, a tool list) as the `JSONValue` purser stores and hashes.
///
/// The same data gives the same value, and so the same canonical JSON, whether a file is written as JSON or as
/// YAML: YAML is a superset of JSON, and the conversion keeps only what JSON can hold. Scalars are typed the way
/// Yams' default (YAML 1.1) resolver types them: a plain `true`, `yes` or `on` is a bool, `~` or `null` is null,
/// `0x1F` is an integer; a quoted scalar is a string unless it has an explicit tag such as `!!int`. Timestamps
/// and other tags stay as their text. Aliases are expanded and `<<` merge keys are applied.
///
/// A text that is a JSON object or array is read by the JSON parser: libyaml refuses some valid JSON (a tab
/// before the first token, an escaped surrogate pair such as `"\uD83D\uDE00"`), and a JSON file's data is
/// what JSON says it is.
public enum YAML {
    /// How deeply sequences and mappings may nest, as for JSON input.
    static let maximumDepth = 256

    /// How many values a document may expand to through aliases before it is refused.
    static let maximumValues = 1_000_000

    /// Parses one YAML document.
    ///
    /// - Parameters:
    ///   - text: The YAML text. An empty document (or one holding only comments) is `null`.
    ///   - source: How messages name the text, usually its file name.
    /// - Returns: The document's data as JSON.
    /// - Throws: `LedgerError` with code `.invalidInput` and a one-line message that starts with `source` and
    ///   the line (and column) of the problem: invalid YAML, more than one document, a key that is not a
    ///   string or appears twice in a mapping, an integer beyond what a JSON number holds exactly, NaN or
    ///   infinity.
    /// Parses a YAML file's bytes: `parse(_:source:)` once they are known to be UTF-8.
    /// - Throws: `.invalidInput` "SOURCE: not UTF-8 text", or what `parse(_:source:)` throws.
    public static func parse(_ bytes: [UInt8], source: String) throws(LedgerError) -> JSONValue {
        guard let text = String(validating: bytes, as: UTF8.self) else {
            throw LedgerError(.invalidInput, "\(source): not UTF-8 text")
        }
        return try parse(text, source: source)
    }

    public static func parse(_ text: String, source: String) throws(LedgerError) -> JSONValue {
        let start = text.utf8.first { $0 != 0x20 && $0 != 0x09 && $0 != 0x0A && $0 != 0x0D }
        if start == UInt8(ascii: "{") || start == UInt8(ascii: "["), let value = try? JSONValue(parsing: text) {
            return value
        }
        return try parseYAML(text, source: source)
    }

    /// Parses `text` with Yams alone, even when it is JSON.
    static func parseYAML(_ text: String, source: String) throws(LedgerError) -> JSONValue {
        let root: Node?
        do {
            root = try Yams.compose(yaml: text, .default, .default, .utf8)
        } catch {
            throw describe(error, in: text, source: source)
        }
        guard let root else { return .null }
        var converter = Converter(source: source)
        return try converter.value(of: root, depth: 0)
    }

    /// `text` as a JSON string literal, so that a key with quotes or control characters stays on one line.
    static func quoted(_ text: String) -> String {
        var bytes: [UInt8] = []
        CanonicalJSON.writeString(text, into: &bytes)
        return String(decoding: bytes, as: UTF8.self)
    }

    /// A 1-based line and column (counted in Unicode scalars, as libyaml counts).
    typealias Position = (line: Int, column: Int)

    static func position(_ mark: Mark?) -> Position? {
        mark.map { ($0.line, $0.column) }
    }

    static func error(_ source: String, at mark: Position?, _ message: String) -> LedgerError {
        guard let mark else { return LedgerError(.invalidInput, "\(source): \(message)") }
        return LedgerError(.invalidInput, "\(source) line \(mark.line) column \(mark.column): \(message)")
    }

    /// Turns an error from Yams into one line that says where and what.
    static func describe(_ error: any Error, in text: String, source: String) -> LedgerError {
        guard let yamlError = error as? YamlError else {
            return LedgerError(.invalidInput, "\(source): invalid YAML: \(oneLine("\(error)"))")
        }
        switch yamlError {
        case .scanner(let context, let problem, let mark, _), .parser(let context, let problem, let mark, _),
            .composer(let context, let problem, let mark, _):
            if context?.text == "expected a single document in the stream" {
                return Self.error(
                    source, at: position(mark), "a second YAML document starts here; a file must hold one document")
            }
            var reason = oneLine(problem)
            if let context {
                reason += " (\(oneLine(context.text)) at line \(context.mark.line) column \(context.mark.column))"
            }
            return Self.error(source, at: position(mark), "invalid YAML: \(reason)")
        case .reader(let problem, let offset, _, _):
            return Self.error(
                source, at: offset.flatMap { mark(ofCharacter: $0, in: text) }, "invalid YAML: \(oneLine(problem))")
        case .duplicatedKeysInMapping(let duplicates, let context):
            return duplicateKeys(duplicates, first: (context.mark.line, context.mark.column), in: text, source: source)
        default:
            return LedgerError(.invalidInput, "\(source): invalid YAML: \(oneLine(yamlError.description))")
        }
    }

    /// Yams refuses a mapping whose keys repeat (the same text and type) and gives the first place of the first
    /// repeated key (in sorted order). The repeat is what a person edits, so look for it in a block mapping:
    /// the next line at the same column, before the mapping ends, that spells the same key.
    static func duplicateKeys(_ keys: [String], first: Position, in text: String, source: String) -> LedgerError {
        let mark = first.line > 0 ? first : nil
        // Yams' placeholder for a key that has no text: a mapping or a sequence.
        if keys.contains("<uncovertable>") {
            return error(source, at: mark, "a mapping key must be a string, not a mapping or a sequence")
        }
        guard let key = keys.first else { return error(source, at: mark, "duplicate key") }
        let others = keys.dropFirst().map(quoted).joined(separator: ", ")
        let also = others.isEmpty ? "" : "; also repeated: \(others)"
        if let mark, let again = repeatedKeyLine(key, after: mark, in: text) {
            let place = (line: again, column: mark.column)
            return error(source, at: place, "duplicate key \(quoted(key)) (first at line \(mark.line)\(also))")
        }
        return error(source, at: mark, "duplicate key \(quoted(key)) (the same mapping has it again later\(also))")
    }

    /// The line, after `first`, where a block mapping whose key `key` starts at `first` spells that key again.
    static func repeatedKeyLine(_ key: String, after first: Position, in text: String) -> Int? {
        let lines = text.split(omittingEmptySubsequences: false, whereSeparator: \.isNewline)
        guard first.line >= 1, first.line <= lines.count else { return nil }
        let indent = first.column - 1
        // Only a key that starts its line (after spaces and "- ") is in a block mapping.
        let firstLine = lines[first.line - 1].unicodeScalars
        guard firstLine.count >= indent, firstLine.prefix(indent).allSatisfy({ $0 == " " || $0 == "-" }) else {
            return nil
        }
        let spellings = [key, "\"\(key)\"", "'\(key)'"]
        for (offset, line) in lines.dropFirst(first.line).enumerated() {
            let content = line.drop { $0 == " " }
            if content.isEmpty || content.first == "#" { continue }
            let column = line.count - content.count
            if column < indent || content.hasPrefix("---") || content.hasPrefix("...") { return nil }
            guard column == indent else { continue }
            for spelling in spellings where content.hasPrefix(spelling) {
                let rest = content.dropFirst(spelling.count).drop { $0 == " " || $0 == "\t" }
                if rest.first == ":" && (rest.count == 1 || rest.dropFirst().first == " ") {
                    return first.line + 1 + offset
                }
            }
        }
        return nil
    }

    /// The 1-based line and column (in Unicode scalars, as libyaml counts) of the character at `offset`.
    static func mark(ofCharacter offset: Int, in text: String) -> Position? {
        guard let index = text.index(text.startIndex, offsetBy: offset, limitedBy: text.endIndex) else { return nil }
        let before = text[..<index]
        let lineStart = before.lastIndex(where: \.isNewline).map { before.index(after: $0) } ?? before.startIndex
        let line = before.count(where: \.isNewline) + 1
        return (line, before[lineStart...].unicodeScalars.count + 1)
    }

    static func oneLine(_ text: String) -> String {
        text.split(whereSeparator: \.isNewline).map { $0.drop { $0 == " " } }.joined(separator: " ")
    }
}

/// Converts Yams' node tree to `JSONValue`, counting values so that aliases cannot blow it up.
private struct Converter {
    let source: String
    var values = 0

    func error(_ node: Node, _ message: String) -> LedgerError {
        YAML.error(source, at: YAML.position(node.mark), message)
    }

    mutating func value(of node: Node, depth: Int) throws(LedgerError) -> JSONValue {
        values += 1
        guard values <= YAML.maximumValues else {
            throw error(node, "the document expands to more than \(YAML.maximumValues) values through aliases")
        }
        switch node {
        case .scalar(let scalar):
            return try value(of: scalar, tag: Tag.Name(rawValue: node.tag.rawValue), node: node)
        case .sequence(let sequence):
            guard depth < YAML.maximumDepth else { throw error(node, "nesting deeper than 256 levels") }
            var elements: [JSONValue] = []
            elements.reserveCapacity(sequence.count)
            for element in sequence {
                elements.append(try value(of: element, depth: depth + 1))
            }
            return .array(elements)
        case .mapping(let mapping):
            guard depth < YAML.maximumDepth else { throw error(node, "nesting deeper than 256 levels") }
            return try object(of: mapping, depth: depth + 1)
        case .alias(let alias):
            // Yams' composer replaces every alias with the node it names.
            throw error(node, "unresolved alias *\(alias.anchor.rawValue)")
        }
    }

    mutating func object(of mapping: Node.Mapping, depth: Int) throws(LedgerError) -> JSONValue {
        var members: [String: JSONValue] = [:]
        var places: [String: YAML.Position?] = [:]
        var merges: [Node] = []
        for (keyNode, valueNode) in mapping {
            guard case .scalar(let key) = keyNode else {
                let kind = keyNode.sequence == nil ? "mapping" : "sequence"
                throw error(keyNode, "a mapping key must be a string, not a \(kind)")
            }
            if keyNode.tag == Tag(.merge) {
                merges.append(valueNode)
                continue
            }
            if let first = places[key.string] {
                let earlier = first.map { " (first at line \($0.line))" } ?? ""
                throw error(keyNode, "duplicate key \(YAML.quoted(key.string))\(earlier)")
            }
            places[key.string] = YAML.position(keyNode.mark)
            members[key.string] = try value(of: valueNode, depth: depth)
        }
        // `<<: *base` or `<<: [*first, *second]`: keys written in the mapping win, then earlier merges.
        for merge in merges {
            let sources: [Node]
            if case .sequence(let sequence) = merge { sources = Array(sequence) } else { sources = [merge] }
            for source in sources {
                guard case .mapping = source else {
                    throw error(source, "a merge key (<<) takes a mapping or a sequence of mappings")
                }
                guard case .object(let merged) = try value(of: source, depth: depth) else { continue }
                members.merge(merged) { current, _ in current }
            }
        }
        return .object(members)
    }

    func value(of scalar: Node.Scalar, tag: Tag.Name, node: Node) throws(LedgerError) -> JSONValue {
        let text = scalar.string
        switch tag {
        case .null:
            return .null
        case .bool:
            switch text.lowercased() {
            case "true", "yes", "on": return .bool(true)
            case "false", "no", "off": return .bool(false)
            default: throw error(node, "\(YAML.quoted(text)) is not a bool")
            }
        case .int:
            return .number(try integer(text, node: node))
        case .float:
            return .number(try float(text, node: node))
        default:
            return .string(text)
        }
    }

    /// An integer as YAML 1.1 writes it (decimal, `0x`, `0b`, `0o` or a leading `0` for octal, `1:30` in base
    /// 60, with `_` between digits), if a JSON number holds it exactly.
    func integer(_ text: String, node: Node) throws(LedgerError) -> Double {
        var digits = Substring(text.filter { $0 != "_" })
        let negative = digits.first == "-"
        if digits.first == "-" || digits.first == "+" { digits = digits.dropFirst() }
        let radix: UInt64
        if digits.hasPrefix("0x") || digits.hasPrefix("0X") {
            radix = 16
            digits = digits.dropFirst(2)
        } else if digits.hasPrefix("0b") || digits.hasPrefix("0B") {
            radix = 2
            digits = digits.dropFirst(2)
        } else if digits.hasPrefix("0o") || digits.hasPrefix("0O") {
            radix = 8
            digits = digits.dropFirst(2)
        } else if digits.contains(":") {
            radix = 60
        } else if digits.hasPrefix("0") && digits.count > 1 {
            radix = 8
            digits = digits.dropFirst()
        } else {
            return try decimal((negative ? "-" : "") + digits, node: node)
        }
        let places: [Substring] = radix == 60 ? digits.split(separator: ":") : digits.map { Substring(String($0)) }
        var magnitude: UInt64 = 0
        for (position, place) in places.enumerated() {
            // In base 60 the first place may be any number of digits: 190:20:30.
            guard let digit = UInt64(place, radix: radix == 60 ? 10 : Int(radix)), digit < radix || position == 0
            else {
                throw error(node, "\(YAML.quoted(text)) is not an integer")
            }
            let (shifted, overflow) = magnitude.multipliedReportingOverflow(by: radix)
            guard !overflow, shifted <= Self.exactLimit - digit else { throw beyondLimit(text, node: node) }
            magnitude = shifted + digit
        }
        let value = Double(magnitude)
        return negative ? -value : value
    }

    /// 2^53: every integer up to it is a double.
    static let exactLimit: UInt64 = 9_007_199_254_740_992

    /// A decimal integer. Beyond ±2^53 it is accepted, as JSON input is, only when it is written the way
    /// canonical JSON writes the double it reads as, so that it does not change when read.
    func decimal(_ text: String, node: Node) throws(LedgerError) -> Double {
        guard text.drop(while: { $0 == "-" }).allSatisfy({ ("0"..."9").contains($0) }), let value = Double(text) else {
            throw error(node, "\(YAML.quoted(text)) is not an integer")
        }
        guard value.isFinite else { throw beyondLimit(text, node: node) }
        if abs(value) >= Double(Self.exactLimit) && CanonicalJSON.format(value) != text {
            throw beyondLimit(text, node: node)
        }
        return value
    }

    func beyondLimit(_ text: String, node: Node) -> LedgerError {
        error(node, "integer \(text) is beyond ±2^53 and would change as a JSON number; quote it to keep it as text")
    }

    /// A float as YAML 1.1 writes it (`1.5`, `1e3`, `.5`, `1_000.5`, `1:30.5` in base 60). NaN and infinity are
    /// refused: JSON cannot hold them.
    func float(_ text: String, node: Node) throws(LedgerError) -> Double {
        var digits = text.filter { $0 != "_" }
        switch digits.lowercased() {
        case ".nan", ".inf", "+.inf", "-.inf":
            throw error(node, "\(text) is not a number JSON can hold; quote it to keep it as text")
        default: break
        }
        let value: Double?
        if digits.contains(":") {
            let negative = digits.first == "-"
            if negative || digits.first == "+" { digits.removeFirst() }
            var total: Double? = 0
            for place in digits.split(separator: ":") {
                total = Double(place).flatMap { place in total.map { $0 * 60 + place } }
            }
            value = total.map { negative ? -$0 : $0 }
        } else {
            if digits.hasSuffix(".") { digits += "0" }
            if digits.hasPrefix(".") { digits = "0" + digits }
            value = Double(digits)
        }
        guard let value else { throw error(node, "\(YAML.quoted(text)) is not a number") }
        guard value.isFinite else {
            let special = value.isNaN || text.lowercased().contains("inf")
            throw error(node, "\(text) is \(special ? "not a number JSON can hold" : "out of range for a JSON number")")
        }
        return value
    }
}
