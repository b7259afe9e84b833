"""Episode timelines as compact data, drawn as SVG in the page by a small script.

Why data and not pre-rendered charts: a report over 10 runs x 500 episodes offers 5,000 episodes
to pick from; one matplotlib SVG each would be tens of megabytes, while this encoding is a few
hundred bytes per episode. Strings (tool names, arguments, model text) go into one interned
table, so the same arguments issued by several models are stored once. Times are rounded to the
millisecond and long strings are cut, to keep the page within budget.

Layout of one episode: [task, epoch, success, stop, wall_s, turns, calls, final_text]
  turns: [[start_s, end_s, text], ...]                       (model time of each response)
  calls: [[turn, start_s, end_s, cls, flags, name, args, error], ...]
  strings are indexes into `strings` (-1: none); cls indexes CLASSES;
  flags: 1 straggler, 2 timed out, 4 hedged.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ..trace import Trace
from .load import RunData

CLASSES = ["correct", "premature", "duplicate", "wrong_args", "extraneous", "unscored"]
STRAGGLER, TIMED_OUT, HEDGED = 1, 2, 4
MAX_ARGS = 160
MAX_TEXT = 300
MAX_ERROR = 80


class Strings:
    def __init__(self) -> None:
        self.items: list[str] = []
        self._index: dict[str, int] = {}

    def add(self, s: str | None, limit: int) -> int:
        if s is None:
            return -1
        if len(s) > limit:
            s = s[: limit - 1] + "\u2026"
        i = self._index.get(s)
        if i is None:
            i = self._index[s] = len(self.items)
            self.items.append(s)
        return i


def _t(x: float | None) -> float:
    return round(float(x or 0.0), 3)


def encode_episode(trace: Trace, scores: Mapping[str, Any], strings: Strings) -> list[Any]:
    turns = [[_t(t.start_s), _t(t.end_s), strings.add(t.text, MAX_TEXT)] for t in trace.turns]
    calls = []
    for c in trace.calls:
        flags = (
            (STRAGGLER if c.straggler else 0)
            | (TIMED_OUT if c.timed_out else 0)
            | (HEDGED if c.hedged else 0)
        )
        calls.append(
            [
                c.turn,
                _t(c.start_s),
                _t(c.end_s),
                CLASSES.index(c.cls) if c.cls in CLASSES else len(CLASSES) - 1,
                flags,
                strings.add(c.name, MAX_ARGS),
                strings.add(c.raw_arguments, MAX_ARGS),
                strings.add(c.error, MAX_ERROR),
            ]
        )
    return [
        strings.add(str(scores.get("task_id", trace.task_id)), MAX_ARGS),
        int(scores.get("epoch", trace.epoch) or 0),
        1 if scores.get("success") else 0,
        strings.add(trace.stop, MAX_ERROR),
        _t(trace.wall_s),
        turns,
        calls,
        strings.add(trace.final_text, MAX_TEXT),
    ]


def timeline_data(runs: list[RunData], labels: list[str]) -> dict:
    """Everything the page's timeline picker needs, for every episode of every run."""
    strings = Strings()
    out_runs = []
    for run, label in zip(runs, labels, strict=True):
        records = run.episodes.to_dict("records") if not run.episodes.empty else []
        episodes = [encode_episode(tr, sc, strings) for tr, sc in zip(run.traces, records, strict=True)]
        out_runs.append({"label": label, "suite": run.config.suite, "episodes": episodes})
    return {"classes": CLASSES, "strings": strings.items, "runs": out_runs}
