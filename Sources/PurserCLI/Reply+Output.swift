import ArgumentParser
import PurserOperations

// For a command that acts on its reply between printing it and exiting (canary judge runs --on-rollback there).

extension Reply {
    /// Prints the reply as `LedgerOptions.print` does (the JSON document, or the text lines), without exiting.
    func write(json: Bool) {
        if json {
            Output.json(self.json)
        } else {
            text.forEach(Output.line)
        }
    }

    /// Exits 1, 2 or 3 for a negative, inconclusive or integrity verdict, as `LedgerOptions.print` does once it has
    /// printed.
    func exit() throws {
        switch status {
        case .done: return
        case .blocked: throw ExitCode(ExitStatus.blocked)
        case .inconclusive: throw ExitCode(ExitStatus.inconclusive)
        case .integrity: throw ExitCode(ExitStatus.integrity)
        }
    }
}
