import Foundation
import PurserCore
import PurserLedger

/// A fresh ledger and its release domain in a temporary directory, removed when released.
final class TestReleases {
    let directory: String
    let ledger: Ledger
    let releases: Releases

    init() throws {
        directory = NSTemporaryDirectory() + "purser-core-" + UUID().uuidString
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        ledger = try Ledger.create(
            at: directory + "/ledger.sqlite", origin: "test.example/core", keyPath: directory + "/ledger.key")
        releases = try Releases(ledger: ledger)
    }

    deinit { try? FileManager.default.removeItem(atPath: directory) }

    /// Records a small version whose prompt is `prompt`, labelled `label`; returns its id.
    @discardableResult
    func record(prompt: String, label: String? = nil) throws -> String {
        try releases.versions.record(makeVersion(prompt: prompt), label: label).id
    }
}

/// A behavioral version built in memory: a prompt, no tools, a pinned model, a commit, no memory.
func makeVersion(prompt: String, model: String = "claude-3-5-sonnet-20241022") -> BehavioralVersion {
    func component(
        _ name: String, _ kind: Component.Kind, _ bytes: [UInt8], value: JSONValue? = nil
    )
        -> (Component, bytes: [UInt8])
    {
        (
            Component(
                name: name, kind: kind, digest: Hash.sha256(bytes), size: bytes.count, source: nil,
                fileName: "\(name).\(kind == .text ? "md" : "json")", value: value), bytes
        )
    }
    let modelValue: JSONValue = .object(["provider": .string("anthropic"), "id": .string(model)])
    let commit: JSONValue = .object(["commit": .string(String(repeating: "ab", count: 20))])
    return BehavioralVersion(
        agent: "test-agent",
        components: [
            component("prompt", .text, Array(prompt.utf8)),
            component("tools", .data, Array("[]".utf8)),
            component("model", .model, CanonicalJSON.encode(modelValue), value: modelValue),
            component("code", .commit, CanonicalJSON.encode(commit), value: commit),
            component("memory", .data, Array("null".utf8)),
        ])
}

extension BreakGlass {
    /// For tests about traffic, not about the checklist gate.
    static let test = BreakGlass(reason: "a test of traffic, not of the checklist", approver: "tests")
}

extension EnvironmentName {
    /// The environments most tests deploy to; the names follow the rule, so these never trap.
    static let prod = try! EnvironmentName("prod")
    static let staging = try! EnvironmentName("staging")
}
