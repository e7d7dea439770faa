import PurserCore
import PurserLedger
import Testing

@Suite struct EntryKindTests {
    @Test func customKindsAreAccepted() throws {
        let event = try EntryKind.customEvent(kind: "custom.incident-note", body: .object(["a": .number(1)]))
        #expect(event.kind == "custom.incident-note")
    }

    @Test(arguments: ["version.recorded", "ledger.created", "deploy.started", "custom.", "custom", "custom.has space"])
    func otherKindsAreRefusedAsUsageErrors(kind: String) {
        #expect {
            _ = try EntryKind.customEvent(kind: kind, body: .object([:]))
        } throws: { error in
            (error as? LedgerError)?.code == .usage
        }
    }

    @Test func domainKindsNameTheirCommand() {
        #expect {
            _ = try EntryKind.customEvent(kind: "canary.judged", body: .object([:]))
        } throws: { error in
            "\(error)".contains("written by its own purser command")
        }
    }

    @Test func bodiesMustBeObjects() {
        #expect {
            _ = try EntryKind.customEvent(kind: "custom.x", body: .array([]))
        } throws: { error in
            (error as? LedgerError)?.code == .invalidInput
        }
    }
}
