#!/usr/bin/env python3
"""An agent instrumented with the real OpenTelemetry SDK, exporting its traces over OTLP/HTTP (protobuf).

The end-to-end test OTLPSDKTests runs this against `purser serve` and checks what purser makes of the traces
against figures it computes itself from the same plan, so the content of every task follows the rules below
exactly, and nothing is random but the trace and span ids (from --seed).

Usage:
    otel_agent.py --endpoint http://127.0.0.1:PORT/v1/traces --token TOKEN --env prod \
        --plan '[{"version": "agent@1", "tasks": 60, "error_every": 20, "tool_error_every": 10,
                  "input_tokens": 1000, "quality": 0.8}, ...]'

Each entry of the plan is one agent process: its own TracerProvider, whose resource carries `service.name`,
`deployment.environment.name` (--env) and `purser.version` (the entry's `version`; left out when it is null, so
the tasks have no version). Task i (from 0) of an entry, with times from a base in the past:

    invoke_agent support   starts at base + 10*i ms, lasts 2000 + 10*(i % 7) ms; gen_ai.operation.name
                           invoke_agent, gen_ai.agent.name support; status ERROR and error.type when
                           error_every > 0 and (i + 1) % error_every == 0; when i is even, an event
                           gen_ai.evaluation.result with gen_ai.evaluation.score.value quality + 0.02*(i % 5)
      chat gpt-4o          +10 to +810 ms; input tokens input_tokens + i, output tokens 40 + i % 3,
                           gen_ai.response.model gpt-4o-2024-08-06
      execute_tool lookup  +900 ms, lasts 100 + 5*(i % 4) ms; status ERROR and error.type when
                           tool_error_every > 0 and (i + 1) % tool_error_every == 0
      chat gpt-4o          +1100 to +1900 ms; input tokens input_tokens + i + 200, output tokens 60

Spans are exported by a BatchSpanProcessor in requests of --batch-size spans (default 7), so a task's spans are
spread over requests and children (which end first) arrive before their parent. The process flushes and shuts
its providers down before it exits; it exits 1 if any export failed.
"""

import argparse
import json
import random
import sys
import time

from opentelemetry import trace
from opentelemetry.exporter.otlp.proto.http import Compression
from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor, SpanExporter, SpanExportResult
from opentelemetry.trace import SpanKind, Status, StatusCode

MS = 1_000_000  # nanoseconds


class CheckedExporter(SpanExporter):
    """Passes spans to the OTLP exporter and remembers whether every export succeeded."""

    def __init__(self, exporter):
        self.exporter = exporter
        self.failures = 0
        self.requests = 0
        self.spans = 0

    def export(self, spans):
        result = self.exporter.export(spans)
        self.requests += 1
        if result == SpanExportResult.SUCCESS:
            self.spans += len(spans)
        else:
            self.failures += 1
        return result

    def shutdown(self):
        self.exporter.shutdown()

    def force_flush(self, timeout_millis=30_000):
        return self.exporter.force_flush(timeout_millis)


def emit_task(tracer, plan, i, base):
    start = base + 10 * i * MS
    invoke = tracer.start_span(
        "invoke_agent support",
        kind=SpanKind.INTERNAL,
        start_time=start,
        attributes={"gen_ai.operation.name": "invoke_agent", "gen_ai.agent.name": "support"},
    )
    context = trace.set_span_in_context(invoke)

    def child(name, operation, begin_ms, end_ms, attributes, failed=False):
        span = tracer.start_span(
            name,
            context=context,
            kind=SpanKind.CLIENT if operation == "chat" else SpanKind.INTERNAL,
            start_time=start + begin_ms * MS,
            attributes={"gen_ai.operation.name": operation, **attributes},
        )
        if failed:
            span.set_attribute("error.type", "ToolError")
            span.set_status(Status(StatusCode.ERROR, "the tool failed"))
        span.end(end_time=start + end_ms * MS)

    model = {"gen_ai.request.model": "gpt-4o", "gen_ai.response.model": "gpt-4o-2024-08-06"}
    child(
        "chat gpt-4o", "chat", 10, 810,
        {**model, "gen_ai.usage.input_tokens": plan["input_tokens"] + i, "gen_ai.usage.output_tokens": 40 + i % 3},
    )
    tool_every = plan.get("tool_error_every", 0)
    child(
        "execute_tool lookup", "execute_tool", 900, 1000 + 5 * (i % 4), {"gen_ai.tool.name": "lookup"},
        failed=tool_every > 0 and (i + 1) % tool_every == 0,
    )
    child(
        "chat gpt-4o", "chat", 1100, 1900,
        {**model, "gen_ai.usage.input_tokens": plan["input_tokens"] + i + 200, "gen_ai.usage.output_tokens": 60},
    )
    if i % 2 == 0:
        score = plan["quality"] + 0.02 * (i % 5)
        invoke.add_event(
            "gen_ai.evaluation.result",
            {"gen_ai.evaluation.name": "helpfulness", "gen_ai.evaluation.score.value": score},
        )
    error_every = plan.get("error_every", 0)
    if error_every > 0 and (i + 1) % error_every == 0:
        invoke.set_attribute("error.type", "AgentError")
        invoke.set_status(Status(StatusCode.ERROR, "the agent gave up"))
    invoke.end(end_time=start + (2000 + 10 * (i % 7)) * MS)


def main():
    parser = argparse.ArgumentParser(description="Emit GenAI agent traces over OTLP/HTTP with the OpenTelemetry SDK.")
    parser.add_argument("--endpoint", required=True, help="the full URL, ending in /v1/traces")
    parser.add_argument("--token", help="sent as Authorization: Bearer TOKEN")
    parser.add_argument("--env", default="prod", help="deployment.environment.name")
    parser.add_argument("--plan", required=True, help="a JSON list of agents: see the module's doc")
    parser.add_argument("--seed", type=int, default=1, help="seeds the trace and span ids")
    parser.add_argument("--batch-size", type=int, default=7, help="spans per export request")
    parser.add_argument("--gzip", action="store_true", help="gzip the requests")
    arguments = parser.parse_args()

    random.seed(arguments.seed)  # the SDK's RandomIdGenerator draws from the random module
    plans = json.loads(arguments.plan)
    total_tasks = sum(plan["tasks"] for plan in plans)
    # Every span ends in the past: the last task ends at base + 10*(tasks - 1) + 2060 ms.
    base = time.time_ns() - (10 * total_tasks + 3000) * MS
    headers = {"Authorization": f"Bearer {arguments.token}"} if arguments.token else {}
    compression = Compression.Gzip if arguments.gzip else Compression.NoCompression
    exporters = []
    for plan in plans:
        attributes = {"service.name": "support-agent", "deployment.environment.name": arguments.env}
        if plan.get("version") is not None:
            attributes["purser.version"] = plan["version"]
        provider = TracerProvider(resource=Resource.create(attributes))
        exporter = CheckedExporter(
            OTLPSpanExporter(endpoint=arguments.endpoint, headers=headers, compression=compression, timeout=30)
        )
        exporters.append(exporter)
        provider.add_span_processor(
            BatchSpanProcessor(
                exporter,
                max_queue_size=4 * plan["tasks"] + 16,
                max_export_batch_size=arguments.batch_size,
                schedule_delay_millis=50,
            )
        )
        tracer = provider.get_tracer("otel_agent", "1.0")
        for i in range(plan["tasks"]):
            emit_task(tracer, plan, i, base)
        provider.shutdown()  # flushes every span still queued

    failures = sum(exporter.failures for exporter in exporters)
    spans = sum(exporter.spans for exporter in exporters)
    requests = sum(exporter.requests for exporter in exporters)
    if failures:
        print(f"otel_agent: {failures} of {requests} export requests failed", file=sys.stderr)
        return 1
    print(f"otel_agent: exported {spans} spans of {total_tasks} tasks in {requests} requests")
    return 0


if __name__ == "__main__":
    sys.exit(main())
