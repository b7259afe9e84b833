"""The source benchmarks' own verdicts on a Fanout episode, so imported suites report them beside
Fanout's metrics: BFCL's valid/invalid (its `ast_checker`) and TaskBench's node and edge F1.

Pure functions of a scored episode (its ground truth and its trace, with call classes filled in);
None for an episode of a task the verdict does not apply to.

BFCL judges the model's first response: valid when it holds exactly the expected calls, each one
accepted by one expected call (BFCL's `parallel_function_checker_no_order`). On a scored trace that
is: every call issued in turn 1, every call `correct`, and every required node satisfied by one of
them. Two deliberate differences are documented in docs/importing.md: Fanout finds a one-to-one
assignment where BFCL's answer-order first fit can miss it (`parallel_178`), and it normalises a
string given for a non-string parameter (BFCL's "variable" answers) like any string, where BFCL
compares it exactly.

TaskBench compares the predicted tool graph with the gold one as sets: node F1 over tool names,
edge F1 over (source tool, target tool) links, each pooled over a suite's samples
(`evaluate.py`: `flatten` + sklearn's `precision_recall_fscore_support`). A Fanout episode's
predicted graph is what the model did: the tools it called, and a link `u -> v` when a call of `v`
used a value only `u`'s result held (data flow, traced by value: imported results are unique
tokens) or, for DailyLife, whose links are order only (`ordering_only`), when `u` was called in an
earlier turn than `v` (the reverse order predicts the reversed link). The gold links are the ones
evaluate.py reads: in a resource domain (its default `--dependency_type resource`) the `<node-j>`
arguments, so a task_link no argument stands behind (an `after` edge) is none; in DailyLife
(`temporal`) the task_links. As in TaskBench, a name outside the tool list (here: the task's tools)
counts neither way.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from ..groundtruth import GroundTruth
from ..trace import Trace

MIN_TRACE_CHARS = 6  # shorter result strings are too common to say where a value came from


def _dataset(gt: GroundTruth) -> str | None:
    src = gt.task.spec.source
    return str(src.get("dataset")) if isinstance(src, dict) and src.get("dataset") else None


# -- BFCL ---------------------------------------------------------------------------------------
def bfcl_valid(gt: GroundTruth, trace: Trace) -> bool | None:
    """BFCL's verdict on the episode (None for a task not imported from BFCL)."""
    if _dataset(gt) != "bfcl":
        return None
    calls = trace.calls
    if not calls or any(c.turn != 1 or c.cls != "correct" for c in calls):
        return False
    return {c.node for c in calls} >= set(gt.required) and len(calls) == len(gt.required)


# -- TaskBench ----------------------------------------------------------------------------------
@dataclass(frozen=True)
class ToolGraph:
    """Gold and predicted tool graphs of one episode, as TaskBench compares them."""

    gold_nodes: frozenset[str]
    pred_nodes: frozenset[str]
    gold_links: frozenset[tuple[str, str]]
    pred_links: frozenset[tuple[str, str]]


def taskbench_graph(gt: GroundTruth, trace: Trace) -> ToolGraph | None:
    """The episode's gold and predicted tool graphs (None for a task not imported from TaskBench)."""
    if _dataset(gt) != "taskbench":
        return None
    nodes = gt.nodes
    tool = {v: nodes[v].tool for v in gt.required}
    after = {v: set(gt.task.node_by_id[v].spec.after) for v in gt.required}
    # evaluate.py's gold links: DailyLife (`--dependency_type temporal`) its task_links, here all
    # `after` edges; a resource domain (the default, `resource`) the `<node-j>` arguments only, so
    # an `after` edge there (a task_link no argument stands behind) is no link at all.
    temporal = "ordering_only" in gt.task.spec.tags
    gold_links = {
        (tool[u], tool[v])
        for v in gt.required
        for u in nodes[v].deps
        if u in tool and (temporal or u not in after[v])
    }
    ordering = {(tool[u], tool[v]) for v in gt.required for u in after[v] if u in tool} if temporal else set()
    # TaskBench scores names from its tool list only (an invented tool is neither right nor wrong).
    calls = [c for c in trace.calls if c.name in gt.task.tool_by_name]
    pred_links: set[tuple[str, str]] = set()
    values: list[tuple[int, str, list[str]]] = []  # (turn, tool, distinctive strings of its result)
    for c in calls:
        values.append((c.turn, c.name, _strings(c.result) if c.error is None else []))
    for c in calls:
        text = _text(c.arguments)
        if not text:
            continue
        for turn, name, strings in values:
            if turn < c.turn and name != c.name and any(s in text for s in strings):
                pred_links.add((name, c.name))
    first: dict[str, int] = {}
    for c in calls:
        first.setdefault(c.name, c.turn)
    for u, v in ordering:
        if u in first and v in first:
            if first[u] < first[v]:
                pred_links.add((u, v))
            elif first[v] < first[u]:
                pred_links.add((v, u))
    return ToolGraph(frozenset(tool.values()), frozenset(first), frozenset(gold_links), frozenset(pred_links))


def _strings(value: Any) -> list[str]:
    out: list[str] = []

    def walk(v: Any) -> None:
        if isinstance(v, dict):
            for x in v.values():
                walk(x)
        elif isinstance(v, list):
            for x in v:
                walk(x)
        elif isinstance(v, str) and len(v.strip()) >= MIN_TRACE_CHARS:
            out.append(v.strip())

    walk(value)
    return out


def _text(args: Any) -> str:
    return "\x1f".join(_strings(args)) if args else ""


def f1(pairs: Iterable[tuple[frozenset, frozenset]]) -> float | None:
    """TaskBench's pooled F1 over samples of (gold set, predicted set): each item of a sample's union
    is one binary decision (`flatten`), scored with sklearn's `precision_recall_fscore_support`.
    None when no sample has any item."""
    from sklearn.metrics import precision_recall_fscore_support

    gold: list[int] = []
    pred: list[int] = []
    for g, p in pairs:
        for item in g | p:
            gold.append(int(item in g))
            pred.append(int(item in p))
    if not gold:
        return None
    _, _, f, _ = precision_recall_fscore_support(gold, pred, average="binary", zero_division=0)
    return float(f)


def node_f1(graphs: Sequence[ToolGraph]) -> float | None:
    return f1((g.gold_nodes, g.pred_nodes) for g in graphs)


def edge_f1(graphs: Sequence[ToolGraph]) -> float | None:
    return f1((g.gold_links, g.pred_links) for g in graphs)
