"""leaderboard.md: GitHub-flavoured Markdown for READMEs and PR comments.

Cells are made inert for Markdown renderers: `|` is escaped (it would split the cell), newlines
are folded and `<`, `>`, `&` become entities (code hosts render inline HTML).
"""

from __future__ import annotations

from ..metrics import METRICS
from . import formatting as f
from .tables import DEFAULT_SORT


def cell(text: object) -> str:
    s = "" if text is None else str(text)
    s = s.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    s = s.replace("\\", "\\\\").replace("|", "\\|").replace("`", "\\`")
    return " ".join(s.split())


def _table(header: list[str], rows: list[list[str]], right: set[int]) -> list[str]:
    out = ["| " + " | ".join(cell(h) for h in header) + " |"]
    out.append("|" + "|".join("---:" if i in right else "---" for i in range(len(header))) + "|")
    out += ["| " + " | ".join(cell(c) for c in r) + " |" for r in rows]
    return out


def _with_ci(v: str, ci: str) -> str:
    return f"{v} {ci}" if ci else v


def render_markdown(title: str, rows: list[dict], pattern_rows: list[dict], labels: dict[tuple, str]) -> str:
    multi_suite = len({r["suite"] for r in rows}) > 1
    board = METRICS.on("board")
    header = ["#", "Model"] + (["Suite"] if multi_suite else []) + [m.label for m in board]
    body = []
    for i, r in enumerate(rows, start=1):
        line = [str(i), labels[(r["model"], r["suite"], r["run_id"])]] + ([r["suite"]] if multi_suite else [])
        line += [_with_ci(*f.metric_cell(m, r)) for m in board]
        body.append(line)
    first_num = 3 if multi_suite else 2
    out = [f"# {cell(title)}", ""]
    suites = sorted({r["suite"] for r in rows})
    episodes = sum(r["episodes"] or 0 for r in rows)
    out.append(
        f"{len(rows)} runs, {episodes} episodes, suite(s): {cell(', '.join(suites))}. Order: {DEFAULT_SORT}."
    )
    out.append('Brackets: 95% bootstrap intervals over tasks. Cost "unknown" means the model has no price.')
    out.append("")
    out += _table(header, body, set(range(first_num, len(header))) | {0})
    if pattern_rows:
        out += ["", "## By dependency pattern (success rate)", ""]
        keys = [(r["model"], r["suite"], r["run_id"]) for r in rows]
        patterns = sorted({(p["suite"], p["pattern"]) for p in pattern_rows})
        index = {(p["model"], p["suite"], p["run_id"], p["pattern"]): p for p in pattern_rows}
        head = ["Suite", "Pattern"] if multi_suite else ["Pattern"]
        head += [labels[k] for k in keys]
        prow = []
        for s, p in patterns:
            line = ([s] if multi_suite else []) + [p]
            for k in keys:
                hit = index.get((*k, p)) if k[1] == s else None
                line.append(f.pct(hit["success_rate"], 0) if hit else "")
            prow.append(line)
        out += _table(head, prow, set(range(len(head) - len(keys), len(head))))
    out += ["", "## Runs", ""]
    meta = [
        [
            labels[(r["model"], r["suite"], r["run_id"])],
            r["suite"],
            r["run_id"],
            r["suite_hash"],
            r["prompt_hash"],
            r["clock"],
            r["inference_profile"] or "default",
            r["harness_version"],
            r["created"],
        ]
        for r in rows
    ]
    out += _table(
        ["Model", "Suite", "Run", "Suite hash", "Prompt hash", "Clock", "Profile", "Harness", "Date"],
        meta,
        set(),
    )
    out += ["", "Metric definitions: see the Methodology section of leaderboard.html.", ""]
    return "\n".join(out)
