import Foundation
import PurserLedger
import Testing

@testable import PurserCore

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// A temporary folder, removed when released.
private final class Folder {
    let path = NSTemporaryDirectory() + "purser-evidence-" + UUID().uuidString

    init() throws { try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true) }

    deinit { try? FileManager.default.removeItem(atPath: path) }

    @discardableResult
    func write(_ name: String, _ text: String, executable: Bool = false) throws -> String {
        let file = path + "/" + name
        try Data(text.utf8).write(to: URL(fileURLWithPath: file))
        if executable { try FileManager.default.setAttributes([.posixPermissions: 0o755], ofItemAtPath: file) }
        return file
    }
}

private let now = Date(timeIntervalSince1970: 1_795_000_000)  // 2026-11-18T11:06:40Z

private func gather(
    _ kind: EvidenceSource.Kind, timeout: Double = 10, maxAge: Double? = nil, in folder: String = "/",
    substitutions: [String: String] = [:], at time: Date = now
) -> Result<Evidence, LedgerError> {
    EvidenceSource(kind, timeout: timeout, maxAge: maxAge)
        .gather(substitutions: substitutions, baseDirectory: folder, now: time)
}

/// The failure's message, recording an issue when the gathering succeeded.
private func failure(
    _ result: Result<Evidence, LedgerError>, sourceLocation: SourceLocation = #_sourceLocation
) -> LedgerError? {
    switch result {
    case .success(let evidence):
        Issue.record(
            "expected an error, gathered \(evidence.source): \(evidence.value)", sourceLocation: sourceLocation)
        return nil
    case .failure(let error):
        #expect(!error.message.contains("\n"), "one line: \(error.message)", sourceLocation: sourceLocation)
        return error
    }
}

/// Seconds taken by `body`, on the machine's clock: the tests that use it are about real time itself (timeouts,
/// killing, gathering in parallel), which no injected clock can stand for.
private func timed<T>(_ body: () throws -> T) rethrows -> (T, Double) {
    let start = Date()
    let result = try body()
    return (result, Date().timeIntervalSince(start))
}

@Suite struct EvidenceSourceParsingTests {
    private func parse(_ yaml: String) throws -> EvidenceSource {
        try EvidenceSource(
            json: try YAML.parse(yaml, source: "checklist.yaml"), field: "checks.q.evidence",
            source: "checklist.yaml")
    }

    private func refusal(_ yaml: String) -> String? {
        let error = #expect(throws: LedgerError.self) { try parse(yaml) }
        #expect(error?.code == .invalidInput)
        return error?.message
    }

    @Test func eachFormWithTimeoutAndMaxAge() throws {
        #expect(try parse("{file: evidence/queue.json}") == EvidenceSource(.file("evidence/queue.json")))
        #expect(
            try parse("{command: [./probe.sh, --env, '{env}'], timeout: 30s, max-age: 5m}")
                == EvidenceSource(.command(["./probe.sh", "--env", "{env}"]), timeout: 30, maxAge: 300))
        #expect(try parse("{command: ./probe.sh  --json}") == EvidenceSource(.command(["./probe.sh", "--json"])))
        #expect(
            try parse("{http: 'http://localhost:9090/q/{version}', timeout: 2.5, max-age: 1h}")
                == EvidenceSource(.http("http://localhost:9090/q/{version}"), timeout: 2.5, maxAge: 3600))
        #expect(try parse("{http: 'https://example.com/x'}").kind == .http("https://example.com/x"))
    }

    @Test(arguments: [
        (JSONValue.string("90s"), 90.0), (.string("10m"), 600), (.string("24h"), 86_400), (.string("7d"), 604_800),
        (.string("1.5h"), 5400), (.string("500ms"), 0.5), (.number(30), 30), (.string("45"), 45),
    ])
    func durations(text: JSONValue, seconds: Double) throws {
        #expect(try PolicyDuration.parse(text, field: "max-age", source: "p.yaml") == seconds)
    }

    @Test(arguments: [
        (45.0, "45s"), (119.4, "119s"), (119.6, "2m"), (600, "10m"), (7199, "119m"), (7200, "2h"), (7980, "2h13m"),
        (172_800, "2d"), (187_200, "2d4h"),
    ])
    func durationsPrintAsPeopleReadThem(seconds: Double, text: String) {
        #expect(PolicyDuration.describe(seconds) == text)
    }

    @Test(arguments: [
        JSONValue.string("10 minutes"), .string("-5s"), .number(0), .number(-1), .string(""), .string("h"),
        .string("1.2.3s"), .string("5w"), .bool(true), .null,
    ])
    func invalidDurations(value: JSONValue) {
        let error = #expect(throws: LedgerError.self) {
            try PolicyDuration.parse(value, field: "checks.q.max-age", source: "p.yaml")
        }
        #expect(error?.message.hasPrefix("p.yaml: checks.q.max-age: ") == true)
    }

    @Test func invalidMappingsNameTheFieldAndWhatIsExpected() {
        #expect(refusal("[a, b]")?.hasPrefix("checklist.yaml: checks.q.evidence: expected a mapping") == true)
        #expect(refusal("{file: a.json, http: 'http://x/'}")?.contains("exactly one of") == true)
        #expect(refusal("{timeout: 5s}")?.contains("found none") == true)
        #expect(refusal("{file: a.json, maxage: 5m}")?.contains("checks.q.evidence.maxage: unknown field") == true)
        #expect(refusal("{file: ''}")?.contains("checks.q.evidence.file: expected a file path") == true)
        #expect(refusal("{command: []}")?.contains("expected a program") == true)
        #expect(refusal("{command: [a, 3]}")?.contains("every argument must be a string, got 3") == true)
        #expect(refusal("{http: 'ftp://x/'}")?.contains("expected an http:// URL") == true)
        #expect(refusal("{http: 'http://x/{versoin}'}")?.contains("{versoin} is not a placeholder") == true)
        #expect(refusal("{file: a.json, timeout: 5s}")?.contains("checks.q.evidence.timeout: a file is read") == true)
        #expect(
            refusal("{file: a.json, max-age: soon}")?.contains("checks.q.evidence.max-age: expected a duration") == true
        )
    }

    @Test func durationsAndAgesAreWrittenTheWayPeopleWriteThem() {
        #expect(EvidenceSource.formatLimit(600) == "10m")
        #expect(EvidenceSource.formatLimit(86_400 * 7) == "7d")
        #expect(EvidenceSource.formatLimit(90) == "90s")
        #expect(EvidenceSource.formatLimit(5400) == "90m")
        #expect(EvidenceSource.formatLimit(0.5) == "0.5s")
        #expect(EvidenceSource.formatAge(2 * 3600 + 13 * 60 + 59) == "2h13m")
        #expect(EvidenceSource.formatAge(3 * 86_400 + 4 * 3600 + 5) == "3d4h")
        #expect(EvidenceSource.formatAge(7200) == "2h")
        #expect(EvidenceSource.formatAge(45.9) == "45s")
        #expect(EvidenceSource.percentEncoded("agent@1.0 eu/ü") == "agent%401.0%20eu%2F%C3%BC")
    }
}

@Suite struct FileEvidenceTests {
    @Test func jsonFileIsReadWithItsDigestAndModificationTime() throws {
        let folder = try Folder()
        let text = #"{"depth": 3, "capacity": 100}"#
        let path = try folder.write("queue.json", text)
        let modified = try #require(try FileManager.default.attributesOfItem(atPath: path)[.modificationDate] as? Date)
        let evidence = try gather(.file("queue.json"), in: folder.path, at: Date()).get()
        #expect(evidence.source == "file:queue.json")
        #expect(evidence.bytes == Array(text.utf8))
        #expect(evidence.digest == Hash.sha256(Array(text.utf8)))
        #expect(evidence.value == .object(["depth": .number(3), "capacity": .number(100)]))
        #expect(evidence.observedAt == Timestamp.format(modified))
    }

    @Test func yamlFileIsReadAsData() throws {
        let folder = try Folder()
        try folder.write("queue.yml", "depth: 3\nconsumers: [a, b]\nobserved_at: 2026-11-18T08:00:00+01:00\n")
        let evidence = try gather(.file("queue.yml"), in: folder.path).get()
        #expect(evidence.value["consumers"] == .array([.string("a"), .string("b")]))
        #expect(evidence.observedAt == "2026-11-18T07:00:00.000Z")
    }

    @Test func missingFileIsNotFound() throws {
        let folder = try Folder()
        let error = failure(gather(.file("queue.json"), in: folder.path))
        #expect(error?.code == .notFound)
        #expect(error?.message == "file:queue.json: \(folder.path)/queue.json not found")
    }

    @Test func invalidJSONAndYAMLSayWhere() throws {
        let folder = try Folder()
        try folder.write("queue.json", #"{"depth": 3,"#)
        try folder.write("queue.yaml", "depth: 3\n  consumers: [a\n")
        let json = failure(gather(.file("queue.json"), in: folder.path))
        #expect(json?.code == .invalidInput)
        #expect(json?.message.hasPrefix("file:queue.json: \(folder.path)/queue.json is not valid JSON: ") == true)
        #expect(json?.message.contains("at byte 13") == true)
        let yaml = failure(gather(.file("queue.yaml"), in: folder.path))
        #expect(yaml?.message.hasPrefix("file:queue.yaml: \(folder.path)/queue.yaml line 2") == true)
    }

    @Test func oldObservedAtIsStale() throws {
        let folder = try Folder()
        let observed = now.addingTimeInterval(-(2 * 3600 + 13 * 60 + 20))
        try folder.write("queue.json", #"{"depth": 3, "observed_at": "\#(Timestamp.format(observed))"}"#)
        let error = failure(gather(.file("queue.json"), maxAge: 600, in: folder.path))
        #expect(
            error?.message
                == "file:queue.json: stale: observed at \(Timestamp.format(observed)), older than the limit of 10m "
                + "(age 2h13m)")
        // The same evidence with a wider limit passes.
        #expect(try gather(.file("queue.json"), maxAge: 3 * 3600, in: folder.path).get().value["depth"] == .number(3))
    }

    @Test func freshObservedAtIsUsedInsteadOfTheFileTime() throws {
        let folder = try Folder()
        let path = try folder.write("queue.json", #"{"observed_at": "2026-11-18T12:03:20.5+01:00"}"#)
        try FileManager.default.setAttributes([.modificationDate: Date(timeIntervalSince1970: 0)], ofItemAtPath: path)
        let evidence = try gather(.file("queue.json"), maxAge: 600, in: folder.path, at: now).get()
        #expect(evidence.observedAt == "2026-11-18T11:03:20.500Z")
        #expect(Timestamp.parse(evidence.observedAt!)! <= now)
    }

    @Test func withoutObservedAtTheModificationTimeIsJudged() throws {
        let folder = try Folder()
        let path = try folder.write("queue.json", #"{"depth": 3}"#)
        let old = now.addingTimeInterval(-2 * 86_400)
        try FileManager.default.setAttributes([.modificationDate: old], ofItemAtPath: path)
        let error = failure(gather(.file("queue.json"), maxAge: 86_400, in: folder.path))
        #expect(
            error?.message
                == "file:queue.json: stale: observed at \(Timestamp.format(old)) (the file's modification time), "
                + "older than the limit of 1d (age 2d)")
        let fresh = now.addingTimeInterval(-60)
        try FileManager.default.setAttributes([.modificationDate: fresh], ofItemAtPath: path)
        #expect(
            try gather(.file("queue.json"), maxAge: 86_400, in: folder.path).get().observedAt
                == Timestamp.format(fresh))
    }

    @Test(arguments: [#""yesterday""#, #""2026-11-18""#, "1795000000", "null", #""2026-11-18T25:00:00Z""#])
    func observedAtThatIsNotATimeIsAnErrorEvenWithoutALimit(observedAt: String) throws {
        let folder = try Folder()
        try folder.write("queue.json", #"{"observed_at": \#(observedAt)}"#)
        let error = failure(gather(.file("queue.json"), in: folder.path))
        #expect(error?.message.contains("observed_at \(observedAt) is not an RFC 3339 time") == true)
    }

    @Test func observedAtInTheFutureIsAnErrorBeyondFiveMinutes() throws {
        let folder = try Folder()
        try folder.write("later.json", #"{"observed_at": "\#(Timestamp.format(now.addingTimeInterval(3600)))"}"#)
        try folder.write("skew.json", #"{"observed_at": "\#(Timestamp.format(now.addingTimeInterval(240)))"}"#)
        let error = failure(gather(.file("later.json"), maxAge: 600, in: folder.path))
        #expect(error?.message.contains("1h in the future: the clock that wrote it is wrong") == true)
        #expect(throws: Never.self) { try gather(.file("skew.json"), maxAge: 600, in: folder.path).get() }
    }
}

@Suite struct CommandEvidenceTests {
    @Test func jsonOnStdoutIsTheEvidence() throws {
        let argv = ["/bin/sh", "-c", #"echo '{"ok":true}'"#]
        let evidence = try gather(.command(argv)).get()
        #expect(evidence.value == .object(["ok": .bool(true)]))
        #expect(evidence.bytes == Array("{\"ok\":true}\n".utf8))
        #expect(evidence.source == #"command:/bin/sh -c echo '{"ok":true}'"#)
        #expect(evidence.observedAt == nil)
    }

    @Test func nonZeroExitIsAnErrorWithItsStatusAndStderr() {
        let error = failure(
            gather(.command(["/bin/sh", "-c", "echo '{}'; echo 'queue down' >&2; echo more >&2; exit 3"])))
        #expect(error?.message.hasSuffix(": exit status 3: queue down") == true)
        let silent = failure(gather(.command(["/bin/sh", "-c", "exit 1"])))
        #expect(silent?.message.hasSuffix(": exit status 1 (nothing on stderr)") == true)
    }

    @Test func garbageOnStdoutIsAnError() {
        let error = failure(gather(.command(["/bin/sh", "-c", "echo 'depth=3 ok'"])))
        #expect(error?.message.contains(#"stdout is not JSON: "#) == true)
        #expect(error?.message.contains(#"(it starts "depth=3 ok")"#) == true)
        let empty = failure(gather(.command(["/bin/true"])))
        #expect(empty?.message.hasSuffix("printed nothing on stdout (expected JSON)") == true)
    }

    /// Whether `pid` has ended (a zombie no one reaps counts as ended).
    private func ended(_ pid: pid_t) -> Bool {
        for _ in 0..<40 {
            if kill(pid, 0) != 0 { return true }
            if let stat = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8),
                let close = stat.lastIndex(of: ")"), stat.count > stat.distance(from: stat.startIndex, to: close) + 2
            {
                let state = stat[stat.index(close, offsetBy: 2)]
                if state == "Z" || state == "X" { return true }
            }
            usleep(50_000)  // polling a process's end: real time itself
        }
        return false
    }

    @Test func overrunningTheTimeoutKillsTheProcessGroup() throws {
        let folder = try Folder()
        // The shell waits for a child; both must go.
        let script = "sleep 30 & echo $! > child.pid; wait"
        let (result, seconds) = timed { gather(.command(["/bin/sh", "-c", script]), timeout: 0.5, in: folder.path) }
        #expect(failure(result)?.message.contains(": timed out after 0.5 s (the process was killed)") == true)
        #expect(seconds >= 0.5 && seconds < 1.4, "took \(seconds) s")
        let child = try #require(
            pid_t(
                try String(contentsOfFile: folder.path + "/child.pid", encoding: .utf8)
                    .trimmingCharacters(in: .whitespacesAndNewlines)))
        #expect(ended(child), "the shell's child \(child) still runs")
    }

    @Test func aProcessIgnoringSIGTERMIsKilledASecondLater() throws {
        let folder = try Folder()
        let script = "trap '' TERM; echo $$ > shell.pid; sleep 30"
        let (result, seconds) = timed { gather(.command(["/bin/sh", "-c", script]), timeout: 0.3, in: folder.path) }
        #expect(failure(result)?.message.contains("timed out after 0.3 s") == true)
        #expect(seconds >= 1.2 && seconds < 2.5, "took \(seconds) s")
        let shell = try #require(
            pid_t(
                try String(contentsOfFile: folder.path + "/shell.pid", encoding: .utf8)
                    .trimmingCharacters(in: .whitespacesAndNewlines)))
        #expect(ended(shell))
    }

    /// Test threads block most signals; a probe started from one must not inherit that, or it cannot be stopped.
    @Test(.enabled(if: FileManager.default.fileExists(atPath: "/proc/self/status")))
    func theProbeStartsWithNoSignalBlocked() throws {
        let script = #"printf '"%s"' "$(grep SigBlk /proc/$$/status | tr -d '\t\n')""#
        let evidence = try gather(.command(["/bin/sh", "-c", script])).get()
        #expect(evidence.value == .string("SigBlk:0000000000000000"))
    }

    @Test func missingProgramIsNotFound() throws {
        let folder = try Folder()
        let inPath = failure(gather(.command(["purser-no-such-probe", "--json"])))
        #expect(inPath?.code == .notFound)
        #expect(
            inPath?.message
                == "command:purser-no-such-probe --json: command not found: purser-no-such-probe (not in PATH)")
        let relative = failure(gather(.command(["./probe.sh"]), in: folder.path))
        #expect(
            relative?.message
                == "command:./probe.sh: command not found: ./probe.sh (looked for \(folder.path)/./probe.sh)")
        let noFolder = failure(gather(.command(["/bin/echo", "{}"]), in: folder.path + "/gone"))
        #expect(
            noFolder?.message.hasSuffix("the folder to run the command in, \(folder.path)/gone, does not exist") == true
        )
        try folder.write("probe.sh", "#!/bin/sh\necho '{}'\n")
        let notExecutable = failure(gather(.command(["./probe.sh"]), in: folder.path))
        #expect(notExecutable?.message.contains("is not an executable file") == true)
    }

    @Test func aRelativeProgramRunsInTheBaseDirectoryWithSubstitutedArguments() throws {
        let folder = try Folder()
        try folder.write(
            "probe.sh", #"#!/bin/sh"# + "\nprintf '{\"cwd\":\"%s\",\"env\":\"%s\"}' \"$(pwd -P)\" \"$1\"\n",
            executable: true)
        let evidence = try gather(
            .command(["./probe.sh", "{env}"]), in: folder.path, substitutions: ["env": "prod eu"]
        )
        .get()
        let real = URL(fileURLWithPath: folder.path).resolvingSymlinksInPath().path
        #expect(evidence.value["cwd"] == .string(real))
        #expect(evidence.value["env"] == .string("prod eu"))
        #expect(evidence.source == "command:./probe.sh prod eu")
        let missing = failure(gather(.command(["./probe.sh", "{label}"]), in: folder.path))
        #expect(missing?.message.hasSuffix("the command names {label} but there is no label to put there") == true)
    }

    @Test func largeOutputOnBothPipesDoesNotDeadlock() throws {
        // 256 KB on stderr first: a reader of stdout alone would leave the child blocked on a full pipe.
        let script = "head -c 262144 /dev/zero >&2; printf '\"'; head -c 3000000 /dev/zero | tr '\\0' a; printf '\"'"
        let (result, seconds) = timed { gather(.command(["/bin/sh", "-c", script]), timeout: 5) }
        let evidence = try result.get()
        #expect(evidence.value.stringValue?.count == 3_000_000)
        #expect(seconds < 3)
    }
}

@Suite struct HTTPEvidenceTests {
    static let body = #"{"depth":3,"capacity":100,"consumers":4,"observed_at":"2026-11-18T08:00:00Z"}"#

    private func server() throws -> LoopbackServer {
        try LoopbackServer(routes: [
            "/health": .json(Self.body),
            "/unhealthy": .json(#"{"error":"queue down"}"#, status: 503, reason: "Service Unavailable"),
            "/slow": LoopbackServer.Response(body: Array("{}".utf8), delay: 5),
            "/malformed": .json(#"{"depth": 3, "#),
            "/chunked": LoopbackServer.Response(chunks: [
                Array(#"{"ok":"#.utf8), Array("true,\r\n\"n\":".utf8), Array("[1,2,3]}".utf8),
            ]),
            "/moved": LoopbackServer.Response(status: 302, reason: "Found", headers: ["Location: /health"]),
            "/huge": LoopbackServer.Response(headers: ["Content-Length: 11000000"], body: Array("{".utf8)),
            "/until-close": LoopbackServer.Response(body: Array(#"{"closed":true}"#.utf8), closeDelimited: true),
            "/cut": LoopbackServer.Response(headers: ["Content-Length: 100"], body: Array("{}".utf8)),
            "/v/abc123/prod%20eu?label=agent%401.0": .json(#"{"seen":true}"#),
        ])
    }

    @Test func healthyJSON() throws {
        let server = try server()
        let evidence = try gather(.http(server.url("/health"))).get()
        #expect(evidence.source == "http:" + server.url("/health"))
        #expect(evidence.bytes == Array(Self.body.utf8))
        #expect(evidence.digest == Hash.sha256(Array(Self.body.utf8)))
        #expect(evidence.value["capacity"] == .number(100))
        #expect(evidence.observedAt == "2026-11-18T08:00:00.000Z")
        #expect(server.requests == ["/health"])
    }

    @Test func unhealthyStatusIsAnErrorNamingIt() throws {
        let server = try server()
        let error = failure(gather(.http(server.url("/unhealthy"))))
        #expect(
            error?.message
                == "http:\(server.url("/unhealthy")): status 503 Service Unavailable: {\"error\":\"queue down\"}")
        let missing = failure(gather(.http(server.url("/nowhere"))))
        #expect(missing?.message.contains("status 404 Not Found") == true)
    }

    @Test func slowAnswerTimesOut() throws {
        let server = try server()
        let (result, seconds) = timed { gather(.http(server.url("/slow")), timeout: 0.5) }
        #expect(failure(result)?.message.contains(": timed out after 0.5 s waiting for the response") == true)
        #expect(seconds >= 0.45 && seconds < 1.2, "took \(seconds) s")
    }

    @Test func malformedJSONIsAnError() throws {
        let server = try server()
        let error = failure(gather(.http(server.url("/malformed"))))
        #expect(error?.message.hasPrefix("http:\(server.url("/malformed")): the body is not JSON: ") == true)
    }

    @Test func refusedConnectionIsAnError() throws {
        let port = try LoopbackServer.closedPort()
        let error = failure(gather(.http("http://127.0.0.1:\(port)/health")))
        #expect(error?.message.hasSuffix(": connection refused by 127.0.0.1:\(port) (is the service running?)") == true)
    }

    @Test func httpsIsRefusedWithTheCommandToUseInstead() {
        let error = failure(
            gather(.http("https://grafana.example/api/dashboards/uid/{env}"), substitutions: ["env": "prod"]))
        #expect(
            error?.message
                == "http:https://grafana.example/api/dashboards/uid/prod: https needs a TLS client purser does not "
                + "have yet: put a local proxy in front, or use a command source such as "
                + #"["curl", "-fsS", "https://grafana.example/api/dashboards/uid/prod"]"#)
    }

    @Test func placeholdersArePercentEncodedIntoTheRequest() throws {
        let server = try server()
        let template = server.url("/v/{version}/{env}?label={label}")
        let values = ["version": "abc123", "env": "prod eu", "label": "agent@1.0"]
        let evidence = try gather(.http(template), substitutions: values).get()
        #expect(server.requests == ["/v/abc123/prod%20eu?label=agent%401.0"])
        #expect(evidence.value == .object(["seen": .bool(true)]))
        #expect(evidence.source == "http:" + server.url("/v/abc123/prod%20eu?label=agent%401.0"))
        let missing = failure(gather(.http(template), substitutions: ["version": "abc123", "env": "prod"]))
        #expect(missing?.message.hasSuffix("the URL names {label} but there is no label to put there") == true)
        #expect(server.requests.count == 1)
    }

    @Test func chunkedAndCloseDelimitedBodiesAreDecoded() throws {
        let server = try server()
        let chunked = try gather(.http(server.url("/chunked"))).get()
        #expect(chunked.value == .object(["ok": .bool(true), "n": .array([.number(1), .number(2), .number(3)])]))
        #expect(chunked.bytes == Array("{\"ok\":true,\r\n\"n\":[1,2,3]}".utf8))
        #expect(try gather(.http(server.url("/until-close"))).get().value == .object(["closed": .bool(true)]))
    }

    @Test func redirectIsNotFollowed() throws {
        let server = try server()
        let error = failure(gather(.http(server.url("/moved"))))
        #expect(
            error?.message.contains(": redirected to /health (status 302); purser does not follow redirects") == true)
        #expect(server.requests == ["/moved"])
    }

    @Test func oversizedOrTruncatedBodiesAreErrors() throws {
        let server = try server()
        let huge = failure(gather(.http(server.url("/huge"))))
        #expect(huge?.message.hasSuffix("the body is larger than 10 MB (11000000 bytes)") == true)
        let cut = failure(gather(.http(server.url("/cut"))))
        #expect(cut?.message.hasSuffix("the server closed the connection after 2 of 100 bytes of the body") == true)
    }

    /// Found with the http fuzz target (Tests/Fuzz/corpus/http/chunk-overflow.txt): a chunk size near Int.max after
    /// a first chunk overflowed the sum checked against the body limit, and the client trapped.
    @Test func chunkSizeBeyondAnyBodyIsAnError() throws {
        let chunked = "1\r\n{\r\n7fffffffffffffff\r\n}\r\n0\r\n\r\n"
        let server = try LoopbackServer(routes: [
            "/overflow": LoopbackServer.Response(
                headers: ["Transfer-Encoding: chunked"], body: Array(chunked.utf8), closeDelimited: true)
        ])
        let error = failure(gather(.http(server.url("/overflow"))))
        #expect(error?.message == "http:\(server.url("/overflow")): the body is larger than 10 MB")
    }

    /// Swift's `Int("+2")` parses; an HTTP head's numbers are digits alone, so a signed length or chunk size is an
    /// answer the client cannot trust, not one it reads.
    @Test func signedLengthsAndChunkSizesAreErrors() throws {
        let server = try LoopbackServer(routes: [
            "/length": LoopbackServer.Response(headers: ["Content-Length: +2"], body: Array("{}".utf8)),
            "/chunk": LoopbackServer.Response(
                headers: ["Transfer-Encoding: chunked"], body: Array("+2\r\n{}\r\n0\r\n\r\n".utf8),
                closeDelimited: true),
        ])
        let length = failure(gather(.http(server.url("/length"))))
        #expect(length?.message == "http:\(server.url("/length")): invalid Content-Length \"+2\"")
        let chunk = failure(gather(.http(server.url("/chunk"))))
        #expect(chunk?.message == "http:\(server.url("/chunk")): invalid chunk size \"+2\" in a chunked body")
    }

    @Test func staleObservedAtInAnAnswerIsAnError() throws {
        let server = try server()
        let later = Timestamp.parse("2026-11-18T09:30:00Z")!
        let error = failure(gather(.http(server.url("/health")), maxAge: 3600, at: later))
        #expect(
            error?.message.hasSuffix(
                "stale: observed at 2026-11-18T08:00:00.000Z, older than the limit of 1h (age 1h30m)") == true)
    }
}

@Suite struct GatherAllTests {
    @Test func sourcesAreGatheredAtOnceInTheirOrder() throws {
        let slow = { (index: Int) in
            EvidenceSource(.command(["/bin/sh", "-c", "sleep 0.5; echo '{\"i\":\(index)}'"]), timeout: 5)
        }
        let folder = try Folder()
        let sources = [slow(0), EvidenceSource(.file("missing.json")), slow(2), slow(3)]
        let (results, seconds) = timed {
            gatherAll(sources, substitutions: [:], baseDirectory: folder.path, now: now)
        }
        #expect(results.count == 4)
        #expect(try results[0].get().value == .object(["i": .number(0)]))
        #expect(failure(results[1])?.code == .notFound)
        #expect(try results[2].get().value == .object(["i": .number(2)]))
        #expect(try results[3].get().value == .object(["i": .number(3)]))
        // Three half-second sources one after another would take 1.5 s.
        #expect(seconds < 1.2, "took \(seconds) s")
    }
}
