import Foundation
import PurserCore
import PurserLedger
import Testing

/// `Content-Encoding: gzip` bodies, made by the system's `gzip` as a sender's would be; and the batch files purser
/// packs, which the system's `gunzip` must read.
@Suite("gzip")
struct GzipTests {
    /// `bytes` compressed by the first `gzip` on PATH, as a sender's would be.
    static func gzip(_ bytes: [UInt8]) throws -> [UInt8] {
        try #require(try run(["gzip", "-9", "-n"], on: bytes, named: "body", leaving: "body.gz"))
    }

    /// `bytes` inflated by the first `gunzip` on PATH, as an auditor would, or nil if it refuses them.
    static func gunzip(_ bytes: [UInt8]) throws -> [UInt8]? {
        try run(["gunzip"], on: bytes, named: "batch.gz", leaving: "batch")
    }

    /// `bytes` written to a file `name` in a folder of its own, `command` run on it, and the file `output` it leaves;
    /// nil if the command fails.
    private static func run(
        _ command: [String], on bytes: [UInt8], named name: String, leaving output: String
    ) throws -> [UInt8]? {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("gzip-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let file = directory.appendingPathComponent(name)
        try Data(bytes).write(to: file)
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = command + [file.path]
        try process.run()
        process.waitUntilExit()
        guard process.terminationStatus == 0 else { return nil }
        return [UInt8](try Data(contentsOf: directory.appendingPathComponent(output)))
    }

    /// A request's worth of varied bytes: OTLP/JSON-like text with numbers that do not repeat.
    static let body: [UInt8] = Array(
        (0..<20_000).map { #"{"traceId":"\#(String($0 * 7_919, radix: 16))","n":\#($0)}"# }.joined(separator: "\n").utf8
    )

    @Test("what gzip made inflates to the same bytes; two members one after another inflate to both")
    func roundTrip() throws {
        let packed = try Self.gzip(Self.body)
        #expect(packed.count < Self.body.count / 3)
        #expect(try Gzip.decompress(packed, limit: Self.body.count) == Self.body)
        let second = try Self.gzip(Array("and more".utf8))
        #expect(try Gzip.decompress(packed + second, limit: 1 << 30) == Self.body + Array("and more".utf8))
        #expect(try Gzip.decompress(try Self.gzip([]), limit: 0) == [])
    }

    @Test("what purser packs, gunzip and purser inflate to the same bytes; the same bytes pack the same")
    func compress() throws {
        for bytes in [Self.body, [], Array("x".utf8), [UInt8](repeating: 7, count: 3 << 20)] {
            let packed = Gzip.compress(bytes)
            #expect(try Self.gunzip(packed) == bytes)
            #expect(try Gzip.decompress(packed, limit: bytes.count) == bytes)
            #expect(Gzip.compress(bytes) == packed)
        }
        // Random bytes do not pack: the output passes the 256 KiB a deflate call writes at once.
        var generator = SystemRandomNumberGenerator()
        let noise = (0..<(600 << 10)).map { _ in UInt8.random(in: 0...255, using: &generator) }
        let packed = Gzip.compress(noise)
        #expect(packed.count > noise.count)
        #expect(try Self.gunzip(packed) == noise)
        // No name and no time in the header: ID1 ID2 CM FLG, then MTIME 0.
        #expect(Array(packed.prefix(8)) == [0x1F, 0x8B, 8, 0, 0, 0, 0, 0])
        #expect(Gzip.compress(Self.body).count < Self.body.count / 3)
    }

    @Test("a body that inflates past the limit is refused as too large, a bomb among them")
    func limit() throws {
        let packed = try Self.gzip(Self.body)
        #expect {
            _ = try Gzip.decompress(packed, limit: Self.body.count - 1)
        } throws: { error in
            (error as? LedgerError)?.code == .tooLarge
                && (error as? LedgerError)?.message.contains("more than \(Self.body.count - 1) bytes") == true
        }
        // 64 MiB of zeros is 64 KiB of gzip; the limit stops it long before it is all in memory.
        let bomb = try Self.gzip([UInt8](repeating: 0, count: 64 << 20))
        #expect(bomb.count < 100_000)
        #expect {
            _ = try Gzip.decompress(bomb, limit: 1 << 20)
        } throws: { error in
            (error as? LedgerError)?.code == .tooLarge
        }
    }

    @Test("corrupt, cut short, trailed by garbage or not gzip at all: refused as invalid input")
    func corrupt() throws {
        let packed = try Self.gzip(Self.body)
        var flipped = packed
        flipped[packed.count / 2] ^= 0xFF
        var badChecksum = packed
        badChecksum[packed.count - 6] ^= 0x01  // the CRC-32 in the trailer
        let cases: [(String, [UInt8])] = [
            ("flipped", flipped), ("checksum", badChecksum), ("cut short", Array(packed.prefix(packed.count / 2))),
            ("no trailer", Array(packed.dropLast(8))), ("trailing garbage", packed + [0x41, 0x42, 0x43]),
            ("not gzip", Self.body), ("empty", []),
        ]
        for (name, bytes) in cases {
            #expect("\(name)") {
                _ = try Gzip.decompress(bytes, limit: 1 << 30)
            } throws: { error in
                (error as? LedgerError)?.code == .invalidInput
            }
        }
    }
}
