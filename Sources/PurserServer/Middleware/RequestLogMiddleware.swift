import Foundation
import HTTPTypes
import Hummingbird
import Logging
import Metrics

/// Counts and times every request, and logs one line per request once it is answered: its id (also sent back
/// as `X-Request-Id`), method, path, status and duration, and for a refusal its error code (`unauthorized`,
/// `invalid-input`, …), so that an operator sees why without the client's output; never a header, the query, the
/// body or an error's message, so no token reaches the log.
struct RequestLogMiddleware: RouterMiddleware {
    typealias Context = ServerContext
    let metrics: ServerMetrics

    /// Where an error answer carries its code to this middleware, which takes it off before the answer leaves.
    static let errorCode = HTTPField.Name("X-Purser-Error-Code")!

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
        var metadata: Logger.Metadata = [
            "method": "\(request.method)", "path": "\(request.uri.path)", "status": "\(response.status.code)",
            "ms": "\(String(format: "%.1f", milliseconds))",
        ]
        if let code = response.headers[Self.errorCode] {
            metadata["error"] = "\(code)"
            response.headers[Self.errorCode] = nil
        }
        context.logger.info("request", metadata: metadata)
        return response
    }
}
