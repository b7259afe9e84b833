"""leaderboard.md: GitHub-flavoured Markdown for READMEs and PR comments.

Cells are made inert for Markdown renderers: `|` is escaped (it would split the cell), newlines
are folded and `<`, `>`, `&` become entities (code hosts render inline HTML).
"""

from __future__ import annotations

from ..metrics import METRICS
from . import formatting as f
from .agents import AgentRuntimes
from .agents import caption as agent_caption
from .agents import table as agent_table
from .comparability import Comparability
from .html import LEADERBOARD, shown
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


PATTERN_TABLES = ("parallel_success_rate", "success_rate", "fan_out_recall", "incorrect_fan_out_rate")
HEADLINE_SENTENCE = (
    "Ranked by **parallel success**: the share of tasks a model solved with every tool call correct, every "
    "independent call issued in the first turn it could be, and no more model turns than the oracle needed "
    "(a premature, duplicate, wrong or unneeded call, or a missed fan-out, loses the task). Speed figures "
    "(wall p50, speedup vs sequential, wall / ideal) are over the successful episodes only."
)


def render_markdown(
    title: str,
    rows: list[dict],
    pattern_rows: list[dict],
    labels: dict[tuple, str],
    comp: Comparability | None = None,
    agents: AgentRuntimes | None = None,
) -> str:
    multi_suite = len({r["suite"] for r in rows}) > 1
    board = [c.metric for c in shown(LEADERBOARD, rows) if c.metric is not None]
    header = ["#", "Model"] + (["Suite"] if multi_suite else []) + [m.label for m in board]
    first_num = 3 if multi_suite else 2
    out = [f"# {cell(title)}", ""]
    suites = sorted({r["suite"] for r in rows})
    episodes = sum(r["episodes"] or 0 for r in rows)
    out.append(f"{len(rows)} runs, {episodes} episodes, suite(s): {cell(', '.join(suites))}.")
    out.append("")
    out.append(HEADLINE_SENTENCE)
    out.append("")
    for w in comp.warnings if comp else []:
        out.append(f"> **Warning:** {cell(w[:1].upper() + w[1:])}.")
    if comp and comp.warnings:
        out.append("")
    out.append(f"Order: {DEFAULT_SORT}.")
    out.append('Brackets: 95% bootstrap intervals over tasks. Cost "unknown" means the model has no price.')
    for g in dict.fromkeys(r.get("group") for r in rows):
        out.append("")
        if g:
            out += [f"## Group {g}: {cell(comp.captions.get(g, '') if comp else '')}", ""]
        body = []
        for r in (r for r in rows if r.get("group") == g):
            line = [str(r.get("rank", "")), labels[(r["model"], r["suite"], r["run_id"])]]
            line += [r["suite"]] if multi_suite else []
            line += [_with_ci(*f.metric_cell(m, r)) for m in board]
            body.append(line)
        out += _table(header, body, set(range(first_num, len(header))) | {0})
    if pattern_rows:
        keys = [(r["model"], r["suite"], r["run_id"]) for r in rows]
        patterns = sorted({(p["suite"], p["pattern"]) for p in pattern_rows})
        index = {(p["model"], p["suite"], p["run_id"], p["pattern"]): p for p in pattern_rows}
        for name in PATTERN_TABLES:
            m = METRICS[name]
            out += ["", f"## By dependency pattern: {m.label.lower()}", ""]
            head = ["Suite", "Pattern"] if multi_suite else ["Pattern"]
            head += [labels[k] for k in keys]
            prow = []
            for s, p in patterns:
                line = ([s] if multi_suite else []) + [p]
                for k in keys:
                    hit = index.get((*k, p)) if k[1] == s else None
                    line.append(f.pct(hit[name], 0) if hit else "")
                prow.append(line)
            out += _table(head, prow, set(range(len(head) - len(keys), len(head))))
    if agents is not None:
        a_head, a_rows = agent_table(agents)
        out += ["", "## Agent runtimes", "", cell(agent_caption(agents)), ""]
        out += _table(a_head, a_rows, set(range(1, len(a_head) - 1)))
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
            r["epochs"],
            r["status"],
        ]
        for r in rows
    ]
    out += _table(
        [
            "Model",
            "Suite",
            "Run",
            "Suite hash",
            "Prompt hash",
            "Clock",
            "Profile",
            "Harness",
            "Date",
            "Epochs",
            "Status",
        ],
        meta,
        set(),
    )
    out += ["", "Metric definitions: see the Methodology section of leaderboard.html.", ""]
    return "\n".join(out)
