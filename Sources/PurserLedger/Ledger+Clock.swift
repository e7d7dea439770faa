public import Foundation

extension Ledger {
    /// How far the writer's clock may be behind the last entry's `at` before an append is refused, and how far
    /// ahead of the verifier's clock an entry may be dated before `verify` reports it: 5 minutes, the clock skew
    /// MIT Kerberos accepts by default (`clockskew`). Within it lie NTP's corrections and the drift of a machine
    /// that slept; beyond it one clock is plainly wrong. Since `at` is max(previous `at`, now), a writer behind
    /// the ledger by more would date its entries by another machine's clock instead of its own.
    public static let clockTolerance: TimeInterval = 300

    /// Refuses an append at `now` after `tip`: a clock outside the years 0001 to 9999, or behind the last entry
    /// by more than `clockTolerance` (one append from a clock set to 9999-12-31 would otherwise date every later
    /// entry at that instant).
    static func checkClock(_ now: Date, after tip: Tip) throws(LedgerError) {
        guard Timestamp.range.contains(now) else {
            throw LedgerError(
                .internal,
                "this machine's clock reads \(Int64(now.timeIntervalSince1970)) s after 1970, outside the years 0001 to 9999: set the clock; nothing was appended"
            )
        }
        guard tip.size > 0, let last = Timestamp.parse(tip.at), last.timeIntervalSince(now) > clockTolerance else {
            return
        }
        throw LedgerError(
            .integrity,
            "the last entry (seq \(tip.size - 1)) is dated \(tip.at), more than \(Int(clockTolerance / 60)) minutes after this machine's clock (\(Timestamp.format(now))): an entry appended now would be dated at that instant too. If this clock is behind, set it; if that entry's date is wrong, `purser verify` reports it (fault clock). Nothing was appended"
        )
    }

    /// The first entry dated more than `clockTolerance` after `now` (the verifier's clock), as a `clock` fault,
    /// or nil. Entries never go back in time, so only the last one is read unless it is too late.
    public func clockFault(now: Date) throws(LedgerError) -> Fault? {
        let latest = now.addingTimeInterval(Ledger.clockTolerance)
        // No entry can be dated after the last time the ledger's form can write.
        guard latest < Timestamp.range.upperBound else { return nil }
        let limit = Timestamp.format(latest)
        return try run {
            let tip = try Ledger.readTip(connection)
            guard tip.size > 0, tip.at > limit else { return nil }
            // `at` > limit is `at` ≥ the limit followed by any character: equal texts sort before it.
            let seq = try firstSeq(atOrAfter: limit + "\u{1}")
            let at = try entry(seq)?.at ?? tip.at
            let later = seq + 1 < tip.size ? " (and so is every entry after it, to seq \(tip.size - 1))" : ""
            return Fault(
                seq: seq, kind: .clock,
                detail:
                    "entry \(seq) is dated \(at), more than \(Int(Ledger.clockTolerance / 60)) minutes after this machine's clock (\(Timestamp.format(now)))\(later): the clock that appended it was ahead, or this one is behind"
            )
        }
    }
}
