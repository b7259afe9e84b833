"""The model proxy agents talk to: the emulator's wire formats (official SDKs, streaming too) in
front of a policy or a forwarded provider model, with every turn recorded on its episode."""

from __future__ import annotations

import asyncio
import json

import pytest
from anthropic import AsyncAnthropic
from openai import AsyncOpenAI, BadRequestError, NotFoundError

from evals.agents.host import AgentHost
from evals.agents.rebuild import AgentOutcome, AgentRun, rebuild
from evals.emulator import EmulatorServer
from evals.fixtures import load_suite
from evals.models import make_model
from evals.models.base import Model, ModelRequest, ModelResponse, Usage
from evals.models.policies import PolicyModel
from evals.settings import RuntimeSettings
from evals.timing import INFERENCE_PROFILES

TASK = "analytics_independent_01"  # three get_metric calls, then the answer


@pytest.fixture(scope="module")
def core():
    return load_suite("core")


def cfg(**kw) -> RuntimeSettings:
    return RuntimeSettings(clock="real", inference_profile="fast", **kw)


async def with_episode(backend, task, body, **kw):
    host = await AgentHost(backend).start()
    session = host.open(task, cfg(**kw))
    try:
        return await body(host.model_base_url(session), session)
    finally:
        host.close(session)
        await host.stop()
        await backend.aclose()


def chat_tools(task) -> list[dict]:
    return [{"type": "function", "function": t} for t in task.tool_specs]


def test_openai_chat_streaming_is_recorded_with_the_profile_latency(core):
    task = core.by_id[TASK]

    async def body(base, session):
        client = AsyncOpenAI(base_url=f"{base}/v1", api_key="x")
        stream = await client.chat.completions.create(
            model="anything",
            messages=[{"role": "user", "content": task.prompt}],
            tools=chat_tools(task),
            stream=True,
            stream_options={"include_usage": True},
        )
        names, usage = [], None
        async for chunk in stream:
            usage = chunk.usage or usage
            for choice in chunk.choices:
                names += [tc.function.name for tc in choice.delta.tool_calls or [] if tc.function.name]
        return names, usage, session.turns

    names, usage, turns = asyncio.run(with_episode(PolicyModel("oracle", [core]), task, body))
    assert names == ["get_metric"] * 3
    (turn,) = turns
    assert [tc.name for tc in turn.response.tool_calls] == names
    assert (turn.prompt_tokens, turn.completion_tokens) == (usage.prompt_tokens, usage.completion_tokens)
    assert turn.usage_estimated and turn.measured_latency_s is None
    want = INFERENCE_PROFILES["fast"].latency(turn.prompt_tokens, turn.cached_tokens, turn.completion_tokens)
    assert want <= turn.end - turn.start < want + 0.1


def test_anthropic_and_responses_formats(core):
    task = core.by_id[TASK]

    async def body(base, session):
        a = await AsyncAnthropic(base_url=base, api_key="x").messages.create(
            model="m",
            max_tokens=100,
            messages=[{"role": "user", "content": task.prompt}],
            tools=[{"name": t["name"], "input_schema": t["parameters"]} for t in task.tool_specs],
        )
        r = await AsyncOpenAI(base_url=f"{base}/v1", api_key="x").responses.create(
            model="m", input=task.prompt, tools=[{"type": "function", **t} for t in task.tool_specs]
        )
        return a, r, session.turns

    a, r, turns = asyncio.run(with_episode(PolicyModel("oracle", [core]), task, body))
    assert [b.name for b in a.content if b.type == "tool_use"] == ["get_metric"] * 3
    assert [o.name for o in r.output if o.type == "function_call"] == ["get_metric"] * 3
    assert len(turns) == 2


def test_turn_limit_wrong_task_and_unknown_episode(core):
    task = core.by_id[TASK]
    other = core.by_id["support_write_then_read_01"]

    async def body(base, session):
        client = AsyncOpenAI(base_url=f"{base}/v1", api_key="x", max_retries=0)
        with pytest.raises(BadRequestError, match="this episode is task"):
            await client.chat.completions.create(
                model="m", messages=[{"role": "user", "content": other.prompt}]
            )
        msgs = [{"role": "user", "content": task.prompt}]
        await client.chat.completions.create(model="m", messages=msgs, tools=chat_tools(task))
        with pytest.raises(BadRequestError, match="turn limit of 2"):
            await client.chat.completions.create(model="m", messages=msgs, tools=chat_tools(task))
        assert [m.id async for m in client.models.list()] == ["oracle"]
        bad = AsyncOpenAI(base_url=base.rsplit("/e/", 1)[0] + "/e/nope/v1", api_key="x", max_retries=0)
        with pytest.raises(NotFoundError, match="no running Fanout episode"):
            await bad.chat.completions.create(model="m", messages=msgs)
        return session

    s = asyncio.run(with_episode(PolicyModel("oracle", [core]), task, body, max_turns=2))
    assert s.stop == "max_turns" and [t.response is not None for t in s.turns] == [False, True, False]
    assert "this episode is task" in s.turns[0].error


def test_forwarding_to_a_provider_model(core, monkeypatch):
    """`agent/<name>@openai/<model>`: the proxy forwards through Fanout's own adapter (here to the
    emulator standing in for a provider) and records the provider's usage and measured latency."""
    task = core.by_id[TASK]
    monkeypatch.setenv("OPENAI_API_KEY", "provider-key")  # Fanout's key, used by Fanout's adapter only
    with EmulatorServer([core], policy="oracle") as emu:
        backend = make_model(
            "openai/oracle", [core], options={"base_url": f"{emu.base_url}/v1", "cache": False}
        )

        async def body(base, session):
            client = AsyncOpenAI(base_url=f"{base}/v1", api_key="x")
            resp = await client.chat.completions.create(
                model="m", messages=[{"role": "user", "content": task.prompt}], tools=chat_tools(task)
            )
            return resp, session.turns

        resp, turns = asyncio.run(with_episode(backend, task, body))
        served = emu.requests_served
    assert [tc.function.name for tc in resp.choices[0].message.tool_calls] == ["get_metric"] * 3
    assert [json.loads(tc.function.arguments)["metric"] for tc in resp.choices[0].message.tool_calls] == [
        "churn_rate",
        "conversion_rate",
        "active_users",
    ]
    (turn,) = turns
    assert served == 1 and turn.measured_latency_s is not None and turn.prompt_tokens > 0


class _Reporting(Model):
    """A provider stand-in whose usage reports reasoning and cache-write tokens."""

    name = "stub/reporting"
    remote = False

    def describe(self) -> dict:
        return {"name": self.name}

    async def generate(self, request: ModelRequest) -> ModelResponse:
        usage = Usage(120, 30, cached_tokens=40, reasoning_tokens=12, cache_write_tokens=50)
        return ModelResponse(text="All done.", usage=usage, latency_s=0.01, finish_reason="stop")


def test_reported_reasoning_and_cache_write_tokens_reach_the_agent_trace(core):
    """The proxy keeps what the provider reported, as the in-process runtime does: cache writes
    are billed at their own rate, reasoning tokens are shown apart."""
    task = core.by_id[TASK]

    async def body(base, session):
        client = AsyncOpenAI(base_url=f"{base}/v1", api_key="x")
        await client.chat.completions.create(model="m", messages=[{"role": "user", "content": task.prompt}])
        return session

    session = asyncio.run(with_episode(_Reporting(), task, body))
    (turn,) = session.turns
    assert (turn.reasoning_tokens, turn.cache_write_tokens, turn.cached_tokens) == (12, 50, 40)
    now = turn.end
    trace = rebuild(
        session, "stub/reporting", AgentOutcome(now, now, 0, False, "All done."), AgentRun(agent="x")
    )
    (rec,) = trace.turns
    assert (rec.reasoning_tokens, rec.cache_write_tokens, rec.cached_tokens) == (12, 50, 40)
