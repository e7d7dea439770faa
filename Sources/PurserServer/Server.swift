import Foundation
package import Hummingbird
import Logging
import Metrics
import NIOCore
import NIOPosix
package import Prometheus
public import PurserCore
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
        /// OTLP: how long a trace waits for late spans after its last one arrived, how often traces are
        /// summarized (seconds), and the most spans that wait at once (`OTLPReceiver`).
        public var otlpWindow = 3.0
        public var otlpBatchInterval = 1.0
        public var otlpMaximumPending = 500_000
        /// OTLP: model prices for tasks whose spans carry no cost (`PriceTable`); read when the server starts.
        public var otlpPricesPath: String?
        /// OTLP: which spans are tasks.
        public var otlpTasks = TaskSpans.invokeAgent
        /// Judges the canary rollouts whose configuration sets `judge-every` (`CanaryScheduler`).
        public var judgeCanaries = true
        /// A shell command run after a scheduled judgement rolls a canary back (`RollbackHook`).
        public var onRollback: String?

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
        let registry = PrometheusCollectorRegistry()
        // Before `application` makes its metrics: one made earlier would count nothing.
        MetricsSystem.bootstrap(PrometheusMetricsFactory(registry: registry))
        try await application(registry: registry, listening: listening).runService()
    }

    /// What `run` serves, not yet running: the routes over the ledger (opened here), the middlewares and the HTTP
    /// settings. Tests drive it in process with HummingbirdTesting (`app.test(.router)`). `/metrics` shows
    /// `registry`; only the metrics system a process bootstraps once (`run` does) fills it.
    package func application(
        registry: PrometheusCollectorRegistry = PrometheusCollectorRegistry(),
        listening: @escaping @Sendable (String) -> Void = { _ in }
    ) throws -> Application<RouterResponder<ServerContext>> {
        // A key file that exists but does not load is an error, not a server that signs nothing.
        let signingKey =
            FileManager.default.fileExists(atPath: configuration.keyPath)
            ? try SigningKey.load(from: configuration.keyPath) : nil
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
        let receiver = OTLPReceiver(
            access: access, inbox: Inbox(ledgerAt: configuration.ledgerPath),
            settings: .init(
                window: configuration.otlpWindow, interval: configuration.otlpBatchInterval,
                maximumPending: configuration.otlpMaximumPending,
                prices: try configuration.otlpPricesPath.map { (path) throws(LedgerError) in
                    try PriceFile(InputFile.read(path, limit: 1 << 20))
                }, tasks: configuration.otlpTasks),
            logger: logger)
        try receiver.restore()
        let routes = Routes(
            access: access, signingKey: signingKey,
            tokens: TokenCache(TokenFile(path: configuration.tokensPath)),
            configuration: configuration, registry: registry, metrics: metrics, receiver: receiver)
        let router = Router(context: ServerContext.self)
        router.add(middleware: RequestLogMiddleware(metrics: metrics))
        router.add(middleware: ErrorMiddleware())
        router.add(middleware: TokenMiddleware(routes: routes))
        router.add(middleware: BodyLimitMiddleware(maximumBody: configuration.maximumBody))
        routes.register(on: router)

        var application = Application(
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
        application.addServices(receiver)
        if configuration.judgeCanaries {
            application.addServices(
                CanaryScheduler(
                    access: access, onRollback: configuration.onRollback.map(RollbackHook.init), metrics: metrics,
                    logger: logger))
        }
        return application
    }
}

/// The request context: Hummingbird's, the token the request came with, and the body limit.
package struct ServerContext: RequestContext {
    package var coreContext: CoreRequestContextStorage
    /// The valid token the request came with, if any.
    var token: TokenFile.Token?
    /// Whether it came with an Authorization header at all.
    var presentedToken = false
    var maximumBody = 10 << 20

    package init(source: ApplicationRequestContextSource) {
        coreContext = .init(source: source)
    }

    package var maxUploadSize: Int { maximumBody }
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
    /// Canary judgements `purser serve` made on its own (judge-every), and those that failed.
    let scheduledJudgements = Counter(label: "purser_scheduled_judgements_total")
    let failedScheduledJudgements = Counter(label: "purser_failed_scheduled_judgements_total")
    /// `--on-rollback` commands that exited non-zero or did not start.
    let failedRollbackHooks = Counter(label: "purser_failed_rollback_hooks_total")
}
