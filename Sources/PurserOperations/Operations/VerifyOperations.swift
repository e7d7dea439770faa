public import PurserCore
public import PurserLedger

/// `purser verify`: the chain, the held checkpoints, the query tables and the stored files, checked where the
/// ledger is. (An auditor who trusts no server verifies an exported bundle offline instead.)
public struct VerifyLedger: LedgerOperation {
    public static let name = "verify"
    public static let summary =
        "Verify the ledger: the hash chain, the held checkpoints sent, the query tables and the stored files."
    public static let role = Role.reader

    /// Held signed checkpoints, as read on the client.
    public var checkpoints: [InputFile]

    public init(checkpoints: [InputFile]) { self.checkpoints = checkpoints }

    public func perform(on releases: Releases) throws(LedgerError) -> Reply {
        let held = checkpoints.map {
            Ledger.HeldCheckpoint(source: $0.source, text: String(decoding: $0.bytes, as: UTF8.self))
        }
        return verificationReply(
            try Releases.verify(at: releases.ledger.path, checkpoints: held, now: releases.now), listingFaults: true)
    }
}

/// A verification verdict as `verify` and `verify-bundle` print it; a fault is an integrity status (exit 3).
/// - Parameter listingFaults: whether the JSON lists every fault (`faults`) and says how many entries held
///   checkpoints vouch for (`trusted_size`), as `verify` does; `verify-bundle`'s has one fault at most, and prints
///   exactly what the reference verifier prints.
public func verificationReply(_ report: VerificationReport, listingFaults: Bool = false) -> Reply {
    let faults: [JSONValue] = report.faults.map {
        .object(["seq": .int($0.seq), "kind": .string($0.kind.name), "detail": .string($0.detail)])
    }
    var members: [String: JSONValue] = [
        "ok": .bool(report.ok), "size": .int(report.size), "root": .string(report.root.hex),
        "trusted": .bool(report.trusted), "fault": faults.first ?? .null,
    ]
    if listingFaults {
        members["faults"] = .array(faults)
        members["trusted_size"] = .int(report.trustedSize)
    }
    let json: JSONValue = .object(members)
    let text: [String]
    if !report.faults.isEmpty {
        text = report.faults.map { "FAULT: \($0.kind) at seq \($0.seq): \($0.detail)" }
    } else if report.trusted, report.trustedSize > 0, report.trustedSize < report.size {
        // The entries after the largest held checkpoint were checked only against each other.
        let vouched = report.trustedSize
        let rest = vouched + 1 == report.size ? "entry \(vouched)" : "entries \(vouched)–\(report.size - 1)"
        text = [
            "intact up to entry \(vouched - 1) (the held checkpoint of \(vouched) entries); \(rest) self-consistent only: \(report.size) entries, root \(report.root.hex)",
            "(a rewrite of \(rest) would not show; pass a newer --checkpoint FILE, or sign one with purser checkpoint to keep)",
        ]
    } else if report.trusted, report.trustedSize == report.size {
        text = [
            "intact: \(report.size) entries, root \(report.root.hex), consistent with \(report.checkpoints.count) held checkpoint(s)"
        ]
    } else {
        text = [
            "self-consistent: \(report.size) entries, root \(report.root.hex)",
            "(no held checkpoint: truncation or a wholesale rewrite would not show; pass --checkpoint FILE)",
        ]
    }
    return Reply(json: json, text: text, status: report.ok ? .done : .integrity)
}
