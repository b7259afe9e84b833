"""The reference agents on real frameworks (examples/agents), each run by `fanout run` against the
oracle served by the proxy: every one completes the task with the oracle's scores, and each
measures the runtime concurrency its framework really has (published in the README).

The frameworks are the optional extra `agents` (part of the `test` extra, so CI runs these); on a
machine without it they are skipped, naming the missing package. Under CI a missing extra fails.
"""

from __future__ import annotations

import asyncio
import importlib.util
import os

import pytest
from test_agents_runs import LATENCY, WIDTH, episodes, write_suite

from evals.agents.concurrency import runtime_concurrency
from evals.fixtures import load_suite
from evals.runs import build_model, execute, start_run
from evals.trace import Trace

FRAMEWORKS = {  # agent -> (module it needs, concurrent?)
    "openai-agents": ("agents", False),  # MCPServerStreamableHttp serialises its session's requests
    "openai-agents-stdio": ("agents", True),
    "pydantic-ai": ("pydantic_ai", True),
    "langgraph": ("langchain_mcp_adapters", True),
}


def _missing() -> list[str]:
    mods = {m for m, _ in FRAMEWORKS.values()} | {"langgraph", "langchain_openai"}
    return sorted(m for m in mods if importlib.util.find_spec(m) is None)


@pytest.fixture(scope="module")
def framework_runs(tmp_path_factory):
    missing = _missing()
    if missing:
        if os.environ.get("CI"):
            pytest.fail(f"CI must run the framework agents; missing {missing}: install '.[test]'")
        pytest.skip(
            f"optional extra 'agents' not installed (missing {', '.join(missing)}): pip install -e '.[agents]'"
        )
    root = tmp_path_factory.mktemp("frameworks")
    suite = load_suite(str(write_suite(root)))

    async def one(name: str):
        run_dir, cfg = start_run(
            f"agent/{name}",
            suite,
            root / "runs",
            task_patterns=["wide"],
            clock="real",
            inference_profile="fast",
        )
        model = build_model(cfg, [suite])
        try:
            await execute(run_dir, cfg, model, suite, progress=False)
        finally:
            await model.aclose()
        (ep,) = episodes(run_dir).values()
        return name, ep

    async def all_at_once():  # the frameworks' start-up (imports) dominates: overlap it
        return dict(await asyncio.gather(*(one(n) for n in FRAMEWORKS)))

    return asyncio.run(all_at_once())


@pytest.mark.parametrize("name", list(FRAMEWORKS))
def test_framework_agent_completes_the_task_like_the_oracle(framework_runs, name):
    ep = framework_runs[name]
    sc = ep["scores"]
    assert ep["trace"]["stop"] == "answer", ep["trace"].get("error")
    assert sc["success"] and sc["fan_out_recall"] == 1.0 and sc["redundant_calls"] == 0
    assert sc["turns"] == 2 and sc["max_batch"] == WIDTH
    agent = ep["trace"]["agent"]
    assert agent["not_executed"] == 0 and agent["extraneous_calls"] == 0


@pytest.mark.parametrize("name", list(FRAMEWORKS))
def test_framework_runtime_concurrency(framework_runs, name):
    rc = runtime_concurrency(Trace.model_validate(framework_runs[name]["trace"]))
    if FRAMEWORKS[name][1]:
        assert rc.runtime_concurrency >= 0.6 * WIDTH, rc
        assert rc.runtime_lost_s < LATENCY
    else:
        # If this fails, the framework changed: re-measure the README's agent runtimes table.
        assert rc.runtime_concurrency <= 1.1, rc
        assert rc.runtime_lost_s >= 0.8 * (WIDTH - 1) * LATENCY
