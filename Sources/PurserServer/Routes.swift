import Dispatch
import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdCore
import Metrics
import NIOCore
import Prometheus
import PurserCore
import PurserLedger
import PurserOperations

/// Every route of the server, in one table: the router, the token check and the OpenAPI document all read it,
/// so the document cannot drift from what is served.
struct Routes: Sendable {
    struct Route: Sendable {
        let method: HTTPRequest.Method
        let path: String
        let summary: String
        /// The least role; nil: no token needed.
        let role: Role?
        /// One of the endpoints an auditor needs, readable without a token with `--public-audit`.
        var audit = false
        /// Query parameters: name and whether required.
        var query: [(String, Bool)] = []
        /// The JSON Schema of a POST's body.
        var body: JSONValue? = nil
        /// The media types of an OTLP/HTTP body (not JSON operations): answered 415 for others, 429 when the
        /// receiver is full.
        var otlp: [String] = []
    }

    /// The operations the CLI performs remotely, each at `POST /v1/<name>`.
    static let operations: [any LedgerOperation.Type] = [
        RecordVersion.self, ResolveVersion.self, RecordEvaluation.self, RecordDrill.self, GrantWaiver.self,
        RunChecklist.self, IngestMetrics.self,
        AppendEntry.self, DeployStart.self, LifecycleChange.self, StatusQuery.self, AtQuery.self, HistoryQuery.self,
        EntriesQuery.self, InclusionProofQuery.self, ConsistencyProofQuery.self, VersionQuery.self,
        VersionListQuery.self, VersionDiffQuery.self, LogQuery.self, MetricsReportQuery.self, MetricsDriftQuery.self,
        JudgeCanary.self, CompareShadow.self, VerifyLedger.self, AuditLedger.self, AppendLines.self, ReindexLedger.self,
        MaterializeVersion.self,
    ]

    static let table: [Route] =
        [
            Route(
                method: .get, path: "/healthz", summary: "Liveness: the ledger opens and answers; the body limit.",
                role: nil),
            Route(method: .get, path: "/metrics", summary: "Prometheus metrics.", role: nil),
            Route(method: .get, path: "/openapi.json", summary: "This document.", role: nil),
            Route(
                method: .get, path: "/v1/checkpoint",
                summary: "A checkpoint of the current tree, signed by the server's key.",
                role: .reader, audit: true),
            Route(
                method: .get, path: "/v1/entries", summary: EntriesQuery.summary, role: .reader, audit: true,
                query: [("from", false), ("limit", false)]),
            Route(
                method: .get, path: "/v1/proofs/inclusion", summary: InclusionProofQuery.summary, role: .reader,
                audit: true, query: [("seq", true), ("size", false)]),
            Route(
                method: .get, path: "/v1/proofs/consistency", summary: ConsistencyProofQuery.summary, role: .reader,
                audit: true, query: [("from", true), ("to", false)]),
            Route(
                method: .get, path: "/v1/at", summary: AtQuery.summary, role: .reader,
                query: [("time", false), ("env", false)]),
            Route(
                method: .get, path: "/v1/status", summary: StatusQuery.summary, role: .reader, query: [("env", false)]),
            Route(
                method: .post, path: "/v1/traces",
                summary:
                    "OTLP/HTTP traces (ExportTraceServiceRequest, application/x-protobuf or application/json, gzip or not): agent tasks, summarized in batches.",
                role: .writer, otlp: ["application/x-protobuf", "application/json"]),
            Route(
                method: .post, path: "/v1/logs",
                summary:
                    "OTLP/HTTP logs (ExportLogsServiceRequest, application/x-protobuf or application/json): gen_ai.evaluation.result events, added to the spans they evaluate.",
                role: .writer, otlp: ["application/x-protobuf", "application/json"]),
        ]
        + operations.map {
            Route(
                method: .post, path: "/v1/\($0.name)", summary: $0.summary, role: $0.role, body: RequestSchema.of($0))
        }

    let access: LedgerAccess
    let signingKey: SigningKey?
    let tokens: TokenCache
    let configuration: Server.Configuration
    let registry: PrometheusCollectorRegistry
    let metrics: ServerMetrics
    let receiver: OTLPReceiver

    /// Refuses a request whose token's role is below `role`, before anything is read or written: 401 without a
    /// valid token, 403 with one whose role is too low. An auditor's endpoint needs none with `--public-audit`.
    /// - Returns: the token, if the route needs one.
    @discardableResult
    func authorize(_ role: Role, audit: Bool = false, _ context: ServerContext) throws(LedgerError) -> TokenFile.Token?
    {
        if audit && configuration.publicAuditEndpoints { return context.token }
        guard let token = context.token else {
            metrics.failedAuth.increment()
            throw LedgerError(
                .unauthorized,
                context.presentedToken
                    ? "the token is not valid (unknown, revoked or malformed)"
                    : "this server needs a token: Authorization: Bearer <token> (PURSER_TOKEN for the CLI)")
        }
        guard token.role >= role else {
            metrics.failedAuth.increment()
            throw LedgerError(
                .forbidden, "the token \(token.name) has the role \(token.role.rawValue); this needs \(role.rawValue)")
        }
        return token
    }

    func register(on router: Router<ServerContext>) {
        get("/healthz", on: router) { _, _ in
            json(
                .object([
                    "status": .string("ok"), "size": .int(try self.access.quickRead { try $0.ledger.size() }),
                    // The CLI refuses files too large for it before encoding and sending them.
                    "max_body": .int(UInt64(self.configuration.maximumBody)),
                ]))
        }
        get("/metrics", on: router) { _, _ in
            Response(
                status: .ok, headers: [.contentType: "text/plain; version=0.0.4"],
                body: .init(byteBuffer: ByteBuffer(bytes: self.registry.emitToBuffer())))
        }
        get("/openapi.json", on: router) { _, _ in json(Self.openAPI) }
        get("/v1/checkpoint", on: router) { _, _ in
            guard let key = self.signingKey else {
                throw LedgerError(.notFound, "this server has no checkpoint signing key")
            }
            let bytes = try await self.access.read { releases in
                let checkpoint = try releases.ledger.checkpoint()
                let note = try releases.ledger.sign(checkpoint, with: key)
                return CanonicalJSON.encode(
                    .object([
                        "origin": .string(checkpoint.origin), "size": .int(checkpoint.size),
                        "root": .string(checkpoint.root.hex), "note": .string(note),
                    ]))
            }
            return Self.response(bytes)
        }
        get("/v1/entries", on: router) { request, _ in
            let query = request.uri.queryParameters
            return try await self.document(
                EntriesQuery(
                    from: try number(query, "from") ?? 0, limit: Int(clamping: try number(query, "limit") ?? 100)))
        }
        get("/v1/proofs/inclusion", on: router) { request, _ in
            let query = request.uri.queryParameters
            return try await self.document(
                InclusionProofQuery(seq: try required(number(query, "seq"), "seq"), size: try number(query, "size")))
        }
        get("/v1/proofs/consistency", on: router) { request, _ in
            let query = request.uri.queryParameters
            return try await self.document(
                ConsistencyProofQuery(from: try required(number(query, "from"), "from"), to: try number(query, "to")))
        }
        get("/v1/at", on: router) { request, _ in
            let query = request.uri.queryParameters
            return try await self.document(
                AtQuery(time: query["time"].map(String.init) ?? "now", env: try environment(query, "env")))
        }
        get("/v1/status", on: router) { request, _ in
            try await self.document(StatusQuery(env: try environment(request.uri.queryParameters, "env")))
        }
        for operation in Self.operations {
            registerOperation(operation, on: router)
        }
        registerOTLP(on: router)
    }

    /// `GET path`, with the role (and audit flag) its row in `table` gives: the table is the one place they are set.
    private func get(
        _ path: String, on router: Router<ServerContext>,
        _ handle: @escaping @Sendable (Request, ServerContext) async throws -> Response
    ) {
        guard let route = Self.table.first(where: { $0.path == path && $0.method == .get }) else {
            preconditionFailure("GET \(path) is not in Routes.table")
        }
        router.get(RouterPath(path)) { request, context in
            if let role = route.role { try self.authorize(role, audit: route.audit, context) }
            return try await handle(request, context)
        }
    }

    /// `POST /v1/<name>`: the body is the operation as JSON; the answer is its reply (`Reply.wire`).
    private func registerOperation<Op: LedgerOperation>(_: Op.Type, on router: Router<ServerContext>) {
        router.post("/v1/\(Op.name)") { request, context in
            let token = try self.authorize(Op.role, context)
            guard Self.isJSON(request.headers[.contentType]) else {
                throw LedgerError(.unsupportedMediaType, "send the request body as Content-Type: application/json")
            }
            let body = try await context.collectBody(of: request)
            let decode: @Sendable () throws -> Op = {
                let decoded: Op
                let value: JSONValue
                do {
                    // JSONDecoder takes the last of repeated keys; the request is refused as entry bodies are.
                    value = try JSONValue(parsing: body.readableBytesView)
                } catch {
                    throw LedgerError(.usage, "the body is not a \(Op.name) request: \(Self.describe(error))")
                }
                do {
                    decoded = try JSONDecoder().decode(Op.self, from: Data(body.readableBytesView))
                } catch {
                    throw LedgerError(
                        .usage, "the body is not a \(Op.name) request: \(Self.describe(error, in: value, as: Op.self))")
                }
                return Op.role > .reader ? try decoded.prepared() : try Self.paged(decoded)
            }
            // A write's files are parsed, and a large body decoded, on a worker thread: not on the event loop, which
            // serves other connections meanwhile, and not on the writer's thread, which only appends.
            let operation =
                Op.role > .reader || body.readableBytes > Self.decodedInPlace
                ? try await Self.offTheLoop(decode) : try decode()
            let key = self.signingKey
            let work: @Sendable (Releases) throws -> [UInt8] = { releases in
                let reply =
                    if let signing = operation as? any SigningLedgerOperation {
                        try signing.perform(on: releases, signingKey: key)
                    } else {
                        try operation.perform(on: releases)
                    }
                return CanonicalJSON.encode(reply.wire)
            }
            if Op.isQuick { return Self.response(try self.access.quickRead(work)) }
            guard Op.role > .reader, let token else { return Self.response(try await self.access.read(work)) }
            return Self.response(try await self.access.write(actor: token.name, work))
        }
    }

    /// Threads for decoding large bodies and parsing what writes carry, off the event loops and the writer's thread.
    private static let preparing = DispatchQueue(label: "purser.prepare", attributes: .concurrent)

    /// The largest request body decoded on the event loop (a read's few fields): larger ones take milliseconds.
    static let decodedInPlace = 64 << 10

    /// `work`, on one of the `preparing` threads.
    static func offTheLoop<T: Sendable>(_ work: @escaping @Sendable () throws -> T) async throws -> T {
        try await withCheckedThrowingContinuation { continuation in
            preparing.async { continuation.resume(with: Result(catching: work)) }
        }
    }

    /// A listing limited to one page (`Paging`); any other operation as it is.
    static func paged<Op: LedgerOperation>(_ operation: Op) throws(LedgerError) -> Op {
        guard let listing = operation as? any PagedOperation else { return operation }
        return try listing.limitedToPage() as! Op
    }

    /// A GET answer: the operation's JSON document alone.
    private func document(_ operation: some LedgerOperation) async throws -> Response {
        let work: @Sendable (Releases) throws -> [UInt8] = { CanonicalJSON.encode(try operation.perform(on: $0).json) }
        return Self.response(try type(of: operation).isQuick ? access.quickRead(work) : await access.read(work))
    }

    static func response(_ bytes: [UInt8]) -> Response {
        Response(
            status: .ok, headers: [.contentType: "application/json"],
            body: .init(byteBuffer: ByteBuffer(bytes: bytes + [0x0A])))
    }

    /// Whether a Content-Type header names JSON: `application/json`, in any case, with parameters or none.
    static func isJSON(_ contentType: String?) -> Bool {
        guard let contentType else { return false }
        let mediaType = contentType.prefix { $0 != ";" }.trimmingCharacters(in: .whitespaces)
        return mediaType.lowercased() == "application/json"
    }

    /// A decoding error in one line, naming the field.
    /// `describe(error)`, naming the field where JSONDecoder names none: a number that does not fit the field it
    /// fills (`-1`, `1.5` or `1e300` for a count) is reported as "The given data was not valid JSON.".
    static func describe<Op: Decodable>(_ error: any Error, in value: JSONValue, as _: Op.Type) -> String {
        guard case DecodingError.dataCorrupted(let context) = error, context.codingPath.isEmpty else {
            return describe(error)
        }
        /// Whether `value` with `number` at `path` no longer fails as a whole.
        func fits(_ number: Double, at path: [JSONPathStep]) -> Bool {
            let changed = path.replacing(in: value, with: .number(number))
            do {
                _ = try JSONDecoder().decode(Op.self, from: Data(CanonicalJSON.encode(changed)))
                return true
            } catch DecodingError.dataCorrupted(let context) where context.codingPath.isEmpty {
                return false
            } catch {
                return true
            }
        }
        var numbers: [([JSONPathStep], Double)] = []
        JSONPathStep.numbers(in: value, at: [], into: &numbers)
        let suspects = numbers.filter { !($0.1 == $0.1.rounded() && (0..<9.2e18).contains($0.1)) }
        for (path, number) in suspects.prefix(32) where fits(0, at: path) {
            let expected = fits(-1, at: path) ? "a whole number" : "a whole number ≥ 0"
            let text = String(decoding: CanonicalJSON.encode(.number(number)), as: UTF8.self)
            return "\(JSONPathStep.name(path)): expected \(expected), not \(text)"
        }
        return describe(error)
    }

    static func describe(_ error: any Error) -> String {
        switch error {
        case DecodingError.keyNotFound(let key, _): "missing field \(key.stringValue)"
        case DecodingError.typeMismatch(_, let context), DecodingError.valueNotFound(_, let context),
            DecodingError.dataCorrupted(let context):
            "\(context.codingPath.map(\.stringValue).joined(separator: ".")): \(context.debugDescription)"
        default: "\(error)"
        }
    }

    /// The OpenAPI 3.1 document of `table`.
    static let openAPI: JSONValue = {
        var paths: [String: [String: JSONValue]] = [:]
        for route in table {
            let error: JSONValue = .object([
                "description": .string(
                    "{\"error\":{\"code\",\"message\"}}, and \"template\" when the message names request fields")
            ])
            var operation: [String: JSONValue] = [
                "summary": .string(route.summary),
                "responses": .object(
                    [
                        "200": .object(["description": .string("OK")]),
                        "400": error, "404": error, "413": error, "500": error,
                    ]
                    .merging(route.role == nil ? [:] : ["401": error, "403": error]) { first, _ in first }
                    .merging(route.body == nil ? [:] : ["409": error, "415": error, "422": error]) {
                        first, _ in first
                    }
                    .merging(route.otlp.isEmpty ? [:] : ["415": error, "429": error]) { first, _ in first }),
            ]
            if let role = route.role {
                operation["security"] = .array([.object(["bearer": .array([])])])
                operation["x-purser-role"] = .string(role.rawValue)
                if route.audit { operation["x-purser-public-with-flag"] = .string("--public-audit") }
            }
            if !route.query.isEmpty {
                operation["parameters"] = .array(
                    route.query.map { name, required in
                        .object([
                            "name": .string(name), "in": .string("query"), "required": .bool(required),
                            "schema": .object(["type": .string("string")]),
                        ])
                    })
            }
            if let body = route.body {
                operation["requestBody"] = .object([
                    "required": .bool(true), "content": .object(["application/json": .object(["schema": body])]),
                ])
            }
            if !route.otlp.isEmpty {
                // opentelemetry-proto's messages: in protobuf, or in OTLP/JSON.
                let binary: JSONValue = .object(["type": .string("string"), "format": .string("binary")])
                let member = route.path == "/v1/logs" ? "resourceLogs" : "resourceSpans"
                let json: JSONValue = .object([
                    "type": .string("object"), "description": .string("OTLP/JSON (opentelemetry-proto v1.11.0)"),
                    "properties": .object([member: .object(["type": .string("array")])]),
                ])
                operation["requestBody"] = .object([
                    "required": .bool(true),
                    "content": .object(
                        Dictionary(
                            uniqueKeysWithValues: route.otlp.map {
                                ($0, .object(["schema": $0 == "application/json" ? json : binary]))
                            })),
                ])
            }
            paths[route.path, default: [:]][route.method.rawValue.lowercased()] = .object(operation)
        }
        return .object([
            "openapi": .string("3.1.0"),
            "info": .object(["title": .string("purser ledger service"), "version": .string("1")]),
            "components": .object([
                "securitySchemes": .object(["bearer": .object(["type": .string("http"), "scheme": .string("bearer")])])
            ]),
            "paths": .object(paths.mapValues { .object($0) }),
        ])
    }()
}

private func json(_ value: JSONValue) -> Response {
    Routes.response(CanonicalJSON.encode(value))
}

private func number(_ query: some QueryValues, _ name: String) throws(LedgerError) -> UInt64? {
    guard let text = query[name] else { return nil }
    guard let value = UInt64(text) else {
        throw LedgerError(.usage, "\(name) must be a whole number ≥ 0, not \(text)")
    }
    return value
}

/// The query parameter `name` as an environment name; one that breaks the rule is refused, naming the parameter.
private func environment(_ query: some QueryValues, _ name: String) throws(LedgerError) -> EnvironmentName? {
    guard let text = query[name].map(String.init) else { return nil }
    guard let value = try? EnvironmentName(text) else {
        throw LedgerError(.usage, "\(name): \(EnvironmentName.refusal(of: text))")
    }
    return value
}

/// Query parameters by name.
protocol QueryValues {
    subscript(_ name: String) -> Substring? { get }
}

extension FlatDictionary: QueryValues where Key == Substring, Value == Substring {
    subscript(_ name: String) -> Substring? { self[Substring(name)] }
}

private func required<T>(_ value: T?, _ name: String) throws(LedgerError) -> T {
    guard let value else { throw LedgerError(.usage, "the query parameter \(name) is missing") }
    return value
}

/// One step into a JSON value: an object's member or an array's item.
enum JSONPathStep {
    case member(String)
    case item(Int)

    /// `gathered[0].observedAt`.
    static func name(_ path: [JSONPathStep]) -> String {
        var text = ""
        for step in path {
            switch step {
            case .member(let key): text += text.isEmpty ? key : "." + key
            case .item(let index): text += "[\(index)]"
            }
        }
        return text
    }

    /// Every number in `value`, with where it is.
    static func numbers(in value: JSONValue, at path: [JSONPathStep], into found: inout [([JSONPathStep], Double)]) {
        switch value {
        case .number(let number): found.append((path, number))
        case .array(let items):
            for (index, item) in items.enumerated() { numbers(in: item, at: path + [.item(index)], into: &found) }
        case .object(let members):
            for key in members.keys.sorted() { numbers(in: members[key]!, at: path + [.member(key)], into: &found) }
        case .null, .bool, .string: break
        }
    }
}

extension [JSONPathStep] {
    /// `value` with what is at this path replaced by `replacement`.
    func replacing(in value: JSONValue, with replacement: JSONValue) -> JSONValue {
        guard let step = first else { return replacement }
        let rest = Array(dropFirst())
        switch (step, value) {
        case (.member(let key), .object(var members)):
            members[key] = members[key].map { rest.replacing(in: $0, with: replacement) }
            return .object(members)
        case (.item(let index), .array(var items)) where items.indices.contains(index):
            items[index] = rest.replacing(in: items[index], with: replacement)
            return .array(items)
        default:
            return value
        }
    }
}
