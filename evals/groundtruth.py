"""Resolving a task's ground truth by executing its call graph on the mock tools.

The oracle schedule (one batch per graph level, writes applied at the end of each batch) is
executed once per (task, seed); its outputs give every reference its value, decide `when`
conditions, and render the answer check. The same values are what a model discovers, because
the tools are pure functions of the seed, their inputs and the episode state.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from mock_tools import EpisodeState, ToolContext, World, is_error
from mock_tools.canonical import canonical_json

from .errors import FanoutError
from .fixtures import Task
from .graph import CallGraph
from .matching import NodeMatcher
from .templating import TemplateError


class GroundTruthError(FanoutError, ValueError):
    def __init__(self, task: Task, node: str | None, message: str):
        self.task_id, self.node, self.file = task.id, node, task.file
        where = f"{task.file}: task {task.id!r}" + (f": node {node!r}" if node else "")
        super().__init__(f"{where}: {message}")


@dataclass
class ResolvedNode:
    id: str
    tool: str
    args: dict
    output: Any
    required: bool
    deps: tuple[str, ...]
    matcher: NodeMatcher
    canon_args: str


@dataclass
class GroundTruth:
    task: Task
    seed: int
    nodes: dict[str, ResolvedNode]  # active nodes only, in topological order
    graph: CallGraph  # over active nodes
    inactive: list[str]
    answer_contains: list[str]
    answer_any: list[list[str]]
    answer_not: list[str]
    required: list[str] = field(default_factory=list)
    parallelizable: set[str] = field(default_factory=set)
    with_deps: list[str] = field(default_factory=list)
    ideal_turns: int = 1
    outputs: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self._levels: list[list[str]] | None = None
        # Oracle batch makespans per (latency settings, timeout, cap, hedge): pure, so scoring
        # computes them once per task instead of once per episode.
        self.ideal_batches: dict[tuple, list[float]] = {}
        self.required = [v for v in self.graph.topo if self.nodes[v].required]
        self.parallelizable = self.graph.parallelizable(self.required)
        self.with_deps = [v for v in self.required if self.nodes[v].deps]
        self.ideal_turns = self.graph.subgraph(self.required).longest_path() + 1
        self.by_tool: dict[str, list[str]] = {}
        for v in self.graph.topo:
            self.by_tool.setdefault(self.nodes[v].tool, []).append(v)

    def oracle_levels(self) -> list[list[str]]:
        if self._levels is None:
            self._levels = self.graph.subgraph(self.required).levels()
        return self._levels


def resolve(task: Task, seed: int = 0) -> GroundTruth:
    """Execute the task's graph level by level. Raises GroundTruthError naming the node."""
    world = World(seed)
    state = EpisodeState()
    outputs: dict[str, Any] = {}
    active: dict[str, bool] = {}
    resolved: dict[str, ResolvedNode] = {}
    for level in task.graph.levels():
        writes: list = []
        for vid in level:
            node = task.node_by_id[vid]
            if not all(active.get(u, False) for u in node.deps):
                active[vid] = False
                continue
            ns = outputs
            if node.when_fn is not None:
                try:
                    cond = node.when_fn(ns)
                except TemplateError as exc:
                    raise GroundTruthError(task, vid, f"condition: {exc}") from exc
                if isinstance(cond, str):
                    cond = cond.strip().lower() not in ("", "false", "0", "none", "no")
                if not cond:
                    active[vid] = False
                    continue
            try:
                args = node.args_fn(ns)
                accept = {k: [f(ns) for f in fs] for k, fs in node.accept_fns.items()}
            except TemplateError as exc:
                raise GroundTruthError(task, vid, f"argument reference does not resolve: {exc}") from exc
            tool = task.tool_by_name[node.tool]
            ctx = ToolContext(world, state)
            out = tool.invoke(args, ctx)
            if is_error(out):
                raise GroundTruthError(
                    task,
                    vid,
                    f"ground-truth call {node.tool}({canonical_json(args)}) failed: "
                    f"{out['error'].get('message', out['error'])}",
                )
            writes.extend(ctx.writes)
            outputs[vid] = out
            active[vid] = True
            matcher = NodeMatcher(
                args,
                accept,
                node.spec.omissible,
                tool.defaults(),
                tool.property_names(),
                task.matching,
                tool.default_aliases,
            )
            resolved[vid] = ResolvedNode(
                vid, node.tool, args, out, node.required, (), matcher, canonical_json(args)
            )
        state.apply(writes)
    act = [v for v in task.graph.topo if active.get(v)]
    graph = task.graph.subgraph(act)
    for v in act:
        resolved[v].deps = graph.deps[v]
    try:
        contains = [_text(f(outputs)) for f in task.answer_fns]
        any_groups = [[_text(f(outputs)) for f in g] for g in task.answer_any_fns]
        nots = [_text(f(outputs)) for f in task.not_contains_fns]
    except TemplateError as exc:
        raise GroundTruthError(task, None, f"answer check does not resolve: {exc}") from exc
    return GroundTruth(
        task,
        seed,
        {v: resolved[v] for v in graph.topo},
        graph,
        [v for v in task.graph.topo if not active.get(v)],
        contains,
        any_groups,
        nots,
        outputs=outputs,
    )


def _text(v: Any) -> str:
    if isinstance(v, float) and v.is_integer():
        v = int(v)
    return str(v)


class GroundTruthCache:
    """Ground truth per (task id, seed); resolution is pure, so it is computed once per run."""

    def __init__(self) -> None:
        self._cache: dict[tuple[str, str, int], GroundTruth] = {}

    def get(self, task: Task, seed: int) -> GroundTruth:
        key = (task.suite, task.id, seed)
        gt = self._cache.get(key)
        if gt is None:
            gt = self._cache[key] = resolve(task, seed)
        return gt
