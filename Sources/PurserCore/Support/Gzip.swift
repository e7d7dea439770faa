internal import CZlib
package import PurserLedger

/// gzip (RFC 1952) through the system's zlib: the `Content-Encoding: gzip` of OTLP/HTTP requests, and the OTLP
/// receiver's batch files.
package enum Gzip {
    /// `bytes` as one gzip member, with no file name and a time of 0: the same bytes give the same output with the
    /// same zlib. Level 1 packs a batch's OTLP/JSON about twentyfold at some 400 MB/s; higher levels pack it a
    /// little more at a third of the speed.
    package static func compress(_ bytes: [UInt8], level: Int32 = 1) -> [UInt8] {
        var stream = z_stream()
        // 16 + 15: a gzip header and trailer, and the largest window.
        guard purser_deflate_init2(&stream, level, 16 + MAX_WBITS) == Z_OK else {
            preconditionFailure("zlib could not start deflating at level \(level)")
        }
        defer { deflateEnd(&stream) }
        var output: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 256 << 10)
        var status = Z_OK
        bytes.withUnsafeBufferPointer { source in
            var offset = 0
            repeat {
                // zlib counts its input in 32 bits: a gigabyte at a time.
                let count = min(source.count - offset, 1 << 30)
                stream.next_in = UnsafeMutablePointer(mutating: source.baseAddress.map { $0 + offset })
                stream.avail_in = UInt32(count)
                offset += count
                let flush = offset == source.count ? Z_FINISH : Z_NO_FLUSH
                repeat {
                    status = chunk.withUnsafeMutableBufferPointer { target in
                        stream.next_out = target.baseAddress
                        stream.avail_out = UInt32(target.count)
                        return deflate(&stream, flush)
                    }
                    output.append(contentsOf: chunk[..<(chunk.count - Int(stream.avail_out))])
                } while stream.avail_out == 0 && status != Z_STREAM_END
            } while offset < source.count
        }
        // With all its input given and room to write, deflate ends the member: anything else is a broken zlib.
        precondition(status == Z_STREAM_END, "zlib could not deflate \(bytes.count) bytes: status \(status)")
        return output
    }

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
