import Foundation
import HTTPTypes
import Hummingbird
import NIOCore
import PurserCore
import PurserLedger
import PurserOperations

/// `POST /v1/traces` and `POST /v1/logs`: OTLP/HTTP (opentelemetry-proto v1.11.0), as an OpenTelemetry Collector's
/// `otlphttp` exporter or an SDK's OTLP/HTTP exporter sends it: `application/x-protobuf` or `application/json`,
/// optionally gzip'd, with a writer token. A 200 means the request is kept in the inbox (on
/// disk, beside the ledger); its spans, and the evaluation results among its logs, are summarized within the late-span window and the
/// batch interval (`OTLPReceiver`).
extension Routes {
    func registerOTLP(on router: Router<ServerContext>) {
        router.post("/v1/traces") { request, context in
            try await self.receive(request, context, logs: false)
        }
        router.post("/v1/logs") { request, context in
            try await self.receive(request, context, logs: true)
        }
    }

    /// Keeps a request of traces, or of logs holding evaluation results, and answers as OTLP/HTTP does.
    private func receive(_ request: Request, _ context: ServerContext, logs: Bool) async throws -> Response {
        let token = try authorize(.writer, context)
        let encoding = try Self.otlpEncoding(request.headers[.contentType])
        do {
            let sent = Array(try await context.collectBody(of: request).readableBytesView)
            let body: [UInt8]
            switch request.headers[.contentEncoding]?.lowercased() {
            case nil, "identity": body = sent
            case "gzip": body = try Gzip.decompress(sent, limit: Self.maximumInflated(configuration))
            case let other?:
                throw LedgerError(
                    .unsupportedMediaType, "Content-Encoding \(other) is not supported: send gzip or none")
            }
            let kept = logs ? "logs-\(encoding)" : encoding
            let decoded = try await Self.offTheLoop { try OTLPReceiver.decode(body, encoding: kept) }
            // OTLP/HTTP's warning (an error message with nothing rejected) says why spans will not become tasks.
            let warnings = [
                OTLPTasks.warning(decoded.spans, tasks: receiver.tasks), receiver.unrecordedWarning(decoded.spans),
            ]
            let answer = Self.otlpAnswer(
                encoding, rejected: decoded.rejected, problems: decoded.problems + warnings.compactMap { $0 })
            // A retry's spans that are already kept are not kept again: a restart could not tell them apart.
            let (fresh, repeated) = receiver.novel(decoded)
            guard !fresh.isEmpty else { return answer }
            let (payload, stored) =
                repeated == 0 || logs ? (body, kept) : (OTLPJSON.encode(fresh.spans), "spans-jsonl")
            try receiver.admit(fresh.count)
            let sender = token?.name ?? "anonymous"
            let id: Int64
            let receivedAt: String
            do {
                (id, receivedAt) = try await receiver.keep(payload, encoding: stored, sender: sender)
            } catch {
                receiver.release(fresh.count)
                throw error
            }
            receiver.accept(fresh, request: id, receivedAt: receivedAt, sender: sender, reserved: fresh.count)
            return answer
        } catch let error as LedgerError where error.code == .invalidInput || error.code == .usage {
            // OTLP/HTTP: a malformed request is a 400, whose body is a google.rpc.Status; nothing was kept.
            let hint =
                encoding == "json" && error.message.contains("is not JSON")
                ? " (if it is protobuf, send Content-Type: application/x-protobuf)" : ""
            return Self.otlpFailure(encoding, status: .badRequest, message: error.message + hint)
        }
    }

    /// How much a gzip'd body may inflate to: ten times the body limit, at least 64 MiB.
    static func maximumInflated(_ configuration: Server.Configuration) -> Int {
        max(64 << 20, configuration.maximumBody.multipliedReportingOverflow(by: 10).partialValue)
    }

    /// `protobuf` or `json`, from the request's Content-Type.
    static func otlpEncoding(_ contentType: String?) throws(LedgerError) -> String {
        let mediaType = (contentType ?? "").prefix { $0 != ";" }.trimmingCharacters(in: .whitespaces).lowercased()
        switch mediaType {
        case "application/x-protobuf": return "protobuf"
        case "application/json": return "json"
        default:
            throw LedgerError(
                .unsupportedMediaType,
                "send OTLP as Content-Type: application/x-protobuf or application/json, not \(contentType ?? "none")")
        }
    }

    /// The `ExportTraceServiceResponse`, with `partial_success` when spans were refused (an `ExportLogsServiceResponse`
    /// is the same bytes in protobuf).
    static func otlpAnswer(_ encoding: String, rejected: Int, problems: [String]) -> Response {
        let message =
            problems.prefix(3).joined(separator: "; ") + (problems.count > 3 ? "; and \(problems.count - 3) more" : "")
        let bytes =
            encoding == "protobuf"
            ? OTLPProtobuf.response(rejected: rejected, message: message)
            : OTLPProtobuf.jsonResponse(rejected: rejected, message: message)
        return Response(
            status: .ok, headers: [.contentType: Self.otlpContentType(encoding)],
            body: .init(byteBuffer: ByteBuffer(bytes: bytes)))
    }

    /// A failure as OTLP/HTTP answers it: a `google.rpc.Status` (code 3, INVALID_ARGUMENT) in the request's encoding.
    static func otlpFailure(_ encoding: String, status: HTTPResponse.Status, message: String) -> Response {
        let bytes: [UInt8]
        if encoding == "protobuf" {
            // Status { int32 code = 1; string message = 2; }
            let text = Array(message.utf8)
            bytes = [0x08, 3, 0x12] + varint(UInt64(text.count)) + text
        } else {
            bytes = CanonicalJSON.encode(.object(["code": .int(3), "message": .string(message)])) + [0x0A]
        }
        return Response(
            status: status,
            headers: [
                .contentType: Self.otlpContentType(encoding),
                RequestLogMiddleware.errorCode: LedgerError.Code.invalidInput.name,
            ],
            body: .init(byteBuffer: ByteBuffer(bytes: bytes)))
    }

    private static func otlpContentType(_ encoding: String) -> String {
        encoding == "protobuf" ? "application/x-protobuf" : "application/json"
    }

    private static func varint(_ value: UInt64) -> [UInt8] {
        var value = value
        var bytes: [UInt8] = []
        repeat {
            let low = UInt8(value & 0x7F)
            value >>= 7
            bytes.append(value == 0 ? low : low | 0x80)
        } while value != 0
        return bytes
    }
}
