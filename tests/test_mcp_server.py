"""The mock tools over MCP: latency samples as the runtime draws them and really waited, batches
recognised from the model's responses (writes apply when the batch ends), every call recorded,
and the three transports (streamable HTTP, stdio, the stdio relay) with the official client."""

from __future__ import annotations

import asyncio
import json
import sys
import time

import pytest
from mcp import ClientSession, StdioServerParameters
from mcp.client.stdio import stdio_client
from mcp.client.streamable_http import streamable_http_client

from evals.agents.bridge import command as bridge_command
from evals.agents.host import AgentHost
from evals.agents.session import EpisodeSession
from evals.fixtures import load_suite
from evals.models.base import ModelResponse, ToolCall
from evals.models.policies import PolicyModel
from evals.settings import RuntimeSettings
from mock_tools.canonical import normalized_key

WRITE_READ = "support_write_then_read_01"  # update_ticket(T-5004, resolved), then get_ticket(T-5004)
WIDE = "analytics_independent_01"  # three get_metric calls


@pytest.fixture(scope="module")
def core():
    return load_suite("core")


def cfg(scale: float = 0.01) -> RuntimeSettings:
    return RuntimeSettings(clock="real", latency_scale=scale)


def respond(session: EpisodeSession, calls: list[tuple[str, dict]]) -> None:
    """What the proxy does for one model response."""
    turn = session.begin_turn()
    tcs = [ToolCall(f"c{turn.index}_{i}", n, json.dumps(a)) for i, (n, a) in enumerate(calls)]
    session.end_turn(turn, ModelResponse(tool_calls=tcs))


UPDATE = ("update_ticket", {"ticket_id": "T-5004", "status": "resolved"})
READ = ("get_ticket", {"ticket_id": "T-5004"})


def test_latency_is_the_runtime_sample_and_really_waited(core):
    task = core.by_id[WIDE]
    s = EpisodeSession(task, cfg(0.05))
    args = {"metric": "churn_rate", "month": "2026-08"}

    async def go():
        return [await s.call_tool("get_metric", args) for _ in range(2)]

    first, second = asyncio.run(go())
    lm = s.cfg.latency_model(task.tool_by_name["get_metric"], task.spec.latency)
    for attempt, c in enumerate((first, second)):
        assert c.attempt == attempt
        assert c.sample_s == lm.sample(0, task.id, "get_metric", normalized_key(args), attempt)
        assert c.duration_s == pytest.approx(c.sample_s * 0.05)
        assert c.end - c.start >= c.duration_s
        assert c.end - c.start < c.duration_s + 0.05
    assert first.result == second.result and first.result["value"] is not None


def test_a_read_fanned_out_beside_its_write_sees_stale_data(core):
    """The batch is the model's response, whatever order the runtime executes it in."""
    s = EpisodeSession(core.by_id[WRITE_READ], cfg())

    async def go():
        respond(s, [UPDATE, READ])
        read, write = await asyncio.gather(s.call_tool(*READ), s.call_tool(*UPDATE))
        assert (read.position, write.position) == (1, 0)
        assert read.result["status"] == "open"  # the write applies when the batch ends
        again = await s.call_tool(*READ)  # same batch, after the write finished: still stale
        assert again.result["status"] == "open" and again.position is None
        respond(s, [READ])  # the next model request closed the batch
        after = await s.call_tool(*READ)
        assert after.result["status"] == "resolved" and after.window == 2 and after.position == 0

    asyncio.run(go())


def test_a_serial_runtime_sees_the_same_state_as_a_concurrent_one(core):
    s = EpisodeSession(core.by_id[WRITE_READ], cfg())

    async def go():
        respond(s, [UPDATE, READ])
        await s.call_tool(*UPDATE)
        read = await s.call_tool(*READ)
        assert read.result["status"] == "open"

    asyncio.run(go())


def test_calls_before_any_model_response_stand_alone(core):
    s = EpisodeSession(core.by_id[WRITE_READ], cfg())

    async def go():
        await s.call_tool(*UPDATE)
        read = await s.call_tool(*READ)
        assert read.window == 0 and read.position is None
        assert read.result["status"] == "resolved"

    asyncio.run(go())


def test_unknown_tools_and_calls_the_model_did_not_ask_for(core):
    s = EpisodeSession(core.by_id[WRITE_READ], cfg())

    async def go():
        respond(s, [READ])
        made_up = await s.call_tool("get_ticket", {"ticket_id": "T-9999"})
        unknown = await s.call_tool("drop_tables", {})
        asked = await s.call_tool(*READ)
        return made_up, unknown, asked

    made_up, unknown, asked = asyncio.run(go())
    assert made_up.position is None and made_up.error == "not_found"
    assert unknown.position is None and unknown.error == "unknown_tool" and unknown.duration_s == 0
    assert asked.position == 0


async def _with_host(task, suite, body, scale: float = 0.01):
    host = await AgentHost(PolicyModel("oracle", [suite])).start()
    session = host.open(task, cfg(scale))
    try:
        async with host.tools.serving(session) as url:
            return await body(url, session)
    finally:
        host.close(session)
        await host.stop()


def test_streamable_http_lists_the_task_tools_and_runs_calls_concurrently(core):
    task = core.by_id[WIDE]
    metrics = ["churn_rate", "conversion_rate", "active_users"]

    async def body(url, session):
        async with streamable_http_client(url) as (r, w, _), ClientSession(r, w) as client:
            await client.initialize()
            listed = (await client.list_tools()).tools
            assert [(t.name, t.inputSchema) for t in listed] == [(t.name, t.parameters) for t in task.tools]
            respond(session, [("get_metric", {"metric": m, "month": "2026-08"}) for m in metrics])
            t0 = time.perf_counter()
            results = await asyncio.gather(
                *(client.call_tool("get_metric", {"metric": m, "month": "2026-08"}) for m in metrics)
            )
            wall = time.perf_counter() - t0
        return listed, results, wall

    listed, results, wall = asyncio.run(_with_host(task, core, body, scale=0.4))
    values = [json.loads(r.content[0].text) for r in results]
    assert [v["metric"] for v in values] == metrics
    assert all(not r.isError for r in results)
    # really waited, and concurrently: the batch takes about its longest call, not the sum
    lm = cfg(0.4).latency_model(task.tool_by_name["get_metric"], task.spec.latency)
    durs = [
        0.4 * lm.sample(0, task.id, "get_metric", normalized_key({"metric": m, "month": "2026-08"}), 0)
        for m in metrics
    ]
    assert max(durs) <= wall < sum(durs)


def test_stdio_server_answers_and_records(tmp_path):
    suite = tmp_path / "tiny"
    suite.mkdir()
    (suite / "suite.yaml").write_text(
        "name: tiny\ntools:\n  - name: lookup\n    description: Look up a key.\n"
        "    parameters: {type: object, properties: {key: {type: string}}, required: [key]}\n"
        "    latency: {kind: fixed, median_s: 0.3}\n    default: {value: found}\n"
    )
    task = {"id": "t", "pattern": "single", "prompt": "Look up k.", "tools": ["lookup"]}
    task["calls"] = [{"id": "k", "tool": "lookup", "args": {"key": "k"}}]
    (suite / "tasks.yaml").write_text(json.dumps([task]))
    record = tmp_path / "calls.jsonl"
    params = StdioServerParameters(
        command=sys.executable,
        args=[
            "-m",
            "evals",
            "serve-tools",
            "--stdio",
            "--suite",
            str(suite),
            "--task",
            "t",
            "--record",
            str(record),
        ],
    )

    async def go():
        async with stdio_client(params) as (r, w), ClientSession(r, w) as client:
            await client.initialize()
            names = [t.name for t in (await client.list_tools()).tools]
            res = await asyncio.gather(*(client.call_tool("lookup", {"key": k}) for k in "ab"))
        return names, [json.loads(x.content[0].text) for x in res]

    names, results = asyncio.run(go())
    assert names == ["lookup"] and results == [{"value": "found"}] * 2
    rows = [json.loads(line) for line in record.read_text().splitlines()]
    assert sorted(r["arguments"]["key"] for r in rows) == ["a", "b"]
    assert all(r["end_s"] >= r["start_s"] + 0.3 for r in rows)
    assert abs(rows[0]["start_s"] - rows[1]["start_s"]) < 0.2  # served concurrently


def test_stdio_relay_reaches_the_episode(core):
    task = core.by_id[WRITE_READ]

    async def body(url, session):
        argv = bridge_command(url)
        params = StdioServerParameters(command=argv[0], args=argv[1:])
        respond(session, [UPDATE, READ])
        async with stdio_client(params) as (r, w), ClientSession(r, w) as client:
            await client.initialize()
            res = await asyncio.gather(client.call_tool(*UPDATE), client.call_tool(*READ))
        return [json.loads(x.content[0].text) for x in res], list(session.calls)

    (upd, read), calls = asyncio.run(_with_host(task, core, body))
    assert read["status"] == "open" and upd.get("status") == "resolved"
    assert sorted(c.position for c in calls) == [0, 1]


def test_the_sdks_invalid_request_warning_stays_off_the_terminal(caplog):
    """The SDK logs each request that fails validation (about 90 lines) through the root logger;
    the agent already gets a JSON-RPC error. Other warnings still pass."""
    import logging

    import evals.agents.mcp_server  # noqa: F401  (installs the filter)

    with caplog.at_level(logging.WARNING):
        logging.warning("Failed to validate request: 1 validation error for CallToolRequest ...")
        logging.warning("something else")
    assert [r.getMessage() for r in caplog.records] == ["something else"]
