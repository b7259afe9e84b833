"""Builders for synthetic graph tasks and hand-written traces, shared by the scoring tests."""

from __future__ import annotations

import asyncio
import json
import signal
from collections.abc import Iterator
from contextlib import contextmanager

from evals.fixtures import Suite, build_task
from evals.groundtruth import GroundTruth, resolve
from evals.models.base import Model
from evals.prompts import PromptTemplates
from evals.runtime import run_episode
from evals.schema import SuiteSpec, TaskSpec
from evals.scoring import Scores, score
from evals.settings import RuntimeSettings
from evals.trace import CallRecord, Trace, TurnRecord
from mock_tools import ToolRegistry, default_registry, fixed, table_tool
from mock_tools.table import TableToolSpec


def graph_tools(names, latency_s: float | dict[str, float] = 0.3) -> list[TableToolSpec]:
    """A table tool `t_<name>` per name, with a fixed latency (one for all, or per name)."""
    return [
        TableToolSpec(
            name=f"t_{n}",
            description=f"lookup {n}",
            parameters={"type": "object", "properties": {"key": {"type": "string"}}, "required": ["key"]},
            latency=fixed(latency_s[n] if isinstance(latency_s, dict) else latency_s),
            default={"value": f"v_{n}"},
        )
        for n in names
    ]


def graph_suite(
    graphs: dict[str, dict[str, list[str]]],
    shared_tool: bool = False,
    latency_s: float | dict[str, float] = 0.3,
    optional: frozenset[str] = frozenset(),
) -> Suite:
    """One task per graph: node -> its dependencies (as `after`). Each node calls its own table tool
    `t_<node>` with `key=<node>` (or one shared tool `t_x` when `shared_tool`), whose fixed latency
    is `latency_s` (or `latency_s[node]`); the nodes in `optional` are declared optional."""
    names = sorted({n for g in graphs.values() for n in g}) if not shared_tool else ["x"]
    specs = graph_tools(names, latency_s)
    reg: ToolRegistry = default_registry().extended(table_tool(s) for s in specs)
    tasks = []
    for tid, g in graphs.items():
        tools = [f"t_{n}" for n in g] if not shared_tool else ["t_x"]
        calls = [
            {
                "id": n,
                "tool": "t_x" if shared_tool else f"t_{n}",
                "args": {"key": n},
                "after": deps,
                "optional": n in optional,
            }
            for n, deps in g.items()
        ]
        spec = TaskSpec(id=tid, pattern="synthetic", prompt=f"synthetic task {tid}", tools=tools, calls=calls)
        tasks.append(build_task(spec, "<test>", "synthetic", reg, "default"))
    return Suite(
        "synthetic", __import__("pathlib").Path("."), SuiteSpec(name="synthetic", tools=specs), tasks, reg
    )


def make_trace(gt: GroundTruth, batches: list[list[str]], final_text: str = "done") -> Trace:
    """Batches of node ids; `x?` issues x's tool with placeholder arguments. Every result succeeds."""
    tr = Trace(task_id=gt.task.id, suite="synthetic", model="hand")
    idx = 0
    for t, batch in enumerate(batches, start=1):
        tr.turns.append(TurnRecord(index=t, n_calls=len(batch), model_latency_s=1.0))
        for pos, item in enumerate(batch):
            nid = item.rstrip("?")
            node = gt.task.node_by_id[nid]
            args = {"key": "<pending>"} if item.endswith("?") else {"key": nid}
            tr.calls.append(
                CallRecord(
                    index=idx,
                    turn=t,
                    position=pos,
                    name=node.tool,
                    raw_arguments=json.dumps(args),
                    arguments=args,
                    result={"value": "ok"},
                    duration_s=0.3,
                    sample_s=0.3,
                )
            )
            idx += 1
    tr.turns.append(TurnRecord(index=len(batches) + 1, model_latency_s=1.0))
    tr.final_text = final_text
    tr.wall_s = sum(t.model_latency_s for t in tr.turns) + 0.3 * len(batches)
    for t in tr.turns:
        t.batch_s = 0.3 if t.n_calls else 0.0
    return tr


def score_batches(suite: Suite, task_id: str, batches: list[list[str]]) -> Scores:
    task = suite.by_id[task_id]
    gt = resolve(task, 0)
    return score(gt, make_trace(gt, batches))


def run_model(
    model: Model,
    suite: Suite,
    task_id: str,
    settings: RuntimeSettings | None = None,
    *,
    prompts: PromptTemplates | None = None,
) -> tuple[Trace, Scores]:
    settings = settings or RuntimeSettings()
    task = suite.by_id[task_id]
    trace = asyncio.run(run_episode(model, task, settings, prompts=prompts))
    return trace, score(resolve(task, settings.seed), trace)


def batches_of(trace: Trace) -> list[list[str]]:
    out: dict[int, list[str]] = {}
    for c in trace.calls:
        out.setdefault(c.turn, []).append(json.loads(c.raw_arguments).get("key", "?"))
    return [out[k] for k in sorted(out)]


def sigint_default() -> None:
    """`preexec_fn` for a child the test interrupts: a job started in the background of a
    non-interactive shell inherits SIGINT ignored, and Python then installs no KeyboardInterrupt
    handler, so the child would run on; the default disposition makes the test mean Ctrl-C."""
    import signal

    signal.signal(signal.SIGINT, signal.SIG_DFL)


@contextmanager
def deadline(seconds: int) -> Iterator[None]:
    """Fail (instead of hanging the suite) if the body takes longer than `seconds`: the hostile
    inputs these guard against are infinite loops and hangs."""

    def hung(*_: object) -> None:
        raise TimeoutError(f"still running after {seconds} s: a hang")

    old = signal.signal(signal.SIGALRM, hung)
    signal.alarm(seconds)
    try:
        yield
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, old)
