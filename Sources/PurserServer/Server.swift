import Foundation
import HTTPTypes
import Hummingbird
import Logging
import Metrics
import NIOCore
import NIOHTTP1
import NIOPosix
import Prometheus
import PurserCore
import PurserLedger
import PurserOperations

/// `purser serve`: one ledger file behind an HTTP/JSON API, for a team's CI runners and workers.
public struct Server: Sendable {
    public struct Configuration: Sendable {
        public var host = "127.0.0.1"
        public var port = 8080
        public var ledgerPath: String
        public var tokensPath: String
        /// The checkpoint signing key; without one, `GET /v1/checkpoint` answers 404.
        public var keyPath: String
        /// Lets `GET /v1/checkpoint`, `/v1/entries` and `/v1/proofs/…` answer without a token.
        public var publicAuditEndpoints = false
        /// Request bodies over this many bytes are refused (413).
        public var maximumBody = 10 << 20
        public var readers = 2

        public init(ledgerPath: String, tokensPath: String, keyPath: String) {
            self.ledgerPath = ledgerPath
            self.tokensPath = tokensPath
            self.keyPath = keyPath
        }
    }

    let configuration: Configuration

    public init(_ configuration: Configuration) {
        self.configuration = configuration
    }

    /// Makes SwiftNIO's event loops run Swift concurrency's tasks too, so that a request is not handed from an
    /// event loop to the cooperative pool and back (on 2 cores, those hops cost a third of the server's CPU). Call it
    /// once, from the main thread, before any task starts; returns false where NIO cannot (then nothing changed).
    @discardableResult
    public static func runTasksOnEventLoops() -> Bool {
        NIOSingletons.unsafeTryInstallSingletonPosixEventLoopGroupAsConcurrencyGlobalExecutor()
    }

    /// Serves until SIGTERM or SIGINT, then stops accepting connections, finishes the requests in flight and
    /// returns. `listening` is called with the address once the port is bound (port 0 picks a free one).
    public func run(listening: @escaping @Sendable (String) -> Void) async throws {
        // A key file that exists but does not load is an error, not a server that signs nothing.
        let signingKey =
            FileManager.default.fileExists(atPath: configuration.keyPath)
            ? try SigningKey.load(from: configuration.keyPath) : nil
        let registry = PrometheusCollectorRegistry()
        MetricsSystem.bootstrap(PrometheusMetricsFactory(registry: registry))
        let metrics = ServerMetrics()
        let access = try LedgerAccess(path: configuration.ledgerPath, readers: configuration.readers) {
            appended, size in
            metrics.appends.increment(by: Int64(appended))
            metrics.treeSize.record(Int64(size))
        }
        metrics.treeSize.record(Int64(try access.size()))

        var logger = Logger(label: "purser")
        logger.logLevel =
            ProcessInfo.processInfo.environment["LOG_LEVEL"].flatMap(Logger.Level.init(rawValue:)) ?? .info
        let routes = Routes(
            access: access, signingKey: signingKey,
            tokens: TokenCache(TokenFile(path: configuration.tokensPath)),
            configuration: configuration, registry: registry, metrics: metrics)
        let router = Router(context: ServerContext.self)
        router.add(middleware: RequestLogMiddleware(metrics: metrics))
        router.add(middleware: ErrorMiddleware())
        router.add(middleware: TokenMiddleware(routes: routes))
        router.add(middleware: BodyLimitMiddleware(maximumBody: configuration.maximumBody))
        routes.register(on: router)

        let app = Application(
            router: router,
            // A connection idle for a minute is closed, so that idle clients cannot hold the server's sockets.
            server: .http1(configuration: .init(idleTimeout: .seconds(60))),
            configuration: .init(
                address: .hostname(configuration.host, port: configuration.port), serverName: "purser"),
            onServerRunning: { channel in
                let address = channel.localAddress
                listening("http://\(address?.ipAddress ?? configuration.host):\(address?.port ?? configuration.port)")
            },
            logger: logger)
        try await app.runService()
    }
}

/// The request context: Hummingbird's, the token the request came with, and the body limit.
struct ServerContext: RequestContext {
    var coreContext: CoreRequestContextStorage
    /// The valid token the request came with, if any.
    var token: TokenFile.Token?
    /// Whether it came with an Authorization header at all.
    var presentedToken = false
    var maximumBody = 10 << 20

    init(source: ApplicationRequestContextSource) {
        coreContext = .init(source: source)
    }

    var maxUploadSize: Int { maximumBody }
}

/// The server's metrics, made once (looking a metric up by label and dimensions on every request costs more than
/// the request's query).
struct ServerMetrics: Sendable {
    let requests = Counter(label: "purser_requests_total")
    /// Requests answered 5xx.
    let failedRequests = Counter(label: "purser_failed_requests_total")
    /// A histogram of how long requests took.
    let duration = Timer(label: "purser_request_duration_seconds")
    let appends = Counter(label: "purser_appends_total")
    let treeSize = Gauge(label: "purser_tree_size")
    let failedAuth = Counter(label: "purser_failed_auth_total")
}

/// The token file, read again whenever it changes (a revocation applies within 10 ms).
final class TokenCache: @unchecked Sendable {
    private let file: TokenFile
    private let lock = NSLock()
    private var read: Data?
    private var readAt: UInt64 = 0
    private var tokens: [TokenFile.Token] = []

    init(_ file: TokenFile) { self.file = file }

    /// How long a reading of the file stands, in nanoseconds: a revocation applies within it.
    static let freshness: UInt64 = 10_000_000

    /// The tokens, read at most every 10 ms and decoded again only when the file's bytes changed (reading a small
    /// file is cheaper than FileManager's attributes, which look up the owner's name on every call).
    func current() throws(LedgerError) -> [TokenFile.Token] {
        let now = DispatchTime.now().uptimeNanoseconds
        lock.lock()
        defer { lock.unlock() }
        guard now &- readAt >= Self.freshness else { return tokens }
        let bytes = FileManager.default.contents(atPath: file.path)
        if bytes == nil || bytes != read {
            if let bytes { tokens = try file.tokens(in: bytes) } else { tokens = try file.tokens() }
            read = bytes
        }
        readAt = now
        return tokens
    }
}

/// Counts and times every request, and logs one line per request once it is answered: its id (also sent back
/// as `X-Request-Id`), method, path, status and duration; never a header, the query or the body, so no token
/// reaches the log.
struct RequestLogMiddleware: RouterMiddleware {
    typealias Context = ServerContext
    let metrics: ServerMetrics

    func handle(
        _ request: Request, context: Context, next: (Request, Context) async throws -> Response
    ) async throws
        -> Response
    {
        let started = ContinuousClock.now
        var response = try await next(request, context)
        let elapsed = ContinuousClock.now - started
        metrics.requests.increment()
        metrics.duration.record(duration: elapsed)
        if response.status.code >= 500 { metrics.failedRequests.increment() }
        let milliseconds = Double(elapsed.components.attoseconds) / 1e15 + Double(elapsed.components.seconds) * 1000
        response.headers[HTTPField.Name("X-Request-Id")!] = context.id
        context.logger.info(
            "request",
            metadata: [
                "method": "\(request.method)", "path": "\(request.uri.path)", "status": "\(response.status.code)",
                "ms": "\(String(format: "%.1f", milliseconds))",
            ])
        return response
    }
}

/// Every error becomes a JSON body `{"error":{"code","message"}}` with a fitting status; the CLI turns the code
/// back into the exit code it would have had locally.
struct ErrorMiddleware: RouterMiddleware {
    typealias Context = ServerContext

    func handle(
        _ request: Request, context: Context, next: (Request, Context) async throws -> Response
    ) async throws
        -> Response
    {
        do {
            return try await next(request, context)
        } catch let error as LedgerError {
            return Self.response(status(for: error.code), code: error.code.name, message: error.message)
        } catch let error as HTTPError {
            return Self.response(
                error.status,
                code: error.status.code == 404 ? LedgerError.Code.notFound.name : LedgerError.Code.http.name,
                message: error.body ?? "\(error.status.code) \(error.status.reasonPhrase)")
        } catch let error as HTTPParserError {
            // A request SwiftNIO cannot parse (an unknown transfer coding, a chunk size that overflows) is the
            // client's fault, found while its body is read.
            return Self.response(
                .badRequest, code: LedgerError.Code.http.name, message: "the request is not valid HTTP/1.1: \(error)")
        } catch let error as any HTTPResponseError {
            return Self.response(
                error.status, code: LedgerError.Code.http.name,
                message: "\(error.status.code) \(error.status.reasonPhrase)")
        } catch {
            context.logger.error("internal error: \(error)")
            return Self.response(.internalServerError, code: LedgerError.Code.internal.name, message: "internal error")
        }
    }

    static func response(_ status: HTTPResponse.Status, code: String, message: String) -> Response {
        var headers: HTTPFields = [.contentType: "application/json"]
        if status == .unauthorized { headers[.wwwAuthenticate] = "Bearer" }
        let body = CanonicalJSON.encode(
            .object(["error": .object(["code": .string(code), "message": .string(message)])]))
        return Response(status: status, headers: headers, body: .init(byteBuffer: ByteBuffer(bytes: body + [0x0A])))
    }

    private func status(for code: LedgerError.Code) -> HTTPResponse.Status {
        switch code {
        case .usage: .badRequest
        case .invalidInput: .unprocessableContent
        case .notFound: .notFound
        case .alreadyExists, .blocked: .conflict
        case .unauthorized: .unauthorized
        case .forbidden: .forbidden
        case .unsupportedMediaType: .unsupportedMediaType
        case .tooLarge: .contentTooLarge
        default: .internalServerError
        }
    }
}

/// Fills the request context before any route runs: the body limit, and the request's token if it names a valid
/// one. It refuses nothing itself: each route asks for the role it needs (`Routes.authorize`), so what is checked
/// is what matched, whatever the path's spelling.
struct TokenMiddleware: RouterMiddleware {
    typealias Context = ServerContext
    let routes: Routes

    func handle(
        _ request: Request, context: Context, next: (Request, Context) async throws -> Response
    ) async throws
        -> Response
    {
        var context = context
        context.maximumBody = routes.configuration.maximumBody
        if let header = request.headers[.authorization] {
            context.token =
                header.hasPrefix("Bearer ")
                ? TokenFile.match(String(header.dropFirst(7)), in: try routes.tokens.current()) : nil
            context.presentedToken = true
        }
        return try await next(request, context)
    }
}
