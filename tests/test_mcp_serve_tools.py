"""`fanout serve-tools` by hand: an agent pointed at the printed addresses is recorded and scored
when the server stops, exactly as `fanout run --model agent/...` would score it."""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys

from evals.agents.config import REFERENCE_DIR
from evals.cli import main as fanout

TASK = "analytics_independent_01"
PROMPT = "For August 2026, what were our churn rate, our conversion rate and the number of active users?"


def test_serve_tools_then_an_agent_started_by_hand(tmp_path):
    record = tmp_path / "episode.json"
    server = subprocess.Popen(
        [sys.executable, "-m", "evals", "serve-tools", "--suite", "core", "--task", TASK]
        + ["--port", "0", "--model-port", "0", "--inference-profile", "fast", "--latency-scale", "0.2"]
        + ["--record", str(record)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        banner = []
        for line in server.stdout:
            banner.append(line)
            if line.startswith("Ctrl-C"):
                break
        text = "".join(banner)
        mcp_url = re.search(r"MCP \(streamable HTTP\)\s+(\S+)", text).group(1)
        model_url = re.search(r"model proxy\s+(\S+)", text).group(1)
        assert PROMPT in text
        env = dict(os.environ, FANOUT_MCP_URL=mcp_url, OPENAI_BASE_URL=model_url, OPENAI_API_KEY="any")
        env.update(FANOUT_PROMPT=PROMPT, FANOUT_MODEL_NAME="oracle")
        agent = subprocess.run(
            [sys.executable, str(REFERENCE_DIR / "plain_openai.py")],
            env=env,
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert agent.returncode == 0, agent.stderr
    finally:
        server.send_signal(signal.SIGTERM)
        _, err = server.communicate(timeout=30)
    assert server.returncode == 0, err
    doc = json.loads(record.read_text())
    assert doc["scores"]["success"] and doc["scores"]["fan_out_recall"] == 1.0
    calls = doc["trace"]["calls"]
    assert [c["turn"] for c in calls] == [1, 1, 1] and all(c["cls"] == "correct" for c in calls)
    assert doc["trace"]["final_text"] == agent.stdout.strip()


def test_serve_tools_misuse_exits_2(capsys):
    assert fanout(["serve-tools", "--suite", "core", "--task", "no_such_task"]) == 2
    assert "no task 'no_such_task'" in capsys.readouterr().err
    assert fanout(["serve-tools", "--connect", "http://127.0.0.1:1/mcp"]) == 2
    assert fanout(["serve-tools", "--suite", "core"]) == 2
    assert fanout(["serve-tools", "--task", TASK, "--host", "8.8.8.8"]) == 2


def test_a_port_in_use_names_its_flag(capsys):
    """`--port 0` with the default --model-port taken said only `cannot listen on 127.0.0.1:8913`."""
    import socket

    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        argv = ["serve-tools", "--suite", "core", "--task", TASK]
        assert fanout([*argv, "--port", "0", "--model-port", str(port)]) == 2
        err = capsys.readouterr().err
        assert err.startswith(f"fanout serve-tools: --model-port {port}: cannot listen on 127.0.0.1:{port}: ")
        assert err.count("\n") == 1, err
        assert fanout([*argv, "--port", str(port), "--model-port", "0"]) == 2
        err = capsys.readouterr().err
        assert err.startswith(f"fanout serve-tools: --port {port}: cannot listen on 127.0.0.1:{port}: ")
        assert err.count("\n") == 1, err
