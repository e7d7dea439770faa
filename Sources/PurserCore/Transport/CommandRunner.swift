internal import Foundation
internal import PurserLedger

/// Runs a command without a shell, reading its stdout and stderr together (so a large output cannot fill one
/// pipe while the other is read), and ends its whole process group when it overruns its time.
enum CommandRunner {
    static func run(_ argv: [String], in directory: String, timeout: Double) throws(LedgerError) -> [UInt8] {
        let executable = try resolve(argv[0], in: directory)
        let process = Process()
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = Array(argv.dropFirst())
        process.currentDirectoryURL = URL(fileURLWithPath: directory)
        let output = Pipe()
        let errors = Pipe()
        process.standardOutput = output
        process.standardError = errors
        process.standardInput = FileHandle.nullDevice
        let exited = DispatchSemaphore(value: 0)
        process.terminationHandler = { _ in exited.signal() }
        let deadline = Deadline(after: timeout)
        // A child starts with the signal mask of the thread that spawns it, and worker threads of Dispatch and
        // Swift concurrency block most signals: a probe would not hear SIGTERM. Spawn with none blocked.
        var none = sigset_t()
        var previous = sigset_t()
        sigemptyset(&none)
        pthread_sigmask(SIG_SETMASK, &none, &previous)
        do {
            try process.run()
            pthread_sigmask(SIG_SETMASK, &previous, nil)
        } catch {
            pthread_sigmask(SIG_SETMASK, &previous, nil)
            throw LedgerError(.invalidInput, "cannot start \(executable): \(error.localizedDescription)")
        }
        // Foundation starts every process in a process group of its own, so a shell's children end with it.
        let pid = process.processIdentifier
        let group = getpgid(pid) == pid ? pid : nil

        var stdout: [UInt8] = []
        var stderr: [UInt8] = []
        var open = [output.fileHandleForReading.fileDescriptor, errors.fileHandleForReading.fileDescriptor]
        var buffer = [UInt8](repeating: 0, count: 65_536)
        var timedOut = false
        var tooLarge = false
        while open.contains(where: { $0 >= 0 }) && !tooLarge {
            let remaining = deadline.milliseconds
            guard remaining > 0 else {
                timedOut = true
                break
            }
            var polls = open.filter { $0 >= 0 }.map { pollfd(fd: $0, events: Int16(POLLIN), revents: 0) }
            let ready = poll(&polls, nfds_t(polls.count), remaining)
            if ready <= 0 { continue }
            for entry in polls where entry.revents != 0 {
                let count = read(entry.fd, &buffer, buffer.count)
                if count < 0 && (errno == EINTR || errno == EAGAIN) { continue }
                if count <= 0 {
                    open = open.map { $0 == entry.fd ? -1 : $0 }
                } else if entry.fd == open[0] {
                    stdout += buffer[0..<count]
                    tooLarge = stdout.count > maximumEvidenceBytes
                } else if stderr.count < 65_536 {
                    stderr += buffer[0..<count]
                }
            }
        }
        if !timedOut && !tooLarge {
            let remaining = Double(deadline.milliseconds) / 1000
            timedOut = exited.wait(timeout: .now() + remaining) == .timedOut
        }
        if timedOut || tooLarge {
            terminate(pid, group: group, exited: exited)
            if tooLarge {
                throw LedgerError(.invalidInput, "printed more than 10 MB on stdout (the process was killed)")
            }
            throw LedgerError(
                .invalidInput,
                "timed out after \(EvidenceSource.formatNumber(timeout)) s (the process was killed)"
                    + firstLine(of: stderr, prefix: "; stderr: "))
        }
        let status = process.terminationStatus
        if process.terminationReason == .uncaughtSignal {
            throw LedgerError(.invalidInput, "killed by signal \(status)" + firstLine(of: stderr, prefix: ": "))
        }
        guard status == 0 else {
            let line = firstLine(of: stderr, prefix: ": ")
            throw LedgerError(.invalidInput, "exit status \(status)" + (line.isEmpty ? " (nothing on stderr)" : line))
        }
        return stdout
    }

    /// SIGTERM, then SIGKILL after a second, to the process group (or the process alone if it has none).
    private static func terminate(_ pid: pid_t, group: pid_t?, exited: DispatchSemaphore) {
        func send(_ signal: Int32) {
            if let group { killpg(group, signal) } else { kill(pid, signal) }
        }
        send(SIGTERM)
        if exited.wait(timeout: .now() + 1) == .timedOut {
            send(SIGKILL)
            _ = exited.wait(timeout: .now() + 5)
        } else if group != nil {
            // The leader is gone; anything left in its group that ignored SIGTERM goes now.
            send(SIGKILL)
        }
    }

    private static func firstLine(of stderr: [UInt8], prefix: String) -> String {
        let line = EvidenceSource.excerpt(stderr)
        return line.isEmpty ? "" : prefix + line
    }

    /// The program's path: relative to `directory` when it holds a `/`, else found in PATH.
    private static func resolve(_ program: String, in directory: String) throws(LedgerError) -> String {
        let manager = FileManager.default
        var isDirectory: ObjCBool = false
        guard manager.fileExists(atPath: directory, isDirectory: &isDirectory), isDirectory.boolValue else {
            throw LedgerError(.notFound, "the folder to run the command in, \(directory), does not exist")
        }
        let path: String
        if program.contains("/") {
            path = program.hasPrefix("/") ? program : directory + "/" + program
            guard manager.fileExists(atPath: path, isDirectory: &isDirectory) else {
                throw LedgerError(.notFound, "command not found: \(program) (looked for \(path))")
            }
        } else {
            let folders = (ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin").split(separator: ":")
            let candidates = folders.map { "\($0)/\(program)" }
            guard let found = candidates.first(where: { manager.isExecutableFile(atPath: $0) }) else {
                throw LedgerError(.notFound, "command not found: \(program) (not in PATH)")
            }
            path = found
            _ = manager.fileExists(atPath: path, isDirectory: &isDirectory)
        }
        guard !isDirectory.boolValue, manager.isExecutableFile(atPath: path) else {
            throw LedgerError(
                .invalidInput,
                "\(path) is not an executable file (make it executable, or name its interpreter first: "
                    + "[sh, \(program)])")
        }
        return path
    }
}
