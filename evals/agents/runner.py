"""`agent/<name>`: an agent program as the candidate. Per episode Fanout starts its command with
the task and the addresses it needs in its environment, waits for it (bounded by its timeout),
takes its stdout (or declared output file) as the answer, and rebuilds the trace from the model
turns its proxy served and the tool calls its MCP server answered.

What the agent receives (docs/agents.md):
  FANOUT_PROMPT             the user message (also written to its stdin)
  FANOUT_INSTRUCTIONS       the system prompt
  FANOUT_MCP_URL            the task's tools over MCP streamable HTTP
  FANOUT_MCP_COMMAND        with transport = "stdio": a JSON argv that serves them over stdio
  OPENAI_BASE_URL           the model proxy, OpenAI style (`.../v1`); FANOUT_MODEL_BASE_URL too
  ANTHROPIC_BASE_URL        the same proxy, Anthropic style (no `/v1`)
  OPENAI_API_KEY, ANTHROPIC_API_KEY   a per-episode key the proxy accepts (never a real key)
  FANOUT_MODEL_NAME         the model name to send (the proxy serves the run's model whatever it is)
  FANOUT_TASK_ID, FANOUT_EPOCH, FANOUT_EPISODE_DIR (a fresh scratch folder)
  FANOUT_OUTPUT_FILE        with output = "file": where to write the answer
Real provider keys of Fanout's environment are not passed on: the agent needs none.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import shutil
import signal
import sys
import tempfile
import time
from pathlib import Path

from ..fixtures import Task
from ..models.base import Model, ModelError, ModelRequest, ModelResponse
from ..prompts import PromptTemplates
from ..settings import RuntimeSettings
from ..trace import Trace
from .bridge import command as bridge_command
from .config import AgentConfig, resolve
from .host import AgentHost
from .rebuild import AgentOutcome, AgentRun, rebuild
from .session import EpisodeSession

MAX_OUTPUT_BYTES = 1 << 20  # an answer longer than 1 MiB is cut: output is data, never a memory hazard
STDERR_TAIL = 4000
# Names of credentials: any *_KEY (API, access, admin, Azure's AZURE_OPENAI_KEY), tokens,
# passwords, credentials, and anything naming a secret (AWS_SECRET_ACCESS_KEY, CLIENT_SECRET).
_SECRET_SUFFIXES = ("_KEY", "_TOKEN", "_PASSWORD", "_PASSWD", "_CREDENTIALS")


def _is_secret(name: str) -> bool:
    n = name.upper()
    return n.endswith(_SECRET_SUFFIXES) or "SECRET" in n


def agent_environment(base: dict[str, str], extra: dict[str, str]) -> dict[str, str]:
    """The parent's environment without credentials, plus the agent's own settings and ours."""
    env = {k: v for k, v in base.items() if not _is_secret(k)}
    for k in ("OPENAI_BASE_URL", "OPENAI_ORG_ID", "OPENAI_PROJECT_ID"):
        env.pop(k, None)
    env.update(extra)
    return env


async def _drain(stream: asyncio.StreamReader | None, buf: bytearray, keep_head: int, keep_tail: int) -> None:
    """Read a pipe to its end into `buf`, keeping its first `keep_head` or last `keep_tail` bytes.
    What was read is in `buf` even when the read is cancelled (a process the agent left running
    can hold the pipe open after the agent exited)."""
    if stream is None:
        return
    while True:
        chunk = await stream.read(65536)
        if not chunk:
            return
        buf += chunk
        if keep_head and len(buf) > keep_head:
            del buf[keep_head:]
        elif keep_tail and len(buf) > keep_tail:
            del buf[: len(buf) - keep_tail]


_EXIT_POLL_S = 0.05
PIPE_GRACE_S = 2.0  # after the agent exited: the longest wait for the rest of its output


async def _exit(proc: asyncio.subprocess.Process) -> int:
    """The agent's exit status, as soon as it exits. `Process.wait()` also waits for every pipe to
    close (Python 3.11), which a child the agent left running keeps open: it alone would report
    an agent that answered and exited as timed out, or wait out a detached child's lifetime. The
    return code is set at the exit itself, so it is watched too."""
    wait = asyncio.ensure_future(proc.wait())
    try:
        while not wait.done() and proc.returncode is None:
            await asyncio.wait({wait}, timeout=_EXIT_POLL_S)
    finally:
        wait.cancel()
    assert proc.returncode is not None
    return proc.returncode


def _kill_group(pid: int) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(pid, signal.SIGKILL)


class AgentModel(Model):
    """A `Model` only in name: it runs whole episodes (`run_episode`), never single turns."""

    remote = False

    def __init__(self, spec: str, config: AgentConfig, backend: Model):
        self.name = f"agent/{spec}"
        self.config = config
        self.backend = backend
        self.host: AgentHost | None = None
        self._starting: asyncio.Lock | None = None
        self._slots: asyncio.Semaphore | None = None
        self._warned = False

    def describe(self) -> dict:
        c = self.config
        return {
            "name": self.name,
            "agent": c.name,
            "config": c.path,
            "config_digest": c.digest,
            "command": c.argv(),
            "timeout_s": c.timeout,
            "output": c.output,
            "transport": c.transport,
            "concurrency": c.concurrency,
            "model": c.model,
            "model_info": self.backend.describe(),
            "versions": c.versions(),
        }

    def priced_as(self) -> str:
        return self.backend.priced_as()

    async def generate(self, request: ModelRequest) -> ModelResponse:
        raise ModelError("an agent/ model runs whole episodes; it cannot answer a single turn")

    async def aclose(self) -> None:
        if self.host is not None:
            await self.host.stop()
            self.host = None
        await self.backend.aclose()

    async def _ensure_host(self) -> AgentHost:
        if self._starting is None:
            self._starting = asyncio.Lock()
            self._slots = asyncio.Semaphore(self.config.concurrency)
        async with self._starting:
            if self.host is None:
                self.host = await AgentHost(self.backend).start()
        return self.host

    def _warn(self, cfg: RuntimeSettings) -> None:
        if self._warned:
            return
        self._warned = True
        ignored = []
        if cfg.clock != "real":
            ignored.append("--clock virtual (agents always run on the real clock)")
        if cfg.fan_out_cap is not None:
            ignored.append("--fan-out-cap (the agent is the runtime)")
        if cfg.hedge_after is not None:
            ignored.append("--hedge-after (the agent is the runtime)")
        if ignored:
            print(f"{self.name}: ignoring {'; '.join(ignored)}", file=sys.stderr)

    async def run_episode(
        self, task: Task, cfg: RuntimeSettings, epoch: int = 0, prompts: PromptTemplates | None = None
    ) -> Trace:
        self._warn(cfg)
        host = await self._ensure_host()
        assert self._slots is not None
        system, user = (prompts or PromptTemplates.load()).render(task)
        async with self._slots:
            session = host.open(task, cfg, epoch)
            try:
                async with host.tools.serving(session) as tools_url:
                    outcome = await self._run_process(host, session, tools_url, system, user)
                session.finish()
            finally:
                host.close(session)
        if session.fatal is not None:
            raise session.fatal
        return rebuild(
            session, self.name, outcome, AgentRun(agent=self.config.name, output=self.config.output)
        )

    async def _run_process(
        self, host: AgentHost, session: EpisodeSession, tools_url: str, system: str, user: str
    ) -> AgentOutcome:
        c = self.config
        workdir = Path(tempfile.mkdtemp(prefix="fanout-agent-"))
        out_file = workdir / "answer.txt"
        base = host.model_base_url(session)
        key = f"fanout-{session.token}"
        ours = {
            "FANOUT_PROMPT": user,
            "FANOUT_INSTRUCTIONS": system,
            "FANOUT_TASK_ID": session.task.id,
            "FANOUT_EPOCH": str(session.epoch),
            "FANOUT_EPISODE_DIR": str(workdir),
            "FANOUT_MCP_URL": tools_url,
            "FANOUT_MODEL_BASE_URL": f"{base}/v1",
            "FANOUT_MODEL_NAME": c.model.split("/", 1)[-1],
            "OPENAI_BASE_URL": f"{base}/v1",
            "OPENAI_API_KEY": key,
            "ANTHROPIC_BASE_URL": base,
            "ANTHROPIC_API_KEY": key,
            "PYTHONUNBUFFERED": "1",
        }
        if c.transport == "stdio":
            ours["FANOUT_MCP_COMMAND"] = json.dumps(bridge_command(tools_url))
        if c.output == "file":
            ours["FANOUT_OUTPUT_FILE"] = str(out_file)
        env = agent_environment(dict(os.environ), {**c.env, **ours})
        spawn = time.perf_counter()
        try:
            proc = await asyncio.create_subprocess_exec(
                *c.argv(),
                stdin=asyncio.subprocess.PIPE,
                stdout=asyncio.subprocess.PIPE,
                stderr=asyncio.subprocess.PIPE,
                env=env,
                cwd=c.cwd,
                start_new_session=True,
            )
        except OSError as exc:
            shutil.rmtree(workdir, ignore_errors=True)
            now = time.perf_counter()
            return AgentOutcome(spawn, now, None, False, None, failure=f"agent could not start: {exc}")
        out_buf, err_buf = bytearray(), bytearray()
        readers = (
            asyncio.ensure_future(_drain(proc.stdout, out_buf, MAX_OUTPUT_BYTES, 0)),
            asyncio.ensure_future(_drain(proc.stderr, err_buf, 0, STDERR_TAIL)),
        )
        if proc.stdin is not None:
            with contextlib.suppress(ConnectionError):
                proc.stdin.write(user.encode())
                await proc.stdin.drain()
            proc.stdin.close()
        waiter = asyncio.ensure_future(_exit(proc))
        aborted = asyncio.ensure_future(session.aborted.wait())
        timed_out = finished = False
        try:
            done, _ = await asyncio.wait({waiter, aborted}, timeout=c.timeout, return_when="FIRST_COMPLETED")
            if waiter not in done:
                timed_out = not aborted.done()
                _kill_group(proc.pid)
                await waiter
            end = time.perf_counter()
            _kill_group(proc.pid)  # children it left running
            # The rest of its output; a detached child may hold the pipes: keep what was read.
            await asyncio.wait(readers, timeout=PIPE_GRACE_S)
            finished = True
        finally:
            aborted.cancel()
            for r in readers:
                r.cancel()
            if not waiter.done():  # cancelled (Ctrl-C): leave no agent behind
                waiter.cancel()
                _kill_group(proc.pid)
            if not finished or c.output != "file":  # the output file is read below
                shutil.rmtree(workdir, ignore_errors=True)
            # A child the agent left running may still hold the pipes: the transport would stay
            # open past the event loop (asyncio has no public way to close a Process).
            transport = getattr(proc, "_transport", None)
            if transport is not None:
                transport.close()
        stdout, stderr = bytes(out_buf), bytes(err_buf)
        answer: str | None = stdout.decode("utf-8", "replace").strip()
        failure = None
        if c.output == "file":
            try:
                answer = out_file.read_bytes()[:MAX_OUTPUT_BYTES].decode("utf-8", "replace").strip()
            except OSError:
                answer = None
                if proc.returncode == 0 and not timed_out:
                    failure = f"agent {c.name} wrote no output file (FANOUT_OUTPUT_FILE)"
            finally:
                shutil.rmtree(workdir, ignore_errors=True)
        return AgentOutcome(
            spawn,
            end,
            proc.returncode,
            timed_out,
            answer,
            stderr.decode("utf-8", "replace")[-STDERR_TAIL:],
            failure,
        )


def make(name: str, options: dict, suites: list | None = None, seed: int = 0) -> AgentModel:
    """`agent/<name>[@<model>]`: the agent config, and the model its proxy serves."""
    from ..models import make_model

    config = resolve(name)
    argv = config.argv()
    exe = argv[0]
    if shutil.which(exe) is None and not Path(exe).is_file():
        raise ValueError(f"agent/{name}: command {exe!r} not found")
    if config.cwd is not None and not Path(config.cwd).is_dir():
        raise ValueError(f"agent/{name}: cwd {config.cwd!r} is not a folder")
    backend = make_model(config.model, suites or [], seed=seed, options=options)
    return AgentModel(name, config, backend)
