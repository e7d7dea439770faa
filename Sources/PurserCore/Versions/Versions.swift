internal import Foundation
public import PurserLedger

/// A behavioral version as the ledger recorded it.
public struct RecordedVersion: Sendable {
    public let id: String
    public let agent: String
    /// Sorted by name.
    public let components: [Component]
    /// Human labels pointing at this id, oldest first.
    public let labels: [String]
    /// The entry that first recorded it.
    public let seq: UInt64
    public let at: String

    /// How messages name it: the first 12 hex characters, and its first label.
    public var shortName: String {
        let short = String(id.prefix(12))
        return labels.first.map { "\(short) (\($0))" } ?? short
    }
}

/// What `Versions.record` did.
public struct RecordOutcome: Sendable {
    public let id: String
    public let label: String?
    /// False when the ledger already held this version (nothing but perhaps a new label was recorded).
    public let isNew: Bool
    public let components: [Component]
    /// The entry written, if any.
    public let seq: UInt64?
}

/// One component that differs between two versions.
public struct ComponentChange: Sendable {
    public let name: String
    public let old: Component?
    public let new: Component?
    /// For text components: a unified diff of the two texts.
    public let textDiff: String?
}

/// Behavioral versions: recording them, finding them by id, prefix or label, listing them, their labels, diffing
/// two, reading and materializing their components. Reaches only the versions tables (`VersionTables`).
public struct Versions {
    let ledger: Ledger

    init(_ ledger: Ledger) { self.ledger = ledger }

    /// Records `version` (and `label`, if given) unless the ledger already holds it: stores each
    /// component's bytes once as an artifact and appends `version.recorded`.
    /// - Throws: `.usage` for a malformed label; `.invalidInput` for one that already names another version, or
    ///   for a version replay or `verify` would reject (`BehavioralVersion.checkRecordable`).
    public func record(_ version: BehavioralVersion, label: String?) throws(LedgerError) -> RecordOutcome {
        try version.checkRecordable()
        if let label { try Versions.checkLabel(label) }
        let id = version.id
        let (isNew, entries) = try ledger.record { (transaction, _) throws -> ([Event], Bool) in
            let tables: any VersionTables = transaction.tables
            let exists = try tables.hasVersion(id)
            var labelIsNew = false
            if let label {
                let named = try tables.labelled(label)?.id
                if let named, named != id {
                    throw LedgerError(
                        .invalidInput,
                        "label \(label) already names version \(named.prefix(12)); labels are immutable, so use a new one"
                    )
                }
                labelIsNew = named == nil
            }
            guard !exists || labelIsNew else { return ([], !exists) }
            for component in version.components where !exists {
                try transaction.storeArtifact(version.contents[component.name]!)
            }
            var body: [String: JSONValue] = [
                "id": .string(id), "agent": .string(version.agent),
                "components": .array(version.components.map(\.json)),
            ]
            if let label { body["label"] = .string(label) }
            return ([try Event(kind: "version.recorded", body: .object(body))], !exists)
        }
        return RecordOutcome(
            id: id, label: label, isNew: isNew, components: version.components, seq: entries.first?.seq)
    }

    /// A label is `NAME@VERSION`: `support-agent@1.4.0`.
    static func checkLabel(_ label: String) throws(LedgerError) {
        guard label.utf8.count <= 128,
            label.wholeMatch(of: /[A-Za-z0-9][A-Za-z0-9._\/-]*@[A-Za-z0-9][A-Za-z0-9._+-]*/) != nil
        else {
            throw LedgerError(
                .usage,
                "label \"\(label)\" is not NAME@VERSION (letters, digits, '.', '_', '-', e.g. support-agent@1.4.0)")
        }
    }

    /// Finds a recorded version by full id, unique id prefix of 8+ hex characters, or label.
    /// - Throws: `.notFound` if nothing matches; `.usage` for a short or ambiguous prefix (listing the
    ///   candidates) or a reference that is neither.
    public func find(_ reference: String) throws(LedgerError) -> RecordedVersion {
        let ids: [String] = try ledger.readTables { (tables: any VersionTables) in
            if reference.contains("@") {
                guard let (id, seq) = try tables.labelled(reference) else { return [] }
                let source = try SourceEntry(
                    seq, kinds: ["version.recorded"], row: "version_labels row \(reference)", ledger: ledger)
                try source.require("label", reference, equals: source.body["label"]?.stringValue)
                try source.require("id", id, equals: source.body["id"]?.stringValue)
                return [id]
            }
            let prefix = reference.lowercased()
            guard prefix.wholeMatch(of: /[0-9a-f]{8,64}/) != nil else {
                throw LedgerError(
                    .usage,
                    "\"\(reference)\" is not a version id (at least 8 hex characters of it) or a label (NAME@VERSION)")
            }
            return try tables.versionIDs(prefix: prefix, limit: 10)
        }
        guard let id = ids.first else {
            throw LedgerError(.notFound, "no recorded version matches \(reference) (see `purser version list`)")
        }
        guard ids.count == 1 else {
            let candidates = try ids.map { (id) throws(LedgerError) in try recorded(id)?.shortName ?? id }
            throw LedgerError(
                .usage,
                "version prefix \(reference) is ambiguous: it matches \(candidates.joined(separator: ", ")); give more characters"
            )
        }
        guard let version = try recorded(id) else {
            throw LedgerError(.notFound, "no recorded version matches \(reference)")
        }
        try checkRow(of: version)
        return version
    }

    /// Checks the `versions` row of `version` against the entry it came from (its id, agent, time and components),
    /// and each of its `version_labels` rows against theirs.
    /// - Throws: `.integrity` if they differ.
    private func checkRow(of version: RecordedVersion) throws(LedgerError) {
        try ledger.readTables { (tables: any VersionTables) in
            let source = try SourceEntry(
                Int64(version.seq), kinds: ["version.recorded"], row: "versions row \(version.id.prefix(12))",
                ledger: ledger)
            try source.require("id", version.id, equals: source.body["id"]?.stringValue)
            try source.require("agent", version.agent, equals: source.body["agent"]?.stringValue)
            try source.require("at", version.at, equals: source.at)
            let components = source.body["components"]?.arrayValue?.compactMap(Component.init(json:))
            guard components == version.components else {
                throw SourceEntry.fault(
                    row: "versions row \(version.id.prefix(12))", seq: Int64(version.seq),
                    "names other components")
            }
            // Its labels too: the checklist looks for them on dashboards and in evidence.
            for (label, seq) in try tables.labels(of: version.id) {
                let named = try SourceEntry(
                    seq, kinds: ["version.recorded"], row: "version_labels row \(label)",
                    ledger: ledger)
                try named.require("label", label, equals: named.body["label"]?.stringValue)
                try named.require("id", version.id, equals: named.body["id"]?.stringValue)
            }
        }
    }

    /// The recorded version with exactly this id, or nil.
    func recorded(_ id: String) throws(LedgerError) -> RecordedVersion? {
        try versions(id: id).first
    }

    /// Every recorded version, in the order they were first recorded.
    public func list() throws(LedgerError) -> [RecordedVersion] {
        try versions(id: nil)
    }

    /// At most `limit` recorded versions from the one recorded at `seq` on, in the order they were first recorded:
    /// a page of `list()`.
    public func page(from seq: UInt64, limit: Int) throws(LedgerError) -> [RecordedVersion] {
        try versions(id: nil, from: seq, limit: limit)
    }

    /// Each recorded version id's first label (that of its oldest labelling entry), for naming versions in
    /// `purser log`; ids without a label are absent.
    public func labels() throws(LedgerError) -> [String: String] {
        try ledger.readTables { (tables: any VersionTables) in
            var labels: [String: String] = [:]
            for (id, label) in try tables.labelsNewestFirst() { labels[id] = label }
            return labels
        }
    }

    /// The first label of each of `ids` that has one.
    public func labels(of ids: some Sequence<String>) throws(LedgerError) -> [String: String] {
        try ledger.readTables { (tables: any VersionTables) in
            var labels: [String: String] = [:]
            for id in Set(ids) { labels[id] = try tables.labels(of: id).first?.label }
            return labels
        }
    }

    /// The recorded versions from the one recorded at `seq` on (only that of `id`, if given), in the order they were
    /// first recorded, at most `limit` of them.
    private func versions(
        id: String?, from seq: UInt64 = 0, limit: Int? = nil
    ) throws(LedgerError) -> [RecordedVersion] {
        try ledger.readTables { (tables: any VersionTables) in
            var found: [RecordedVersion] = []
            for row in try tables.versionRows(id: id, from: Int64(clamping: seq), limit: limit) {
                guard case .array(let items) = try? JSONValue(parsing: row.components) else {
                    throw LedgerError(
                        .integrity, "the stored components of version \(row.id) are unreadable; run `purser reindex`")
                }
                let components = items.compactMap(Component.init(json:))
                guard components.count == items.count else {
                    throw LedgerError(
                        .integrity, "the stored components of version \(row.id) are unreadable; run `purser reindex`")
                }
                found.append(
                    RecordedVersion(
                        id: row.id, agent: row.agent, components: components, labels: row.labels, seq: UInt64(row.seq),
                        at: row.at))
            }
            return found
        }
    }

    /// The stored bytes of `component`, checked against its digest.
    /// - Throws: `.integrity` if they are missing or no longer hash to the digest.
    public func contents(of component: Component, in version: RecordedVersion) throws(LedgerError) -> [UInt8] {
        guard let bytes = try ledger.artifact(component.digest) else {
            throw LedgerError(
                .integrity,
                "the stored content of component \(component.name) of version \(version.id.prefix(12)) (digest \(component.digest.hex)) is missing; run `purser verify`"
            )
        }
        guard Hash.sha256(bytes) == component.digest else {
            throw LedgerError(
                .integrity,
                "the stored content of component \(component.name) of version \(version.id.prefix(12)) no longer hashes to its digest \(component.digest.hex); run `purser verify`"
            )
        }
        return bytes
    }

    /// Writes every component of `version` to `directory` byte for byte, with `version.json` describing
    /// them, so that the id can be recomputed from the files. The directory is built under a temporary
    /// name and renamed into place when complete.
    /// - Returns: the paths written.
    /// - Throws: `.alreadyExists` if `directory` exists and is not empty.
    @discardableResult
    public func materialize(_ version: RecordedVersion, to directory: String) throws(LedgerError) -> [String] {
        try Versions.write(materializedFiles(of: version), to: directory)
    }

    /// The files `materialize` writes: every component under its file name, and `version.json`.
    public func materializedFiles(of version: RecordedVersion) throws(LedgerError) -> [InputFile] {
        var files: [InputFile] = []
        var description: [String: JSONValue] = [:]
        for component in version.components {
            files.append(InputFile(source: component.fileName, bytes: try contents(of: component, in: version)))
            description[component.name] = .object([
                "kind": .string(component.kind.rawValue), "digest": .string(component.digest.hex),
                "file": .string(component.fileName),
            ])
        }
        let manifest: JSONValue = .object([
            "id": .string(version.id), "agent": .string(version.agent), "components": .object(description),
        ])
        files.append(InputFile(source: "version.json", bytes: CanonicalJSON.encode(manifest) + [0x0A]))
        return files
    }

    /// Writes materialized `files` (each named by its `source`, a plain file name) to `directory`, built under a
    /// temporary name and renamed into place when complete.
    /// - Returns: the paths written.
    /// - Throws: `.alreadyExists` if `directory` exists and is not an empty folder; `.usage` if it cannot be written
    ///   there (`OutputFolder`); `.invalidInput` for a name that is not a plain file name.
    public static func write(_ files: [InputFile], to directory: String) throws(LedgerError) -> [String] {
        let fileManager = FileManager.default
        for file in files where ["", ".", ".."].contains(file.source) || file.source.contains("/") {
            throw LedgerError(
                .invalidInput, "refusing to write a component to \"\(file.source)\": not a plain file name")
        }
        try OutputFolder.check(directory, empty: true)
        let url = URL(fileURLWithPath: directory)
        let temporary = url.deletingLastPathComponent().appendingPathComponent(
            ".\(url.lastPathComponent).partial-\(UInt32.random(in: 0...UInt32.max))")
        try OutputFolder.create(url.deletingLastPathComponent().path)
        guard mkdir(temporary.path, 0o777) == 0 else { throw OutputFolder.failure(directory, errno: errno) }
        do {
            for file in files {
                try Data(file.bytes).write(to: temporary.appendingPathComponent(file.source))
            }
            rmdir(directory)  // an empty directory only: it is replaced by the complete one
            try fileManager.moveItem(at: temporary, to: url)
        } catch {
            try? fileManager.removeItem(at: temporary)
            throw LedgerError(.internal, "cannot write \(quoted(directory)): \(error.localizedDescription)")
        }
        return files.map { url.appendingPathComponent($0.source).path }
    }

    /// The components that differ between `old` and `new`, by name; text components with a unified diff.
    public func diff(_ old: RecordedVersion, _ new: RecordedVersion) throws(LedgerError) -> [ComponentChange] {
        let before = Dictionary(old.components.map { ($0.name, $0) }) { first, _ in first }
        let after = Dictionary(new.components.map { ($0.name, $0) }) { first, _ in first }
        var changes: [ComponentChange] = []
        for name in Set(before.keys).union(after.keys).sorted() where before[name]?.digest != after[name]?.digest {
            var text: String?
            if let a = before[name], let b = after[name], a.kind == .text, b.kind == .text {
                text = TextDiff.unified(
                    old: String(decoding: try contents(of: a, in: old), as: UTF8.self),
                    new: String(decoding: try contents(of: b, in: new), as: UTF8.self),
                    oldName: "\(old.id.prefix(12))/\(a.fileName)", newName: "\(new.id.prefix(12))/\(b.fileName)")
            }
            changes.append(ComponentChange(name: name, old: before[name], new: after[name], textDiff: text))
        }
        return changes
    }
}
