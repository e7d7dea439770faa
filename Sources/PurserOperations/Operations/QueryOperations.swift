import Foundation
public import PurserCore
public import PurserLedger

// Reading what the ledger holds: recorded versions and the entries themselves.

/// `purser version show`.
public struct VersionQuery: LedgerOperation {
    public static let name = "versions/show"
    public static let summary = "A recorded version: its labels, when it was recorded, and each component."
    public static let role = Role.reader

    /// An id, a unique prefix (8+ hex) or a label.
    public var version: String

    public init(version: String) { self.version = version }

    public func perform(on releases: Releases) throws(LedgerError) -> Reply {
        let version = try releases.versions.find(version)
        return Reply(
            json: versionJSON(version),
            text: [
                "version \(version.id)", "agent     \(version.agent)",
                "labels    \(version.labels.isEmpty ? "-" : version.labels.joined(separator: ", "))",
                "recorded  \(version.at) (seq \(version.seq))",
            ] + componentLines(version.components))
    }
}

/// `purser version list`. The server answers it a page at a time (`PagedOperation`: `from` is the seq a version
/// was recorded at).
public struct VersionListQuery: PagedOperation {
    public static let name = "versions/list"
    public static let summary = "Every recorded version, oldest first, a page at a time."
    public static let role = Role.reader
    public static let listMember = "versions"

    public var from: UInt64?
    public var page: Int?

    public init() {}

    public func perform(on releases: Releases) throws(LedgerError) -> Reply {
        var versions: [RecordedVersion]
        var next: UInt64?
        if let page {
            // One more than the page holds tells whether another page follows.
            versions = try releases.versions.page(from: from ?? 0, limit: page + 1)
            if versions.count > page { next = versions.removeLast().seq }
        } else {
            versions = try releases.versions.list()
        }
        var text = versions.isEmpty ? ["no versions recorded (see purser version record --help)"] : []
        for version in versions {
            let floating = version.components.filter { !$0.pinned }.map(\.name)
            text.append(
                "\(version.id.prefix(12))  \(version.at)  \(version.agent)  \(version.labels.joined(separator: ", "))"
                    + (floating.isEmpty ? "" : "  (not pinned: \(floating.joined(separator: ", ")))"))
        }
        var json: [String: JSONValue] = ["versions": .array(versions.map(versionJSON))]
        if page != nil { json["next"] = Paging.next(next) }
        return Reply(json: .object(json), text: text)
    }
}

/// `purser version diff`.
public struct VersionDiffQuery: LedgerOperation {
    public static let name = "versions/diff"
    public static let summary = "The components that differ between two versions, with a unified diff of text ones."
    public static let role = Role.reader

    public var old: String
    public var new: String

    public init(old: String, new: String) {
        self.old = old
        self.new = new
    }

    public func perform(on releases: Releases) throws(LedgerError) -> Reply {
        let (old, new) = (try releases.versions.find(old), try releases.versions.find(new))
        let changes = try releases.versions.diff(old, new)
        let json: JSONValue = .object([
            "old": .string(old.id), "new": .string(new.id),
            "changes": .array(
                changes.map { change in
                    .object([
                        "name": .string(change.name), "old": change.old.map(componentJSON) ?? .null,
                        "new": change.new.map(componentJSON) ?? .null,
                        "diff": change.textDiff.map(JSONValue.string) ?? .null,
                    ])
                }),
        ])
        guard !changes.isEmpty else {
            return Reply(json: json, text: ["\(old.shortName) and \(new.shortName) have the same components"])
        }
        var text: [String] = []
        for change in changes {
            let before = change.old.map { $0.digest.hex.prefix(12) } ?? "(none)"
            let after = change.new.map { $0.digest.hex.prefix(12) } ?? "(none)"
            text.append("\(change.name): \(before) -> \(after)")
            if let old = change.old?.value, let new = change.new?.value {
                text.append("  old: \(String(decoding: CanonicalJSON.encode(old), as: UTF8.self))")
                text.append("  new: \(String(decoding: CanonicalJSON.encode(new), as: UTF8.self))")
            }
            // A unified diff ends every line with a newline (TextDiff marks a last line that had none).
            if let diff = change.textDiff, !diff.isEmpty {
                text += diff.utf8.dropLast().split(separator: 0x0A, omittingEmptySubsequences: false).map {
                    String(decoding: $0, as: UTF8.self)
                }
            }
        }
        return Reply(json: json, text: text)
    }
}

/// A recorded version as `version show` and `version list` print it in JSON.
public func versionJSON(_ version: RecordedVersion) -> JSONValue {
    .object([
        "id": .string(version.id), "agent": .string(version.agent),
        "labels": .array(version.labels.map(JSONValue.string)), "seq": .int(version.seq), "at": .string(version.at),
        "components": .array(version.components.map(componentJSON)),
    ])
}

/// `purser log`: entries, oldest first, filtered by kind and time. Its `--json` prints JSON Lines, one element of
/// the reply's `entries` per line. The server answers it a page at a time (`PagedOperation`: `from` is a seq).
public struct LogQuery: PagedOperation {
    public static let name = "log"
    public static let summary =
        "Entries, oldest first, filtered by kind, time window and count, each with its exact text, a page at a time."
    public static let role = Role.reader
    public static let listMember = "entries"

    public var kind: String?
    public var since: String?
    public var until: String?
    /// At most this many entries in all pages together.
    public var limit: Int?
    public var from: UInt64?
    public var page: Int?

    public init(kind: String?, since: String?, until: String?, limit: Int?) {
        self.kind = kind
        self.since = since
        self.until = until
        self.limit = limit
    }

    /// Calls `body` with each matching entry as its JSON line and a function that makes its text line
    /// (`EntrySummary`), oldest first, as it is read: a local `purser log` prints a ledger of any size without
    /// holding it. Versions are named by their labels from the query tables; a ledger whose tables cannot be read (a
    /// read-only copy whose tables are out of date) still lists its entries, naming versions by their ids.
    public func forEachEntry(
        in ledger: Ledger, _ body: (_ json: JSONValue, _ line: () -> String) -> Void
    ) throws(LedgerError) {
        let labels = (try? Releases(ledger: ledger).versions.labels()) ?? [:]
        let seqWidth = try EntrySummary.seqWidth(ledgerSize: ledger.size())
        try entries(in: ledger, rows: limit) { entry in
            body(Self.json(of: entry)) { EntrySummary.line(entry, labels: labels, seqWidth: seqWidth) }
            return true
        }
    }

    public func perform(on releases: Releases) throws(LedgerError) -> Reply {
        var entries: [JSONValue] = []
        var text: [String] = []
        guard let page else {
            let labels = try releases.versions.labels()
            let seqWidth = try EntrySummary.seqWidth(ledgerSize: releases.ledger.size())
            try self.entries(in: releases.ledger, rows: limit) { entry in
                entries.append(Self.json(of: entry))
                text.append(EntrySummary.line(entry, labels: labels, seqWidth: seqWidth))
                return true
            }
            return Reply(json: .object(["entries": .array(entries)]), text: text)
        }
        // One row more than the page holds tells whether another page follows, unless --limit ends here.
        let wanted = min(page, limit ?? .max)
        var next: UInt64?
        var bytes = 0
        let labels = try releases.versions.labels()
        let seqWidth = try EntrySummary.seqWidth(ledgerSize: releases.ledger.size())
        try self.entries(in: releases.ledger, rows: wanted == limit ? wanted : wanted + 1) { entry in
            guard entries.count < wanted, bytes < Paging.maximumBytes else {
                next = entry.seq
                return false
            }
            entries.append(Self.json(of: entry))
            text.append(EntrySummary.line(entry, labels: labels, seqWidth: seqWidth))
            bytes += entry.bytes.count
            return true
        }
        return Reply(json: .object(["entries": .array(entries), "next": Paging.next(next)]), text: text)
    }

    public func following(next: UInt64, count: Int) -> LogQuery {
        var query = self
        query.from = next
        query.limit = limit.map { $0 - count }
        return query
    }

    /// Calls `body` with the matching entries from `from` on, at most `rows` of them, until it returns false.
    private func entries(in ledger: Ledger, rows: Int?, _ body: (Entry) -> Bool) throws(LedgerError) {
        let since = try ledgerTimestamp(since, parameter: "since")
        let until = try ledgerTimestamp(until, parameter: "until")
        if let limit, limit < 0 { throw LedgerError(.usage, naming: "\(parameter: "limit") must be 0 or more") }
        try Paging.forEachEntry(
            in: ledger, from: from ?? 0, kind: kind, since: since, until: until, limit: rows, body)
    }

    /// An entry as `log --json` prints it.
    private static func json(of entry: Entry) -> JSONValue {
        .object([
            "seq": .int(entry.seq), "at": .string(entry.at), "kind": .string(entry.kind),
            "leaf_hash": .string(entry.leafHash.hex), "entry": .string(entry.text),
        ])
    }
}

/// `purser version materialize`: the files are made where the ledger is and written where the command runs.
public struct MaterializeVersion: LedgerOperation {
    public static let name = "versions/materialize"
    public static let summary =
        "Every component of a recorded version, byte for byte, and version.json, for the client to write."
    public static let role = Role.reader

    public var version: String

    public init(version: String) { self.version = version }

    /// The reply's JSON is `{"id":"…","short_name":"…","files":[{"name":"…","base64":"…"}]}`.
    public func perform(on releases: Releases) throws(LedgerError) -> Reply {
        let version = try releases.versions.find(version)
        let files = try releases.versions.materializedFiles(of: version)
        return Reply(
            json: .object([
                "id": .string(version.id), "short_name": .string(version.shortName),
                "files": .array(
                    files.map {
                        .object([
                            "name": .string($0.source), "base64": .string(Data($0.bytes).base64EncodedString()),
                        ])
                    }),
            ]))
    }
}
