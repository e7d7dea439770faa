public import Foundation
public import PurserLedger

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// Where a check's evidence comes from, as a policy names it.
///
/// ```yaml
/// evidence: {file: evidence/queue.yaml, max-age: 10m}
/// evidence: {command: [./probes/queue.sh, --env, "{env}"], timeout: 30s, max-age: 5m}
/// evidence: {http: "http://localhost:9090/queue/{env}", timeout: 5s, max-age: 1m}
/// # An https endpoint, through curl (purser has no TLS client of its own):
/// evidence: {command: [curl, -fsS, "https://grafana.example/api/dashboards/uid/agent"], timeout: 10s}
/// ```
///
/// Evidence fails closed: a missing file, invalid JSON or YAML, a command that fails, times out or prints something
/// other than JSON, an HTTP answer other than 2xx with JSON, and evidence older than `maxAge` are all errors with
/// a reason a person can act on, never a pass.
public struct EvidenceSource: Sendable, Equatable {
    /// The kind of source and what it names.
    public enum Kind: Sendable, Equatable {
        /// A JSON or YAML file (YAML when its name ends in `.yaml` or `.yml`), relative to the base directory.
        case file(String)
        /// An argv, run without a shell in the base directory; its stdout must be JSON and its exit status 0.
        /// `{version}`, `{label}` and `{env}` in an argument are replaced by their values as they are.
        case command([String])
        /// An `http://` URL to GET; it must answer 2xx with JSON. `{version}`, `{label}` and `{env}` are replaced
        /// by their percent-encoded values. Redirects are not followed. For `https://`, use a command source
        /// such as `["curl", "-fsS", URL]`: purser has no TLS client.
        case http(String)
    }

    public var kind: Kind
    /// How long a command or an HTTP request may take, in seconds (default 10).
    public var timeout: Double
    /// How old the evidence may be, in seconds; nil for no freshness limit.
    public var maxAge: Double?

    /// The placeholders a command's arguments and a URL may hold.
    public static let placeholders = ["version", "label", "env"]

    public init(_ kind: Kind, timeout: Double = 10, maxAge: Double? = nil) {
        self.kind = kind
        self.timeout = timeout
        self.maxAge = maxAge
    }

    /// Parses a policy's evidence mapping: `{file: PATH}` | `{command: [argv…]}` or `{command: "a string split on
    /// spaces"}` | `{http: URL}`, plus optional `timeout:` (command and http) and `max-age:`, both durations.
    ///
    /// - Parameters:
    ///   - json: The mapping, as the policy holds it.
    ///   - field: Where the mapping is in the policy (`checks.queue-healthy.evidence`), for messages.
    ///   - source: The policy's file name, for messages.
    /// - Throws: `.invalidInput` naming the policy, the field and what was expected.
    public init(json: JSONValue, field: String, source: String) throws(LedgerError) {
        func invalid(_ key: String?, _ problem: String) -> LedgerError {
            LedgerError(.invalidInput, "\(source): \(field)\(key.map { ".\($0)" } ?? ""): \(problem)")
        }
        let forms = "{file: PATH}, {command: [PROGRAM, ARG…]} or {http: URL}"
        guard case .object(let members) = json else {
            throw invalid(nil, "expected a mapping: \(forms), with optional timeout: and max-age:")
        }
        let kinds = ["file", "command", "http"].filter { members[$0] != nil }
        guard kinds.count == 1 else {
            let found = kinds.isEmpty ? "none" : kinds.joined(separator: " and ")
            throw invalid(nil, "expected exactly one of file:, command: or http: (found \(found)): \(forms)")
        }
        let allowed: Set = ["file", "command", "http", "timeout", "max-age"]
        for key in members.keys.sorted() where !allowed.contains(key) {
            throw invalid(key, "unknown field (an evidence source has file:, command: or http:, timeout:, max-age:)")
        }
        switch kinds[0] {
        case "file":
            guard let path = members["file"]?.stringValue, !path.isEmpty else {
                throw invalid("file", "expected a file path relative to the policy, e.g. evidence/queue.json")
            }
            kind = .file(path)
        case "command":
            var argv: [String] = []
            switch members["command"] {
            case .string(let line):
                argv = line.split(separator: " ").map(String.init)
            case .array(let elements):
                for element in elements {
                    guard let argument = element.stringValue else {
                        throw invalid("command", "every argument must be a string, got \(Self.describe(element))")
                    }
                    argv.append(argument)
                }
            default:
                break
            }
            guard let program = argv.first, !program.isEmpty else {
                throw invalid("command", "expected a program and its arguments, e.g. [./probe.sh, --json]")
            }
            kind = .command(argv)
        default:
            guard let url = members["http"]?.stringValue else {
                throw invalid("http", "expected a URL such as http://localhost:9090/health/{env}")
            }
            let lower = url.lowercased()
            guard lower.hasPrefix("http://") || lower.hasPrefix("https://") else {
                throw invalid("http", "expected an http:// URL, got \(Self.describe(.string(url)))")
            }
            for name in Self.placeholderNames(in: url) where !Self.placeholders.contains(name) {
                throw invalid(
                    "http", "{\(name)} is not a placeholder purser fills (it fills {version}, {label}, {env})")
            }
            kind = .http(url)
        }
        timeout = 10
        if let value = members["timeout"] {
            if case .file = kind {
                throw invalid("timeout", "a file is read at once; timeout: is for command: and http:")
            }
            timeout = try PolicyDuration.parse(value, field: "\(field).timeout", source: source)
        }
        maxAge = nil
        if let value = members["max-age"] {
            maxAge = try PolicyDuration.parse(value, field: "\(field).max-age", source: source)
        }
    }

    /// How reports name this source once `substitutions` are applied: `file:queue.json`,
    /// `command:./probe.sh --json`, `http:http://localhost:9090/queue/prod`.
    public func name(substitutions: [String: String]) -> String {
        switch kind {
        case .file(let path):
            return "file:" + path
        case .command(let argv):
            return "command:"
                + argv.map { Self.substitute($0, substitutions, encode: false).text }.joined(separator: " ")
        case .http(let url):
            return "http:" + Self.substitute(url, substitutions, encode: true).text
        }
    }

    /// Gathers the evidence now.
    ///
    /// - Parameters:
    ///   - substitutions: Values for `{version}`, `{label}` and `{env}` in a command's arguments or a URL. A
    ///     placeholder without a value is an error.
    ///   - baseDirectory: The folder a file path and a command's program (when it holds a `/`) are relative to,
    ///     and the folder a command runs in: the policy's folder.
    ///   - now: The time freshness is judged against.
    /// - Returns: The evidence, or a `LedgerError` whose message starts with the source's name and says what went
    ///   wrong: the file is missing or unreadable; invalid JSON or YAML (with the position); the command is not
    ///   found, exits with a status other than 0 (with the first line of its stderr), is killed after the timeout,
    ///   or prints something other than JSON; the HTTP connection is refused, the answer is not 2xx, is a
    ///   redirect, times out, or is not JSON; an https URL (use `["curl", "-fsS", URL]` as a command instead).
    ///   A top-level `observed_at` that is not an RFC 3339 time, or is more than 5 minutes in the future, is an
    ///   error. With `maxAge` set, evidence older than it is stale: "observed at T, older than the limit of 10m
    ///   (age 2h13m)". Its time is its own `observed_at`, else a file's modification time; a command's or HTTP
    ///   answer without `observed_at` is as fresh as now. The code is `.notFound` for a missing file or
    ///   program, `.invalidInput` for everything else.
    public func gather(
        substitutions: [String: String], baseDirectory: String, now: Date
    ) -> Result<Evidence, LedgerError> {
        let name = name(substitutions: substitutions)
        do {
            let (bytes, value, fileTime) = try fetch(substitutions: substitutions, baseDirectory: baseDirectory)
            let observedAt = try judgeTime(of: value, fileTime: fileTime, now: now)
            return .success(Evidence(source: name, bytes: bytes, value: value, observedAt: observedAt))
        } catch {
            return .failure(LedgerError(error.code, "\(name): \(error.message)"))
        }
    }

    /// Evidence that `gather` returned elsewhere (`purser check` against `purser serve`), judged again here as
    /// `gather` judges it: a client may send anything, and the ledger records only what `gather` could return.
    ///
    /// - Parameters:
    ///   - source: The name the client gives; it must be `name(substitutions:)`.
    ///   - bytes: The exact bytes the client read; the value is parsed from them again.
    ///   - value: The value the client parsed; it must be the bytes' value.
    ///   - observedAt: The time the client gives, in the ledger's form (`2026-11-27T14:03:00.000Z`): the value's
    ///     own `observed_at`, else a file's modification time, else nil.
    ///   - now: The time freshness is judged against.
    /// - Returns: The evidence, or the error `gather` gives for the same bytes and time (a value whose own
    ///   `observed_at` is not a time, in the future or stale), so both paths give the same verdict.
    /// - Throws: `.invalidInput` for evidence `gather` never returns, naming `field` and what was expected.
    public func received(
        source: String, bytes: [UInt8], value: JSONValue, observedAt: String?, substitutions: [String: String],
        now: Date, field: String
    ) throws(LedgerError) -> Result<Evidence, LedgerError> {
        let name = name(substitutions: substitutions)
        func invalid(_ problem: String) -> LedgerError { LedgerError(.invalidInput, "\(field): \(problem)") }
        guard source == name else {
            throw invalid(
                "source \(Self.describe(.string(source))) is not the policy's \(Self.describe(.string(name)))")
        }
        var path: String?
        if case .file(let file) = kind { path = file }
        let parsed: JSONValue
        do {
            if isYAML {
                parsed = try YAML.parse(bytes, source: name)
            } else {
                parsed = try JSONValue(parsing: bytes)
            }
        } catch {
            throw invalid("the contents of \(name) cannot be parsed: \(error)")
        }
        guard CanonicalJSON.encode(parsed) == CanonicalJSON.encode(value) else {
            throw invalid("the value is not the value of the contents of \(name)")
        }
        var fileTime: Date?
        if let observedAt {
            guard Timestamp.isCanonical(observedAt), let date = Timestamp.parse(observedAt) else {
                throw invalid(
                    "observedAt \(Self.describe(.string(observedAt))) is not a time in the ledger's form such as "
                        + "2026-11-27T14:03:00.000Z")
            }
            fileTime = date
        }
        let judged: String?
        do {
            judged = try judgeTime(of: value, fileTime: path == nil ? nil : fileTime, now: now)
        } catch {
            return .failure(LedgerError(error.code, "\(name): \(error.message)"))
        }
        guard judged == observedAt else {
            throw invalid(
                "observedAt \(observedAt.map { Self.describe(.string($0)) } ?? "absent") is not the evidence's time "
                    + "(\(judged ?? "none: a command's or HTTP answer without observed_at is observed now"))")
        }
        return .success(Evidence(source: name, bytes: bytes, value: parsed, observedAt: judged))
    }

    /// Whether the evidence is read as YAML: a file whose name ends in `.yaml` or `.yml`. Everything else is JSON.
    private var isYAML: Bool {
        guard case .file(let path) = kind else { return false }
        return ["yaml", "yml"].contains(URL(fileURLWithPath: path).pathExtension.lowercased())
    }

    /// The evidence's bytes and parsed value, and the file's modification time for a file.
    private func fetch(
        substitutions: [String: String], baseDirectory: String
    ) throws(LedgerError) -> (bytes: [UInt8], value: JSONValue, fileTime: Date?) {
        switch kind {
        case .file(let path):
            let resolved = path.hasPrefix("/") ? path : baseDirectory + "/" + path
            let (bytes, modified) = try Self.readFile(resolved)
            if isYAML { return (bytes, try YAML.parse(bytes, source: resolved), modified) }
            return (bytes, try Self.json(bytes, what: "\(resolved) is not valid JSON"), modified)
        case .command(let argv):
            var arguments: [String] = []
            for argument in argv {
                let (text, missing) = Self.substitute(argument, substitutions, encode: false)
                if let missing { throw Self.noValue(missing, in: "the command") }
                arguments.append(text)
            }
            let bytes = try CommandRunner.run(arguments, in: baseDirectory, timeout: timeout)
            guard !bytes.isEmpty else {
                throw LedgerError(.invalidInput, "the command printed nothing on stdout (expected JSON)")
            }
            return (bytes, try Self.json(bytes, what: "stdout is not JSON", quoting: true), nil)
        case .http(let template):
            let (url, missing) = Self.substitute(template, substitutions, encode: true)
            if let missing { throw Self.noValue(missing, in: "the URL") }
            let bytes = try HTTPClient.get(url, timeout: timeout)
            return (bytes, try Self.json(bytes, what: "the body is not JSON", quoting: true), nil)
        }
    }

    private static func readFile(_ path: String) throws(LedgerError) -> (bytes: [UInt8], modified: Date?) {
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) else {
            throw LedgerError(.notFound, "\(path) not found")
        }
        guard !isDirectory.boolValue else { throw LedgerError(.invalidInput, "\(path) is a folder, not a file") }
        let attributes = try? FileManager.default.attributesOfItem(atPath: path)
        return (try InputBytes.read(path, source: path), attributes?[.modificationDate] as? Date)
    }

    private static func json(_ bytes: [UInt8], what: String, quoting: Bool = false) throws(LedgerError) -> JSONValue {
        do {
            return try JSONValue(parsing: bytes)
        } catch {
            let start = quoting ? " (it starts \(describe(.string(excerpt(bytes)))))" : ""
            throw LedgerError(.invalidInput, "\(what): \(error)\(start)")
        }
    }

    /// The first line of `bytes`, at most 80 characters, as text.
    static func excerpt(_ bytes: some Collection<UInt8>) -> String {
        let line = String(decoding: bytes.prefix(400), as: UTF8.self).split(whereSeparator: \.isNewline).first ?? ""
        return line.count > 80 ? line.prefix(80) + "…" : String(line)
    }

    private static func noValue(_ name: String, in place: String) -> LedgerError {
        LedgerError(.invalidInput, "\(place) names {\(name)} but there is no \(name) to put there")
    }

    /// Checks the evidence's own time and its freshness; returns the time in the ledger's form.
    private func judgeTime(of value: JSONValue, fileTime: Date?, now: Date) throws(LedgerError) -> String? {
        let observed: Date
        var origin = ""
        if let stamp = value["observed_at"] {
            // A plain date (10 characters) is not a time.
            guard let text = stamp.stringValue, text.utf8.count > 10, let date = Timestamp.parse(text) else {
                throw LedgerError(
                    .invalidInput,
                    "observed_at \(Self.describe(stamp)) is not an RFC 3339 time such as 2026-11-27T14:03:00Z")
            }
            observed = date
        } else if let fileTime {
            observed = fileTime
            origin = " (the file's modification time)"
        } else {
            return nil
        }
        let stamp = Timestamp.format(observed)
        let ahead = observed.timeIntervalSince(now)
        if ahead > 300 {
            throw LedgerError(
                .invalidInput,
                "observed at \(stamp)\(origin), \(Self.formatAge(ahead)) in the future: the clock that wrote it is "
                    + "wrong (up to 5m ahead is tolerated)")
        }
        if let maxAge, -ahead > maxAge {
            throw LedgerError(
                .invalidInput,
                "stale: observed at \(stamp)\(origin), older than the limit of \(Self.formatLimit(maxAge)) "
                    + "(age \(Self.formatAge(-ahead)))")
        }
        return stamp
    }

    /// `{name}` placeholders in `text`, where a name is lowercase letters, digits and `_`.
    static func placeholderNames(in text: String) -> [String] {
        text.matches(of: /\{([a-z0-9_]+)\}/).map { String($0.output.1) }
    }

    /// Replaces `{version}`, `{label}` and `{env}` with their values (percent-encoded when `encode`); returns the
    /// first such placeholder that has no value.
    static func substitute(
        _ text: String, _ values: [String: String], encode: Bool
    ) -> (text: String, missing: String?) {
        var missing: String?
        let result = text.replacing(/\{(version|label|env)\}/) { match in
            let name = String(match.output.1)
            guard let value = values[name] else {
                missing = missing ?? name
                return String(match.output.0)
            }
            return encode ? percentEncoded(value) : value
        }
        return (result, missing)
    }

    /// `text` with every byte outside RFC 3986's unreserved characters percent-encoded.
    static func percentEncoded(_ text: String) -> String {
        let hex = Array("0123456789ABCDEF".utf8)
        var bytes: [UInt8] = []
        for byte in text.utf8 {
            switch byte {
            case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"),
                UInt8(ascii: "0")...UInt8(ascii: "9"), UInt8(ascii: "-"), UInt8(ascii: "."), UInt8(ascii: "_"),
                UInt8(ascii: "~"):
                bytes.append(byte)
            default:
                bytes += [UInt8(ascii: "%"), hex[Int(byte >> 4)], hex[Int(byte & 0x0F)]]
            }
        }
        return String(decoding: bytes, as: UTF8.self)
    }

    /// A limit as a policy writes it: `10m`, `24h`, `7d`, `90s`, `0.5s`.
    static func formatLimit(_ seconds: Double) -> String {
        for (unit, size) in [("d", 86_400.0), ("h", 3600), ("m", 60)] where seconds >= size {
            let count = seconds / size
            if count == count.rounded() { return "\(formatNumber(count))\(unit)" }
        }
        return "\(formatNumber(seconds))s"
    }

    /// An age in its two largest units: `2h13m`, `3d4h`, `5m12s`, `45s`.
    static func formatAge(_ seconds: Double) -> String {
        let total = Int(max(0, min(seconds, 1e15)).rounded(.down))
        let parts = [(total / 86_400, "d"), (total % 86_400 / 3600, "h"), (total % 3600 / 60, "m"), (total % 60, "s")]
        guard let first = parts.firstIndex(where: { $0.0 > 0 }) else { return "0s" }
        return parts[first..<min(first + 2, parts.count)].filter { $0.0 > 0 }.map { "\($0.0)\($0.1)" }.joined()
    }

    /// A number of seconds without a needless fraction: `10`, `0.5`.
    static func formatNumber(_ value: Double) -> String {
        value == value.rounded() && abs(value) < 1e15 ? String(Int(value)) : String(value)
    }

    static func describe(_ value: JSONValue) -> String {
        String(decoding: CanonicalJSON.encode(value), as: UTF8.self)
    }
}

/// Evidence as gathered: the parsed JSON, the digest of the exact bytes, and when it was observed.
public struct Evidence: Sendable {
    /// How reports name the source: `file:queue.json`, `command:./probe.sh --json`, `http:http://…` (the URL
    /// after substitution).
    public let source: String
    /// The exact bytes read: the file, the command's stdout, or the HTTP body.
    public let bytes: [UInt8]
    /// SHA-256 of `bytes`, recorded with the checklist run.
    public let digest: Hash
    public let value: JSONValue
    /// The evidence's own top-level `observed_at`, else a file's modification time, in the ledger's timestamp
    /// form; nil for a command or HTTP answer without `observed_at` (observed now).
    public let observedAt: String?

    public init(source: String, bytes: [UInt8], value: JSONValue, observedAt: String?) {
        self.source = source
        self.bytes = bytes
        self.digest = Hash.sha256(bytes)
        self.value = value
        self.observedAt = observedAt
    }
}

/// Gathers several sources at once, each on its own thread (remote probes may each take up to their timeout);
/// the results are in the order of `sources`.
public func gatherAll(
    _ sources: [EvidenceSource], substitutions: [String: String], baseDirectory: String, now: Date
) -> [Result<Evidence, LedgerError>] {
    guard sources.count > 1 else {
        return sources.map { $0.gather(substitutions: substitutions, baseDirectory: baseDirectory, now: now) }
    }
    let slots = ResultSlots(count: sources.count)
    let group = DispatchGroup()
    for (index, source) in sources.enumerated() {
        group.enter()
        Thread {
            slots.set(index, source.gather(substitutions: substitutions, baseDirectory: baseDirectory, now: now))
            group.leave()
        }.start()
    }
    group.wait()
    return slots.results
}

/// Results filled in by several threads.
private final class ResultSlots: @unchecked Sendable {
    private let lock = NSLock()
    private var slots: [Result<Evidence, LedgerError>?]

    init(count: Int) { slots = Array(repeating: nil, count: count) }

    func set(_ index: Int, _ result: Result<Evidence, LedgerError>) {
        lock.lock()
        defer { lock.unlock() }
        slots[index] = result
    }

    var results: [Result<Evidence, LedgerError>] {
        lock.lock()
        defer { lock.unlock() }
        return slots.map { $0 ?? .failure(LedgerError(.internal, "evidence was not gathered")) }
    }
}

/// A point in monotonic time after which waiting stops.
struct Deadline {
    let end: UInt64

    init(after seconds: Double) {
        end = DispatchTime.now().uptimeNanoseconds + UInt64(max(0, min(seconds, 1e9)) * 1e9)
    }

    /// Milliseconds left, rounded up; 0 once passed.
    var milliseconds: Int32 {
        let now = DispatchTime.now().uptimeNanoseconds
        guard now < end else { return 0 }
        return Int32(min((end - now + 999_999) / 1_000_000, UInt64(Int32.max)))
    }
}

/// The most a command may print or an HTTP answer may hold.
let maximumEvidenceBytes = 10 * 1024 * 1024

func systemError(_ code: Int32) -> String { String(cString: strerror(code)) }
