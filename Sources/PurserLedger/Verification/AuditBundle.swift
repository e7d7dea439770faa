internal import Foundation

/// An offline audit bundle: a folder with `entries.jsonl` (line i is exactly the bytes of entry i),
/// `checkpoint` (a signed note over all of them) and `key.pub` (the C2SP verifier key).
/// An auditor verifies it without purser's database, with purser or an independent script.
public enum AuditBundle {
    public static let entriesFile = "entries.jsonl"
    public static let checkpointFile = "checkpoint"
    public static let keyFile = "key.pub"

    /// Verifies the bundle in `directory`: the signature, every entry, the chain and the root against the
    /// bundle's checkpoint and any checkpoints the auditor held from before.
    /// - Parameters:
    ///   - held: checkpoints kept outside the bundle; they catch a bundle cut short or rewritten since.
    ///   - pinnedKey: the verifier key the auditor expects; a bundle with another key.pub is a fault.
    /// - Throws: `.notFound` for a missing file; `.invalidInput` for an unreadable key or checkpoint.
    public static func verify(
        directory: String, held: [Ledger.HeldCheckpoint] = [], pinnedKey: VerifierKey? = nil,
        progress: (UInt64) -> Void = { _ in }
    ) throws(LedgerError) -> VerificationReport {
        let keyText = try readText(directory, keyFile)
        let key = try VerifierKey(parsing: keyText)
        if let pinnedKey, pinnedKey != key {
            let fault = Fault(
                seq: 0, kind: .badSignature, detail: "\(keyFile) is \(key), not the expected key \(pinnedKey)")
            return VerificationReport(size: 0, root: Hash.emptyRoot, trusted: false, fault: fault, checkpoints: [])
        }
        let own = Ledger.HeldCheckpoint(
            source: "\(directory)/\(checkpointFile)", text: try readText(directory, checkpointFile))
        let (checkpoints, signatureFault) = try Ledger.open([own] + held, key: key)
        var verifier = ChainVerifier(checkpoints: checkpoints, expectedKey: key.description)
        let entriesPath = (directory as NSString).appendingPathComponent(entriesFile)
        guard let reader = LineReader(path: entriesPath) else {
            throw LedgerError(.notFound, "\(quoted(entriesPath)) not found")
        }
        var fault: Fault?
        while fault == nil, let line = reader.next() {
            let finding = line.withUnsafeBytes { verifier.check(ChainVerifier.Row(bytes: $0)) }
            if let finding {
                let nextLeaf = reader.next().map { Hash.leaf($0) }
                fault = verifier.refine(finding, nextLeaf: nextLeaf)
            } else if verifier.frontier.size % 100_000 == 0 {
                progress(verifier.frontier.size)
            }
        }
        if fault == nil, signatureFault == nil, let checkpoint = checkpoints.first,
            verifier.frontier.size > checkpoint.size
        {
            fault = Fault(
                seq: checkpoint.size, kind: .inserted,
                detail: "\(entriesFile) has entries beyond the \(checkpoint.size) its checkpoint covers")
        }
        if fault == nil { fault = verifier.finish() }
        let reported = signatureFault ?? fault
        return VerificationReport(
            size: verifier.frontier.size, root: verifier.frontier.root, trusted: verifier.trusted && reported == nil,
            fault: reported, checkpoints: checkpoints)
    }

    private static func readText(_ directory: String, _ name: String) throws(LedgerError) -> String {
        let path = (directory as NSString).appendingPathComponent(name)
        guard let data = FileManager.default.contents(atPath: path) else {
            throw LedgerError(
                .notFound,
                "\(quoted(path)) not found: an audit bundle holds \(entriesFile), \(checkpointFile) and \(keyFile)")
        }
        guard let text = String(data: data, encoding: .utf8) else {
            throw LedgerError(.invalidInput, "\(quoted(path)) is not UTF-8 text")
        }
        return text
    }
}

extension AuditBundle {
    /// Writes a bundle: the entries as they come, to a partial file, then, once the root they make is
    /// checked against the checkpoint, the entries file, the signed checkpoint and the verifier key. A bundle is
    /// never signed over entries that disagree with its checkpoint, and nothing is left of one that failed.
    public final class Writer {
        public let directory: String
        private let entriesPath: String
        private let temporary: String
        private let handle: FileHandle
        private var buffer = Data()
        private var frontier = MerkleFrontier()
        private var finished = false
        /// The folders `init` made, and the bundle's files written so far: removed unless the bundle is complete.
        private let made: [String]
        private var written: [String] = []
        private var complete = false

        /// Creates `directory` if needed.
        /// - Throws: `OutputFolder`'s errors for a path that is not a folder or cannot be written.
        public init(directory: String) throws(LedgerError) {
            try OutputFolder.check(directory, empty: false)
            made = try OutputFolder.create(directory)
            self.directory = directory
            entriesPath = (directory as NSString).appendingPathComponent(AuditBundle.entriesFile)
            temporary = entriesPath + ".partial"
            let descriptor = open(temporary, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o644)
            guard descriptor >= 0 else {
                let code = errno
                for folder in made.reversed() { rmdir(folder) }
                throw OutputFolder.failure(directory, errno: code)
            }
            handle = FileHandle(fileDescriptor: descriptor, closeOnDealloc: true)
            buffer.reserveCapacity(1 << 20)
        }

        deinit {
            try? handle.close()
            if !finished { unlink(temporary) }
            guard !complete else { return }
            for path in written { unlink(path) }
            for folder in made.reversed() { rmdir(folder) }
        }

        /// The number of entries appended so far.
        public var size: UInt64 { frontier.size }

        /// Appends the next entry's exact bytes.
        public func append(_ entry: UnsafeRawBufferPointer) throws(LedgerError) {
            frontier.append(Hash.leaf(entry))
            buffer.append(contentsOf: entry)
            buffer.append(0x0A)
            if buffer.count >= 1 << 20 { try flush() }
        }

        /// Checks that the entries appended make `checkpoint`'s tree, then writes the bundle's files.
        /// - Throws: `.integrity` if they do not.
        public func finish(checkpoint: Checkpoint, note: String, key: VerifierKey) throws(LedgerError) {
            guard frontier.size == checkpoint.size, frontier.root == checkpoint.root else {
                throw LedgerError(
                    .integrity,
                    "the \(frontier.size) entries exported do not hash to the root of the checkpoint of \(checkpoint.size) entries (\(checkpoint.root.hex)); run `purser verify` on the ledger"
                )
            }
            try flush()
            guard fsync(handle.fileDescriptor) == 0 else { throw OutputFolder.failure(entriesPath, errno: errno) }
            guard rename(temporary, entriesPath) == 0 else { throw OutputFolder.failure(entriesPath, errno: errno) }
            finished = true
            written.append(entriesPath)
            try write(AuditBundle.checkpointFile, note)
            try write(AuditBundle.keyFile, key.description + "\n")
            complete = true
        }

        private func flush() throws(LedgerError) {
            if let code = buffer.withUnsafeBytes({ OutputFile.writeAll($0, to: handle.fileDescriptor) }) {
                throw OutputFolder.failure(entriesPath, errno: code)
            }
            buffer.removeAll(keepingCapacity: true)
        }

        private func write(_ name: String, _ text: String) throws(LedgerError) {
            let path = (directory as NSString).appendingPathComponent(name)
            try OutputFile.write(Array(text.utf8), to: path)
            written.append(path)
        }
    }
}

extension Ledger {
    /// Writes an audit bundle of the whole ledger to `directory`, with a checkpoint signed by `key`.
    ///
    /// The checkpoint's root is the stored tree's, and the exported bytes must hash to it, so a bundle is
    /// never signed over entries that disagree with the tree.
    /// - Returns: the signed checkpoint.
    @discardableResult
    public func export(to directory: String, key: SigningKey) throws(LedgerError) -> Checkpoint {
        try checkIsOwn(key)
        let writer = try AuditBundle.Writer(directory: directory)
        let checkpoint: Checkpoint = try run {
            try connection.readTransaction {
                let statement = try connection.prepare("SELECT entry FROM entries ORDER BY seq")
                while try statement.step() {
                    try statement.withBlob(0) { bytes in try writer.append(bytes) }
                }
                let stored = try MerkleProof.root(size: writer.size, nodes: Ledger.nodeLookup(connection))
                return Checkpoint(origin: origin, size: writer.size, root: stored)
            }
        }
        try writer.finish(checkpoint: checkpoint, note: sign(checkpoint, with: key), key: verifierKey)
        return checkpoint
    }
}

/// Reads a file line by line ("\n"-terminated) in 1 MB chunks.
final class LineReader {
    private let handle: FileHandle
    private var buffer: [UInt8] = []
    private var offset = 0
    /// Bytes from `offset` up to here hold no newline: a long line is scanned once, not once per chunk.
    private var scanned = 0
    private var atEnd = false

    init?(path: String) {
        guard let handle = FileHandle(forReadingAtPath: path) else { return nil }
        self.handle = handle
    }

    deinit { try? handle.close() }

    /// The next line without its newline, or nil at the end.
    func next() -> [UInt8]? {
        while true {
            if let newline = buffer[max(offset, scanned)...].firstIndex(of: 0x0A) {
                let line = Array(buffer[offset..<newline])
                offset = newline + 1
                return line
            }
            scanned = buffer.count
            if atEnd {
                guard offset < buffer.count else { return nil }
                let line = Array(buffer[offset...])
                offset = buffer.count
                return line
            }
            buffer.removeFirst(offset)
            scanned -= offset
            offset = 0
            let chunk = (try? handle.read(upToCount: 1 << 20)) ?? nil
            if let chunk, !chunk.isEmpty {
                buffer.append(contentsOf: chunk)
            } else {
                atEnd = true
            }
        }
    }
}
