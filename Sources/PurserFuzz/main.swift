import Foundation

// `PurserFuzz TARGET PATH…` reads each file (each file of a folder) with the target's parser: the seed corpus,
// or a crash the fuzzer saved. Built with `-D PURSER_FUZZ -sanitize=fuzzer` (scripts/fuzz does it),
// `PurserFuzz TARGET [libFuzzer options] [CORPUS…]` runs libFuzzer on the target instead.

let usage = "usage: PurserFuzz \(FuzzTarget.allCases.map(\.rawValue).joined(separator: "|")) PATH…"
guard let target = FuzzTarget.chosen else {
    FileHandle.standardError.write(Data((usage + "\n").utf8))
    exit(64)
}

#if PURSER_FUZZ
    @_silgen_name("LLVMFuzzerRunDriver")
    func runFuzzer(
        _ argc: UnsafeMutablePointer<CInt>,
        _ argv: UnsafeMutablePointer<UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>>,
        _ body: @convention(c) (UnsafePointer<UInt8>?, Int) -> CInt
    ) -> CInt

    // libFuzzer reads the arguments after the target's name, and the program's name before them.
    var argc = CommandLine.argc - 1
    var argv = CommandLine.unsafeArgv + 1
    argv[0] = CommandLine.unsafeArgv[0]
    _ = target
    exit(
        runFuzzer(&argc, &argv) { data, count in
            FuzzTarget.chosen!.run(data.map { Array(UnsafeBufferPointer(start: $0, count: count)) } ?? [])
            return 0
        })
#else
    var files: [URL] = []
    for path in CommandLine.arguments.dropFirst(2) {
        let url = URL(fileURLWithPath: path)
        if let names = try? FileManager.default.contentsOfDirectory(atPath: path) {
            files += names.sorted().map { url.appendingPathComponent($0) }
        } else {
            files.append(url)
        }
    }
    for file in files {
        guard let data = FileManager.default.contents(atPath: file.path) else {
            FileHandle.standardError.write(Data("PurserFuzz: cannot read \(file.path)\n".utf8))
            exit(66)
        }
        target.run([UInt8](data))
    }
    print("\(target.rawValue): \(files.count) input(s) read without a crash")
#endif
