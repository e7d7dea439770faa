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
    public let message: String

    public init(_ code: Code, _ message: String) {
        self.code = code
        self.message = message
    }

    public var description: String { message }
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
