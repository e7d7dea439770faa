/// An error from the ledger, carrying what a person needs to act: the file, the field, the sequence
/// number, the expected value. `code` says which kind of failure it is; the CLI maps codes to exit codes.
public struct LedgerError: Error, CustomStringConvertible, Sendable {
    /// The kind of failure. A struct rather than an enum, so new codes do not break callers.
    public struct Code: Hashable, Sendable, CustomStringConvertible {
        public let name: String

        public init(name: String) {
            self.name = name
        }
        /// The input (a body, a checkpoint, a key, a bundle file) is unreadable or invalid.
        public static let invalidInput = Code(name: "invalid-input")
        /// The input is over a limit (a request's body, what a gzip'd body inflates to): bad input, like a file too
        /// large to read; a server answers 413.
        public static let tooLarge = Code(name: "too-large")
        /// The ledger, an entry, a key or a file does not exist.
        public static let notFound = Code(name: "not-found")
        /// Something that must not be overwritten already exists.
        public static let alreadyExists = Code(name: "already-exists")
        /// The file is not a purser ledger, is corrupt, or was written by a newer purser.
        public static let notALedger = Code(name: "not-a-ledger")
        /// A usage problem the caller can fix by changing arguments (kind names, sizes, indexes).
        public static let usage = Code(name: "usage")
        /// The stored data contradicts itself (found outside `verify`, which reports faults instead).
        public static let integrity = Code(name: "integrity")
        /// A gate refused: a negative verdict, such as a release without an allowing checklist run.
        public static let blocked = Code(name: "blocked")
        /// An unexpected failure of SQLite or the file system.
        public static let `internal` = Code(name: "internal")

        public var description: String { name }
    }

    public let code: Code
    /// What went wrong, as words and the parameters it names.
    public let text: Message

    public init(_ code: Code, _ message: String) {
        self.code = code
        self.text = Message(message)
    }

    /// An error whose message names parameters of the request (`\(parameter: "effectiveAt")`): each transport
    /// names them as its users give them, the command line as flags (`--effective-at`), the server as the JSON
    /// fields of its requests.
    public init(_ code: Code, naming message: Message) {
        self.code = code
        self.text = message
    }

    /// The same error with `prefix` before its message (`"prod: "`), keeping the parameters it names.
    public func prefixed(_ prefix: String) -> LedgerError {
        var text = self.text
        text.segments.insert(.text(prefix), at: 0)
        return LedgerError(code, naming: text)
    }

    /// The message with each parameter named by its request field (`effectiveAt`), as the server says it.
    public var message: String { text.rendered { $0 } }

    public var description: String { message }

    /// A message: text, and the parameters it names, kept apart until a transport names them.
    public struct Message: Sendable, Hashable, ExpressibleByStringInterpolation, CustomStringConvertible {
        enum Segment: Sendable, Hashable {
            case text(String)
            case parameter(String)
        }

        var segments: [Segment]

        public init(_ text: String) {
            segments = [.text(text)]
        }

        public init(stringLiteral value: String) {
            self.init(value)
        }

        public init(stringInterpolation: StringInterpolation) {
            segments = stringInterpolation.segments
        }

        public struct StringInterpolation: StringInterpolationProtocol {
            var segments: [Segment] = []

            public init(literalCapacity: Int, interpolationCount: Int) {}

            public mutating func appendLiteral(_ literal: String) {
                segments.append(.text(literal))
            }

            public mutating func appendInterpolation(_ value: some Any) {
                segments.append(.text("\(value)"))
            }

            /// Another message, its parameters kept.
            public mutating func appendInterpolation(_ message: Message) {
                segments += message.segments
            }

            /// A parameter of the request, by the name of its field in the request's JSON.
            public mutating func appendInterpolation(parameter name: String) {
                segments.append(.parameter(name))
            }
        }

        /// The text with each parameter named by its field, as `LedgerError.message` says it.
        public var description: String { rendered { $0 } }

        /// Whether the message names a parameter.
        public var namesParameters: Bool {
            segments.contains { if case .parameter = $0 { true } else { false } }
        }

        /// The text with each parameter named by `name`.
        public func rendered(_ name: (String) -> String) -> String {
            segments.map { segment in
                switch segment {
                case .text(let text): text
                case .parameter(let parameter): name(parameter)
                }
            }.joined()
        }

        /// The message with each parameter as `{field}` and every other brace doubled: how the server sends it
        /// (`template` beside `message` in its errors), so that the CLI of `--server` names them as flags again.
        public var template: String {
            segments.map { segment in
                switch segment {
                // By scalar, not by character: a brace with a combining mark after it is one character, and any
                // reader but Swift's sees the brace alone.
                case .text(let text):
                    String(
                        String.UnicodeScalarView(
                            text.unicodeScalars.flatMap { $0 == "{" || $0 == "}" ? [$0, $0] : [$0] }))
                case .parameter(let parameter): "{\(parameter)}"
                }
            }.joined()
        }

        /// Reads a `template`, scalar by scalar; nil unless every single brace encloses a parameter name (ASCII
        /// letters and digits).
        public init?(template: String) {
            var segments: [Segment] = []
            var text = String.UnicodeScalarView()
            var scalars = template.unicodeScalars[...]
            while let first = scalars.popFirst() {
                if first == "}" {
                    guard scalars.popFirst() == "}" else { return nil }
                    text.append("}")
                } else if first == "{" {
                    if scalars.first == "{" {
                        scalars.removeFirst()
                        text.append("{")
                        continue
                    }
                    guard let end = scalars.firstIndex(of: "}") else { return nil }
                    let name = scalars[..<end]
                    guard !name.isEmpty,
                        name.allSatisfy({
                            ("a"..."z").contains($0) || ("A"..."Z").contains($0) || ("0"..."9").contains($0)
                        })
                    else { return nil }
                    if !text.isEmpty { segments.append(.text(String(text))) }
                    text = String.UnicodeScalarView()
                    segments.append(.parameter(String(String.UnicodeScalarView(name))))
                    scalars = scalars[scalars.index(after: end)...]
                } else {
                    text.append(first)
                }
            }
            if !text.isEmpty || segments.isEmpty { segments.append(.text(String(text))) }
            self.segments = segments
        }
    }
}

extension LedgerError {
    /// Wraps a SQLite error raised while working on the ledger at `path`.
    static func sqlite(_ error: SQLiteError, path: String) -> LedgerError {
        if error.isNotADatabase {
            return LedgerError(.notALedger, "\(quoted(path)) is not a purser ledger (not a SQLite database)")
        }
        if error.isCorrupt {
            return LedgerError(.notALedger, "\(quoted(path)) is corrupt: \(error.message)")
        }
        if error.isBusy {
            return LedgerError(
                .internal, "\(quoted(path)) stayed locked by another writer for too long: \(error.message)")
        }
        return LedgerError(.internal, "\(quoted(path)): \(error)")
    }
}
