import HTTPTypes
import Hummingbird
import NIOCore
import PurserLedger
import PurserOperations

/// Refuses a request whose `Content-Length` is over the body limit with 413 at once, before a byte of its body is
/// read, with `Connection: close`; whatever of the body the client still sends is read and discarded (Hummingbird
/// drains it, holding none of it), so the client sees the answer. A body sent without a length (chunked) is refused
/// as soon as it passes the limit, where a route collects it (`ServerContext.collectBody`).
struct BodyLimitMiddleware: RouterMiddleware {
    typealias Context = ServerContext
    let maximumBody: Int

    func handle(
        _ request: Request, context: Context, next: (Request, Context) async throws -> Response
    ) async throws
        -> Response
    {
        if let length = request.headers[.contentLength], (Int(length) ?? Int.max) > maximumBody {
            let error = LedgerError.bodyTooLarge(maximumBody)
            var response = ErrorMiddleware.response(.contentTooLarge, code: error.code.name, message: error.message)
            response.headers[.connection] = "close"
            return response
        }
        return try await next(request, context)
    }
}

extension LedgerError {
    /// A request body over the server's limit.
    static func bodyTooLarge(_ maximum: Int) -> LedgerError {
        LedgerError(
            .tooLarge,
            "the request body is over this server's limit of \(maximum) bytes (purser serve --max-body): nothing was written"
        )
    }
}

extension ServerContext {
    /// The request's body, refused with 413 as soon as it passes the limit.
    func collectBody(of request: Request) async throws -> ByteBuffer {
        do {
            return try await request.body.collect(upTo: maxUploadSize)
        } catch is NIOTooManyBytesError {
            throw LedgerError.bodyTooLarge(maxUploadSize)
        }
    }
}
