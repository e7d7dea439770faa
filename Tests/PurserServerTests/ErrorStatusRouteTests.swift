import Foundation
import Hummingbird
import HummingbirdTesting
import PurserLedger
import PurserOperations
import Testing

@testable import PurserServer

/// Every code the table lists, thrown by a route behind the server's `ErrorMiddleware` and served on loopback: the
/// server answers it with the table's HTTP status and the code's name, and the CLI's client (`Client`), reading that
/// answer, fails with an error whose exit status is the one the command would have had locally.
@Suite("Server errors map back to the same exit status")
struct ErrorStatusRouteTests {
    @Test("each code: the table's HTTP status on the wire, the same exit status in the CLI")
    func everyCodeRoundTrips() async throws {
        let router = Router(context: ServerContext.self)
        router.add(middleware: ErrorMiddleware())
        router.get("/fail/:code") { _, context -> String in
            let name = try context.parameters.require("code")
            throw LedgerError(LedgerError.Code(name: name), "failed with \(name)")
        }
        let app = Application(router: router, configuration: .init(address: .hostname("127.0.0.1", port: 0)))
        try await app.test(.live) { client in
            let port = try #require(client.port)
            let cli = try Client(server: "http://127.0.0.1:\(port)", token: nil)
            for code in ErrorStatus.table.keys.sorted(by: { $0.name < $1.name }) {
                try await client.execute(uri: "/fail/\(code.name)", method: .get) { response in
                    #expect(response.status.code == code.status.http, "\(code)")
                }
                do {
                    _ = try await blocking { try cli.get("/fail/\(code.name)") }
                    Issue.record("\(code): the client did not fail")
                } catch let error as LedgerError {
                    #expect(error.code == code, "\(code)")
                    #expect(error.message == "failed with \(code.name)")
                    #expect(ExitCodes.code(for: error) == code.status.exit, "\(code)")
                }
            }
        }
    }

    @Test("a message naming request fields: the server names the fields and sends the template, the CLI its flags")
    func parametersByTransport() async throws {
        let router = Router(context: ServerContext.self)
        router.add(middleware: ErrorMiddleware())
        router.get("/naming") { _, _ -> String in
            throw LedgerError(
                .usage, naming: "a waiver needs \(parameter: "breakGlassReason") {and} \(parameter: "effectiveAt")")
        }
        router.get("/forged") { _, _ -> Response in
            // A template that says something else than the message is not believed.
            ErrorMiddleware.response(.badRequest, code: "usage", message: "plain words", template: "other {words}")
        }
        let app = Application(router: router, configuration: .init(address: .hostname("127.0.0.1", port: 0)))
        try await app.test(.live) { client in
            try await client.execute(uri: "/naming", method: .get) { response in
                let error = try JSONValue(parsing: Array(response.body.readableBytesView))["error"]
                #expect(error?["message"]?.stringValue == "a waiver needs breakGlassReason {and} effectiveAt")
                #expect(error?["template"]?.stringValue == "a waiver needs {breakGlassReason} {{and}} {effectiveAt}")
            }
            let cli = try Client(server: "http://127.0.0.1:\(try #require(client.port))", token: nil)
            for (path, expected) in [
                ("/naming", "a waiver needs --reason {and} --effective-at"), ("/forged", "plain words"),
            ] {
                do {
                    _ = try await blocking { try cli.get(path) }
                    Issue.record("\(path): the client did not fail")
                } catch let error as LedgerError {
                    #expect(error.text.rendered { Diagnostics.flag(for: $0) } == expected)
                }
            }
        }
    }

    @Test("each status is sent with its reason phrase, as before the table")
    func reasonPhrases() {
        for code in ErrorStatus.table.keys {
            #expect(!ErrorMiddleware.status(for: code).reasonPhrase.isEmpty, "\(code)")
        }
        #expect(ErrorMiddleware.status(for: .tooLarge).reasonPhrase == "Content Too Large")
        #expect(ErrorMiddleware.status(for: .invalidInput).reasonPhrase == "Unprocessable Content")
        #expect(ErrorMiddleware.status(for: .blocked).reasonPhrase == "Conflict")
    }
}

/// Runs `body`, which blocks (the CLI's client waits on its socket), on a thread of its own: on one of Swift's
/// concurrency threads it could hold up the server answering it, on a machine of two cores.
func blocking<T: Sendable>(_ body: @escaping @Sendable () throws -> T) async throws -> T {
    try await withCheckedThrowingContinuation { continuation in
        Thread.detachNewThread { continuation.resume(with: Result { try body() }) }
    }
}
