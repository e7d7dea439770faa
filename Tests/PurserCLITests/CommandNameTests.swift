import ArgumentParser
import Testing

@testable import PurserCLI

@Suite struct CommandNameTests {
    /// Every command, at every depth, names itself in its configuration. Without `commandName`, ArgumentParser
    /// derives the name with `String(describing:)` of the command's type each time a process builds its command
    /// tree: casts that fail after scanning every protocol conformance record of the binary and of the Swift and
    /// Foundation libraries, for every command, on every start (a third of `purser --help`'s time). The names given
    /// are the ones ArgumentParser derived, so `--help` and completion scripts are unchanged.
    @Test func everyCommandNamesItself() {
        var unnamed: [String] = []
        func visit(_ command: any ParsableCommand.Type, under parents: [String]) {
            let name = command.configuration.commandName
            if name == nil { unnamed.append((parents + ["\(command)"]).joined(separator: " ")) }
            for subcommand in command.configuration.subcommands {
                visit(subcommand, under: parents + [name ?? "\(command)"])
            }
        }
        visit(Purser.self, under: [])
        #expect(unnamed == [])
    }
}
