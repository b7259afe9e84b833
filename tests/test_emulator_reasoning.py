"""Reasoning models through every adapter: the emulator's reasoning mode hands out thought
signatures, thinking blocks and encrypted reasoning items and rejects a follow-up without them.

Done means (issue 16): every adapter completes the core suite multi-turn, streaming too, with the
in-process scores (completion tokens aside: they now include the reasoning tokens, exactly), the
cache and replay keep the parts, the official SDKs round-trip them, and an adapter that drops or
alters them fails the documented way.
"""

from __future__ import annotations

import asyncio
import json

import anthropic
import openai
import pytest
from test_emulator import TASK, ToolRunner, core_suite, inprocess, inprocess_batches, prompts
from test_http_e2e import FAST_RETRY, SECRETS, run, scores

from evals.emulator import EmulatorServer, FaultConfig
from evals.models import make_model
from evals.models.base import ModelRequest

# Reasoning tokens are output tokens: they add to the completion count and, under the inference
# profile, to each model turn's time (so to the wall-clock fields); every other score is equal.
TOKEN_FIELDS = (
    "completion_tokens",
    "cost_usd",
    "usage_estimated",
    "model_time_s",
    "wall_s",
    "serial_wall_s",
    "ideal_wall_s",
    "parallel_speedup",
    "speedup_vs_sequential",  # the references are the in-process policies': / this wall
    "rejoin_s",
    "tool_time_s",  # the same sum, over start times shifted by the longer turns: equal to rounding
    "straggler_wait_s",  # likewise: differences of end times shifted by the longer turns
    "reasoning_tokens",  # the emulator reasons; the in-process policy does not
    "runtime_concurrency",  # the runtime-concurrency sums: differences of shifted times, as above
    "runtime_work_s",
    "runtime_span_s",
    "runtime_longest_s",
    "runtime_lost_s",
)
OPAQUE = {"anthropic": "anthropic", "google": "gemini", "openai-responses": "responses"}


@pytest.fixture(autouse=True)
def keys(monkeypatch):
    for k, v in SECRETS.items():
        monkeypatch.setenv(k, v)


@pytest.fixture(scope="module")
def suite():
    return core_suite()


@pytest.fixture(scope="module")
def all_ids(suite):
    return sorted(t.id for t in suite.tasks)


@pytest.fixture(scope="module")
def baseline(suite, all_ids, tmp_path_factory):
    _, rows = run(suite, "policy/oracle", tmp_path_factory.mktemp("base"), all_ids)
    return {(r["task_id"], r["epoch"]): r["scores"] for r in rows}


def options(srv, provider, tmp_path, **extra):
    opts = {"base_url": srv.base_url + "/v1", "cache_path": str(tmp_path / "c.sqlite"), **FAST_RETRY, **extra}
    if provider == "openai-responses":  # a stateless Responses model keeps reasoning only when asked
        opts["settings"] = {"reasoning_effort": "medium"}
    return opts


@pytest.mark.parametrize("stream", [False, True], ids=["plain", "stream"])
@pytest.mark.parametrize("provider", ["openai", "anthropic", "openai-responses", "google"])
def test_every_adapter_completes_the_core_suite_in_reasoning_mode(
    suite, all_ids, baseline, tmp_path, provider, stream
):
    faults = FaultConfig(rate=0.05, seed=4)
    with EmulatorServer([suite], reasoning=True, faults=faults) as srv:
        opts = options(srv, provider, tmp_path, stream=stream)
        _, rows = run(suite, f"{provider}/oracle", tmp_path, all_ids, model_options=opts)
    assert len(rows) == len(all_ids) >= 186
    assert [r["scores"]["error"] for r in rows if r["scores"]["error"]] == []
    got = {(r["task_id"], r["epoch"]): r for r in rows}
    multi = 0
    for k, r in got.items():
        want = {f: v for f, v in baseline[k].items() if f not in TOKEN_FIELDS}
        assert {f: v for f, v in r["scores"].items() if f not in TOKEN_FIELDS} == want, k
        turns = r["trace"]["turns"]
        reasoning = [t["reasoning_tokens"] for t in turns]
        assert all(n and n > 0 for n in reasoning), k  # reported on every turn, by every API
        # completion = the policy's completion (as in-process) + the reasoning, token for token
        assert r["scores"]["completion_tokens"] == baseline[k]["completion_tokens"] + sum(reasoning), k
        assert r["scores"]["model_time_s"] > baseline[k]["model_time_s"], k  # thinking takes time
        assert r["scores"]["tool_time_s"] == pytest.approx(baseline[k]["tool_time_s"]), k
        if provider in OPAQUE:
            assert all(t["provider_parts"]["format"] == OPAQUE[provider] for t in turns), k
        multi += len(turns) > 1
    assert multi > 150  # the opaque parts went back on a second turn this many times


@pytest.mark.parametrize("provider", ["anthropic", "openai-responses", "google"])
def test_an_adapter_that_drops_the_parts_fails_the_documented_way(
    suite, all_ids, tmp_path, monkeypatch, provider
):
    """The regression test of the round trip: with `own_parts` disabled the adapter rebuilds each
    assistant turn from text and calls only, and every episode that needs a second model turn
    fails there with the real API's 400; single-turn episodes still pass."""
    module = {"anthropic": "anthropic", "openai-responses": "responses", "google": "google"}[provider]
    monkeypatch.setattr(f"evals.models.{module}.own_parts", lambda message, fmt: None)
    expected = {
        "anthropic": "must start with a thinking block",
        "openai-responses": "without its required 'reasoning' item",
        "google": "Function call is missing a thought_signature",
    }[provider]
    ids = all_ids[::8]
    with EmulatorServer([suite], reasoning=True) as srv:
        _, rows = run(
            suite, f"{provider}/oracle", tmp_path, ids, model_options=options(srv, provider, tmp_path)
        )
    failed = [r for r in rows if r["scores"]["error"]]
    assert len(failed) == sum(1 for r in rows if r["scores"]["turns"] > 1 or r["scores"]["error"]) > 10
    for r in failed:
        assert "HTTP 400" in r["scores"]["error"] and expected in r["scores"]["error"]
        assert len(r["trace"]["turns"]) == 1  # stopped at the second request


def test_altered_thinking_is_caught_by_its_signature(suite):
    task = suite.by_id[TASK]
    system, user = prompts(task)

    async def go(base):
        m = make_model("anthropic/oracle", [suite], options={"base_url": base, "cache": False, **FAST_RETRY})
        from evals.models.base import Message

        msgs = [Message("system", system), Message("user", user)]
        r1 = await m.generate(ModelRequest(list(msgs), task.tool_specs))
        assert r1.provider_parts is not None and r1.provider_parts.items[0]["type"] == "thinking"
        r1.provider_parts.items[0]["thinking"] += " (edited)"
        msgs.append(Message("assistant", r1.text, r1.tool_calls, provider_parts=r1.provider_parts))
        runner = ToolRunner(task)
        results = runner.run([(c.name, c.arguments) for c in r1.tool_calls])  # objects in this format
        msgs += [
            Message("tool", res, tool_call_id=c.id, name=c.name)
            for c, res in zip(r1.tool_calls, results, strict=True)
        ]
        try:
            with pytest.raises(Exception, match="Invalid `signature` in `thinking` block"):
                await m.generate(ModelRequest(list(msgs), task.tool_specs))
        finally:
            await m.aclose()

    with EmulatorServer([suite], reasoning=True) as srv:
        asyncio.run(go(srv.base_url))


@pytest.mark.parametrize("provider", ["anthropic", "google", "openai-responses"])
def test_cache_and_replay_keep_the_parts(suite, all_ids, tmp_path, provider):
    ids = all_ids[::12]
    with EmulatorServer([suite], reasoning=True) as srv:
        opts = options(srv, provider, tmp_path, stream=provider == "anthropic")
        live_dir, live = run(suite, f"{provider}/oracle", tmp_path, ids, model_options=opts)
        served = srv.requests_served
        _, cached = run(suite, f"{provider}/oracle", tmp_path, ids, model_options=opts)
        assert srv.requests_served == served  # every turn, the second included, hit the cache

    def parts(rows):
        return {(r["task_id"], t["index"]): t["provider_parts"] for r in rows for t in r["trace"]["turns"]}

    assert scores(cached, drop=()) == scores(live, drop=())
    assert parts(cached) == parts(live) and all(parts(live).values())
    _, replayed = run(suite, f"replay/{live_dir}", tmp_path, ids)
    assert scores(replayed, drop=()) == scores(live, drop=())
    assert parts(replayed) == parts(live)


# -- the official SDKs as clients -------------------------------------------------------------------


@pytest.fixture(scope="module")
def reasoning_server():
    with EmulatorServer([core_suite()], reasoning=True) as s:
        yield s


def _anthropic_episode(client, task, stream: bool, keep_thinking: bool = True):
    system, user = prompts(task)
    tools = [
        {"name": t["name"], "description": t["description"], "input_schema": t["parameters"]}
        for t in task.tool_specs
    ]
    msgs: list[dict] = [{"role": "user", "content": user}]
    runner, kinds = ToolRunner(task), []
    for _ in range(12):
        kw = dict(
            model="oracle",
            max_tokens=8192,
            system=system,
            messages=msgs,
            tools=tools,
            thinking={"type": "enabled", "budget_tokens": 4096},
        )
        if stream:
            with client.messages.stream(**kw) as st:
                r = st.get_final_message()
        else:
            r = client.messages.create(**kw)
        kinds.append([type(b).__name__ for b in r.content])
        uses = [b for b in r.content if b.type == "tool_use"]
        if not uses:
            return runner, kinds, "".join(b.text for b in r.content if b.type == "text")
        content = [b.model_dump(exclude_none=True) for b in r.content]
        if not keep_thinking:
            content = [b for b in content if b["type"] not in ("thinking", "redacted_thinking")]
        msgs.append({"role": "assistant", "content": content})
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
def test_anthropic_sdk_round_trips_thinking_blocks(reasoning_server, stream):
    task = core_suite().by_id[TASK]
    reference = inprocess(task)
    with anthropic.Anthropic(base_url=reasoning_server.base_url, api_key="t", max_retries=0) as c:
        runner, kinds, answer = _anthropic_episode(c, task, stream)
        assert answer == reference.final_text and runner.batches == inprocess_batches(reference)
        assert all(k[0] == "ThinkingBlock" for k in kinds)  # the SDK types them as thinking
        assert any("RedactedThinkingBlock" in k for k in kinds)
        with pytest.raises(anthropic.BadRequestError, match="must start with a thinking block"):
            _anthropic_episode(c, task, stream, keep_thinking=False)


def _responses_episode(client, task, stream: bool, keep_reasoning: bool = True):
    system, user = prompts(task)
    tools = [{"type": "function", **t, "strict": False} for t in task.tool_specs]
    items: list[dict] = [{"role": "user", "content": user}]
    runner, reasoning_tokens = ToolRunner(task), []
    for _ in range(12):
        kw = dict(
            model="oracle",
            instructions=system,
            input=items,
            tools=tools,
            store=False,
            include=["reasoning.encrypted_content"],
            reasoning={"effort": "medium"},
        )
        if stream:
            r = None
            for ev in client.responses.create(**kw, stream=True):
                if ev.type == "response.completed":
                    r = ev.response
        else:
            r = client.responses.create(**kw)
        reasoning_tokens.append(r.usage.output_tokens_details.reasoning_tokens)
        kinds = [type(o).__name__ for o in r.output]
        assert kinds[0] == "ResponseReasoningItem" and r.output[0].encrypted_content
        calls = [o for o in r.output if o.type == "function_call"]
        if not calls:
            return runner, reasoning_tokens, r.output_text
        items += [
            o.model_dump(exclude_none=True) for o in r.output if keep_reasoning or o.type != "reasoning"
        ]
        results = runner.run([(c.name, json.loads(c.arguments)) for c in calls])
        items += [
            {"type": "function_call_output", "call_id": c.call_id, "output": res}
            for c, res in zip(calls, results, strict=True)
        ]
    raise AssertionError("the episode did not end")


@pytest.mark.parametrize("stream", [False, True], ids=["plain", "stream"])
def test_openai_sdk_round_trips_encrypted_reasoning_items(reasoning_server, stream):
    task = core_suite().by_id[TASK]
    reference = inprocess(task)
    with openai.OpenAI(base_url=reasoning_server.base_url + "/v1", api_key="t", max_retries=0) as c:
        runner, reasoning_tokens, answer = _responses_episode(c, task, stream)
        assert answer == reference.final_text and runner.batches == inprocess_batches(reference)
        assert all(n > 0 for n in reasoning_tokens)
        with pytest.raises(openai.BadRequestError, match="without its required 'reasoning' item"):
            _responses_episode(c, task, stream, keep_reasoning=False)
        # Chat Completions keeps reasoning server-side: only the count comes back
        system, user = prompts(task)
        r = c.chat.completions.create(
            model="oracle",
            messages=[{"role": "system", "content": system}, {"role": "user", "content": user}],
            tools=[{"type": "function", "function": t} for t in task.tool_specs],
        )
        assert r.usage.completion_tokens_details.reasoning_tokens > 0


def _gemini_episode(client, task, stream: bool, keep_signatures: bool = True):
    from google.genai import types

    system, user = prompts(task)
    decls = [
        types.FunctionDeclaration(
            name=t["name"], description=t["description"], parameters_json_schema=t["parameters"]
        )
        for t in task.tool_specs
    ]
    cfg = types.GenerateContentConfig(
        system_instruction=system,
        tools=[types.Tool(function_declarations=decls)],
        automatic_function_calling=types.AutomaticFunctionCallingConfig(disable=True),
        thinking_config=types.ThinkingConfig(thinking_level="low"),
    )
    contents = [types.Content(role="user", parts=[types.Part(text=user)])]
    runner, signed = ToolRunner(task), []
    for _ in range(12):
        if stream:
            chunks = list(
                client.models.generate_content_stream(model="oracle", contents=contents, config=cfg)
            )
            parts = [p for ch in chunks for p in ch.candidates[0].content.parts]
            thoughts = chunks[-1].usage_metadata.thoughts_token_count
        else:
            r = client.models.generate_content(model="oracle", contents=contents, config=cfg)
            parts = list(r.candidates[0].content.parts)
            thoughts = r.usage_metadata.thoughts_token_count
        assert thoughts and thoughts > 0
        signed.append(sum(1 for p in parts if isinstance(p.thought_signature, bytes)))
        calls = [p.function_call for p in parts if p.function_call]
        if not calls:
            return runner, signed, "".join(p.text or "" for p in parts if not p.thought)
        if not keep_signatures:
            parts = [p.model_copy(update={"thought_signature": None}) for p in parts]
        contents.append(types.Content(role="model", parts=parts))
        results = runner.run([(c.name, c.args) for c in calls])
        contents.append(
            types.Content(
                role="user",
                parts=[
                    types.Part(
                        function_response=types.FunctionResponse(
                            id=c.id, name=c.name, response={"result": res}
                        )
                    )
                    for c, res in zip(calls, results, strict=True)
                ],
            )
        )
    raise AssertionError("the episode did not end")


@pytest.mark.parametrize("stream", [False, True], ids=["plain", "stream"])
def test_google_genai_sdk_round_trips_thought_signatures(reasoning_server, stream):
    from google import genai
    from google.genai import errors, types

    task = core_suite().by_id[TASK]
    reference = inprocess(task)
    opts = types.HttpOptions(base_url=reasoning_server.base_url, api_version="v1beta")
    client = genai.Client(api_key="t", http_options=opts)
    runner, signed, answer = _gemini_episode(client, task, stream)
    assert answer == reference.final_text and runner.batches == inprocess_batches(reference)
    assert all(n == 1 for n in signed)  # one signature per step, decoded to bytes by the SDK
    with pytest.raises(errors.ClientError, match="missing a thought_signature"):
        _gemini_episode(client, task, stream, keep_signatures=False)
