"""Per-task diff of two runs: which episodes changed success, turns or call classes.

The gate says *whether* a candidate regressed; this says *where*, for the human reading a failed
gate. Runs pair as for the gate, except that a changed suite hash is a warning and differing task
sets are always reduced to their intersection (the leftovers are listed).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict

from .gate import Pairing, RunData, load_run_data, pair_runs
from .metrics import METRICS
from .scoring import CLASSES

Format = Literal["text", "markdown", "json"]
FORMATS: tuple[str, ...] = ("text", "markdown", "json")


COMPARED = METRICS.on("compare")  # per-episode values shown beside success, turns and classes


class Side(BaseModel):
    """One episode of one run; the per-episode values of the compared metrics are extra fields
    (`fan_out_recall`, `wall_s`, ...), None where the run did not record one."""

    model_config = ConfigDict(extra="allow")

    success: bool
    turns: int
    classes: dict[str, int]
    stop: str

    def value(self, key: str) -> Any:
        return (self.model_extra or {}).get(key)


class TaskChange(BaseModel):
    task_id: str
    epoch: int
    pattern: str
    ideal_turns: int
    changed: list[str]  # of: success, turns, classes
    baseline: Side
    candidate: Side

    @property
    def kind(self) -> int:
        """Sort rank: newly failing first, then newly passing, then the rest."""
        if self.baseline.success and not self.candidate.success:
            return 0
        if self.candidate.success and not self.baseline.success:
            return 1
        return 2


class RunRef(BaseModel):
    path: str
    model: str
    prompt_hash: str
    episodes: int


class CompareReport(BaseModel):
    suite: str
    baseline: RunRef
    candidate: RunRef
    paired: int
    changed: list[TaskChange]
    only_baseline: list[tuple[str, int]]
    only_candidate: list[tuple[str, int]]
    class_totals: dict[str, tuple[int, int]]
    warnings: list[str]


def _side(sc: dict) -> Side:
    return Side(
        success=bool(sc["success"]),
        turns=sc["turns"],
        classes={k: sc["classes"].get(k, 0) for k in CLASSES},
        stop=sc["stop"],
        **{m.per_episode: m.per_episode_value(sc) for m in COMPARED},
    )


def diff_pairing(p: Pairing, baseline_arg: str, candidate_arg: str) -> CompareReport:
    changes = []
    totals = {k: [0, 0] for k in CLASSES}
    for key in p.keys:
        b, c = p.baseline.episodes[key], p.candidate.episodes[key]
        sb, sc = _side(b), _side(c)
        for k in CLASSES:
            totals[k][0] += sb.classes[k]
            totals[k][1] += sc.classes[k]
        changed = [
            name
            for name, differs in (
                ("success", sb.success != sc.success),
                ("turns", sb.turns != sc.turns),
                ("classes", sb.classes != sc.classes),
            )
            if differs
        ]
        if changed:
            changes.append(
                TaskChange(
                    task_id=key[0],
                    epoch=key[1],
                    pattern=b["pattern"],
                    ideal_turns=b["ideal_turns"],
                    changed=changed,
                    baseline=sb,
                    candidate=sc,
                )
            )
    changes.sort(key=lambda ch: (ch.kind, ch.task_id, ch.epoch))

    def ref(run: RunData, arg: str) -> RunRef:
        return RunRef(
            path=arg, model=run.config.model, prompt_hash=run.config.prompt_hash, episodes=len(run.episodes)
        )

    return CompareReport(
        suite=p.baseline.config.suite,
        baseline=ref(p.baseline, baseline_arg),
        candidate=ref(p.candidate, candidate_arg),
        paired=len(p.keys),
        changed=changes,
        only_baseline=p.only_baseline,
        only_candidate=p.only_candidate,
        class_totals={k: (v[0], v[1]) for k, v in totals.items()},
        warnings=p.warnings,
    )


def compare_runs(baseline: str | Path, candidate: str | Path) -> CompareReport:
    b = load_run_data(baseline, "baseline")
    c = load_run_data(candidate, "candidate")
    return diff_pairing(
        pair_runs(b, c, allow_subset=True, same_suite_hash=False), str(baseline), str(candidate)
    )


# --------------------------------------------------------------------------------------------
# Rendering


def _arrow(a: object, b: object, fmt: str = "{}") -> str:
    fa = "n/a" if a is None else fmt.format(a)
    fb = "n/a" if b is None else fmt.format(b)
    return fa if fa == fb else f"{fa} -> {fb}"


def _success(ch: TaskChange) -> str:
    b, c = ch.baseline.success, ch.candidate.success
    if b == c:
        return "pass" if b else "fail"
    return "pass -> FAIL" if b else "fail -> pass"


def _classes(ch: TaskChange) -> str:
    parts = [
        f"{k} {ch.baseline.classes[k]} -> {ch.candidate.classes[k]}"
        for k in CLASSES
        if ch.baseline.classes[k] != ch.candidate.classes[k]
    ]
    return ", ".join(parts) or "same"


def _task(ch: TaskChange, epochs: bool) -> str:
    return f"{ch.task_id}#{ch.epoch}" if epochs else ch.task_id


def _rows(rep: CompareReport) -> list[list[str]]:
    epochs = any(ch.epoch for ch in rep.changed)
    return [
        [
            _task(ch, epochs),
            ch.pattern,
            _success(ch),
            _arrow(ch.baseline.turns, ch.candidate.turns) + f" (ideal {ch.ideal_turns})",
            *(
                _arrow(ch.baseline.value(m.per_episode), ch.candidate.value(m.per_episode), "{:.2f}")
                for m in COMPARED
            ),
            _classes(ch),
        ]
        for ch in rep.changed
    ]


HEADER = ["task", "pattern", "success", "turns", *(m.per_episode for m in COMPARED), "call classes changed"]


def _headline(rep: CompareReport) -> str:
    newly_failing = sum(1 for ch in rep.changed if ch.kind == 0)
    newly_passing = sum(1 for ch in rep.changed if ch.kind == 1)
    return (
        f"{len(rep.changed)} of {rep.paired} paired episodes changed "
        f"({newly_failing} now fail, {newly_passing} now pass)"
    )


def _few(keys: list[tuple[str, int]]) -> str:
    shown = ", ".join(t if e == 0 else f"{t}#{e}" for t, e in keys[:10])
    return shown + (f" and {len(keys) - 10} more" if len(keys) > 10 else "")


def render_text(rep: CompareReport) -> str:
    lines = [f"fanout compare: {_headline(rep)}"]
    for role, r in (("baseline", rep.baseline), ("candidate", rep.candidate)):
        lines.append(f"{role + ':':<11}{r.path}  model {r.model}  prompt {r.prompt_hash}")
    for w in rep.warnings:
        lines.append(f"{'warning:':<11}{w}")
    if rep.only_baseline:
        lines.append(f"only in the baseline ({len(rep.only_baseline)}): {_few(rep.only_baseline)}")
    if rep.only_candidate:
        lines.append(f"only in the candidate ({len(rep.only_candidate)}): {_few(rep.only_candidate)}")
    totals = ", ".join(f"{k} {_arrow(b, c)}" for k, (b, c) in rep.class_totals.items())
    lines.append(f"{'calls:':<11}{totals}")
    if rep.changed:
        rows = [HEADER, *_rows(rep)]
        widths = [max(len(r[i]) for r in rows) for i in range(len(HEADER))]
        lines.append("")
        lines += ["  ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)).rstrip() for r in rows]
    return "\n".join(lines) + "\n"


def render_markdown(rep: CompareReport) -> str:
    def esc(s: str) -> str:
        return s.replace("|", "\\|")

    out = [f"## Fanout compare: {_headline(rep)}", ""]
    out.append(
        f"Baseline `{esc(rep.baseline.path)}` (`{esc(rep.baseline.model)}`, prompt `{rep.baseline.prompt_hash}`) "
        f"vs candidate `{esc(rep.candidate.path)}` (`{esc(rep.candidate.model)}`, prompt "
        f"`{rep.candidate.prompt_hash}`), suite `{esc(rep.suite)}`."
    )
    for w in rep.warnings:
        out += ["", f"> **Warning:** {esc(w)}"]
    if rep.only_baseline:
        out += ["", f"Only in the baseline ({len(rep.only_baseline)}): {esc(_few(rep.only_baseline))}"]
    if rep.only_candidate:
        out += ["", f"Only in the candidate ({len(rep.only_candidate)}): {esc(_few(rep.only_candidate))}"]
    out += ["", "| call class | baseline | candidate |", "|---|---:|---:|"]
    out += [f"| {k} | {b} | {c} |" for k, (b, c) in rep.class_totals.items()]
    if rep.changed:
        out += ["", "| " + " | ".join(HEADER) + " |", "|" + "---|" * len(HEADER)]
        for r in _rows(rep):
            r[0] = f"`{r[0]}`"
            out.append("| " + " | ".join(esc(c) for c in r) + " |")
    return "\n".join(out) + "\n"


def render_json(rep: CompareReport) -> str:
    return rep.model_dump_json(indent=2) + "\n"


RENDERERS = {"text": render_text, "markdown": render_markdown, "json": render_json}


def render(rep: CompareReport, fmt: Format) -> str:
    return RENDERERS[fmt](rep)
