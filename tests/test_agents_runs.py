"""`fanout run --model agent/...`: real agent processes against the model proxy (oracle policy) and
the MCP tools, on the real clock. The serial control measures ~1.0 runtime concurrency and the
gather control ~the batch width with identical model scores; crashing, hanging, silent and
unknown-tool agents are recorded and the run goes on; a runtime that skips or adds calls is
scored for it; the agent gets what docs/agents.md promises; resume works as for models."""

from __future__ import annotations

import json
import os
import textwrap
import time
from pathlib import Path

import pytest

from evals.agents.concurrency import runtime_concurrency
from evals.agents.config import REFERENCE_DIR
from evals.cli import main as fanout
from evals.runs import load_run, read_episodes
from evals.trace import Trace

LATENCY = 0.4
WIDTH = 4


def write_suite(root: Path) -> Path:
    """`wide`: four independent lookups; one-lookup tasks for the misbehaving agents."""
    d = root / "agentsuite"
    d.mkdir()
    (d / "suite.yaml").write_text(
        textwrap.dedent(f"""
        name: agentsuite
        tools:
          - name: lookup
            description: Look up a key.
            parameters: {{type: object, properties: {{key: {{type: string}}}}, required: [key]}}
            latency: {{kind: fixed, median_s: {LATENCY}}}
            default: {{value: found}}
        """)
    )
    keys = "abcd"[:WIDTH]
    tasks = [
        {
            "id": "wide",
            "pattern": "independent",
            "prompt": f"Look up {', '.join(keys)}.",
            "tools": ["lookup"],
            "calls": [{"id": k, "tool": "lookup", "args": {"key": k}} for k in keys],
            "answer": {"contains": ["{{ a.value }}"]},
        }
    ]
    for name in ("crash", "hang", "silent", "unknown", "wide2"):
        tasks.append(
            {
                "id": name,
                "pattern": "single",
                "prompt": f"Look up the key {name}.",
                "tools": ["lookup"],
                "calls": [{"id": "x", "tool": "lookup", "args": {"key": name}}],
                "answer": {"contains": ["{{ x.value }}"]},
            }
        )
    (d / "tasks.yaml").write_text(json.dumps(tasks))
    return d


@pytest.fixture(scope="module")
def suite(tmp_path_factory) -> Path:
    return write_suite(tmp_path_factory.mktemp("agents"))


def agent_toml(root: Path, name: str, script: str, **settings) -> Path:
    (root / f"{name}.py").write_text(textwrap.dedent(script))
    lines = [f'command = ["{{python}}", "{{dir}}/{name}.py"]']
    env = settings.pop("env", {})
    for k, v in settings.items():
        lines.append(f"{k} = {json.dumps(v)}")
    if env:
        lines.append("[env]")
        lines += [f"{k} = {json.dumps(v)}" for k, v in env.items()]
    p = root / f"{name}.toml"
    p.write_text("\n".join(lines) + "\n")
    return p


def run(
    suite: Path, out: Path, models: list[str], tasks: list[str], *extra: str, code: int = 0
) -> list[Path]:
    args = ["run", "--suite", str(suite), "--out", str(out), "--clock", "real", "--no-progress"]
    args += ["--inference-profile", "fast", *extra]
    for m in models:
        args += ["--model", m]
    for t in tasks:
        args += ["--task", t]
    assert fanout(args) == code  # 3: episodes ended in errors (docs/errors.md)
    by_model = {
        json.loads((p / "run.json").read_text())["model"]: p
        for p in out.iterdir()
        if (p / "run.json").exists()
    }
    return [by_model[m] for m in models]  # in the order asked, whatever the run ids


def episodes(run_dir: Path) -> dict[str, dict]:
    return {r["task_id"]: r for r in read_episodes(run_dir / "episodes.jsonl")}


def test_serial_control_measures_1_and_gather_measures_the_width(suite, tmp_path):
    serial, gather = (f"agent/{REFERENCE_DIR / n}.toml" for n in ("serial", "gather"))
    dirs = run(suite, tmp_path, [serial, gather], ["wide"])
    (s_ep,), (g_ep,) = (list(episodes(d).values()) for d in dirs)
    for ep in (s_ep, g_ep):
        sc = ep["scores"]
        # The model's behaviour is the oracle's whatever the runtime: only time differs.
        assert sc["success"] and sc["fan_out_recall"] == 1.0 and sc["redundant_calls"] == 0
        assert sc["turns"] == 2 and sc["max_batch"] == WIDTH
        assert ep["trace"]["runtime"]["clock"] == "real" and ep["trace"]["agent"]["exit_code"] == 0
    s_rc, g_rc = (runtime_concurrency(Trace.model_validate(ep["trace"])) for ep in (s_ep, g_ep))
    assert 0.9 <= s_rc.runtime_concurrency <= 1.05
    assert 0.6 * WIDTH <= g_rc.runtime_concurrency <= WIDTH + 0.05  # dispatch takes a few ms per call
    assert s_rc.runtime_lost_s >= 0.8 * (WIDTH - 1) * LATENCY
    assert g_rc.runtime_lost_s < LATENCY
    assert s_ep["scores"]["wall_s"] - g_ep["scores"]["wall_s"] >= 0.8 * (WIDTH - 1) * LATENCY
    assert s_ep["scores"]["parallel_speedup"] < 1.05 < 2 < g_ep["scores"]["parallel_speedup"]


MISBEHAVE = """
    import asyncio, os, subprocess, sys, time
    task = os.environ["FANOUT_TASK_ID"]
    if task == "crash":
        print("something broke", file=sys.stderr)
        sys.exit(3)
    if task == "hang":
        child = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
        print(f"child {child.pid}", file=sys.stderr, flush=True)
        time.sleep(60)
    if task == "silent":
        sys.exit(0)
    if task == "unknown":
        from mcp import ClientSession
        from mcp.client.streamable_http import streamable_http_client

        async def main():
            async with streamable_http_client(os.environ["FANOUT_MCP_URL"]) as (r, w, _):
                async with ClientSession(r, w) as s:
                    await s.initialize()
                    await s.call_tool("drop_tables", {"really": True})

        asyncio.run(main())
        print("done")
"""


def _alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().split(")")[-1].split()[0]
    except OSError:
        return False
    return state != "Z"


def test_crash_hang_silence_and_unknown_tools_are_recorded_and_the_run_goes_on(suite, tmp_path):
    toml = agent_toml(tmp_path, "misbehave", MISBEHAVE, timeout=60, concurrency=3)
    (d,) = run(suite, tmp_path / "runs", [f"agent/{toml}"], ["crash", "silent", "unknown"], code=3)
    hang = agent_toml(tmp_path, "hang", MISBEHAVE, timeout=2)
    (h,) = run(suite, tmp_path / "hang-runs", [f"agent/{hang}"], ["hang"], code=3)
    eps = episodes(d)
    assert sorted(eps) == ["crash", "silent", "unknown"]
    tr = {k: v["trace"] for k, v in eps.items()}
    assert tr["crash"]["stop"] == "error"
    assert tr["crash"]["error"] == "agent misbehave exited with code 3: something broke"
    assert tr["silent"]["stop"] == "error" and tr["silent"]["error"] == "agent misbehave printed no answer"
    assert tr["unknown"]["stop"] == "answer" and tr["unknown"]["final_text"] == "done"
    (call,) = tr["unknown"]["calls"]
    assert (call["name"], call["error"], call["cls"], call["turn"]) == (
        "drop_tables",
        "unknown_tool",
        "extraneous",
        0,
    )
    assert tr["unknown"]["agent"]["unknown_tool_calls"] == 1
    assert not any(ep["scores"]["success"] for ep in eps.values())
    summary = json.loads((d / "summary.json").read_text())
    assert summary["episodes"] == 3 and summary["errors"] == 2
    assert load_run(d)[0].status == "complete"
    (hung,) = episodes(h).values()
    t = hung["trace"]
    assert t["stop"] == "error" and t["error"] == "agent hang did not finish within its timeout (killed)"
    assert t["agent"]["timed_out"] and 1.9 < t["agent"]["process_s"] < 5
    child = int(t["agent"]["stderr_tail"].split()[-1])
    assert not _alive(child), "the hung agent's child process was left running"
    assert load_run(h)[0].status == "complete"


LAZY_RUNTIME = """
    # Executes only the first tool call of each response, plus one call of its own, and tells the
    # model the others failed: the runtime, not the model, drops work.
    import asyncio, json, os
    from mcp import ClientSession
    from mcp.client.streamable_http import streamable_http_client
    from openai import AsyncOpenAI

    async def main():
        llm = AsyncOpenAI()
        async with streamable_http_client(os.environ["FANOUT_MCP_URL"]) as (r, w, _):
            async with ClientSession(r, w) as mcp:
                await mcp.initialize()
                tools = [{"type": "function", "function": {"name": t.name, "parameters": t.inputSchema}}
                         for t in (await mcp.list_tools()).tools]
                messages = [{"role": "user", "content": os.environ["FANOUT_PROMPT"]}]
                while True:
                    msg = (await llm.chat.completions.create(model="x", messages=messages, tools=tools)).choices[0].message
                    if not msg.tool_calls:
                        print(msg.content)
                        return
                    messages.append(msg.model_dump(exclude_none=True))
                    first = msg.tool_calls[0]
                    out = await mcp.call_tool(first.function.name, json.loads(first.function.arguments))
                    await mcp.call_tool("lookup", {"key": "zzz"})
                    for c in msg.tool_calls:
                        content = out.content[0].text if c is first else '{"error": {"code": "skipped"}}'
                        messages.append({"role": "tool", "tool_call_id": c.id, "content": content})

    asyncio.run(main())
"""


def test_calls_the_runtime_skips_or_adds_are_scored(suite, tmp_path):
    toml = agent_toml(tmp_path, "lazy", LAZY_RUNTIME)
    (d,) = run(suite, tmp_path / "runs", [f"agent/{toml}"], ["wide"], "--latency-scale", "0.1")
    (ep,) = episodes(d).values()
    calls, sc = ep["trace"]["calls"], ep["scores"]
    # turn 1 asks for a,b,c,d and gets a; turn 2 asks b,c,d and gets b; ... turn 5 answers
    assert [c["turn"] for c in calls] == [1] * 5 + [2] * 4 + [3] * 3 + [4] * 2
    skipped = [c for c in calls if c.get("error") == "not_executed"]
    own = [c for c in calls if c.get("arguments") is None]
    assert len(skipped) == 3 + 2 + 1 and len(own) == 4
    assert all(c["cls"] == "extraneous" and c["raw_arguments"] == '{"key":"zzz"}' for c in own)
    assert all(c["start_s"] == c["end_s"] for c in skipped)
    assert sc["success"] and sc["turns"] == 5 and sc["fan_out_recall"] == 1 / WIDTH
    assert sc["classes"]["extraneous"] == 4 and sc["redundant_calls"] == 4
    agent = ep["trace"]["agent"]
    assert (agent["not_executed"], agent["extraneous_calls"], agent["model_requests"]) == (6, 4, 5)


ENV_DUMP = """
    import json, os, sys
    keys = ["FANOUT_PROMPT", "FANOUT_INSTRUCTIONS", "FANOUT_TASK_ID", "FANOUT_EPOCH", "FANOUT_MCP_URL",
            "OPENAI_BASE_URL", "FANOUT_MODEL_BASE_URL", "ANTHROPIC_BASE_URL", "OPENAI_API_KEY",
            "FANOUT_MODEL_NAME", "MY_SETTING", "MY_SECRET_API_KEY", "GITHUB_TOKEN", "FANOUT_MCP_COMMAND"]
    seen = {k: os.environ.get(k) for k in keys}
    seen["stdin"] = sys.stdin.read()
    with open(os.environ["FANOUT_OUTPUT_FILE"], "w") as f:
        json.dump(seen, f)
    print("this stdout is not the answer")
"""


def test_what_the_agent_receives_and_an_output_file(suite, tmp_path, monkeypatch):
    monkeypatch.setenv("MY_SECRET_API_KEY", "sk-do-not-leak")
    monkeypatch.setenv("GITHUB_TOKEN", "ghp-do-not-leak")
    toml = agent_toml(
        tmp_path, "envdump", ENV_DUMP, output="file", transport="stdio", env={"MY_SETTING": "1"}
    )
    (d,) = run(suite, tmp_path / "runs", [f"agent/{toml}@policy/greedy"], ["wide2"])
    (ep,) = episodes(d).values()
    seen = json.loads(ep["trace"]["final_text"])
    assert seen["FANOUT_PROMPT"] == seen["stdin"] == "Look up the key wide2."
    assert seen["FANOUT_INSTRUCTIONS"].strip() and seen["FANOUT_TASK_ID"] == "wide2"
    assert seen["FANOUT_EPOCH"] == "0" and seen["MY_SETTING"] == "1"
    assert seen["MY_SECRET_API_KEY"] is None and seen["GITHUB_TOKEN"] is None
    assert seen["OPENAI_API_KEY"].startswith("fanout-") and seen["FANOUT_MODEL_NAME"] == "greedy"
    base = seen["ANTHROPIC_BASE_URL"]
    assert base.startswith("http://127.0.0.1:") and "/e/" in base
    assert seen["OPENAI_BASE_URL"] == seen["FANOUT_MODEL_BASE_URL"] == base + "/v1"
    assert seen["FANOUT_MCP_URL"].startswith("http://127.0.0.1:") and seen["FANOUT_MCP_URL"].endswith("/mcp")
    assert json.loads(seen["FANOUT_MCP_COMMAND"])[-1] == seen["FANOUT_MCP_URL"]
    cfg, _ = load_run(d)
    assert cfg.model_info["model"] == "policy/greedy" and cfg.model_info["output"] == "file"
    assert "sk-do-not-leak" not in (d / "run.json").read_text() + (d / "episodes.jsonl").read_text()


def test_resume_runs_only_the_missing_episodes(suite, tmp_path):
    toml = agent_toml(tmp_path, "quick", 'print("found")\n')  # answers without looking anything up
    (d,) = run(suite, tmp_path / "runs", [f"agent/{toml}"], ["wide", "wide2", "silent"])
    lines = (d / "episodes.jsonl").read_bytes().splitlines(keepends=True)
    assert len(lines) == 3
    (d / "episodes.jsonl").write_bytes(lines[0] + lines[1][:40])  # killed mid-line
    assert fanout(["run", "--resume", str(d), "--no-progress"]) == 0
    after = (d / "episodes.jsonl").read_bytes().splitlines(keepends=True)
    assert after[0] == lines[0] and len(after) == 3
    assert sorted(json.loads(x)["task_id"] for x in after) == ["silent", "wide", "wide2"]
    assert all(json.loads(x)["trace"]["final_text"] == "found" for x in after)
    assert load_run(d)[0].status == "complete"


def test_unknown_agents_and_bad_configs_are_usage_errors(suite, tmp_path, capsys):
    out = tmp_path / "runs"
    assert fanout(["run", "--model", "agent/no-such-agent", "--suite", str(suite), "--out", str(out)]) == 2
    assert "no agent config no-such-agent.toml" in capsys.readouterr().err
    bad = tmp_path / "bad.toml"
    bad.write_text('command = ["/no/such/binary"]\n')
    assert fanout(["run", "--model", f"agent/{bad}", "--suite", str(suite), "--out", str(out)]) == 2
    assert "command '/no/such/binary' not found" in capsys.readouterr().err
    bad.write_text('command = ["python3"]\ntimeout = -1\n')
    assert fanout(["run", "--model", f"agent/{bad}", "--suite", str(suite), "--out", str(out)]) == 2
    assert "timeout" in capsys.readouterr().err
    assert not out.exists() or not any(out.iterdir())
    assert os.environ.get("MY_SECRET_API_KEY") is None


LEFT_RUNNING = """
    import subprocess, sys
    # answers and exits at once, leaving a child that holds its stdout and stderr open
    subprocess.Popen([sys.executable, "-c", "import time; time.sleep(30)"], start_new_session={detached})
    print("found", flush=True)
"""


@pytest.mark.parametrize("detached", [False, True])
def test_an_agent_that_exits_leaving_a_child_running_is_not_timed_out(suite, tmp_path, detached):
    """docs/agents.md: process_s is spawn -> exit, and whatever the agent left running is killed.
    Python 3.11's `Process.wait()` also waits for the pipes, which the child holds open: the agent
    was reported as timed out (in its own process group), or the run waited out the child's 30 s
    (in a session of its own, beyond the group kill)."""
    toml = agent_toml(tmp_path, "leaves", LEFT_RUNNING.format(detached=detached), timeout=10)
    t0 = time.monotonic()
    (d,) = run(suite, tmp_path / "runs", [f"agent/{toml}"], ["wide2"])
    took = time.monotonic() - t0
    (ep,) = episodes(d).values()
    agent = ep["trace"]["agent"]
    assert agent["exit_code"] == 0 and not agent["timed_out"]
    assert ep["trace"]["final_text"] == "found"  # read though the child still held the pipe
    assert agent["process_s"] < 2 and took < 8


SLEEPER = """
    import json, os, pathlib, time
    pathlib.Path(os.environ["SEEN"]).write_text(json.dumps([os.getpid(), os.environ["FANOUT_EPISODE_DIR"]]))
    time.sleep(60)
"""


def test_sigterm_stops_a_run_as_ctrl_c_does_and_leaves_no_agent(suite, tmp_path):
    """SIGTERM (CI cancelling a job): the agent, in a session of its own, is killed and its
    scratch folder removed, the run is `interrupted` and says how to resume (exit 130)."""
    import signal
    import subprocess
    import sys

    seen = tmp_path / "seen.json"
    toml = agent_toml(tmp_path, "sleeper", SLEEPER, timeout=120, env={"SEEN": str(seen)})
    out = tmp_path / "runs"
    argv = [sys.executable, "-m", "evals", "run", "--suite", str(suite), "--model", f"agent/{toml}"]
    argv += ["--task", "wide2", "--clock", "real", "--out", str(out), "--no-progress"]
    proc = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 60
    while not seen.exists() and time.monotonic() < deadline:
        time.sleep(0.05)
    assert seen.exists(), proc.communicate(timeout=30)
    time.sleep(0.2)  # the file is written whole
    pid, workdir = json.loads(seen.read_text())
    proc.send_signal(signal.SIGTERM)
    _, stderr = proc.communicate(timeout=60)
    assert proc.returncode == 130 and "Traceback" not in stderr, stderr
    assert "interrupted; resume with:" in stderr
    with pytest.raises(ProcessLookupError):
        os.kill(pid, 0)
    assert not Path(workdir).exists()
    (run_dir,) = out.iterdir()
    assert json.loads((run_dir / "run.json").read_text())["status"] == "interrupted"


def test_no_credential_reaches_the_agent():
    from evals.agents.runner import agent_environment

    base = {
        name: "x"
        for name in (
            "OPENAI_API_KEY",
            "AZURE_OPENAI_KEY",
            "OPENAI_ADMIN_KEY",
            "AWS_SECRET_ACCESS_KEY",
            "AWS_ACCESS_KEY_ID",
            "GITHUB_TOKEN",
            "DB_PASSWORD",
            "GOOGLE_APPLICATION_CREDENTIALS",
            "CLIENT_SECRET",
            "HOME",
            "PATH",
            "LANG",
        )
    }
    env = agent_environment(base, {"MY_SETTING": "1"})
    assert sorted(env) == ["AWS_ACCESS_KEY_ID", "HOME", "LANG", "MY_SETTING", "PATH"]
