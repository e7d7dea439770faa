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
            timeout = try Self.duration(value, field: "\(field).timeout", source: source)
        }
        maxAge = nil
        if let value = members["max-age"] {
            maxAge = try Self.duration(value, field: "\(field).max-age", source: source)
        }
    }

    /// Parses a duration: `"90s"`, `"10m"`, `"24h"`, `"7d"`, `"1.5h"`, `"500ms"`, or a number of seconds.
    /// - Throws: `.invalidInput` naming the policy and the field, for anything else or a duration that is not
    ///   more than zero.
    public static func duration(_ value: JSONValue, field: String, source: String) throws(LedgerError) -> Double {
        let seconds: Double?
        switch value {
        case .number(let number): seconds = number
        case .string(let text): seconds = parseDuration(text)
        default: seconds = nil
        }
        guard let seconds, seconds.isFinite else {
            throw LedgerError(
                .invalidInput,
                "\(source): \(field): expected a duration such as 90s, 10m, 24h or 7d (or a number of seconds), "
                    + "got \(describe(value))")
        }
        guard seconds > 0 else {
            throw LedgerError(.invalidInput, "\(source): \(field): a duration must be more than zero")
        }
        return seconds
    }

    private static func parseDuration(_ text: String) -> Double? {
        let units: [(suffix: String, seconds: Double)] = [
            ("ms", 0.001), ("s", 1), ("m", 60), ("h", 3600), ("d", 86_400),
        ]
        var number = Substring(text)
        var scale = 1.0
        for unit in units where text.hasSuffix(unit.suffix) {
            number = text.dropLast(unit.suffix.count)
            scale = unit.seconds
            break
        }
        let digits = number.filter { $0 != "." }
        guard !digits.isEmpty, digits.allSatisfy({ ("0"..."9").contains($0) }), number.count - digits.count <= 1,
            number.first != ".", number.last != ".", let value = Double(number)
        else { return nil }
        return value * scale
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

    /// The evidence's bytes and parsed value, and the file's modification time for a file.
    private func fetch(
        substitutions: [String: String], baseDirectory: String
    ) throws(LedgerError) -> (bytes: [UInt8], value: JSONValue, fileTime: Date?) {
        switch kind {
        case .file(let path):
            let resolved = path.hasPrefix("/") ? path : baseDirectory + "/" + path
            let (bytes, modified) = try Self.readFile(resolved)
            let suffix = URL(fileURLWithPath: path).pathExtension.lowercased()
            if suffix == "yaml" || suffix == "yml" {
                guard let text = String(validating: bytes, as: UTF8.self) else {
                    throw LedgerError(.invalidInput, "\(resolved) is not UTF-8 text")
                }
                return (bytes, try YAML.parse(text, source: resolved), modified)
            }
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
        guard let handle = FileHandle(forReadingAtPath: path), let data = try? handle.readToEnd() ?? Data() else {
            throw LedgerError(.invalidInput, "\(path) cannot be read (check its permissions)")
        }
        try? handle.close()
        return (Array(data), attributes?[.modificationDate] as? Date)
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
private struct Deadline {
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
private let maximumEvidenceBytes = 10 * 1024 * 1024

private func systemError(_ code: Int32) -> String { String(cString: strerror(code)) }

/// Runs a command without a shell, reading its stdout and stderr together (so a large output cannot fill one
/// pipe while the other is read), and ends its whole process group when it overruns its time.
private enum CommandRunner {
    static func run(_ argv: [String], in directory: String, timeout: Double) throws(LedgerError) -> [UInt8] {
        let executable = try resolve(argv[0], in: directory)
        let process = Process()
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = Array(argv.dropFirst())
        process.currentDirectoryURL = URL(fileURLWithPath: directory)
        let output = Pipe()
        let errors = Pipe()
        process.standardOutput = output
        process.standardError = errors
        process.standardInput = FileHandle.nullDevice
        let exited = DispatchSemaphore(value: 0)
        process.terminationHandler = { _ in exited.signal() }
        let deadline = Deadline(after: timeout)
        // A child starts with the signal mask of the thread that spawns it, and worker threads of Dispatch and
        // Swift concurrency block most signals: a probe would not hear SIGTERM. Spawn with none blocked.
        var none = sigset_t()
        var previous = sigset_t()
        sigemptyset(&none)
        pthread_sigmask(SIG_SETMASK, &none, &previous)
        do {
            try process.run()
            pthread_sigmask(SIG_SETMASK, &previous, nil)
        } catch {
            pthread_sigmask(SIG_SETMASK, &previous, nil)
            throw LedgerError(.invalidInput, "cannot start \(executable): \(error.localizedDescription)")
        }
        // Foundation starts every process in a process group of its own, so a shell's children end with it.
        let pid = process.processIdentifier
        let group = getpgid(pid) == pid ? pid : nil

        var stdout: [UInt8] = []
        var stderr: [UInt8] = []
        var open = [output.fileHandleForReading.fileDescriptor, errors.fileHandleForReading.fileDescriptor]
        var buffer = [UInt8](repeating: 0, count: 65_536)
        var timedOut = false
        var tooLarge = false
        while open.contains(where: { $0 >= 0 }) && !tooLarge {
            let remaining = deadline.milliseconds
            guard remaining > 0 else {
                timedOut = true
                break
            }
            var polls = open.filter { $0 >= 0 }.map { pollfd(fd: $0, events: Int16(POLLIN), revents: 0) }
            let ready = poll(&polls, nfds_t(polls.count), remaining)
            if ready <= 0 { continue }
            for entry in polls where entry.revents != 0 {
                let count = read(entry.fd, &buffer, buffer.count)
                if count < 0 && (errno == EINTR || errno == EAGAIN) { continue }
                if count <= 0 {
                    open = open.map { $0 == entry.fd ? -1 : $0 }
                } else if entry.fd == open[0] {
                    stdout += buffer[0..<count]
                    tooLarge = stdout.count > maximumEvidenceBytes
                } else if stderr.count < 65_536 {
                    stderr += buffer[0..<count]
                }
            }
        }
        if !timedOut && !tooLarge {
            let remaining = Double(deadline.milliseconds) / 1000
            timedOut = exited.wait(timeout: .now() + remaining) == .timedOut
        }
        if timedOut || tooLarge {
            terminate(pid, group: group, exited: exited)
            if tooLarge {
                throw LedgerError(.invalidInput, "printed more than 10 MB on stdout (the process was killed)")
            }
            throw LedgerError(
                .invalidInput,
                "timed out after \(EvidenceSource.formatNumber(timeout)) s (the process was killed)"
                    + firstLine(of: stderr, prefix: "; stderr: "))
        }
        let status = process.terminationStatus
        if process.terminationReason == .uncaughtSignal {
            throw LedgerError(.invalidInput, "killed by signal \(status)" + firstLine(of: stderr, prefix: ": "))
        }
        guard status == 0 else {
            let line = firstLine(of: stderr, prefix: ": ")
            throw LedgerError(.invalidInput, "exit status \(status)" + (line.isEmpty ? " (nothing on stderr)" : line))
        }
        return stdout
    }

    /// SIGTERM, then SIGKILL after a second, to the process group (or the process alone if it has none).
    private static func terminate(_ pid: pid_t, group: pid_t?, exited: DispatchSemaphore) {
        func send(_ signal: Int32) {
            if let group { killpg(group, signal) } else { kill(pid, signal) }
        }
        send(SIGTERM)
        if exited.wait(timeout: .now() + 1) == .timedOut {
            send(SIGKILL)
            _ = exited.wait(timeout: .now() + 5)
        } else if group != nil {
            // The leader is gone; anything left in its group that ignored SIGTERM goes now.
            send(SIGKILL)
        }
    }

    private static func firstLine(of stderr: [UInt8], prefix: String) -> String {
        let line = EvidenceSource.excerpt(stderr)
        return line.isEmpty ? "" : prefix + line
    }

    /// The program's path: relative to `directory` when it holds a `/`, else found in PATH.
    private static func resolve(_ program: String, in directory: String) throws(LedgerError) -> String {
        let manager = FileManager.default
        var isDirectory: ObjCBool = false
        guard manager.fileExists(atPath: directory, isDirectory: &isDirectory), isDirectory.boolValue else {
            throw LedgerError(.notFound, "the folder to run the command in, \(directory), does not exist")
        }
        let path: String
        if program.contains("/") {
            path = program.hasPrefix("/") ? program : directory + "/" + program
            guard manager.fileExists(atPath: path, isDirectory: &isDirectory) else {
                throw LedgerError(.notFound, "command not found: \(program) (looked for \(path))")
            }
        } else {
            let folders = (ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin").split(separator: ":")
            let candidates = folders.map { "\($0)/\(program)" }
            guard let found = candidates.first(where: { manager.isExecutableFile(atPath: $0) }) else {
                throw LedgerError(.notFound, "command not found: \(program) (not in PATH)")
            }
            path = found
            _ = manager.fileExists(atPath: path, isDirectory: &isDirectory)
        }
        guard !isDirectory.boolValue, manager.isExecutableFile(atPath: path) else {
            throw LedgerError(
                .invalidInput,
                "\(path) is not an executable file (make it executable, or name its interpreter first: "
                    + "[sh, \(program)])")
        }
        return path
    }
}

/// A minimal HTTP/1.1 GET over a POSIX socket: enough for a local probe answering JSON, without linking
/// FoundationNetworking and libcurl into every purser start-up.
private enum HTTPClient {
    struct Target {
        let host: String
        let port: UInt16
        /// The Host header's value.
        let authority: String
        /// The path and query.
        let path: String
    }

    static func get(_ url: String, timeout: Double) throws(LedgerError) -> [UInt8] {
        let target = try parse(url)
        let deadline = Deadline(after: timeout)
        let timedOut = "timed out after \(EvidenceSource.formatNumber(timeout)) s"
        let socket = try openConnection(to: target, deadline: deadline, timedOut: timedOut)
        defer { close(socket) }
        let request =
            "GET \(target.path) HTTP/1.1\r\nHost: \(target.authority)\r\nConnection: close\r\n"
            + "Accept: application/json\r\nUser-Agent: purser\r\n\r\n"
        try write(Array(request.utf8), to: socket, deadline: deadline, timedOut: timedOut)
        let response = try receive(from: socket, deadline: deadline, timedOut: timedOut)
        switch response.status {
        case 200..<300:
            return response.body
        case 300..<400:
            let location = response.header("location").map { "redirected to \($0)" } ?? "redirected"
            throw LedgerError(
                .invalidInput,
                "\(location) (status \(response.status)); purser does not follow redirects: put the final URL "
                    + "in the policy")
        default:
            let reason = response.reason.isEmpty ? "" : " \(response.reason)"
            let body = EvidenceSource.excerpt(response.body)
            throw LedgerError(
                .invalidInput, "status \(response.status)\(reason)" + (body.isEmpty ? "" : ": \(body)"))
        }
    }

    static func parse(_ url: String) throws(LedgerError) -> Target {
        let lower = url.lowercased()
        if lower.hasPrefix("https://") {
            throw LedgerError(
                .invalidInput,
                "https needs a TLS client purser does not have yet: put a local proxy in front, or use a command "
                    + "source such as [\"curl\", \"-fsS\", \"\(url)\"]")
        }
        guard lower.hasPrefix("http://") else {
            throw LedgerError(.invalidInput, "expected an http:// URL")
        }
        let rest = url.dropFirst("http://".count)
        let end = rest.firstIndex { $0 == "/" || $0 == "?" || $0 == "#" } ?? rest.endIndex
        let authority = rest[..<end]
        var path = rest[end...]
        if let fragment = path.firstIndex(of: "#") { path = path[..<fragment] }
        let target = path.first == "/" ? String(path) : "/" + path
        guard !authority.contains("@") else {
            throw LedgerError(.invalidInput, "credentials in the URL are not supported")
        }
        var host = Substring(authority)
        var port: UInt16 = 80
        var portText: Substring?
        if host.hasPrefix("[") {
            guard let close = host.firstIndex(of: "]") else {
                throw LedgerError(.invalidInput, "the URL's IPv6 address lacks its closing ]")
            }
            let after = host[host.index(after: close)...]
            if after.first == ":" {
                portText = after.dropFirst()
            } else if !after.isEmpty {
                throw LedgerError(.invalidInput, "unexpected \(after) after the URL's IPv6 address")
            }
            host = host[host.index(after: host.startIndex)..<close]
        } else if let colon = host.lastIndex(of: ":") {
            portText = host[host.index(after: colon)...]
            host = host[..<colon]
        }
        if let portText {
            guard let number = UInt16(portText), number > 0 else {
                throw LedgerError(.invalidInput, "the URL's port \"\(portText)\" is not a number from 1 to 65535")
            }
            port = number
        }
        guard !host.isEmpty else { throw LedgerError(.invalidInput, "the URL has no host") }
        guard target.utf8.allSatisfy({ (0x21...0x7E).contains($0) && $0 != 0x7B && $0 != 0x7D }) else {
            throw LedgerError(
                .invalidInput, "the URL's path holds a space, a brace or a character outside ASCII: percent-encode it")
        }
        return Target(host: String(host), port: port, authority: String(authority), path: target)
    }

    /// Connects to the first address of the host that accepts, without blocking past the deadline.
    static func openConnection(to target: Target, deadline: Deadline, timedOut: String) throws(LedgerError) -> Int32 {
        var hints = addrinfo()
        hints.ai_family = AF_UNSPEC
        #if os(Linux)
            hints.ai_socktype = Int32(SOCK_STREAM.rawValue)
        #else
            hints.ai_socktype = SOCK_STREAM
        #endif
        var list: UnsafeMutablePointer<addrinfo>?
        let status = getaddrinfo(target.host, String(target.port), &hints, &list)
        guard status == 0, let list else {
            throw LedgerError(.invalidInput, "cannot resolve \(target.host): \(String(cString: gai_strerror(status)))")
        }
        defer { freeaddrinfo(list) }
        var failure: Int32 = 0
        var cursor: UnsafeMutablePointer<addrinfo>? = list
        while let info = cursor?.pointee {
            cursor = info.ai_next
            let fd = socket(info.ai_family, info.ai_socktype, info.ai_protocol)
            guard fd >= 0 else {
                failure = errno
                continue
            }
            _ = fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK)
            #if canImport(Darwin)
                var one: Int32 = 1
                setsockopt(fd, SOL_SOCKET, SO_NOSIGPIPE, &one, socklen_t(MemoryLayout<Int32>.size))
            #endif
            if connect(fd, info.ai_addr, info.ai_addrlen) == 0 { return fd }
            guard errno == EINPROGRESS else {
                failure = errno
                close(fd)
                continue
            }
            var entry = pollfd(fd: fd, events: Int16(POLLOUT), revents: 0)
            var ready: Int32
            repeat {
                ready = poll(&entry, 1, deadline.milliseconds)
            } while ready < 0 && errno == EINTR
            guard ready > 0 else {
                close(fd)
                throw LedgerError(.invalidInput, "\(timedOut) connecting to \(target.authority)")
            }
            var error: Int32 = 0
            var length = socklen_t(MemoryLayout<Int32>.size)
            getsockopt(fd, SOL_SOCKET, SO_ERROR, &error, &length)
            if error == 0 { return fd }
            failure = error
            close(fd)
        }
        if failure == ECONNREFUSED {
            throw LedgerError(.invalidInput, "connection refused by \(target.authority) (is the service running?)")
        }
        throw LedgerError(.invalidInput, "cannot connect to \(target.authority): \(systemError(failure))")
    }

    static func write(_ bytes: [UInt8], to fd: Int32, deadline: Deadline, timedOut: String) throws(LedgerError) {
        #if os(Linux)
            let flags = Int32(MSG_NOSIGNAL)
        #else
            let flags: Int32 = 0
        #endif
        var offset = 0
        while offset < bytes.count {
            try wait(fd, for: Int16(POLLOUT), deadline: deadline, timedOut: "\(timedOut) sending the request")
            let sent = bytes[offset...].withUnsafeBytes { send(fd, $0.baseAddress, $0.count, flags) }
            if sent < 0 {
                if errno == EINTR || errno == EAGAIN { continue }
                throw LedgerError(.invalidInput, "sending the request failed: \(systemError(errno))")
            }
            offset += sent
        }
    }

    static func wait(_ fd: Int32, for events: Int16, deadline: Deadline, timedOut: String) throws(LedgerError) {
        var entry = pollfd(fd: fd, events: events, revents: 0)
        while true {
            let remaining = deadline.milliseconds
            guard remaining > 0 else { throw LedgerError(.invalidInput, timedOut) }
            let ready = poll(&entry, 1, remaining)
            if ready > 0 { return }
            if ready < 0 && errno != EINTR {
                throw LedgerError(.invalidInput, "waiting for the server failed: \(systemError(errno))")
            }
        }
    }

    struct Response {
        var status: Int
        var reason: String
        var headers: [(name: String, value: String)]
        var body: [UInt8] = []

        func header(_ name: String) -> String? {
            headers.first { $0.name.lowercased() == name }?.value
        }
    }

    /// Reads until the response is complete (by Content-Length, the last chunk, or the server closing).
    static func receive(from fd: Int32, deadline: Deadline, timedOut: String) throws(LedgerError) -> Response {
        var data: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 65_536)
        var head: Response?
        var bodyStart = 0
        var scanned = 0
        var atEnd = false
        while true {
            if head == nil, let end = headEnd(in: data, from: scanned) {
                var response = try parseHead(data[..<end])
                if (100..<200).contains(response.status) {
                    data.removeFirst(end + 4)
                    scanned = 0
                    continue
                }
                if let length = response.header("content-length").flatMap(Int.init), length > maximumEvidenceBytes {
                    throw LedgerError(.invalidInput, "the body is larger than 10 MB (\(length) bytes)")
                }
                bodyStart = end + 4
                response.body = []
                head = response
            } else if head == nil {
                scanned = max(0, data.count - 3)
                if data.count > 65_536 { throw LedgerError(.invalidInput, "the response headers exceed 64 KB") }
            }
            if var response = head, let body = try self.body(of: response, in: data[bodyStart...], atEnd: atEnd) {
                response.body = body
                return response
            }
            if atEnd {
                let excerpt = EvidenceSource.excerpt(data)
                throw LedgerError(
                    .invalidInput,
                    data.isEmpty
                        ? "the server closed the connection without answering"
                        : "the response ended before its headers were complete (it starts \"\(excerpt)\")")
            }
            try wait(fd, for: Int16(POLLIN), deadline: deadline, timedOut: "\(timedOut) waiting for the response")
            let count = recv(fd, &buffer, buffer.count, 0)
            if count < 0 {
                if errno == EINTR || errno == EAGAIN { continue }
                throw LedgerError(.invalidInput, "reading the response failed: \(systemError(errno))")
            }
            if count == 0 {
                atEnd = true
            } else {
                data += buffer[0..<count]
            }
            if data.count - bodyStart > maximumEvidenceBytes + 65_536 {
                throw LedgerError(.invalidInput, "the body is larger than 10 MB")
            }
        }
    }

    /// The offset of the blank line ending the head, searching from `start`.
    static func headEnd(in data: [UInt8], from start: Int) -> Int? {
        guard data.count >= 4, start < data.count - 3 else { return nil }
        for index in start..<(data.count - 3)
        where data[index] == 13 && data[index + 1] == 10 && data[index + 2] == 13 && data[index + 3] == 10 {
            return index
        }
        return nil
    }

    static func parseHead(_ bytes: ArraySlice<UInt8>) throws(LedgerError) -> Response {
        let lines = String(decoding: bytes, as: UTF8.self).components(separatedBy: "\r\n")
        let statusLine = lines[0].split(separator: " ", maxSplits: 2, omittingEmptySubsequences: false)
        guard statusLine.count >= 2, statusLine[0].hasPrefix("HTTP/1."), statusLine[1].count == 3,
            let status = Int(statusLine[1])
        else {
            throw LedgerError(
                .invalidInput, "the answer is not HTTP/1.x: it starts \"\(EvidenceSource.excerpt(Array(bytes)))\"")
        }
        var headers: [(name: String, value: String)] = []
        for line in lines.dropFirst() {
            guard let colon = line.firstIndex(of: ":") else {
                throw LedgerError(.invalidInput, "malformed response header \"\(line.prefix(80))\"")
            }
            let value = line[line.index(after: colon)...].trimmingCharacters(in: .whitespaces)
            headers.append((String(line[..<colon]), value))
        }
        let reason = statusLine.count > 2 ? String(statusLine[2]) : ""
        return Response(status: status, reason: reason, headers: headers)
    }

    /// The body if `data` holds all of it; nil when more must be read.
    static func body(
        of response: Response, in data: ArraySlice<UInt8>, atEnd: Bool
    ) throws(LedgerError) -> [UInt8]? {
        if response.status == 204 || response.status == 304 { return [] }
        if let encoding = response.header("transfer-encoding"), encoding.lowercased().contains("chunked") {
            // The last chunk and the trailers end with a blank line: only then is decoding worth trying.
            guard atEnd || data.suffix(4).elementsEqual([13, 10, 13, 10]) else { return nil }
            return try dechunk(data, atEnd: atEnd)
        }
        if let text = response.header("content-length") {
            guard let length = Int(text), length >= 0 else {
                throw LedgerError(.invalidInput, "invalid Content-Length \"\(text)\"")
            }
            if data.count >= length { return Array(data.prefix(length)) }
            if atEnd {
                throw LedgerError(
                    .invalidInput, "the server closed the connection after \(data.count) of \(length) bytes of the body"
                )
            }
            return nil
        }
        return atEnd ? Array(data) : nil
    }

    /// Decodes a chunked body: `SIZE[;ext]\r\nDATA\r\n` … `0\r\n[trailers]\r\n`.
    static func dechunk(_ data: ArraySlice<UInt8>, atEnd: Bool) throws(LedgerError) -> [UInt8]? {
        var body: [UInt8] = []
        var index = data.startIndex
        func incomplete() throws(LedgerError) -> [UInt8]? {
            if atEnd {
                throw LedgerError(.invalidInput, "the server closed the connection in the middle of a chunked body")
            }
            return nil
        }
        func line() -> ArraySlice<UInt8>? {
            var cursor = index
            while cursor + 1 < data.endIndex {
                if data[cursor] == 13 && data[cursor + 1] == 10 {
                    defer { index = cursor + 2 }
                    return data[index..<cursor]
                }
                cursor += 1
            }
            return nil
        }
        while true {
            guard let sizeLine = line() else { return try incomplete() }
            let sizeText = String(decoding: sizeLine.prefix { $0 != UInt8(ascii: ";") }, as: UTF8.self)
                .trimmingCharacters(in: .whitespaces)
            guard let size = Int(sizeText, radix: 16), size >= 0 else {
                throw LedgerError(.invalidInput, "invalid chunk size \"\(sizeText.prefix(20))\" in a chunked body")
            }
            if size == 0 {
                // Trailers, then a blank line.
                while true {
                    guard let trailer = line() else { return try incomplete() }
                    if trailer.isEmpty { return body }
                }
            }
            guard body.count + size <= maximumEvidenceBytes else {
                throw LedgerError(.invalidInput, "the body is larger than 10 MB")
            }
            guard data.endIndex - index >= size + 2 else { return try incomplete() }
            body += data[index..<index + size]
            index += size
            guard data[index] == 13 && data[index + 1] == 10 else {
                throw LedgerError(.invalidInput, "a chunk of the chunked body does not end where its size says")
            }
            index += 2
        }
    }
}
