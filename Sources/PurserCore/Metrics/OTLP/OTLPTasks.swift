internal import Foundation
package import PurserLedger

/// Agent tasks assembled from OpenTelemetry spans that follow the GenAI semantic conventions (v1.38; these attributes are of development stability): a task is an
/// agent invocation span (`gen_ai.operation.name` `invoke_agent`) and the spans beneath it, down to the next
/// invocation (a sub-agent is a task of its own).
///
/// - version: the attribute `purser.version` of the span or its resource (an id, a prefix or a label), else
///   `gen_ai.agent.name` `@` `gen_ai.agent.version` as a label (`gen_ai.agent.version` alone if it holds an `@`);
///   environment: `deployment.environment.name`.
/// - start and duration: the invocation span's; error: its status is ERROR or it carries `error.type`;
///   completed: not an error.
/// - tokens: the sums of `gen_ai.usage.input_tokens` and `gen_ai.usage.output_tokens` over the model calls beneath
///   it (`chat`, `text_completion`, `generate_content`); model: the first model call's `gen_ai.response.model`,
///   else its `gen_ai.request.model`, else the invocation's.
/// - tool calls: the `execute_tool` spans beneath it; tool errors: those that failed as above; tool latency: their
///   mean duration.
/// - quality: the mean `gen_ai.evaluation.score.value` of the `gen_ai.evaluation.result` events of its spans.
/// - cost: the sum of `purser.cost_usd` over its spans, when any carries it; else, with a price table, the cost of
///   its model calls' tokens at their models' prices (`PriceTable`).
/// Every task must then be a valid task record (§15.2), as a line of a metrics file must.
/// - task id: `<trace id>/<span id>`; task type: `gen_ai.agent.name`, else the span's name.
///
/// A span sent twice (an exporter's retry) counts once. A span that belongs to no task (no invocation above it, or
/// a parent never received) or to a task without a version or an environment is not dropped silently: it is
/// counted in `unattributed`.
/// Which spans are tasks: agent invocations (`gen_ai.operation.name` `invoke_agent`, the default), or the root spans
/// of the traces, for agents that do not mark their invocations.
public enum TaskSpans: String, NamedChoice {
    case invokeAgent = "invoke_agent"
    case root
}

package enum OTLPTasks {
    /// A span's identity: its trace and its id.
    private struct SpanKey: Hashable {
        let trace: String
        let span: String
    }

    static let modelCalls: Set<String> = ["chat", "text_completion", "generate_content"]

    /// - Parameter lenient: keep a task whose optional values a task record may not hold without them (model,
    ///   tokens, cost, tool latency, quality), and count the spans of one it cannot hold even so among those no task
    ///   took, instead of throwing (for the receiver's batches, which are never refused).
    /// - Throws: `.invalidInput` naming the task, for one whose values a task record may not hold (§15.2): a
    ///   score above 1, a negative token count.
    /// - Returns: the tasks, each with the line its invocation span came on, in the order they started; and how
    ///   many spans no task took.
    package static func assemble(
        _ received: [OTLPSpan], lenient: Bool = false, prices: PriceTable? = nil, tasks marker: TaskSpans = .invokeAgent
    ) throws(LedgerError) -> (tasks: [(line: Int, record: TaskRecord)], unattributed: Int) {
        // A span sent again counts once: its first copy.
        var spans: [OTLPSpan] = []
        var byID: [SpanKey: Int] = [:]
        byID.reserveCapacity(received.count)
        for span in received {
            let key = SpanKey(trace: span.traceID, span: span.spanID)
            guard byID[key] == nil else { continue }
            byID[key] = spans.count
            spans.append(span)
        }
        // The invocation each span belongs to (its own index for an invocation; `none` when no invocation is above
        // it): found by walking up the parents (a loop, not a recursion: a chain of spans can be as long as a file),
        // and kept for every span on the way.
        let unknown = -2
        let none = -1
        var owners = [Int](repeating: unknown, count: spans.count)
        func owner(_ first: Int) -> Int {
            var path: [Int] = []
            var current = first
            var found = none
            while true {
                if owners[current] != unknown {
                    found = owners[current]
                    break
                }
                let span = spans[current]
                if isTask(span, marker) {
                    found = current
                    break
                }
                path.append(current)
                owners[current] = none  // a cycle of parents ends here, with no owner
                guard let parent = span.parentSpanID, let next = byID[SpanKey(trace: span.traceID, span: parent)]
                else { break }
                current = next
            }
            for index in path { owners[index] = found }
            return found
        }
        // Each task's spans in the order received (its own among them), by its invocation's index.
        var members: [Int: [Int]] = [:]
        var unattributed = 0
        for index in spans.indices {
            let task = owner(index)
            if task == none { unattributed += 1 } else { members[task, default: []].append(index) }
        }
        var tasks: [(line: Int, record: TaskRecord)] = []
        for (invocation, owned) in members {
            let found: TaskRecord?
            do {
                found = try record(invocation, owned, of: spans, prices: prices)
            } catch  where lenient {
                // A task is not lost for one value out of range (a score above 1, negative tokens): it is kept
                // without its optional measures, its error and duration intact.
                found = try? record(invocation, owned, of: spans, prices: prices, measured: false)
            }
            guard let found else {
                unattributed += owned.count
                continue
            }
            tasks.append((spans[invocation].line, found))
        }
        tasks.sort { ($0.record.startedAt, $0.record.taskID) < ($1.record.startedAt, $1.record.taskID) }
        return (tasks, unattributed)
    }

    /// Whether `span` is a task of its own under `marker`.
    private static func isTask(_ span: OTLPSpan, _ marker: TaskSpans) -> Bool {
        switch marker {
        case .invokeAgent: operation(span) == "invoke_agent"
        case .root: span.parentSpanID == nil
        }
    }

    /// The version an invocation names: `purser.version`, else `gen_ai.agent.name@gen_ai.agent.version`.
    private static func version(_ invocation: OTLPSpan) -> String? {
        if let version = invocation.attribute("purser.version")?.string { return version }
        guard let number = invocation.attribute("gen_ai.agent.version")?.string else { return nil }
        if number.contains("@") { return number }
        return invocation.attribute("gen_ai.agent.name")?.string.map { "\($0)@\(number)" }
    }

    /// The versions the task spans among `spans` name, each once: what their batch will resolve.
    package static func versionsNamed(_ spans: [OTLPSpan], tasks marker: TaskSpans = .invokeAgent) -> Set<String> {
        Set(spans.lazy.filter { isTask($0, marker) }.compactMap(version))
    }

    /// What keeps invocations among `spans` from becoming tasks, as a sentence for their sender (an OTLP/HTTP
    /// warning); nil when every invocation names a version and an environment.
    package static func warning(_ spans: [OTLPSpan], tasks marker: TaskSpans = .invokeAgent) -> String? {
        var versionless = 0
        var placeless = 0
        var oldName = 0
        for span in spans where isTask(span, marker) {
            if version(span) == nil { versionless += 1 }
            if span.attribute("deployment.environment.name")?.string == nil {
                placeless += 1
                if span.attribute("deployment.environment") != nil { oldName += 1 }
            }
        }
        var problems: [String] = []
        if versionless > 0 {
            problems.append(
                "\(versionless) name no version (set purser.version, or gen_ai.agent.name and gen_ai.agent.version)")
        }
        if placeless > 0 {
            problems.append(
                "\(placeless) no deployment.environment.name"
                    + (oldName > 0 ? " (\(oldName) carry deployment.environment, its former name)" : ""))
        }
        guard !problems.isEmpty else { return nil }
        return
            "accepted, but of its \(marker == .root ? "root" : "invoke_agent") spans \(problems.joined(separator: " and ")): they and the spans beneath them will be counted unattributed, not as tasks"
    }

    private static func operation(_ span: OTLPSpan) -> String? {
        span.attributes["gen_ai.operation.name"]?.string
    }

    private static func failed(_ span: OTLPSpan) -> Bool {
        span.failed || span.attributes["error.type"] != nil
    }

    private static func milliseconds(_ span: OTLPSpan) -> Double {
        Double(span.endNanos - span.startNanos) / 1_000_000
    }

    /// The task of the invocation `spans[task]` and the spans it owns (`spans[owned]`, its own among them); nil
    /// without a version or environment.
    /// - Throws: `.invalidInput` naming the task, for values a task record may not hold (§15.2).
    private static func record(
        _ task: Int, _ indices: [Int], of spans: [OTLPSpan], prices: PriceTable?, measured: Bool = true
    ) throws(LedgerError) -> TaskRecord? {
        let invocation = spans[task]
        let agent = invocation.attribute("gen_ai.agent.name")?.string
        guard let version = version(invocation), let env = invocation.attribute("deployment.environment.name")?.string
        else { return nil }
        let owned = indices.map { spans[$0] }
        let beneath = owned.filter { $0.spanID != invocation.spanID }.sorted {
            ($0.startNanos, $0.spanID) < ($1.startNanos, $1.spanID)
        }
        let calls = beneath.filter { operation($0).map(modelCalls.contains) ?? false }
        let tools = beneath.filter { operation($0) == "execute_tool" }
        func sum(_ key: String, over spans: [OTLPSpan]) -> Double? {
            let values = spans.compactMap { $0.attributes[key]?.number }
            return values.isEmpty ? nil : values.reduce(0, +)
        }
        func model(_ span: OTLPSpan) -> String? {
            span.attributes["gen_ai.response.model"]?.string ?? span.attributes["gen_ai.request.model"]?.string
        }
        let scores = owned.flatMap(\.events).filter { $0.name == "gen_ai.evaluation.result" }.compactMap {
            $0.attributes["gen_ai.evaluation.score.value"]?.number
        }
        let error = failed(invocation)
        var values: [String: JSONValue] = [
            "task_id": .string("\(invocation.traceID)/\(invocation.spanID)"), "version": .string(version),
            "env": .string(env), "task_type": .string(agent ?? invocation.name),
            "started_at": .string(Timestamp.format(milliseconds: Int64(invocation.startNanos / 1_000_000))),
            "duration_ms": .number(milliseconds(invocation)), "completed": .bool(!error), "error": .bool(error),
            "tool_calls": .number(Double(tools.count)), "tool_errors": .number(Double(tools.filter(failed).count)),
        ]
        values["model"] = (calls.lazy.compactMap(model).first ?? model(invocation)).map(JSONValue.string)
        values["input_tokens"] = sum("gen_ai.usage.input_tokens", over: calls).map(JSONValue.number)
        values["output_tokens"] = sum("gen_ai.usage.output_tokens", over: calls).map(JSONValue.number)
        let priced = prices?.cost(
            calls.map {
                (
                    model($0) ?? model(invocation), $0.attributes["gen_ai.usage.input_tokens"]?.number,
                    $0.attributes["gen_ai.usage.output_tokens"]?.number
                )
            })
        values["cost_usd"] = (sum("purser.cost_usd", over: owned) ?? priced).map(JSONValue.number)
        if !tools.isEmpty {
            values["tool_latency_ms"] = .number(tools.map(milliseconds).reduce(0, +) / Double(tools.count))
        }
        if !scores.isEmpty { values["quality"] = .number(scores.reduce(0, +) / Double(scores.count)) }
        if !measured {
            for field in ["model", "input_tokens", "output_tokens", "cost_usd", "tool_latency_ms", "quality"] {
                values[field] = nil
            }
        }
        do {
            return try TaskRecord(values)
        } catch {
            throw LedgerError(.invalidInput, "task \(invocation.traceID)/\(invocation.spanID): \(error.message)")
        }
    }
}
