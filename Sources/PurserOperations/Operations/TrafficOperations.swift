import Foundation
public import PurserCore
public import PurserLedger

// The lifecycle of deployments and the queries of what ran when.

/// `purser deploy start`.
public struct DeployStart: LedgerOperation {
    public static let name = "deployments/start"
    public static let summary = "Start deploying a recorded version (deployment.started); gated by the checklist."
    public static let role = Role.writer

    public var version: String
    public var env: EnvironmentName
    public var strategy: Strategy
    public var weight: Int?
    public var effectiveAt: String?
    public var breakGlassReason: String?
    public var breakGlassApprover: String?
    /// A canary's configuration (YAML), checked and stored, for `purser serve` to judge the rollout by.
    public var canaryConfig: InputFile?

    public init(
        version: String, env: EnvironmentName, strategy: Strategy, weight: Int?, effectiveAt: String?,
        breakGlassReason: String?,
        breakGlassApprover: String?, canaryConfig: InputFile? = nil
    ) {
        self.version = version
        self.env = env
        self.strategy = strategy
        self.weight = weight
        self.effectiveAt = effectiveAt
        self.breakGlassReason = breakGlassReason
        self.breakGlassApprover = breakGlassApprover
        self.canaryConfig = canaryConfig
    }

    public func perform(on releases: Releases) throws(LedgerError) -> Reply {
        var breakGlass: BreakGlass?
        if let breakGlassReason, let breakGlassApprover {
            breakGlass = BreakGlass(reason: breakGlassReason, approver: breakGlassApprover)
        } else if breakGlassReason != nil || breakGlassApprover != nil {
            throw LedgerError(
                .usage,
                naming:
                    "a break-glass override needs both \(parameter: "breakGlassReason") and \(parameter: "breakGlassApprover")"
            )
        }
        let outcome = try releases.traffic.deploy(
            version, env: env, strategy: strategy, weight: weight,
            effectiveAt: parseTime(effectiveAt, parameter: "effectiveAt"), breakGlass: breakGlass,
            canaryConfig: canaryConfig)
        return try lifecycleReply(outcome, releases: releases)
    }
}

/// `purser deploy shift|promote|drained|abort` and `purser rollback`: a change of an environment's rollout.
public struct LifecycleChange: LedgerOperation {
    public static let name = "deployments/change"
    public static let summary =
        "Shift, promote, mark drained, abort or roll back an environment's rollout (traffic.shifted, deployment.promoted, deployment.drained, deployment.aborted, rollback.performed)."
    public static let role = Role.writer

    public enum Change: String, NamedChoice {
        case shift, promote, drained, abort, rollback
    }

    public var change: Change
    public var env: EnvironmentName
    public var effectiveAt: String?
    /// shift: the canary's new share.
    public var weight: Int?
    /// drained: the draining version; rollback: the version to go back to.
    public var version: String?
    /// rollback: why.
    public var reason: String?

    public init(
        _ change: Change, env: EnvironmentName, effectiveAt: String?, weight: Int? = nil, version: String? = nil,
        reason: String? = nil
    ) {
        self.change = change
        self.env = env
        self.effectiveAt = effectiveAt
        self.weight = weight
        self.version = version
        self.reason = reason
    }

    public func perform(on releases: Releases) throws(LedgerError) -> Reply {
        let effective = try parseTime(effectiveAt, parameter: "effectiveAt")
        func required<T>(_ value: T?, _ parameter: String) throws(LedgerError) -> T {
            guard let value else {
                throw LedgerError(.usage, naming: "\(change.rawValue) needs \(parameter: parameter)")
            }
            return value
        }
        let outcome: LifecycleOutcome
        switch change {
        case .shift:
            outcome = try releases.traffic.shift(env: env, weight: required(weight, "weight"), effectiveAt: effective)
        case .promote: outcome = try releases.traffic.promote(env: env, effectiveAt: effective)
        case .drained:
            outcome = try releases.traffic.drained(
                env: env, version: required(version, "version"), effectiveAt: effective)
        case .abort: outcome = try releases.traffic.abort(env: env, effectiveAt: effective)
        case .rollback:
            outcome = try releases.traffic.rollback(
                env: env, to: version, reason: required(reason, "reason"), effectiveAt: effective)
        }
        return try lifecycleReply(outcome, releases: releases)
    }
}

/// What every lifecycle command prints.
func lifecycleReply(_ outcome: LifecycleOutcome, releases: Releases) throws(LedgerError) -> Reply {
    let labels = try releases.versions.labels(of: outcome.state.versions)
    var members = environmentJSON(
        env: outcome.env, state: outcome.state, effectiveAt: outcome.effectiveAt, seq: outcome.seq, labels: labels)
    members["kind"] = .string(outcome.kind)
    return Reply(
        json: .object(members),
        text: ["\(outcome.kind) in \(outcome.env) (seq \(outcome.seq), effective \(outcome.effectiveAt))"]
            + trafficLines(outcome.state, labels: labels))
}

/// `purser status`.
public struct StatusQuery: LedgerOperation {
    public static let name = "status"
    public static let summary = "Each environment's current traffic, rollout in progress and draining versions."
    public static let role = Role.reader
    public static let isQuick = true

    public var env: EnvironmentName?

    public init(env: EnvironmentName?) { self.env = env }

    public func perform(on releases: Releases) throws(LedgerError) -> Reply {
        let environments = try releases.traffic.status(env: env)
        if let env, environments.isEmpty {
            throw LedgerError(.notFound, "environment \(env) has no deployments (see purser status)")
        }
        return try environmentsReply(environments, releases: releases, extra: [:], heading: [])
    }
}

/// `purser at`: what ran when.
public struct AtQuery: LedgerOperation {
    public static let name = "at"
    public static let summary = "What ran when: the traffic in force at a time (by effective time), per environment."
    public static let role = Role.reader
    public static let isQuick = true

    /// RFC 3339, a date, or `now`.
    public var time: String
    public var env: EnvironmentName?

    public init(time: String, env: EnvironmentName?) {
        self.time = time
        self.env = env
    }

    public func perform(on releases: Releases) throws(LedgerError) -> Reply {
        guard time == "now" || Timestamp.parse(time) != nil else {
            throw LedgerError(
                .usage,
                "time \"\(time)\" is not now, an RFC 3339 time (e.g. 2026-11-27T14:03:00Z) or a date (2026-11-27) in the years 0001 to 9999"
            )
        }
        let at = time == "now" ? Timestamp.format(releases.now) : try ledgerTimestamp(time, parameter: "time")!
        let environments = try releases.traffic.at(at, env: env)
        // An environment with traffic at that time exists; only an empty answer needs the question.
        if let env, environments.isEmpty, try releases.traffic.status(env: env).isEmpty {
            throw LedgerError(.notFound, "environment \(env) has no deployments (see purser status)")
        }
        return try environmentsReply(
            environments, releases: releases, extra: ["at": .string(at)], heading: ["traffic at \(at):"],
            empty: "no environment had traffic at \(at)")
    }
}

func environmentsReply(
    _ environments: [EnvironmentTraffic], releases: Releases, extra: [String: JSONValue], heading: [String],
    empty: String = "no deployments recorded (see purser deploy --help)"
) throws(LedgerError) -> Reply {
    let labels = try releases.versions.labels(of: environments.flatMap(\.state.versions))
    var members = extra
    members["environments"] = .array(
        environments.map {
            .object(
                environmentJSON(env: $0.env, state: $0.state, effectiveAt: $0.effectiveAt, seq: $0.seq, labels: labels))
        })
    var text = heading
    if environments.isEmpty { text.append(empty) }
    for environment in environments {
        text.append("\(environment.env)  (since \(environment.effectiveAt), seq \(environment.seq))")
        text += trafficLines(environment.state, labels: labels)
    }
    return Reply(json: .object(members), text: text)
}

/// `purser history`.
public struct HistoryQuery: PagedOperation {
    public static let name = "history"
    public static let summary =
        "The timeline of traffic changes, oldest first, filtered by environment, version and window, a page at a time."
    public static let role = Role.reader
    public static let listMember = "events"

    public var env: EnvironmentName?
    public var version: String?
    public var since: String?
    public var until: String?
    /// The position in the timeline where the page starts (0: the first change).
    public var from: UInt64?
    public var page: Int?

    public init(env: EnvironmentName?, version: String?, since: String?, until: String?) {
        self.env = env
        self.version = version
        self.since = since
        self.until = until
    }

    public func perform(on releases: Releases) throws(LedgerError) -> Reply {
        let offset = Int(clamping: from ?? 0)
        // One more than the page holds tells whether another page follows.
        var events = try releases.traffic.history(
            env: env, version: version, since: ledgerTimestamp(since, parameter: "since"),
            until: ledgerTimestamp(until, parameter: "until"), offset: offset, limit: page.map { $0 + 1 })
        var next: UInt64?
        if let page, events.count > page {
            events.removeLast()
            next = UInt64(offset + page)
        }
        let labels = try releases.versions.labels(of: events.flatMap { $0.after.versions.union($0.before.versions) })
        var json: [String: JSONValue] = [
            "events": .array(
                events.map { event in
                    var members = environmentJSON(
                        env: event.env, state: event.after, effectiveAt: event.effectiveAt, seq: event.seq,
                        labels: labels)
                    members["at"] = .string(event.at)
                    members["kind"] = .string(event.kind)
                    members["body"] = event.body
                    return .object(members)
                })
        ]
        if page != nil { json["next"] = Paging.next(next) }
        var text: [String] = events.isEmpty ? ["no traffic changes match"] : []
        // Widths of the whole ledger, not of this page, so that the kinds line up on every page, here and through a
        // server alike: every environment's name, and the largest seq (as `purser log` pads it).
        let envWidth = try releases.traffic.status().map(\.env.count).max() ?? 0
        let seqWidth = try EntrySummary.seqWidth(ledgerSize: releases.ledger.size())
        for event in events {
            var what = event.kind
            if let version = event.body["version"]?.stringValue ?? event.body["to"]?.stringValue {
                what += " \(version.prefix(12))\(labels[version].map { " (\($0))" } ?? "")"
            }
            if let weight = event.body["weight"]?.numberValue, event.kind != "deployment.promoted" {
                what += " \(Int(weight))%"
            }
            if let reason = event.body["reason"]?.stringValue { what += ": \(reason)" }
            text.append(
                "\(event.effectiveAt)  \(padded(event.env, envWidth))  seq \(padded(String(event.seq), seqWidth))  \(what)"
            )
        }
        return Reply(json: .object(json), text: text)
    }
}

/// An environment's traffic as the JSON of `status`, `at` and lifecycle commands.
public func environmentJSON(
    env: String, state: TrafficState, effectiveAt: String, seq: UInt64, labels: [String: String]
) -> [String: JSONValue] {
    [
        "env": .string(env), "effective_at": .string(effectiveAt), "seq": .int(seq),
        "traffic": .array(
            state.shares.map { share in
                .object([
                    "version": .string(share.version), "label": labels[share.version].map(JSONValue.string) ?? .null,
                    "weight": .number(Double(share.weight)), "state": .string(share.role.rawValue),
                ])
            }),
        "rollout": state.rollout.map { rollout in
            .object([
                "strategy": .string(rollout.strategy.rawValue), "candidate": .string(rollout.candidate),
                "baseline": .string(rollout.baseline),
            ])
        } ?? .null,
    ]
}

/// An environment's traffic as lines of text.
public func trafficLines(_ state: TrafficState, labels: [String: String], indent: String = "  ") -> [String] {
    var lines: [String] = state.shares.isEmpty ? ["\(indent)(no traffic)"] : []
    for share in state.shares {
        let name = "\(share.version.prefix(12))\(labels[share.version].map { " (\($0))" } ?? "")"
        let weight = share.role == .serving ? "\(share.weight)%" : "-"
        lines.append("\(indent)\(padded(name, 40)) \(padded(weight, 5)) \(share.role.rawValue)")
    }
    if let rollout = state.rollout {
        lines.append(
            "\(indent)rollout in progress: \(rollout.strategy.rawValue) of \(rollout.candidate.prefix(12)) against \(rollout.baseline.prefix(12))"
        )
    }
    return lines
}
