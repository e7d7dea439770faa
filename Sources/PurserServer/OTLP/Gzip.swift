internal import CZlib
package import PurserLedger
internal import PurserOperations

/// gzip (RFC 1952) through the system's zlib: the `Content-Encoding: gzip` of OTLP/HTTP requests.
package enum Gzip {
    /// The bytes that `bytes`, one gzip member or several one after another (as `cat a.gz b.gz` makes), inflate to.
    /// - Parameter limit: the most bytes they may inflate to: a small body must not become gigabytes in memory.
    /// - Throws: `.tooLarge` when they inflate to more than `limit` bytes (nothing past it is inflated);
    ///   `.invalidInput` for data that is not gzip, is corrupt (a bad checksum) or ends early.
    package static func decompress(_ bytes: [UInt8], limit: Int) throws(LedgerError) -> [UInt8] {
        guard bytes.count <= UInt32.max else {
            throw LedgerError(.tooLarge, "a gzip'd body of \(bytes.count) bytes is more than zlib takes at once")
        }
        var stream = z_stream()
        // 16 + 15: a gzip header and trailer, and the largest window.
        guard purser_inflate_init2(&stream, 16 + MAX_WBITS) == Z_OK else {
            throw LedgerError(.internal, "zlib could not start inflating")
        }
        defer { inflateEnd(&stream) }
        var output: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 64 << 10)
        var input = bytes
        let result: Result<Void, LedgerError> = input.withUnsafeMutableBufferPointer { source in
            stream.next_in = source.baseAddress
            stream.avail_in = UInt32(source.count)
            while true {
                let status = chunk.withUnsafeMutableBufferPointer { target in
                    stream.next_out = target.baseAddress
                    stream.avail_out = UInt32(target.count)
                    return inflate(&stream, Z_NO_FLUSH)
                }
                let produced = chunk.count - Int(stream.avail_out)
                guard produced <= limit - output.count else {
                    return .failure(
                        LedgerError(
                            .tooLarge, "the gzip'd body inflates to more than \(limit) bytes; send less at once"))
                }
                output.append(contentsOf: chunk[..<produced])
                switch status {
                case Z_STREAM_END:
                    // Another member may follow; anything else after the last one is corrupt data.
                    guard stream.avail_in > 0 else { return .success(()) }
                    guard inflateReset(&stream) == Z_OK else {
                        return .failure(LedgerError(.internal, "zlib could not inflate the next gzip member"))
                    }
                case Z_OK:
                    continue
                case Z_BUF_ERROR where stream.avail_in == 0:
                    return .failure(LedgerError(.invalidInput, "the gzip'd body ends before its data does"))
                default:
                    let reason = stream.msg.map { String(cString: $0) } ?? "zlib status \(status)"
                    return .failure(LedgerError(.invalidInput, "the body is not valid gzip: \(reason)"))
                }
            }
        }
        try result.get()
        return output
    }
}
