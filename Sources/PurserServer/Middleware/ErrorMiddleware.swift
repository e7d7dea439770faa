import HTTPTypes
import Hummingbird
import Logging
import NIOCore
import NIOHTTP1
import PurserLedger
import PurserOperations

/// Every error becomes a JSON body `{"error":{"code","message"}}` with a fitting status (and `template`, for a
/// message that names parameters of the request); the CLI turns the code back into the exit code it would have had
/// locally, and the parameters into its flags.
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
            return Self.response(
                Self.status(for: error.code), code: error.code.name, message: error.message,
                template: error.text.namesParameters ? error.text.template : nil)
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

    /// - Parameter template: for a message that names parameters of the request, the message with each as
    ///   `{field}` (`LedgerError.Message.template`), so that a client can name them its own way.
    static func response(
        _ status: HTTPResponse.Status, code: String, message: String, template: String? = nil
    ) -> Response {
        var headers: HTTPFields = [.contentType: "application/json", RequestLogMiddleware.errorCode: code]
        if status == .unauthorized { headers[.wwwAuthenticate] = "Bearer" }
        if status == .tooManyRequests { headers[.retryAfter] = "1" }
        var error: [String: JSONValue] = ["code": .string(code), "message": .string(message)]
        if let template { error["template"] = .string(template) }
        let body = CanonicalJSON.encode(.object(["error": .object(error)]))
        return Response(status: status, headers: headers, body: .init(byteBuffer: ByteBuffer(bytes: body + [0x0A])))
    }

    /// The status `code` is answered with (`ErrorStatus.table`), with its reason phrase.
    static func status(for code: LedgerError.Code) -> HTTPResponse.Status {
        let number = code.status.http
        return knownStatuses.first { $0.code == number } ?? HTTPResponse.Status(code: number)
    }

    /// The statuses `ErrorStatus.table` names, with HTTPTypes' reason phrases.
    static let knownStatuses: [HTTPResponse.Status] = [
        .badRequest, .unauthorized, .forbidden, .notFound, .conflict, .contentTooLarge, .unsupportedMediaType,
        .unprocessableContent, .tooManyRequests, .internalServerError,
    ]
}
