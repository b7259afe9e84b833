"""Scoring: call classes and per-episode metrics (DESIGN.md sections 4-6). Never calls a model.

Classes, tested in this order for each call in issue order:
  correct     matches an unsatisfied node v and t >= ready_turn(v)
  premature   its tool is the tool of an unsatisfied required node v with t < ready_turn(v)
              (attributed to the first such v, in topological order, whose arguments the call
              matches; if it matches none, to the first such v in topological order)
  duplicate   same tool and normalised arguments as an earlier call of the episode
  wrong_args  its tool is the tool of an unsatisfied, ready node, but the arguments do not match
  extraneous  anything else; unparseable arguments are always extraneous
"""

from __future__ import annotations

import functools
import math
import re
from dataclasses import dataclass
from typing import cast

from pydantic import BaseModel, ConfigDict

from mock_tools.canonical import normalized_key

from .groundtruth import GroundTruth
from .metrics import EpisodeView, batches_of, episode_values
from .prices import Price, cost_usd
from .settings import RuntimeSettings
from .timing import episode_time_metrics, schedule, time_call
from .trace import CALL_CLASSES, CallClass, Stop, Trace

CLASSES = CALL_CLASSES
INF = math.inf


class Scores(BaseModel):
    """One episode's scores. Values of registry metrics computed from the trace
    (`evals.metrics.EpisodeValue`) are kept as extra fields, after the ones counted here."""

    model_config = ConfigDict(extra="allow")

    task_id: str
    pattern: str
    success: bool
    answer_ok: bool
    required_satisfied: int
    required_total: int
    classes: dict[str, int]
    n_calls: int
    on_time: int
    parallelizable: int  # |P|
    premature_nodes: int
    nodes_with_deps: int
    fan_out_recall: float | None
    incorrect_fan_out_rate: float | None
    redundant_calls: int
    redundant_rate: float | None
    turns: int
    ideal_turns: int
    max_batch: int
    wall_s: float
    serial_wall_s: float
    parallel_speedup: float | None
    ideal_wall_s: float
    rejoin_s: float | None
    model_time_s: float
    tool_time_s: float
    prompt_tokens: int
    completion_tokens: int
    cached_tokens: int
    usage_estimated: bool
    cost_usd: float | None
    stop: Stop
    error: str | None = None
    errors_in_results: int = 0
    timed_out_calls: int = 0


@dataclass
class Classification:
    classes: list[str]
    nodes: list[str | None]
    sat: dict[str, int]
    premature_nodes: set[str]


def _ready_turn(gt: GroundTruth, v: str, sat: dict[str, int]) -> float:
    deps = gt.nodes[v].deps
    if not deps:
        return 1
    m = 0
    for u in deps:
        s = sat.get(u)
        if s is None:
            return INF
        if s > m:
            m = s
    return 1 + m


def classify(gt: GroundTruth, trace: Trace) -> Classification:
    sat: dict[str, int] = {}
    seen: set[str] = set()
    classes: list[str] = []
    attributed: list[str | None] = []
    premature_nodes: set[str] = set()
    nodes = gt.nodes
    for c in trace.calls:
        t = c.turn
        args = c.arguments
        cands = gt.by_tool.get(c.name, ())
        cls: str | None = None
        node: str | None = None
        if args is None:
            cls = "extraneous"
        else:
            for v in cands:
                if v in sat:
                    continue
                if t >= _ready_turn(gt, v, sat) and nodes[v].matcher.matches(args):
                    cls, node = "correct", v
                    if c.error is None:
                        sat[v] = t
                    break
            if cls is None:
                early = [
                    v for v in cands if v not in sat and nodes[v].required and t < _ready_turn(gt, v, sat)
                ]
                if early:
                    node = next((v for v in early if nodes[v].matcher.matches(args)), early[0])
                    cls = "premature"
                    premature_nodes.add(node)
            key = c.name + "\x00" + normalized_key(args)
            if cls is None and key in seen:
                cls = "duplicate"
            if cls is None:
                for v in cands:
                    if v not in sat and t >= _ready_turn(gt, v, sat):
                        cls, node = "wrong_args", v
                        break
            if cls is None:
                cls = "extraneous"
            seen.add(key)
        classes.append(cls)
        attributed.append(node)
    return Classification(classes, attributed, sat, premature_nodes)


_WS = re.compile(r"\s+")


def _variants(value: str) -> set[str]:
    v = value.strip().casefold()
    out = {v}
    try:
        f = float(value.replace(",", ""))
    except ValueError:
        return out
    if math.isfinite(f):
        out |= {f"{f:.2f}", f"{f:,.2f}", f"{f:g}"}
        if f.is_integer():
            out |= {str(int(f)), f"{int(f):,}", f"{f:.1f}", f"{f:,.1f}"}
        else:
            out.add(repr(f))
    return out


@functools.lru_cache(maxsize=65536)
def _pattern(value: str) -> re.Pattern:
    """Case-insensitive match of `value` as a whole token: "9" is not found inside "19" or "9.5",
    "rain" is not found inside "drain". Edges that are not word characters need no boundary."""
    v = _WS.sub(" ", value.strip().casefold())
    left = r"(?<!\w)(?<!\d[.,])" if v[:1].isalnum() else ""
    right = r"(?!\w)(?![.,]\d)" if v[-1:].isalnum() else ""
    return re.compile(left + re.escape(v).replace(r"\ ", r"\s+") + right)


def check_answer(gt: GroundTruth, text: str | None) -> bool:
    """`contains` values must all appear, one of each `contains_any` group, no `not_contains` value.
    Numbers also match in their usual renderings (12.5, 12.50, 1,234.50)."""
    if not (gt.answer_contains or gt.answer_any or gt.answer_not):
        return True
    if text is None:
        return False
    hay = _WS.sub(" ", text.casefold())

    def found(value: str) -> bool:
        if not value.strip():
            return True  # an empty rendering (an inactive optional branch) asks for nothing
        return any(_pattern(v).search(hay) for v in _variants(value) if v)

    if not all(found(v) for v in gt.answer_contains):
        return False
    if not all(any(found(v) for v in group) for group in gt.answer_any):
        return False
    return not any(found(v) for v in gt.answer_not if v.strip())


def ideal_wall(gt: GroundTruth, settings: RuntimeSettings, model_latency: float) -> float:
    """The oracle schedule of the task under the same latency samples, runtime policies (cap,
    timeout, hedging of read tools) and model latency per turn."""
    total = gt.ideal_turns * model_latency
    for makespan in _ideal_batches(gt, settings):
        total += makespan
    return total


def _ideal_batches(gt: GroundTruth, settings: RuntimeSettings) -> list[float]:
    s = settings
    key = (s.seed, s.latency_scale, s.latency_profile, s.tool_timeout, s.fan_out_cap, s.hedge_after)
    cached = gt.ideal_batches.get(key)
    if cached is not None:
        return cached
    task = gt.task
    out = []
    for level in gt.oracle_levels():
        durs = []
        for v in level:
            n = gt.nodes[v]
            tool = task.tool_by_name[n.tool]
            durs.append(time_call(s, tool, task.id, normalized_key(n.args), 0, task.spec.latency).duration_s)
        out.append(schedule(durs, s.fan_out_cap)[1])
    gt.ideal_batches[key] = out
    return out


def time_metrics(trace: Trace) -> dict:
    return episode_time_metrics(
        [t.model_latency_s for t in trace.turns],
        [t.batch_s for t in trace.turns],
        [c.duration_s for c in trace.calls],
        [t.n_calls for t in trace.turns],
        trace.wall_s,
        None if trace.runtime.clock == "virtual" else (trace.runtime_overhead_s or 0.0),
    )


def score(gt: GroundTruth, trace: Trace, price: Price | None = None) -> Scores:
    """Score one episode (under the runtime settings its trace records) and write each call's
    class and attributed node into the trace."""
    cl = classify(gt, trace)
    for c, cls, node in zip(trace.calls, cl.classes, cl.nodes, strict=True):
        c.cls, c.node = cast(CallClass, cls), node
    counts: dict[str, int] = {k: 0 for k in CLASSES}
    for cls in cl.classes:
        counts[cls] += 1
    sat = cl.sat
    on_time = 0
    for v in gt.parallelizable:
        if v in sat and sat[v] == _ready_turn(gt, v, sat):
            on_time += 1
    p = len(gt.parallelizable)
    wd = len(gt.with_deps)
    prem = len(cl.premature_nodes & set(gt.with_deps))
    n = len(trace.calls)
    redundant = counts["duplicate"] + counts["extraneous"]
    req_sat = sum(1 for v in gt.required if v in sat)
    answer_ok = check_answer(gt, trace.final_text) if trace.stop == "answer" else False
    tm = time_metrics(trace)
    ideal = ideal_wall(gt, trace.runtime, tm["mean_model_s"])
    prompt = sum(t.prompt_tokens for t in trace.turns)
    completion = sum(t.completion_tokens for t in trace.turns)
    cached = sum(t.cached_tokens for t in trace.turns)
    return Scores(
        task_id=gt.task.id,
        pattern=gt.task.pattern,
        success=req_sat == len(gt.required) and answer_ok,
        answer_ok=answer_ok,
        required_satisfied=req_sat,
        required_total=len(gt.required),
        classes=counts,
        n_calls=n,
        on_time=on_time,
        parallelizable=p,
        premature_nodes=prem,
        nodes_with_deps=wd,
        fan_out_recall=on_time / p if p else None,
        incorrect_fan_out_rate=prem / wd if wd else None,
        redundant_calls=redundant,
        redundant_rate=redundant / n if n else None,
        turns=len(trace.turns),
        ideal_turns=gt.ideal_turns,
        max_batch=max((t.n_calls for t in trace.turns), default=0),
        wall_s=tm["wall_s"],
        serial_wall_s=tm["serial_wall_s"],
        parallel_speedup=tm["serial_wall_s"] / tm["wall_s"] if tm["wall_s"] > 0 else None,
        ideal_wall_s=ideal,
        rejoin_s=tm["rejoin_s"],
        model_time_s=tm["model_time_s"],
        tool_time_s=tm["tool_time_s"],
        prompt_tokens=prompt,
        completion_tokens=completion,
        cached_tokens=cached,
        usage_estimated=any(t.usage_estimated for t in trace.turns),
        cost_usd=cost_usd(price, prompt, cached, completion),
        stop=trace.stop,
        error=trace.error,
        errors_in_results=sum(1 for c in trace.calls if c.error),
        timed_out_calls=sum(1 for c in trace.calls if c.timed_out),
        **episode_values(EpisodeView(trace, batches_of(trace))),
    )
