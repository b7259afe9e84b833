"""Plain-language explanations of a scored episode, for a player (`fanout play`) to read afterwards.

Nothing here decides a class or a score: the classes and attributed nodes are the ones `scoring`
wrote into the trace, and the answer check is `answers.check_values` run value by value. What
this module adds is the *why*: which result a premature call should have waited for, which
argument a wrong_args call got wrong (and where the expected value comes from), which earlier call
a duplicate repeats, why an extraneous call was not needed, and which answer value was missing.
It reveals the ground truth, so it is shown only once the episode is over.

The text is written so a play-tester can sort each penalty into the player's own mistake, an
unfair task (an ambiguous prompt, a check stricter than the question, a misleading tool
description, a valid route not accepted) or a harness bug: each penalty names the call, the
ground-truth step it was compared with, and where that step's arguments come from.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, field
from typing import Any

from mock_tools.canonical import normalized_key

from .answers import AnswerText, Expected, check_values, state_negated_only
from .groundtruth import GroundTruth, ResolvedNode, best_route
from .matching import key_of
from .scoring import Scores, issue_turns, ready_turn, turn_limit
from .templating import TemplateError
from .trace import CallRecord, Trace


def fmt(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, default=str)


def call_text(name: str, args: Any) -> str:
    return f"{name}({fmt(args) if isinstance(args, dict) else args})"


@dataclass
class CallNote:
    index: int
    turn: int
    position: int
    call: str  # tool(arguments) as sent
    cls: str
    node: str | None
    reason: str
    short: str  # one line, for the penalty list


@dataclass
class StepNote:
    node: str
    call: str  # the ground-truth call, resolved
    needs: list[str]
    required: bool
    ready_turn: int | None
    done_turn: int | None
    status: str


@dataclass
class Explanation:
    calls: list[CallNote] = field(default_factory=list)
    steps: list[StepNote] = field(default_factory=list)
    inactive: list[StepNote] = field(default_factory=list)
    ideal_plan: list[list[str]] = field(default_factory=list)
    answer_lines: list[str] = field(default_factory=list)
    success_reasons: list[str] = field(default_factory=list)
    penalties: list[str] = field(default_factory=list)


# ----------------------------------------------------------------------------------------------
# arguments


def _sources(gt: GroundTruth, v: str) -> dict[str, str]:
    """Argument -> the reference template it is resolved from (`{{ mgr.id }}`), when templated."""
    spec = gt.task.node_by_id[v].spec
    return {k: a for k, a in spec.args.items() if isinstance(a, str) and "{{" in a}


def _accepted(gt: GroundTruth, v: str) -> dict[str, list[Any]]:
    """The node's `accept` alternatives, resolved the way ground truth resolves them."""
    out: dict[str, list[Any]] = {}
    for k, fns in gt.task.node_by_id[v].accept_fns.items():
        vals = []
        for f in fns:
            try:
                vals.append(f(gt.outputs))
            except TemplateError:  # an alternative that does not resolve is simply not shown
                continue
        out[k] = vals
    return out


def arg_diffs(gt: GroundTruth, v: str, call_args: dict) -> list[str]:
    """Why `call_args` does not match node `v`, one phrase per problem `NodeMatcher.problems`
    finds (so it is empty exactly when the call matches)."""
    node = gt.nodes[v]
    m = node.matcher
    tool = gt.task.tool_by_name[node.tool]
    defaults = tool.defaults()
    src = _sources(gt, v)
    accepted = _accepted(gt, v)
    out: list[str] = []

    def origin(k: str) -> str:
        return f" (= {src[k]})" if k in src else ""

    def alts(k: str) -> str:
        main = key_of(node.args[k], m.mode)
        others = [x for x in accepted.get(k, []) if key_of(x, m.mode) != main]
        if not others:
            return ""
        shown = ", ".join(fmt(x) for x in others[:3]) + (", ..." if len(others) > 3 else "")
        return f"; also accepted: {shown}"

    for kind, k, val in m.problems(call_args):
        if kind == "missing":
            out.append(f"`{k}` is missing: it needed {fmt(node.args[k])}{origin(k)}")
        elif kind == "value":
            out.append(f"`{k}`: sent {fmt(val)}, it needed {fmt(node.args[k])}{origin(k)}{alts(k)}")
        elif kind == "unknown":
            out.append(f"`{k}` is not a parameter of {node.tool}")
        elif kind == "unlisted":
            out.append(
                f"`{k}` was not asked for (BFCL matching accepts no argument the answer does not list)"
            )
        else:
            dflt = f" ({fmt(defaults[k])})" if k in defaults else " (it has none)"
            out.append(f"`{k}`={fmt(val)} was not asked for and is not the tool's default{dflt}")
    return out


def _distinctive(val: Any) -> bool:
    if isinstance(val, bool) or val is None:
        return False
    if isinstance(val, str):
        return len(val.strip()) >= 4
    if isinstance(val, int | float):
        return abs(val) >= 100 or (isinstance(val, float) and not val.is_integer())
    return False


def _find_value(obj: Any, val: Any, path: str = "") -> str | None:
    """Path of the first occurrence of `val` inside a tool result (`reports[2].id`), or None."""
    if isinstance(obj, dict):
        for k, x in obj.items():
            p = _find_value(x, val, f"{path}.{k}" if path else str(k))
            if p is not None:
                return p
        return None
    if isinstance(obj, list):
        for i, x in enumerate(obj):
            p = _find_value(x, val, f"{path}[{i}]")
            if p is not None:
                return p
        return None
    if isinstance(val, str):
        return path if isinstance(obj, str) and obj.strip().casefold() == val.strip().casefold() else None
    if isinstance(obj, int | float) and not isinstance(obj, bool) and obj == val:
        return path
    return None


# ----------------------------------------------------------------------------------------------
# per-episode facts derived from the scored trace


def satisfied_turns(trace: Trace) -> dict[str, int]:
    """Node -> turn of its first `correct` call with a non-error result (as scoring defines it)."""
    sat: dict[str, int] = {}
    for c in trace.calls:
        if c.cls == "correct" and c.node is not None and c.error is None and c.node not in sat:
            sat[c.node] = c.turn
    return sat


def _route(gt: GroundTruth, v: str, sat: dict[str, int]) -> frozenset[str]:
    """The route the step took (DESIGN 4.2): the one complete earliest, else the first declared."""
    return best_route(gt.nodes[v].routes, sat)


def _step_call(gt: GroundTruth, v: str) -> str:
    n = gt.nodes[v]
    return call_text(n.tool, n.args)


def _label(gt: GroundTruth, v: str) -> str:
    return f"step `{v}` ({gt.nodes[v].tool})"


def _ready_phrase(gt: GroundTruth, v: str, sat: dict[str, int]) -> str:
    deps = sorted(_route(gt, v, sat), key=gt.graph.topo_index.__getitem__)
    if not deps:
        if gt.nodes[v].deps:
            return "the prompt already states what it needs, so it was ready at turn 1"
        return "it needs no other result, so it was ready at turn 1"
    r = ready_turn(gt, v, sat)
    names = ", ".join(f"`{u}`" for u in deps)
    if r == math.inf:
        return f"it needs the result of {names}, which never came back"
    return f"it needs the result of {names}, back for turn {int(r)}"


class _Explainer:
    def __init__(self, gt: GroundTruth, trace: Trace, scores: Scores):
        self.gt, self.trace, self.scores = gt, trace, scores
        self.task = gt.task
        self.sat = satisfied_turns(trace)
        self.issued = issue_turns(trace.calls, self.sat)
        self.res = gt.resolve_routes(self.sat)
        self.first_by_key: dict[str, CallRecord] = {}
        self.errored: dict[str, list[CallRecord]] = {}  # node -> correct calls whose result was an error

    # -- calls --------------------------------------------------------------------------------
    def call(self, c: CallRecord) -> CallNote:
        cls = c.cls or "unscored"
        reason = getattr(self, "_" + cls, self._unscored)(c)
        text = call_text(c.name, c.arguments if c.arguments is not None else c.raw_arguments)
        if c.arguments is not None:
            key = c.name + "\x00" + normalized_key(c.arguments)
            self.first_by_key.setdefault(key, c)
        if cls == "correct" and c.error is not None and c.node is not None:
            self.errored.setdefault(c.node, []).append(c)
        short = reason.split(". ")[0].rstrip(".")
        return CallNote(c.index, c.turn, c.position, text, cls, c.node, reason, short)

    def _unscored(self, c: CallRecord) -> str:
        return "not scored"

    def _correct(self, c: CallRecord) -> str:
        v = c.node
        if v is None or v not in self.gt.nodes:
            return "correct."
        parts = [f"correct: it is {_label(self.gt, v)}, and {_ready_phrase(self.gt, v, self.sat)}."]
        if c.error is not None:
            parts.append(
                f"But its result was an error ({c.error}), so the step stayed open: "
                "the same call again at a later turn would have completed it."
            )
            on_time = self.issued.get(v) == c.turn == ready_turn(self.gt, v, self.sat)
            if c.timed_out and v in self.res.parallelizable and on_time:
                parts.append(
                    "A timeout is the tool's, not the model's: issued at the first turn it could "
                    "be, the step counts as on time for fan-out recall once a retry completes it."
                )
            return " ".join(parts)
        if self.sat.get(v) != c.turn:
            parts.append(f"The step was already done at turn {self.sat.get(v)}.")
        elif v in self.res.bypassed:
            parts.append(
                "Another route made this step unnecessary (it is bypassed): the call is still "
                "correct, not redundant; the longer route costs turns, not correctness."
            )
        elif v in self.res.parallelizable:
            r = ready_turn(self.gt, v, self.sat)
            first = self.issued[v]
            if first != c.turn and r == first:
                parts.append(
                    f"A retry: the call at turn {first} timed out, and went out at the first turn it "
                    "could, so the step counts as on time for fan-out recall."
                )
            elif r == c.turn:
                parts.append(
                    "On time: issued at the first turn it could be, so it counts for fan-out recall."
                )
            else:
                parts.append(
                    f"Late: it could have gone out at turn {int(r)}, beside the calls of that turn, "
                    f"but went out at turn {c.turn}, so it does not count for fan-out recall."
                )
        return " ".join(parts)

    def _premature(self, c: CallRecord) -> str:
        gt, v, t = self.gt, c.node, c.turn
        if v is None or v not in gt.nodes:
            return "premature: issued before the result it depends on was back."
        waits = []
        for u in sorted(_route(gt, v, self.sat), key=gt.graph.topo_index.__getitem__):
            s = self.sat.get(u)
            if s is not None and s < t:
                continue  # already back
            tool = gt.nodes[u].tool
            if s is None:
                err = next((e for e in self.errored.get(u, []) if e.turn <= t), None)
                why = (
                    f"whose call at turn {err.turn} returned an error" if err else "which was never completed"
                )
                waits.append(f"`{u}` ({tool}), {why}")
            elif s == t:
                waits.append(f"`{u}` ({tool}), issued in the same batch, so its result was not back yet")
            else:
                waits.append(f"`{u}` ({tool}), done only at turn {s}")
        r = ready_turn(gt, v, self.sat)
        when = (
            f"; the earliest turn it could go out was turn {int(r)}"
            if r != math.inf
            else "; it never became ready"
        )
        parts = [
            f"premature (an incorrect fan-out): charged to {_label(gt, v)}, which had to wait for the "
            f"result of {'; and '.join(waits) or 'an earlier step'}{when}."
        ]
        args = c.arguments or {}
        src = _sources(gt, v)
        if gt.nodes[v].matcher.matches(args):
            seen = self._seen_before(c)
            if seen:
                parts.append(
                    f"Its arguments were the right ones and {'; '.join(seen)}: the task reads its "
                    "value from the step it waits for, but a result you already had carried it, so "
                    "this is another valid route the task does not declare (likely an unfair task, "
                    "not your mistake; DESIGN 4.2)."
                )
            else:
                parts.append(
                    "Its arguments were already the right ones, although the result they come from "
                    + (f"({', '.join(f'{k} = {s}' for k, s in src.items())}) " if src else "")
                    + "was not back and no earlier result or the prompt carried them: a guess "
                    "that happened to be right is still an incorrect fan-out."
                )
        else:
            diffs = arg_diffs(gt, v, args)
            if diffs:
                parts.append(f"Its arguments differ from what the step needed: {'; '.join(diffs)}.")
        parts.append("It counts once toward the incorrect fan-out rate of that step.")
        return " ".join(parts)

    def _seen_before(self, c: CallRecord) -> list[str]:
        """Where the call's argument values were visible to the model before its turn: in the
        user prompt or in a result it already had (turn < c.turn). Short values are skipped:
        a 2 or a "C" turns up everywhere by coincidence."""
        out = []
        prompt = self.task.prompt.casefold()
        for k, val in (c.arguments or {}).items():
            if not _distinctive(val):
                continue
            where = []
            if isinstance(val, str) and val.casefold() in prompt:
                where.append("the user prompt")
            for p in self.trace.calls:
                if p.turn >= c.turn:
                    break
                if p.error is None:
                    path = _find_value(p.result, val)
                    if path is not None:
                        where.append(f"the result of call #{p.index + 1} {p.name} (as `{path}`)")
            if where:
                out.append(f"the value {fmt(val)} of `{k}` was already in {' and in '.join(where[:2])}")
        return out

    def _duplicate(self, c: CallRecord) -> str:
        key = c.name + "\x00" + normalized_key(c.arguments or {})
        first = self.first_by_key.get(key)
        if first is None:
            return "duplicate: the same tool and arguments as an earlier call; it counts as redundant."
        where = "in the same batch" if first.turn == c.turn else f"at turn {first.turn}"
        return (
            f"duplicate: the same tool and (normalised) arguments as call #{first.index + 1} {where}, "
            f"which was {first.cls}; a repeated call adds no information and counts as redundant."
        )

    def _candidates(self, c: CallRecord) -> list[str]:
        """Active nodes of the call's tool that were open and ready at its turn."""
        out = []
        for v in self.gt.by_tool.get(c.name, ()):
            s = self.sat.get(v)
            if s is not None and (s < c.turn or (s == c.turn and v != c.node)):
                continue
            if ready_turn(self.gt, v, self.sat) <= c.turn:
                out.append(v)
        return out

    def _wrong_args(self, c: CallRecord) -> str:
        gt, args = self.gt, c.arguments or {}
        cands = self._candidates(c) or ([c.node] if c.node else [])
        if not cands:
            return "wrong_args: the arguments do not match the open step of this tool."
        # The closest open step explains best; scoring's attribution breaks ties.
        order = {v: i for i, v in enumerate(cands)}
        best = min(cands, key=lambda v: (len(arg_diffs(gt, v, args)), v != c.node, order[v]))
        diffs = arg_diffs(gt, best, args) or ["the arguments differ"]
        others = len(cands) - 1
        alt = f" (the closest of {others + 1} open {c.name} steps)" if others else ""
        return (
            f"wrong_args: {_label(gt, best)}{alt} was ready, but {'; '.join(diffs)}. "
            f"The step needed {_step_call(gt, best)}."
        )

    def _extraneous(self, c: CallRecord) -> str:
        gt, task = self.gt, self.task
        if c.arguments is None:
            return f"extraneous: its arguments could not be parsed ({c.parse_error})."
        if c.name not in task.tool_by_name:
            return f"extraneous: no tool named {c.name!r} is offered in this task."
        active = gt.by_tool.get(c.name, [])
        inactive = [v for v in gt.inactive if task.node_by_id[v].tool == c.name]
        if not active and inactive:
            conds = "; ".join(f"`{v}`: {_why_inactive(gt, v)}" for v in inactive)
            write = " It is a write the user did not ask for." if task.tool_by_name[c.name].write else ""
            return f"extraneous: no {c.name} call is needed here ({conds}).{write}"
        if not active:
            return (
                f"extraneous: {c.name} is offered, but this task needs no {c.name} call (a distractor tool)."
            )
        done = [v for v in active if self.sat.get(v, math.inf) <= c.turn]
        if len(done) == len(active):
            first = ", ".join(f"`{v}` at turn {self.sat[v]}" for v in done)
            return (
                f"extraneous: every {c.name} call the task needs was already made ({first}), "
                "and this one asks for something else."
            )
        waiting = [v for v in active if v not in self.sat and not gt.nodes[v].required]
        if waiting:
            return (
                f"extraneous: the open {c.name} step (`{waiting[0]}`) is optional and was not ready, "
                "or its arguments differ."
            )
        return f"extraneous: it matches no {c.name} step that was still open at turn {c.turn}."

    # -- steps, plan, answer, success ---------------------------------------------------------
    def steps(self) -> list[StepNote]:
        gt, out = self.gt, []
        attempts: dict[str, list[str]] = {}
        for c in self.trace.calls:
            if c.node is not None and c.cls != "correct":
                attempts.setdefault(c.node, []).append(f"#{c.index + 1} {c.cls}")
        for v in gt.graph.topo:
            n: ResolvedNode = gt.nodes[v]
            r = ready_turn(gt, v, self.sat)
            s = self.sat.get(v)
            if s is None:
                tried = attempts.get(v)
                status = "NOT DONE" + (f" (tried: call {', '.join(tried)})" if tried else "")
                if not n.required:
                    status = "optional, not done"
                elif v in self.res.bypassed:
                    status = "not needed: another route made it unnecessary (bypassed)"
            elif v in self.res.bypassed:
                status = f"done at turn {s} (bypassed: another route made it unnecessary)"
            elif v in self.res.parallelizable:
                status = f"done at turn {s}, " + ("on time" if self.issued[v] == r else "late")
            else:
                status = f"done at turn {s}"
            out.append(
                StepNote(
                    v,
                    _step_call(gt, v),
                    sorted(_route(gt, v, self.sat), key=gt.graph.topo_index.__getitem__),
                    n.required,
                    None if r == math.inf else int(r),
                    s,
                    status,
                )
            )
        return out

    def answer(self) -> list[str]:
        gt, text, tr = self.gt, self.trace.final_text, self.trace
        lines: list[str] = []
        if tr.stop != "answer":
            lines.append(f"no final answer: the episode stopped ({tr.stop}), so the check fails.")
            return lines
        lines.append(f"your answer: {fmt(text or '')}")
        if not (gt.answer_contains or gt.answer_any or gt.answer_not):
            lines.append("this task has no answer check: any answer passes.")
            return lines

        def one(contains: list[Expected] | None = None, any_: list[list[Expected]] | None = None) -> bool:
            return check_values(contains or [], any_ or [], [], text)

        if gt.answer_contains:
            lines.append("it must mention every one of:")
            for v in gt.answer_contains:
                lines.append(f"  {fmt(v)}: {'found' if one([v]) else _not_found(v, text)}")
        for group in gt.answer_any:
            ok = one(None, [group])
            values = ", ".join(fmt(v) for v in dict.fromkeys(group))
            lines.append(f"it must mention one of {values}: {'found' if ok else 'NOT FOUND'}")
        if gt.answer_not:
            lines.append("it must not mention:")
            for v in gt.answer_not:
                present = bool(v.strip()) and one([v])
                lines.append(f"  {fmt(v)}: {'PRESENT' if present else 'absent'}")
        lines.append(
            "Values are matched case-insensitively as whole words; numbers also in their usual "
            "renderings (docs/scoring.md, answer checks)."
        )
        return lines

    def success(self) -> list[str]:
        sc = self.scores
        if sc.success:
            return []
        out = []
        if self.trace.stop == "error":
            out.append(f"the episode ended in an error: {self.trace.error}")
        elif self.trace.stop != "answer":
            out.append(f"no final answer (stopped: {self.trace.stop})")
        missing = [v for v in self.res.required if v not in self.sat]
        if missing:
            out.append(
                f"{len(missing)} of {len(self.res.required)} required steps not done: "
                + ", ".join(f"`{v}`" for v in missing)
            )
        if self.trace.stop == "answer" and not sc.answer_ok:
            out.append("the answer check failed")
        if sc.unauthorised_writes or not out:
            writes = [
                c
                for c in self.trace.calls
                if c.cls != "correct"
                and c.error is None
                and c.name in self.task.tool_by_name
                and self.task.tool_by_name[c.name].write
            ]
            if writes:
                out.append(
                    "a write took effect that no step asked for: "
                    + ", ".join(f"#{c.index + 1} {c.name}" for c in writes)
                )
            else:
                out.append("the scorer marked it failed for a reason this explanation does not know")
        return out


def _not_found(v: Any, text: str | None) -> str:
    """NOT FOUND, saying so when a state was written but only negated ("isn't merged")."""
    if getattr(v, "kind", None) == "state" and text and state_negated_only(v, AnswerText(text)):
        return "NOT FOUND (written, but only negated: a negation among the three words before it)"
    return "NOT FOUND"


def _why_inactive(gt: GroundTruth, v: str) -> str:
    when = gt.task.node_by_id[v].spec.when
    if when:
        return f"its condition {when} is false for this data"
    return "a step it needs does not apply"


def _inactive(gt: GroundTruth, v: str) -> StepNote:
    n = gt.task.node_by_id[v]
    return StepNote(
        v,
        call_text(n.tool, n.spec.args),
        list(n.deps),
        n.required,
        None,
        None,
        f"not needed here: {_why_inactive(gt, v)}",
    )


# Finish reasons, as the adapters record them, of a response the provider cut short: what the
# model wrote is scored as written, so the reader should know it was not all it meant to write.
_CUT_OFF = frozenset({"length", "max_tokens", "incomplete", "max_output_tokens"})
_FILTERED = frozenset({"content_filter", "safety", "prohibited_content", "blocklist", "spii", "recitation"})


def _stopped_by_provider(trace: Trace) -> list[str]:
    out = []
    for t in trace.turns:
        if t.finish_reason in _CUT_OFF:
            out.append(
                f"turn {t.index}: the response was cut off at the output token limit (finish_reason "
                f"{t.finish_reason}): a call cut off has invalid arguments, an answer cut off may miss "
                "values; a larger --max-tokens would have let it finish"
            )
        elif t.finish_reason in _FILTERED:
            out.append(
                f"turn {t.index}: the provider's filter stopped the response (finish_reason {t.finish_reason})"
            )
    return out


def explain(gt: GroundTruth, trace: Trace, scores: Scores) -> Explanation:
    ex = _Explainer(gt, trace, scores)
    out = Explanation()
    out.calls = [ex.call(c) for c in trace.calls]
    out.steps = ex.steps()
    out.inactive = [_inactive(gt, v) for v in gt.inactive]
    out.ideal_plan = gt.oracle_levels()
    out.answer_lines = ex.answer()
    out.success_reasons = ex.success()
    for n in out.calls:
        if n.cls != "correct":
            out.penalties.append(f"turn {n.turn}, call #{n.index + 1} {n.call}: {n.short}")
        elif "Late:" in n.reason:
            out.penalties.append(
                f"turn {n.turn}, call #{n.index + 1} {n.call}: late (not on time for fan-out recall)"
            )
    for s in out.steps:
        if s.required and s.done_turn is None and s.node not in ex.res.bypassed:
            out.penalties.append(f"step `{s.node}` never done: it needed {s.call}")
    if trace.stop == "answer" and not scores.answer_ok:
        out.penalties.append("the answer check failed (see above)")
    out.penalties.extend(_stopped_by_provider(trace))
    limit = turn_limit(scores)
    if scores.turns > limit and trace.stop == "answer":
        plan = " | ".join(", ".join(level) for level in out.ideal_plan)
        more = ""
        if limit > scores.ideal_turns:
            more = f"; {limit - scores.ideal_turns} more for retries of timed-out calls or optional calls"
        out.penalties.append(
            f"{scores.turns} turns where {limit} were enough (ideal plan: {plan} | answer{more})"
        )
    return out


# ----------------------------------------------------------------------------------------------
# text


def _ratio(num: int, den: int, value: float | None) -> str:
    return "n/a (nothing to count)" if value is None else f"{num}/{den} = {value:.3f}"


def render(ex: Explanation, scores: Scores, gt: GroundTruth) -> str:
    sc = scores
    lines: list[str] = []
    add = lines.append
    add("")
    add("== episode over: scores ==")
    verdict = "yes" if sc.success else "no: " + "; ".join(ex.success_reasons)
    add(f"success               {verdict}")
    add(
        f"fan_out_recall        {_ratio(sc.on_time, sc.parallelizable, sc.fan_out_recall)}"
        "  (steps that could run beside another, issued at the first turn they could)"
    )
    add(
        f"incorrect_fan_out     {_ratio(sc.premature_nodes, sc.nodes_with_deps, sc.incorrect_fan_out_rate)}"
        "  (steps with a dependency that got a premature call)"
    )
    add(f"redundant_calls       {sc.redundant_calls} of {sc.n_calls} calls (duplicate + extraneous)")
    add(f"turns / ideal         {sc.turns} / {sc.ideal_turns}")
    add("calls by class        " + ", ".join(f"{k} {v}" for k, v in sc.classes.items()))
    add("")
    add("== your calls ==")
    if not ex.calls:
        add("(no tool calls)")
    turn = 0
    for n in ex.calls:
        if n.turn != turn:
            turn = n.turn
            add(f"turn {turn}:")
        add(f"  #{n.index + 1} {n.call}")
        add(f"     {n.reason}")
    add("")
    add(f"== steps of the task (ground truth, seed {gt.seed}) ==")
    width = max((len(s.node) for s in ex.steps + ex.inactive), default=0)
    for s in ex.steps + ex.inactive:
        needs = "needs " + ", ".join(f"`{u}`" for u in s.needs) if s.needs else "needs no other result"
        ready = "never ready" if s.ready_turn is None else f"ready at turn {s.ready_turn}"
        if s in ex.inactive:
            add(f"  {s.node.ljust(width)}  {s.call} [inactive]")
            add(f"  {' ' * width}  {s.status}")
            continue
        opt = "" if s.required else " [optional]"
        add(f"  {s.node.ljust(width)}  {s.call}{opt}")
        add(f"  {' ' * width}  {needs}; {ready}; {s.status}")
    plan = " | ".join(f"turn {i}: {', '.join(level)}" for i, level in enumerate(ex.ideal_plan, start=1))
    add(f"ideal plan: {plan + ' | ' if plan else ''}turn {len(ex.ideal_plan) + 1}: answer")
    add("")
    add(f"== answer check: {'passed' if sc.answer_ok else 'failed'} ==")
    lines.extend(ex.answer_lines)
    add("")
    add(f"== penalties ({len(ex.penalties)}) ==")
    if ex.penalties:
        for i, p in enumerate(ex.penalties, start=1):
            add(f"  {i}. {p}")
        add(
            "Classify each: your mistake; an unfair task (ambiguous prompt, check stricter than the "
            "question, misleading tool description, a valid route not accepted); or a harness bug "
            "(docs/play.md)."
        )
    else:
        add("  none")
    add("")
    add("== all scores ==")
    for k, v in sc.model_dump().items():
        if isinstance(v, float):
            v = round(v, 4)
        add(f"  {k}: {v if isinstance(v, str) else fmt(v)}")
    return "\n".join(lines) + "\n"
