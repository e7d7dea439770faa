import ArgumentParser
import Foundation
import PurserLedger
import PurserServer

/// The one place where errors become exit codes (DESIGN.md, "Exit codes").
enum ExitStatus {
    static let success: Int32 = 0
    static let blocked: Int32 = 1
    static let inconclusive: Int32 = 2
    static let integrity: Int32 = 3
    static let usage: Int32 = 64
    static let badInput: Int32 = 65
    static let notFound: Int32 = 66
    static let `internal`: Int32 = 70

    static func code(for error: LedgerError) -> Int32 {
        switch error.code {
        case .usage, .unauthorized, .forbidden, .unsupportedMediaType, .http: usage
        case .invalidInput, .alreadyExists, .notALedger: badInput
        case .notFound: notFound
        case .integrity: integrity
        case .blocked: blocked
        default: `internal`
        }
    }

    /// The exit code of any error a command throws: `exit(for:)` exits with it.
    static func code(for error: any Error) -> Int32 {
        switch error {
        case let error as LedgerError: return code(for: error)
        case let error as ExitCode: return error.rawValue
        default:
            // ArgumentParser gives its own errors 64 and anything it does not know 1, which here means
            // "release blocked": an unexpected error is an internal one. --help and --version are 0.
            let code = Purser.exitCode(for: error).rawValue
            return code == success || code == usage ? code : `internal`
        }
    }

    /// The one line `exit(for:)` prints on standard error for the error; nil when it prints none (an exit
    /// code a command chose after printing its verdict, or --help).
    static func message(for error: any Error) -> String? {
        switch error {
        case let error as LedgerError: return error.message
        case is ExitCode: return nil
        default:
            let code = code(for: error)
            guard code != success else { return nil }
            let message = Purser.message(for: error).split(whereSeparator: \.isNewline).joined(separator: "; ")
            // Argument errors: one line, like every other error.
            return code == usage ? "\(message) (see purser --help)" : "internal error: \(message)"
        }
    }

    /// Prints the error as one line on standard error and exits with its code.
    static func exit(for error: any Error) -> Never {
        let code = code(for: error)
        // --help and --version: ArgumentParser prints them and exits 0.
        if code == success, !(error is ExitCode) { Purser.exit(withError: error) }
        if let message = message(for: error) { printError(message) }
        Foundation.exit(code)
    }

    static func printError(_ message: String) {
        FileHandle.standardError.write(Data("purser: error: \(message)\n".utf8))
    }
}
