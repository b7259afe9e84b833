"""Resolving a task's ground truth by executing its call graph on the mock tools.

The oracle schedule (one batch per graph level, writes applied at the end of each batch) is
executed once per (task, seed); its outputs give every reference its value, decide `when`
conditions, and render the answer check. The same values are what a model discovers, because
the tools are pure functions of the seed, their inputs and the episode state.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from mock_tools import EpisodeState, ToolContext, World, is_error
from mock_tools.canonical import canonical_json

from .answers import AnswerValueError, Expected, check_values, expand
from .errors import FanoutError
from .fixtures import Task
from .graph import CallGraph
from .matching import NodeMatcher, key_of
from .memo import keeps
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
    write: bool = False
    routes: tuple[frozenset[str], ...] = ()  # `deps` first, then each alternative whose sources are active
    index: int = 0  # declaration order in the fixture: matching breaks ties by it (DESIGN 4.1)


@dataclass
class Resolution:
    """Which nodes an episode had to make, once its routes are resolved (DESIGN 4.2).

    `required` is the kept set in topological order, `deps` each kept node's route, and `bypassed`
    the required-by-fixture nodes no kept node needed (a longer route's intermediate step)."""

    required: list[str]
    deps: dict[str, frozenset[str]]
    parallelizable: set[str]
    with_deps: list[str]
    bypassed: list[str] = field(default_factory=list)


def completed_at(route: Iterable[str], done: dict[str, int]) -> int:
    """The turn by which every node of `route` was done (0 for an empty route), -1 while one is not."""
    m = 0
    for u in route:
        s = done.get(u)
        if s is None:
            return -1
        if s > m:
            m = s
    return m


def best_route(routes: tuple[frozenset[str], ...], done: dict[str, int]) -> frozenset[str]:
    """The route complete earliest under `done` (node -> turn); ties and no complete route: the first."""
    best, best_at = routes[0], None
    for r in routes:
        at = completed_at(r, done)
        if at >= 0 and (best_at is None or at < best_at):
            best, best_at = r, at
    return best


_ANSWER_CHECKS = 64


@dataclass
class GroundTruth:
    task: Task
    seed: int
    nodes: dict[str, ResolvedNode]  # active nodes only, in topological order
    graph: CallGraph  # over active nodes
    inactive: list[str]
    answer_contains: list[Expected]
    answer_any: list[list[Expected]]
    answer_not: list[Expected]
    required: list[str] = field(default_factory=list)
    parallelizable: set[str] = field(default_factory=set)
    with_deps: list[str] = field(default_factory=list)
    ideal_turns: int = 1
    outputs: dict[str, Any] = field(default_factory=dict)
    answer_routes: tuple[
        frozenset[str], ...
    ] = ()  # active nodes the answer reads, then declared alternatives

    def __post_init__(self) -> None:
        self._levels: list[list[str]] | None = None
        self.classified: dict[tuple, Any] = {}  # scoring.classify's memo (call sequence -> classification)
        self._answer_checks: dict[str | None, bool] = {}
        self.required = [v for v in self.graph.topo if self.nodes[v].required]
        self.by_tool: dict[str, list[str]] = {}
        for v in self.graph.topo:
            self.by_tool.setdefault(self.nodes[v].tool, []).append(v)
        self.has_routes = len(self.answer_routes) > 1 or any(len(n.routes) > 1 for n in self.nodes.values())
        if not self.has_routes:
            self.parallelizable = self.graph.parallelizable(self.required)
            self.with_deps = [v for v in self.required if self.nodes[v].deps]
            self.ideal_turns = self.graph.subgraph(self.required).longest_path() + 1
            self.ideal = Resolution(
                self.required,
                {v: frozenset(self.nodes[v].deps) for v in self.required},
                self.parallelizable,
                self.with_deps,
            )
            return
        self._init_routes()

    def answer_ok(self, text: str | None) -> bool:
        """The answer check on `text` (`answers.check_answer`), memoised per text: it is a pure
        function of the text and this ground truth, and a model answering alike across epochs (a
        policy, a cached or replayed response, temperature 0) is checked once. At most
        `_ANSWER_CHECKS` texts are kept per task, none longer than `memo.TEXT_MAX`, so a model that
        never repeats itself cannot grow the memo."""
        memo = self._answer_checks
        ok = memo.get(text)
        if ok is None:
            ok = check_values(self.answer_contains, self.answer_any, self.answer_not, text)
            if len(memo) < _ANSWER_CHECKS and keeps(text):
                memo[text] = ok
        return ok

    def oracle_levels(self) -> list[list[str]]:
        """The oracle's batches: the required nodes by depth (on their ideal routes)."""
        if self._levels is None:
            self._levels = self.graph.subgraph(self.required).levels()
        return self._levels

    # -- alternative routes (DESIGN 4.2) ---------------------------------------------------------
    def _init_routes(self) -> None:
        union = {v: frozenset().union(*n.routes) for v, n in self.nodes.items()}
        self.route_graph = CallGraph(list(self.nodes), union)
        has_required_child = {u for v in self.required for u in union[v]}
        governed = frozenset().union(*self.answer_routes) if self.answer_routes else frozenset()
        # Kept whatever the routes: writes, and required nodes nothing required reads that the
        # answer check does not read either (an information need of their own).
        self.fixed_seeds = {
            v
            for v in self.required
            if self.nodes[v].write or (v not in has_required_child and v not in governed)
        }
        # The ideal: every node takes the route that lets it run earliest (ties: the first declared).
        depth: dict[str, int] = {}
        ideal_route: dict[str, frozenset[str]] = {}
        for v in self.route_graph.topo:
            best, best_d = self.nodes[v].routes[0], None
            for r in self.nodes[v].routes:
                d = 1 + max((depth[u] for u in r), default=0)
                if best_d is None or d < best_d:
                    best, best_d = r, d
            depth[v], ideal_route[v] = best_d or 1, best
        answer = min(
            self.answer_routes or (frozenset(),),
            key=lambda r: max((depth[u] for u in r), default=0),
        )
        self.ideal = self._resolution(ideal_route, answer)
        self.required_ideal = self.ideal.required
        self.parallelizable = self.ideal.parallelizable
        self.with_deps = self.ideal.with_deps
        self.ideal_turns = max((depth[v] for v in self.ideal.required), default=0) + 1
        levels: dict[int, list[str]] = {}
        for v in self.ideal.required:
            levels.setdefault(depth[v], []).append(v)
        self._levels = [levels[d] for d in sorted(levels)]

    def _resolution(self, route: dict[str, frozenset[str]], answer: frozenset[str]) -> Resolution:
        kept: set[str] = set()
        stack = list(self.fixed_seeds | answer)
        while stack:
            v = stack.pop()
            if v not in kept:
                kept.add(v)
                stack.extend(route[v])
        required = [v for v in self.route_graph.topo if v in kept]
        deps = {v: route[v] for v in required}
        graph = CallGraph(required, deps)
        return Resolution(
            required,
            deps,
            graph.parallelizable(),
            [v for v in required if deps[v]],
            [v for v in self.required if v not in kept],
        )

    def resolve_routes(self, sat: dict[str, int]) -> Resolution:
        """The episode's routes: each node's route is the one complete earliest under `sat` (node ->
        turn it was satisfied); the answer's likewise. Without alternatives, the fixture's graph."""
        if not self.has_routes:
            return self.ideal
        route = {v: best_route(n.routes, sat) for v, n in self.nodes.items()}
        answer = best_route(self.answer_routes, sat)
        return self._resolution(route, answer)

    def ready_turn(self, v: str, sat: dict[str, int]) -> float:
        """1 + the earliest turn by which one of v's routes was complete; infinity while none is."""
        best = math.inf
        for r in self.nodes[v].routes:
            m = completed_at(r, sat)
            if m >= 0 and m + 1 < best:
                best = m + 1
        return best


_WORLDS: dict[int, World] = {}


def world_for(seed: int) -> World:
    """The seeded world, built once per process: it is read-only lookups (episode state is kept
    apart), so the ground truth and every episode share it."""
    w = _WORLDS.get(seed)
    if w is None:
        w = _WORLDS[seed] = World(seed)
    return w


def resolve(task: Task, seed: int = 0) -> GroundTruth:
    """Execute the task's graph level by level. Raises GroundTruthError naming the node."""
    world = world_for(seed)
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
                vid,
                node.tool,
                args,
                out,
                node.required,
                (),
                matcher,
                canonical_json(args),
                tool.write,
                index=task.graph.index[vid],
            )
        state.apply(writes)
    act = [v for v in task.graph.topo if active.get(v)]
    graph = task.graph.subgraph(act)
    for v in act:
        resolved[v].deps = graph.deps[v]
        resolved[v].routes = _active_routes(task, v, resolved[v], outputs, active)
    try:
        # An empty rendering (an inactive branch's value) asks for nothing and is left out.
        contains = [x for f in task.answer_fns for x in expand(f(outputs)) if x.strip()]
        any_groups = [[f(outputs) for f in g] for g in task.answer_any_fns]
        nots = [x for f in task.not_contains_fns for x in expand(f(outputs)) if x.strip()]
    except (TemplateError, AnswerValueError) as exc:
        raise GroundTruthError(task, None, f"answer check does not resolve: {exc}") from exc
    # The answer's routes: the calls its references read (those that ran), then each declared
    # alternative whose calls all ran.
    # alternative whose calls all ran. Optional calls the answer reads stay optional; a declared
    # alternative's calls are needed when the answer takes it.
    reads = frozenset(u for u in task.answer_refs if active.get(u) and task.node_by_id[u].required)
    answer_routes = (reads, *(r for r in task.answer_routes if all(active.get(u) for u in r)))
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
        answer_routes=answer_routes,
    )


def _active_routes(
    task: Task, vid: str, node: ResolvedNode, outputs: dict[str, Any], active: dict[str, bool]
) -> tuple[frozenset[str], ...]:
    """The node's routes whose sources all ran, each alternative checked to give the same arguments
    (an alternative that resolves to another value is a fixture error, not a route)."""
    spec = task.node_by_id[vid]
    routes = [frozenset(node.deps)]
    for j, (route, fns) in enumerate(zip(spec.routes[1:], spec.alt_fns, strict=True)):
        if not all(active.get(u) for u in route):
            continue  # a source in an inactive branch: not a route in this world
        for a, fn in fns.items():
            try:
                value = fn(outputs)
            except TemplateError as exc:
                raise GroundTruthError(task, vid, f"alternatives[{j}].{a} does not resolve: {exc}") from exc
            if key_of(value, task.matching) != key_of(node.args[a], task.matching):
                raise GroundTruthError(
                    task,
                    vid,
                    f"alternatives[{j}].{a} resolves to {canonical_json(value)}, but args.{a} to "
                    f"{canonical_json(node.args[a])}: an alternative is another source of the same value",
                )
        routes.append(route)
    return tuple(routes)


def ground_truth(task: Task, seed: int) -> GroundTruth:
    """`resolve(task, seed)`, computed once per task object and seed. Resolution is pure, so it is
    kept on the task itself: the policy, the scorer and what-if share it, and it lives exactly as
    long as the loaded task (two suites with a task of the same id never mix)."""
    cache: dict[int, GroundTruth] = vars(task).setdefault("_ground_truth", {})
    gt = cache.get(seed)
    if gt is None:
        gt = cache[seed] = resolve(task, seed)
    return gt
