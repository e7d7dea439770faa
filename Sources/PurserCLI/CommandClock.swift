import Foundation
import PurserLedger

/// The time a command acts at: this machine's clock, or the time the hidden environment variable `PURSER_NOW`
/// fixes (RFC 3339, or a date: its midnight UTC), a testing aid that lets an end-to-end test set the time instead
/// of waiting for it. It dates the entries the command appends and is the "now" every expiry and freshness limit
/// is judged against. It gives nobody more than they have: whoever runs purser on a ledger file can set this
/// machine's clock too, and the ledger still refuses a clock more than 5 minutes behind its last entry (ledger
/// README §4.3). `purser serve` never reads it: through a server, the server's own clock dates every entry.
enum CommandClock {
    /// The variable's name.
    static let variable = "PURSER_NOW"

    /// The clock for this command.
    /// - Throws: `.usage` if `PURSER_NOW` is set but is not a time.
    static func clock() throws(LedgerError) -> @Sendable () -> Date {
        guard let text = ProcessInfo.processInfo.environment[variable], !text.isEmpty else { return { Date() } }
        guard let fixed = Timestamp.parse(text) else {
            throw LedgerError(
                .usage,
                "\(variable) \"\(text)\" is not an RFC 3339 time such as 2026-11-27T14:03:00Z; unset it to use this machine's clock"
            )
        }
        return { fixed }
    }

    /// The time now, by `clock()`.
    static func now() throws(LedgerError) -> Date {
        try clock()()
    }
}
