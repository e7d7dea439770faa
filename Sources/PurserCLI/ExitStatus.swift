import ArgumentParser
import Foundation
import PurserCore
import PurserLedger
import PurserOperations

/// Where errors become exit codes (the codes and `LedgerError`'s mapping are `ExitCodes`, shared with
/// `purser-server`).
enum ExitStatus {
    static let success = ExitCodes.success
    static let blocked = ExitCodes.blocked
    static let inconclusive = ExitCodes.inconclusive
    static let integrity = ExitCodes.integrity
    static let usage = ExitCodes.usage
    static let badInput = ExitCodes.badInput
    static let notFound = ExitCodes.notFound
    static let `internal` = ExitCodes.internal

    static func code(for error: LedgerError) -> Int32 { ExitCodes.code(for: error) }

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
    /// - Parameter flags: the failed command's flags by request field, where they are not the usual ones
    ///   (`RenamesParameters`).
    static func message(for error: any Error, flags: [String: String] = [:]) -> String? {
        switch error {
        case let error as LedgerError: return error.text.rendered { Diagnostics.flag(for: $0, flags: flags) }
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
    static func exit(for error: any Error, flags: [String: String] = [:]) -> Never {
        let code = code(for: error)
        // --help and --version: ArgumentParser prints them and exits 0.
        if code == success, !(error is ExitCode) { Purser.exit(withError: error) }
        if let message = message(for: error, flags: flags) { Diagnostics.printError(message) }
        Foundation.exit(code)
    }
}

/// A command whose flag for some request field is not the usual one (`Diagnostics.flag(for:)`): errors name the
/// field by this command's flag.
protocol RenamesParameters {
    /// The flag of each such field, by the field's name.
    static var flags: [String: String] { get }
}
