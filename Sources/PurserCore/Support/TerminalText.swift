/// Untrusted text made safe to print on a terminal, and cut to its columns: what `purser log` shows of entries, and
/// what the CLI prints of a server's replies and of every error message. Text from a ledger, a server or a command
/// line never moves the cursor, recolours, retitles or reorders a person's terminal.
public enum TerminalText {
    /// A character of more scalars than this is no single glyph a terminal draws in one or two columns (200 skin
    /// tone modifiers, a letter under thousands of combining marks): a line is cut before it. The longest emoji
    /// sequence Unicode defines, a family of four with skin tones, has 11.
    static let maximumScalars = 11

    /// `text` with every control or format character written as an escape: `\n`, `\r`, `\t`, else `\u{HEX}`
    /// (C0 and C1 controls, DEL, soft hyphens, bidirectional overrides, zero-width spaces, line and paragraph
    /// separators). Zero-width joiners stay: they join emoji.
    /// - Parameter keepingTabs: leave tabs as they are (a line of a diff), where no columns are counted.
    public static func escaped(_ text: String, keepingTabs: Bool = false) -> String {
        // Printable ASCII, the common case, needs no look at Unicode properties.
        if text.utf8.allSatisfy({ (0x20..<0x7F).contains($0) }) { return text }
        func needsEscape(_ scalar: Unicode.Scalar) -> Bool {
            (scalar != "\t" || !keepingTabs) && Self.needsEscape(scalar)
        }
        guard text.unicodeScalars.contains(where: needsEscape) else { return text }
        var result = String.UnicodeScalarView()
        for scalar in text.unicodeScalars {
            guard needsEscape(scalar) else {
                result.append(scalar)
                continue
            }
            let escape =
                switch scalar {
                case "\n": "\\n"
                case "\r": "\\r"
                case "\t": "\\t"
                default: "\\u{\(String(scalar.value, radix: 16, uppercase: true))}"
                }
            result.append(contentsOf: escape.unicodeScalars)
        }
        return String(result)
    }

    private static func needsEscape(_ scalar: Unicode.Scalar) -> Bool {
        switch scalar.properties.generalCategory {
        case .control, .lineSeparator, .paragraphSeparator: true
        case .format: scalar != "\u{200D}" && scalar != "\u{200C}"
        default: false
        }
    }

    /// `text` cut to at most `columns` terminal columns, ending in `…` where it was cut: before the first character
    /// that would not fit, or that has more than `maximumScalars` scalars. East Asian wide characters and emoji take
    /// two columns.
    public static func truncated(_ text: String, to columns: Int) -> String {
        guard columns > 0 else { return "" }
        // No scalar takes more columns than it has UTF-8 bytes.
        if text.utf8.count <= columns { return text }
        var used = 0
        var cut: String.Index?
        for index in text.indices {
            let character = text[index]
            let next = character.unicodeScalars.count > maximumScalars ? Int.max : used + self.columns(character)
            if next > columns { return String(text[..<(used < columns ? index : cut ?? index)]) + "…" }
            // Where a cut would end, leaving one column for the ellipsis.
            if cut == nil, next > columns - 1 { cut = index }
            used = next
        }
        return text
    }

    /// The columns a terminal gives `character`: two if any of its scalars makes it wide (emoji presentation, a
    /// variation selector 16 asking for it, regional indicators, East Asian wide and fullwidth forms), else one.
    static func columns(_ character: Character) -> Int {
        character.unicodeScalars.contains(where: isWide) ? 2 : 1
    }

    private static func isWide(_ scalar: Unicode.Scalar) -> Bool {
        switch scalar.value {
        case 0x20..<0x7F: false
        case 0xFE0F, 0x1F1E6...0x1F1FF: true
        case 0x1100...0x115F, 0x2E80...0x303E, 0x3041...0x33FF, 0x3400...0x4DBF, 0x4E00...0x9FFF, 0xA000...0xA4CF,
            0xAC00...0xD7A3, 0xF900...0xFAFF, 0xFE30...0xFE4F, 0xFF00...0xFF60, 0xFFE0...0xFFE6, 0x20000...0x3FFFD:
            true
        default: scalar.properties.isEmojiPresentation
        }
    }
}
