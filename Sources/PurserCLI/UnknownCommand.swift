import ArgumentParser
import PurserLedger

/// A mistyped command name, found before ArgumentParser parses the arguments: it would report the first option the
/// real command does not take ("Unknown option '--env'") rather than the name, or show the root's help for
/// `purser verfy --help`.
enum UnknownCommand {
    /// A usage error naming the first argument that stands where a command name must and is none, with the
    /// nearest name as a suggestion; nil if every command name is right (the parser then judges the rest).
    static func find(in arguments: [String]) -> LedgerError? {
        var command: any ParsableCommand.Type = Purser.self
        var path = ["purser"]
        // `purser help deploy strat` names commands as `purser deploy strat` does.
        let typed = arguments.first == "help" ? arguments.dropFirst() : arguments[...]
        for argument in typed {
            let subcommands = command.configuration.subcommands
            // An option ends the names.
            guard !subcommands.isEmpty, !argument.hasPrefix("-"), argument != "help" else { return nil }
            if let next = subcommands.first(where: { names(of: $0).contains(argument) }) {
                command = next
                path.append(argument)
                continue
            }
            let valid = subcommands.map { $0._commandName }
            let suggestion = nearest(to: argument, among: valid)
            // A group with a default subcommand hands it what is not one of its names (`purser rollback --env prod`):
            // only a near-miss of a name (`purser rollback dril`) is taken for a mistyped one.
            if command.configuration.defaultSubcommand != nil, suggestion == nil { return nil }
            var message = "unknown command '\(argument)'"
            if path.count > 1 { message += " of \(path.joined(separator: " "))" }
            if let suggestion { message += "; did you mean '\(suggestion)'?" }
            message +=
                path.count > 1
                ? " (its commands: \(valid.joined(separator: ", ")))" : " (see purser --help for the commands)"
            return LedgerError(.usage, message)
        }
        return nil
    }

    private static func names(of command: any ParsableCommand.Type) -> [String] {
        [command._commandName] + command.configuration.aliases
    }

    /// The longest name that gets a suggestion: the distance to each name takes time in proportion to its length.
    static let longestSuggested = 64

    /// The name closest to `typed` by edit distance, ignoring case (a swap of two neighbours counts as one edit), if
    /// it is close enough to be a typing slip: at most 2 edits, and fewer than half the letters typed.
    static func nearest(to typed: String, among names: [String]) -> String? {
        guard typed.utf8.count <= longestSuggested else { return nil }
        let scored = names.map { (name: $0, distance: editDistance(typed.lowercased(), $0.lowercased())) }
        guard let best = scored.min(by: { $0.distance < $1.distance }),
            best.distance <= 2, best.distance * 2 < typed.count
        else { return nil }
        return best.name
    }

    /// Optimal string alignment distance: insertions, deletions, substitutions and adjacent transpositions.
    static func editDistance(_ a: String, _ b: String) -> Int {
        let a = Array(a)
        let b = Array(b)
        if a.isEmpty || b.isEmpty { return max(a.count, b.count) }
        var table = [[Int]](repeating: [Int](repeating: 0, count: b.count + 1), count: a.count + 1)
        for i in 0...a.count { table[i][0] = i }
        for j in 0...b.count { table[0][j] = j }
        for i in 1...a.count {
            for j in 1...b.count {
                let cost = a[i - 1] == b[j - 1] ? 0 : 1
                table[i][j] = min(table[i - 1][j] + 1, table[i][j - 1] + 1, table[i - 1][j - 1] + cost)
                if i > 1, j > 1, a[i - 1] == b[j - 2], a[i - 2] == b[j - 1] {
                    table[i][j] = min(table[i][j], table[i - 2][j - 2] + 1)
                }
            }
        }
        return table[a.count][b.count]
    }
}
