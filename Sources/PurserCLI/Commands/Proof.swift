import ArgumentParser
import Foundation
import PurserLedger
import PurserOperations

struct Proof: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "proof",
        abstract: "Inclusion and consistency proofs (RFC 6962).",
        subcommands: [Inclusion.self, Consistency.self])

    struct Inclusion: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "inclusion",
            abstract: "Prove that an entry is in the tree of a given size.",
            discussion: reflowed(
                """
                --json prints:
                  {"seq":N,"size":M,"leaf_hash":"<hex>","root":"<hex>","proof":["<hex>",…]}

                Examples:
                  purser proof inclusion --seq 42
                  purser proof inclusion --seq 42 --size 1000 --json
                """))

        @OptionGroup var ledgerOptions: LedgerOptions
        @Option(help: ArgumentHelp("The entry's sequence number.", valueName: "n")) var seq: UInt64
        @Option(help: ArgumentHelp("The tree size (default: the current size).", valueName: "m")) var size: UInt64?
        @Flag(help: "Print the proof as JSON.") var json = false

        func run() throws {
            try ledgerOptions.perform(InclusionProofQuery(seq: seq, size: size), json: json)
        }
    }

    struct Consistency: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "consistency",
            abstract: "Prove that an older tree is a prefix of a newer one.",
            discussion: reflowed(
                """
                --json prints:
                  {"from":N,"to":M,"from_root":"<hex>","to_root":"<hex>","proof":["<hex>",…]}

                Examples:
                  purser proof consistency --from 1000
                  purser proof consistency --from 1000 --to 5000 --json
                """))

        @OptionGroup var ledgerOptions: LedgerOptions
        @Option(help: ArgumentHelp("The older tree size.", valueName: "n")) var from: UInt64
        @Option(help: ArgumentHelp("The newer tree size (default: the current size).", valueName: "m")) var to: UInt64?
        @Flag(help: "Print the proof as JSON.") var json = false

        func run() throws {
            try ledgerOptions.perform(ConsistencyProofQuery(from: from, to: to), json: json)
        }
    }
}
