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
    /// - Parameter place: how messages name the body (`note.json`, `notes.jsonl line 3`).
    /// - Throws: `LedgerError.usage` for any other kind; `.invalidInput` if `body` is not an object, or sets
    ///   `recorded_by`, which only the ledger writes (the name of the server token that appended the entry).
    public static func customEvent(
        kind: String, body: JSONValue, place: String = "the body"
    ) throws(LedgerError)
        -> Event
    {
        try checkCustom(kind)
        if body["recorded_by"] != nil {
            throw LedgerError(.invalidInput, "\(place): recorded_by is set by the ledger; remove it from the body")
        }
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
