import ArgumentParser
import Foundation
import PurserLedger

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
        case .usage: usage
        case .invalidInput, .alreadyExists, .notALedger: badInput
        case .notFound: notFound
        case .integrity: integrity
        case .blocked: blocked
        default: `internal`
        }
    }

    /// Prints the error as one line on standard error and exits with its code.
    static func exit(for error: any Error) -> Never {
        switch error {
        case let error as LedgerError:
            printError(error.message)
            Foundation.exit(code(for: error))
        case let error as ExitCode:
            Foundation.exit(error.rawValue)
        default:
            // --help and --version: ArgumentParser prints them and exits 0.
            let code = Purser.exitCode(for: error)
            if code == .success { Purser.exit(withError: error) }
            let message = Purser.message(for: error).split(whereSeparator: \.isNewline).joined(separator: "; ")
            // ArgumentParser gives its own errors 64 and anything it does not know 1, which here means
            // "release blocked": an unexpected error is an internal one.
            guard code.rawValue == usage else {
                printError("internal error: \(message)")
                Foundation.exit(`internal`)
            }
            // Argument errors: one line, like every other error.
            printError("\(message) (see purser --help)")
            Foundation.exit(usage)
        }
    }

    static func printError(_ message: String) {
        FileHandle.standardError.write(Data("purser: error: \(message)\n".utf8))
    }
}
