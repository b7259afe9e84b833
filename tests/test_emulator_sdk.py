"""Wire conformance: the official `openai` and `anthropic` SDKs complete multi-turn parallel
tool-calling episodes against the emulator, streaming and not, with the tools run on mock_tools.

Each episode must reproduce the in-process reference run: same batches, same answer, same usage.
SDK retries are off so a conformance problem cannot hide behind a retry.
"""

from __future__ import annotations

import json

import pytest
from anthropic import Anthropic
from openai import OpenAI
from test_emulator import TASK, ToolRunner, core_suite, inprocess, inprocess_batches, prompts, usage_rows

from evals.emulator import EmulatorServer, FaultConfig
from evals.fixtures import Task
from evals.trace import Trace

MAX_TURNS = 12


@pytest.fixture(scope="module")
def task() -> Task:
    return core_suite().by_id[TASK]


@pytest.fixture(scope="module")
def reference(task) -> Trace:
    return inprocess(task)


@pytest.fixture(scope="module")
def server():
    with EmulatorServer([core_suite()]) as s:
        yield s


@pytest.fixture(scope="module")
def openai_client(server):
    with OpenAI(base_url=server.base_url + "/v1", api_key="test", max_retries=0, timeout=20) as c:
        yield c


@pytest.fixture(scope="module")
def anthropic_client(server):
    with Anthropic(base_url=server.base_url, api_key="test", max_retries=0, timeout=20) as c:
        yield c


# -- OpenAI Chat Completions ------------------------------------------------------------------
def _chat_start(task: Task) -> tuple[list[dict], list[dict]]:
    system, user = prompts(task)
    tools = [{"type": "function", "function": t} for t in task.tool_specs]
    return [{"role": "system", "content": system}, {"role": "user", "content": user}], tools


def test_openai_sdk_chat_episode(openai_client, task, reference):
    msgs, tools = _chat_start(task)
    runner, usages = ToolRunner(task), []
    for _ in range(MAX_TURNS):
        r = openai_client.chat.completions.create(model="policy/oracle", messages=msgs, tools=tools)
        usages.append(r.usage)
        m = r.choices[0].message
        if not m.tool_calls:
            assert r.choices[0].finish_reason == "stop"
            break
        assert r.choices[0].finish_reason == "tool_calls"
        msgs.append(m.model_dump(exclude_none=True))
        results = runner.run([(tc.function.name, json.loads(tc.function.arguments)) for tc in m.tool_calls])
        msgs += [
            {"role": "tool", "tool_call_id": tc.id, "content": res}
            for tc, res in zip(m.tool_calls, results, strict=True)
        ]
    assert m.content == reference.final_text
    assert runner.batches == inprocess_batches(reference)
    got = [(u.prompt_tokens, u.prompt_tokens_details.cached_tokens, u.completion_tokens) for u in usages]
    assert got == usage_rows(reference)


def test_openai_sdk_chat_streaming_episode(openai_client, task, reference):
    msgs, tools = _chat_start(task)
    runner, usages, deltas_per_call = ToolRunner(task), [], []
    for _ in range(MAX_TURNS):
        stream = openai_client.chat.completions.create(
            model="oracle", messages=msgs, tools=tools, stream=True, stream_options={"include_usage": True}
        )
        text, calls, finish = "", {}, None
        for chunk in stream:
            if chunk.usage is not None:
                usages.append(chunk.usage)
            for ch in chunk.choices:
                finish = ch.finish_reason or finish
                text += ch.delta.content or ""
                for d in ch.delta.tool_calls or []:
                    c = calls.setdefault(d.index, {"id": None, "name": "", "arguments": "", "deltas": 0})
                    c["id"] = d.id or c["id"]
                    c["name"] += (d.function.name or "") if d.function else ""
                    if d.function and d.function.arguments:
                        c["arguments"] += d.function.arguments
                        c["deltas"] += 1
        if not calls:
            assert finish == "stop"
            break
        assert finish == "tool_calls"
        ordered = [calls[i] for i in sorted(calls)]
        deltas_per_call += [c["deltas"] for c in ordered]
        msgs.append(
            {
                "role": "assistant",
                "content": None,
                "tool_calls": [
                    {
                        "id": c["id"],
                        "type": "function",
                        "function": {"name": c["name"], "arguments": c["arguments"]},
                    }
                    for c in ordered
                ],
            }
        )
        results = runner.run([(c["name"], json.loads(c["arguments"])) for c in ordered])
        msgs += [
            {"role": "tool", "tool_call_id": c["id"], "content": res}
            for c, res in zip(ordered, results, strict=True)
        ]
    assert text == reference.final_text
    assert runner.batches == inprocess_batches(reference)
    assert min(deltas_per_call) >= 2  # every call's arguments were split over several deltas
    assert [
        (u.prompt_tokens, u.prompt_tokens_details.cached_tokens, u.completion_tokens) for u in usages
    ] == (usage_rows(reference))


def test_openai_sdk_parallel_tool_calls_false(openai_client, task, reference):
    msgs, tools = _chat_start(task)
    r = openai_client.chat.completions.create(model="greedy", messages=msgs, tools=tools)
    assert len(r.choices[0].message.tool_calls) == len(reference.calls)  # greedy issues every node at once
    r = openai_client.chat.completions.create(
        model="greedy", messages=msgs, tools=tools, parallel_tool_calls=False
    )
    assert len(r.choices[0].message.tool_calls) == 1


# -- OpenAI Responses -------------------------------------------------------------------------
def _responses_episode(client: OpenAI, task: Task, stream: bool) -> tuple[ToolRunner, list, str, set[str]]:
    system, user = prompts(task)
    tools = [{"type": "function", **t} for t in task.tool_specs]
    items: list[dict] = [{"role": "user", "content": user}]
    runner, usages, event_types = ToolRunner(task), [], set()
    for _ in range(MAX_TURNS):
        kw = dict(model="oracle", instructions=system, input=items, tools=tools)
        if stream:
            r = None
            for ev in client.responses.create(**kw, stream=True):
                event_types.add(ev.type)
                if ev.type == "response.completed":
                    r = ev.response
            assert r is not None
        else:
            r = client.responses.create(**kw)
        assert r.status == "completed"
        usages.append(r.usage)
        calls = [o for o in r.output if o.type == "function_call"]
        if not calls:
            return runner, usages, r.output_text, event_types
        items += [
            {"type": "function_call", "call_id": c.call_id, "name": c.name, "arguments": c.arguments}
            for c in calls
        ]
        results = runner.run([(c.name, json.loads(c.arguments)) for c in calls])
        items += [
            {"type": "function_call_output", "call_id": c.call_id, "output": res}
            for c, res in zip(calls, results, strict=True)
        ]
    raise AssertionError("the episode did not end")


@pytest.mark.parametrize("stream", [False, True], ids=["plain", "stream"])
def test_openai_sdk_responses_episode(openai_client, task, reference, stream):
    runner, usages, answer, events = _responses_episode(openai_client, task, stream)
    assert answer == reference.final_text
    assert runner.batches == inprocess_batches(reference)
    got = [(u.input_tokens, u.input_tokens_details.cached_tokens, u.output_tokens) for u in usages]
    assert got == usage_rows(reference)
    if stream:
        assert {
            "response.created",
            "response.function_call_arguments.delta",
            "response.output_text.delta",
        } <= events


# -- Anthropic Messages -----------------------------------------------------------------------
def _anthropic_episode(
    client: Anthropic, task: Task, stream: bool, tool_choice: dict | None = None
) -> tuple[ToolRunner, list, str, int]:
    system, user = prompts(task)
    tools = [
        {"name": t["name"], "description": t["description"], "input_schema": t["parameters"]}
        for t in task.tool_specs
    ]
    msgs: list[dict] = [{"role": "user", "content": user}]
    runner, usages, json_deltas = ToolRunner(task), [], 0
    extra = {"tool_choice": tool_choice} if tool_choice else {}
    for _ in range(MAX_TURNS):
        kw = dict(model="oracle", max_tokens=1024, system=system, messages=msgs, tools=tools, **extra)
        if stream:
            with client.messages.stream(**kw) as st:
                for ev in st:
                    if ev.type == "content_block_delta" and ev.delta.type == "input_json_delta":
                        json_deltas += 1
                r = st.get_final_message()
        else:
            r = client.messages.create(**kw)
        usages.append(r.usage)
        uses = [b for b in r.content if b.type == "tool_use"]
        if not uses:
            assert r.stop_reason == "end_turn"
            return runner, usages, "".join(b.text for b in r.content if b.type == "text"), json_deltas
        assert r.stop_reason == "tool_use"
        msgs.append({"role": "assistant", "content": [b.model_dump(exclude_none=True) for b in r.content]})
        results = runner.run([(b.name, b.input) for b in uses])
        msgs.append(
            {
                "role": "user",
                "content": [
                    {"type": "tool_result", "tool_use_id": b.id, "content": res}
                    for b, res in zip(uses, results, strict=True)
                ],
            }
        )
    raise AssertionError("the episode did not end")


@pytest.mark.parametrize("stream", [False, True], ids=["plain", "stream"])
def test_anthropic_sdk_episode(anthropic_client, task, reference, stream):
    runner, usages, answer, json_deltas = _anthropic_episode(anthropic_client, task, stream)
    assert answer == reference.final_text
    assert runner.batches == inprocess_batches(reference)
    # Anthropic's input_tokens excludes the cached part.
    got = [
        (u.input_tokens + u.cache_read_input_tokens, u.cache_read_input_tokens, u.output_tokens)
        for u in usages
    ]
    assert got == usage_rows(reference)
    if stream:
        assert json_deltas >= 2 * len(reference.calls)


def test_anthropic_sdk_disable_parallel_tool_use(anthropic_client, task, reference):
    choice = {"type": "auto", "disable_parallel_tool_use": True}
    runner, _, answer, _ = _anthropic_episode(anthropic_client, task, False, choice)
    assert [len(b) for b in runner.batches] == [1] * len(reference.calls)
    assert answer == reference.final_text


def test_sdk_retries_ride_through_injected_faults(task, reference):
    """With half the requests faulted (statuses and dropped connections), the SDKs' own retries
    (honouring Retry-After) finish the episode with the reference result."""
    cfg = FaultConfig(rate=0.5, seed=1, kinds=["429", "500", "503", "529", "drop"], retry_after_s=0.01)
    with EmulatorServer([core_suite()], faults=cfg) as s:
        with OpenAI(base_url=s.base_url + "/v1", api_key="test", max_retries=cfg.max_per_request) as oa:
            runner, _, answer, _ = _responses_episode(oa, task, stream=False)
        assert answer == reference.final_text and runner.batches == inprocess_batches(reference)
        with Anthropic(base_url=s.base_url, api_key="test", max_retries=cfg.max_per_request) as an:
            runner, _, answer, _ = _anthropic_episode(an, task, stream=True)
        assert answer == reference.final_text and runner.batches == inprocess_batches(reference)
        faults = sum(s.faults.counts().values())
        assert faults >= 3
        # every turn of both episodes was served once, after the faulted attempts before it
        assert s.requests_served == len(s.faults.log) == 2 * len(reference.turns) + faults
