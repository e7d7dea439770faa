import HTTPTypes
import Hummingbird
import PurserOperations

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
            // The scheme is case-insensitive (RFC 9110 §11.1): `bearer` is `Bearer`.
            context.token =
                header.prefix(7).lowercased() == "bearer "
                ? TokenFile.match(String(header.dropFirst(7)), in: try routes.tokens.current()) : nil
            context.presentedToken = true
        }
        return try await next(request, context)
    }
}
