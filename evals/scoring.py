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

import math
from dataclasses import dataclass
from typing import Any

from pydantic import BaseModel, ConfigDict, model_validator

from mock_tools.canonical import normalized_key

from . import reference as ref
from .answers import check_answer
from .groundtruth import GroundTruth, completed_at
from .memo import TEXT_MAX
from .metrics import EpisodeView, batches_of, episode_values
from .prices import Price, cost_usd
from .prompts import PromptTemplates
from .timing import episode_time_metrics
from .trace import CALL_CLASSES, CallRecord, Stop, Trace, fill

CLASSES = CALL_CLASSES
INF = math.inf


class Scores(BaseModel):
    """One episode's scores. Values of registry metrics computed from the trace
    (`evals.metrics.EpisodeValue`) are kept as extra fields, after the ones counted here."""

    model_config = ConfigDict(extra="allow", ser_json_inf_nan="constants")  # as `trace.LINE_JSON`

    task_id: str
    pattern: str
    success: bool
    answer_ok: bool
    required_satisfied: int
    required_total: int
    bypassed: int = 0  # required-by-fixture nodes no kept node needed: a longer route's steps
    unauthorised_writes: int = 0  # writes that took effect without satisfying an active node
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
    # The reference schedules (DESIGN 5, `evals.reference`): the oracle's wall (`ideal_wall_s`)
    # and the sequential schedule's, at a fixed turn latency per model and run. None until the
    # run's median turn latency is known when the turns are measured; None on lines written before.
    ideal_wall_s: float | None
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
    reference_turn_s: float | None = None  # the fixed model latency per turn of the references
    oracle_turns: int | None = None  # the oracle's turns on this task (its retries included)
    oracle_tool_s: float | None = None  # the oracle's batch makespans, summed
    sequential_turns: int | None = None
    sequential_tool_s: float | None = None
    sequential_wall_s: float | None = None
    speedup_vs_sequential: float | None = None  # sequential_wall_s / wall_s
    # The turns optional calls the model chose to make need when each is issued at the first turn
    # it was ready (then the answer): a model that also names the owner it looked up is not on a
    # longer route. None: no optional call was made.
    optional_turns: int | None = None
    # The headline (docs/scoring.md, "Parallel success"): solved with every call correct, every
    # parallelisable node on time and no more turns than the oracle needed (or its optional calls).
    parallel_success: bool | None = None

    @model_validator(mode="after")
    def _upgrade(self) -> Scores:
        """Lines written before the headline existed get it from the counts they hold. Lines written
        before the reference schedules hold an ideal_wall_s of another definition (the oracle's
        levels at the episode's own mean turn): it is dropped rather than mixed with today's."""
        if self.parallel_success is None:
            self.parallel_success = is_parallel_success(self)
        if self.oracle_turns is None:
            self.ideal_wall_s = None
        return self


def is_parallel_success(s: Scores) -> bool:
    """Success, with every call `correct`, every parallelisable node issued at the first turn it
    was ready, and no more model turns than the oracle took (`ideal_turns` on old lines). A
    premature, duplicate, wrong or unneeded call, a missed fan-out or a longer route all fail it."""
    return (
        s.success
        and s.classes.get("correct", 0) == s.n_calls
        and s.on_time == s.parallelizable
        and s.turns <= turn_limit(s)
    )


def turn_limit(s: Scores) -> int:
    """The most model turns a parallel success may take: the oracle's (its retries of timed-out
    calls included; `ideal_turns` on old lines), or the turns an optional call issued at the
    first turn it was ready needs."""
    limit = s.oracle_turns if s.oracle_turns is not None else s.ideal_turns
    if s.optional_turns is not None:
        limit = max(limit, s.optional_turns)
    return limit


@dataclass
class Classification:
    classes: list[str]
    nodes: list[str | None]
    sat: dict[str, int]
    premature_nodes: set[str]


def ready_turn(gt: GroundTruth, v: str, sat: dict[str, int]) -> float:
    if gt.has_routes:
        return gt.ready_turn(v, sat)
    m = completed_at(gt.nodes[v].deps, sat)
    return INF if m < 0 else 1 + m


def issue_turns(calls: list[CallRecord], sat: dict[str, int]) -> dict[str, int]:
    """The turn each satisfied node was issued at, for fan-out recall: its satisfying call's, or
    that of an earlier `correct` call to it that timed out. A timeout is the tool's (its latency
    passed `--tool-timeout`), not the model's: a model that fanned a node out at the first turn it
    was ready, and got its result only from the retry, fanned out on time, as the oracle does (its
    reference schedule retries too, so the retry's turn does not count against it either)."""
    issued = dict(sat)
    for c in calls:
        v = c.node
        if v is not None and c.timed_out and c.cls == "correct" and v in issued and c.turn < issued[v]:
            issued[v] = c.turn
    return issued


def _batches(trace: Trace) -> list[list[int]]:
    """Call indexes grouped by turn, in issue order."""
    out: list[list[int]] = []
    last = None
    for i, c in enumerate(trace.calls):
        if c.turn != last:
            out.append([])
            last = c.turn
        out[-1].append(i)
    return out


_CLASSIFIED = 64  # memoised classifications per ground truth


def classify(gt: GroundTruth, trace: Trace) -> Classification:
    """Classes in issue order; within a batch, `correct` by a maximum matching (DESIGN 4.1).

    A pure function of the ground truth and, per call, its turn, tool, arguments text (the parsed
    arguments are a function of it) and whether it failed: memoised on the ground truth under
    those, as the answer checks are, because a model that calls alike across epochs (a policy, a
    replayed or cached response, temperature 0) is classified once. Each caller gets its own
    copy. At most `_CLASSIFIED` call sequences are kept per ground truth, each holding at most
    `memo.TEXT_MAX` characters of arguments."""
    key = tuple((c.turn, c.name, c.raw_arguments, c.arguments is None, c.error is None) for c in trace.calls)
    memo = gt.classified
    hit = memo.get(key)
    if hit is None:
        hit = _classify(gt, trace)
        if len(memo) < _CLASSIFIED and sum(len(k[2]) for k in key) <= TEXT_MAX:
            memo[key] = hit
    return Classification(list(hit.classes), list(hit.nodes), dict(hit.sat), set(hit.premature_nodes))


def _classify(gt: GroundTruth, trace: Trace) -> Classification:
    sat: dict[str, int] = {}
    seen: set[str] = set()  # keys (tool, normalised arguments) of earlier calls, for `duplicate`
    n = len(trace.calls)
    classes: list[str] = [""] * n
    attributed: list[str | None] = [None] * n
    premature_nodes: set[str] = set()
    nodes = gt.nodes
    for batch in _batches(trace):
        t = trace.calls[batch[0]].turn
        ready: dict[str, bool] = {}

        def is_ready(v: str, _t: int = t, _r: dict[str, bool] = ready) -> bool:
            r = _r.get(v)
            if r is None:
                r = _r[v] = _t >= ready_turn(gt, v, sat)
            return r

        # Candidates: unsatisfied, ready nodes whose arguments the call matches.
        cands: dict[int, list[str]] = {}
        for i in batch:
            c = trace.calls[i]
            if c.arguments is None:
                continue
            vs = [v for v in gt.by_tool.get(c.name, ()) if v not in sat and is_ready(v)]
            vs = [v for v in vs if nodes[v].matcher.matches_text(c.raw_arguments, c.arguments)]
            if vs:
                cands[i] = sorted(vs, key=lambda v: nodes[v].index)
        ok = [i for i in batch if i in cands and trace.calls[i].error is None]
        match = max_matching(ok, cands)
        matched_before = {v: i for i, v in match.items()}  # node -> the successful call that took it
        for i in batch:
            c = trace.calls[i]
            cls: str | None = None
            node: str | None = None
            if c.arguments is None:
                cls = "extraneous"
            elif i in match:
                cls, node = "correct", match[i]
            # Nodes taken by successful calls issued before this one count as satisfied for it
            # (only an unmatched call with arguments reads them).
            done = {v for v, j in matched_before.items() if j < i} if cls is None else set()
            if cls is None and c.error is not None and i in cands:
                # A failed call that matches: correct, though it satisfies nothing (a retry may).
                free = [v for v in cands[i] if v not in done]
                if free:
                    cls, node = "correct", free[0]
            if cls is None:
                early = [
                    v
                    for v in gt.by_tool.get(c.name, ())
                    if v not in sat and v not in done and nodes[v].required and t < ready_turn(gt, v, sat)
                ]
                if early:
                    node = next(
                        (v for v in early if nodes[v].matcher.matches_text(c.raw_arguments, c.arguments)),
                        early[0],
                    )
                    cls = "premature"
                    premature_nodes.add(node)
            key = None if c.arguments is None else _call_key(c)
            if cls is None and key is not None and key in seen:
                cls = "duplicate"
            if cls is None:
                for v in gt.by_tool.get(c.name, ()):
                    if v not in sat and v not in done and is_ready(v):
                        cls, node = "wrong_args", v
                        break
            if cls is None:
                cls = "extraneous"
            if key is not None:
                seen.add(key)
            classes[i], attributed[i] = cls, node
        for v in match.values():
            sat[v] = t
    return Classification(classes, attributed, sat, premature_nodes)


def _call_key(c: CallRecord) -> str:
    return c.name + "\x00" + normalized_key(c.arguments)


def unauthorised_writes(gt: GroundTruth, trace: Trace) -> int:
    """Writes that took effect (no error result) without satisfying an active node: an inactive
    branch's booking, a second booking, a booking with other arguments. Each is a side effect the
    user did not ask for, so the episode cannot succeed (DESIGN section 4, success)."""
    tools = gt.task.tool_by_name
    n = 0
    for c in trace.calls:
        tool = tools.get(c.name)
        if tool is not None and tool.write and c.error is None and c.cls != "correct":
            n += 1
    return n


def max_matching(calls: list[int], cands: dict[int, list[str]]) -> dict[int, str]:
    """A maximum matching of calls to nodes, deterministic (DESIGN 4.1).

    Calls are added in issue order, each by an augmenting path (Kuhn's algorithm, nodes tried in
    declaration order); an augmenting path never unmatches a call, so the matched calls are the
    earliest set a maximum matching can cover. Then each matched call, in issue order, takes the
    earliest node that still leaves the later ones a perfect matching. When first-fit is already
    maximum (every valid batch of distinct calls) this is first-fit's answer."""
    owner: dict[str, int] = {}

    def augment(i: int, seen: set[str], allowed: dict[str, bool] | None = None) -> bool:
        for v in cands[i]:
            if v in seen or (allowed is not None and not allowed.get(v, False)):
                continue
            seen.add(v)
            j = owner.get(v)
            if j is None or augment(j, seen, allowed):
                owner[v] = i
                return True
        return False

    n_nodes = len({v for i in calls for v in cands[i]})
    matched: list[int] = []
    for i in calls:
        if len(matched) == n_nodes:
            break
        if augment(i, set()):
            matched.append(i)
    first_fit = {owner[v]: v for v in owner}
    # Is it first-fit's answer: each matched call (in issue order) holds the first of its nodes
    # no earlier matched call holds?
    taken: set[str] = set()
    for i in matched:
        if first_fit[i] != next(v for v in cands[i] if v not in taken):
            break
        taken.add(first_fit[i])
    else:
        return first_fit
    # Canonical assignment: call by call, the earliest node that keeps the rest perfectly matchable.
    out: dict[int, str] = {}
    free = {v for i in matched for v in cands[i]}
    for k, i in enumerate(matched):
        for v in cands[i]:
            if v not in free:
                continue
            rest = matched[k + 1 :]
            owner.clear()
            allowed = {u: True for u in free if u != v}
            if all(augment(j, set(), allowed) for j in rest):
                out[i] = v
                free.discard(v)
                break
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


def reference_scores(
    gt: GroundTruth, trace: Trace, wall_s: float, prompts: PromptTemplates | None = None
) -> dict[str, Any]:
    """The reference-schedule scores of one episode (`evals.reference`): complete when its turns
    are profile-timed, parts only (completed when the run is read) when they are measured."""
    return ref.episode_scores(ref.reference(gt, trace.runtime, prompts), wall_s, ref.profile_timed(trace))


def score(
    gt: GroundTruth, trace: Trace, price: Price | None = None, prompts: PromptTemplates | None = None
) -> Scores:
    """Score one episode (under the runtime settings its trace records and the prompts it was
    sent: the reference schedules run under both) and write each call's class and attributed
    node into the trace."""
    cl = classify(gt, trace)
    for c, cls, node in zip(trace.calls, cl.classes, cl.nodes, strict=True):
        fill(c, cls=cls, node=node)
    counts: dict[str, int] = {k: 0 for k in CLASSES}
    for cls in cl.classes:
        counts[cls] += 1
    sat = cl.sat
    res = gt.resolve_routes(sat)
    issued = issue_turns(trace.calls, sat)
    on_time = 0
    for v in res.parallelizable:
        if v in issued and issued[v] == ready_turn(gt, v, sat):
            on_time += 1
    p = len(res.parallelizable)
    optional = [ready_turn(gt, v, sat) + 1 for v in sat if not gt.nodes[v].required]
    wd = len(res.with_deps)
    prem = len(cl.premature_nodes & set(res.with_deps))
    n = len(trace.calls)
    redundant = counts["duplicate"] + counts["extraneous"]
    req_sat = sum(1 for v in res.required if v in sat)
    unauthorised = unauthorised_writes(gt, trace)
    answer_ok = check_answer(gt, trace.final_text) if trace.stop == "answer" else False
    tm = time_metrics(trace)
    refs = reference_scores(gt, trace, tm["wall_s"], prompts)
    computed: dict[str, Any] = episode_values(EpisodeView(trace, batches_of(trace), gt))
    prompt = sum(t.prompt_tokens for t in trace.turns)
    completion = sum(t.completion_tokens for t in trace.turns)
    cached = sum(t.cached_tokens for t in trace.turns)
    cache_write = sum(t.cache_write_tokens or 0 for t in trace.turns)
    return Scores(
        task_id=gt.task.id,
        pattern=gt.task.pattern,
        success=req_sat == len(res.required) and answer_ok and not unauthorised,
        answer_ok=answer_ok,
        required_satisfied=req_sat,
        required_total=len(res.required),
        bypassed=len(res.bypassed),
        unauthorised_writes=unauthorised,
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
        optional_turns=int(max(optional)) if optional else None,
        max_batch=max((t.n_calls for t in trace.turns), default=0),
        wall_s=tm["wall_s"],
        serial_wall_s=tm["serial_wall_s"],
        parallel_speedup=tm["serial_wall_s"] / tm["wall_s"] if tm["wall_s"] > 0 else None,
        ideal_wall_s=refs.pop("ideal_wall_s", None),
        rejoin_s=tm["rejoin_s"],
        model_time_s=tm["model_time_s"],
        tool_time_s=tm["tool_time_s"],
        prompt_tokens=prompt,
        completion_tokens=completion,
        cached_tokens=cached,
        usage_estimated=any(t.usage_estimated for t in trace.turns),
        cost_usd=cost_usd(price, prompt, cached, completion, cache_write),
        stop=trace.stop,
        error=trace.error,
        errors_in_results=sum(1 for c in trace.calls if c.error),
        timed_out_calls=sum(1 for c in trace.calls if c.timed_out),
        **refs,
        **computed,
    )
