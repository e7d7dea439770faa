public import PurserLedger

/// The kinds of ledger entries. Names are stable once released: reports and auditors rely on them.
public enum EntryKind {
    /// Kinds written by purser's own commands; `purser append` refuses them.
    public static let domain: Set<String> = [
        "ledger.created", "version.recorded", "evaluation.recorded", "rollback.drilled", "checklist.evaluated",
        "waiver.granted", "deployment.started", "traffic.shifted", "deployment.promoted", "deployment.drained",
        "deployment.completed", "deployment.aborted", "canary.judged", "rollback.performed", "shadow.compared",
        "metrics.summarized",
    ]

    /// The namespace of caller-defined events.
    public static let customPrefix = "custom."

    /// A caller-defined event for `purser append`: the kind must be `custom.<name>`.
    /// - Throws: `LedgerError.usage` for any other kind; `.invalidInput` if `body` is not an object.
    public static func customEvent(kind: String, body: JSONValue) throws(LedgerError) -> Event {
        try checkCustom(kind)
        return try Event(kind: kind, body: body)
    }

    /// Refuses a kind `purser append` may not write.
    /// - Throws: `LedgerError.usage` naming the kind and why.
    public static func checkCustom(_ kind: String) throws(LedgerError) {
        guard kind.hasPrefix(customPrefix), kind.count > customPrefix.count else {
            let why =
                domain.contains(kind)
                ? "\(kind) is written by its own purser command"
                : "unknown kind \"\(kind)\""
            throw LedgerError(
                .usage, "\(why); purser append takes only kinds under custom. (e.g. custom.incident-note)")
        }
        try Event.checkKind(kind)
    }
}
