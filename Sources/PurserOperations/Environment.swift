internal import Foundation

/// The value of the environment variable `name` (PURSER_SERVER, PURSER_TOKEN, PURSER_LEDGER, PURSER_KEY), or nil if
/// it is unset or empty: `PURSER_SERVER= purser init` means no server, as in a shell that never set it.
public func environmentValue(_ name: String) -> String? {
    guard let value = ProcessInfo.processInfo.environment[name], !value.isEmpty else { return nil }
    return value
}
