"""What a suite is made of: tasks per pattern, graph widths and depths, tools needed and exposed.

Shapes are those of the ground truth under one seed (conditional nodes count only when their
condition holds), which is what a model is scored against.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field

from pydantic import BaseModel

from .fixtures import Suite
from .groundtruth import resolve


class PatternStats(BaseModel):
    pattern: str
    tasks: int
    calls: int
    min_width: int
    max_width: int
    min_depth: int
    max_depth: int
    writes: int


class SuiteStats(BaseModel):
    suite: str
    seed: int
    tasks: int
    calls: int
    patterns: list[PatternStats]
    width_hist: dict[int, int]
    depth_hist: dict[int, int]
    tools_needed: dict[str, int]
    tools_exposed_unneeded: dict[str, int]
    registry_tools: int
    domains: dict[str, int]


@dataclass
class _Acc:
    tasks: int = 0
    calls: int = 0
    widths: list[int] = field(default_factory=list)
    depths: list[int] = field(default_factory=list)
    writes: int = 0


def suite_stats(suite: Suite, seed: int = 0) -> SuiteStats:
    per: dict[str, _Acc] = {}
    widths: Counter[int] = Counter()
    depths: Counter[int] = Counter()
    needed: Counter[str] = Counter()
    unneeded: Counter[str] = Counter()
    domains: Counter[str] = Counter()
    total_calls = 0
    for t in suite.tasks:
        gt = resolve(t, seed)
        levels = gt.oracle_levels()
        width = max((len(lv) for lv in levels), default=0)
        depth = len(levels)
        acc = per.setdefault(t.pattern, _Acc())
        acc.tasks += 1
        acc.calls += len(gt.required)
        acc.widths.append(width)
        acc.depths.append(depth)
        acc.writes += sum(t.tool_by_name[gt.nodes[v].tool].write for v in gt.required)
        widths[width] += 1
        depths[depth] += 1
        total_calls += len(gt.required)
        used = {n.tool for n in t.nodes}
        for n in t.nodes:
            needed[n.tool] += 1
        for tool in t.tools:
            if tool.name not in used:
                unneeded[tool.name] += 1
        for dom in {t.tool_by_name[name].domain for name in used}:
            domains[dom] += 1
    patterns = [
        PatternStats(
            pattern=p,
            tasks=a.tasks,
            calls=a.calls,
            min_width=min(a.widths),
            max_width=max(a.widths),
            min_depth=min(a.depths),
            max_depth=max(a.depths),
            writes=a.writes,
        )
        for p, a in sorted(per.items())
    ]
    return SuiteStats(
        suite=suite.name,
        seed=seed,
        tasks=len(suite.tasks),
        calls=total_calls,
        patterns=patterns,
        width_hist=dict(sorted(widths.items())),
        depth_hist=dict(sorted(depths.items())),
        tools_needed=dict(needed.most_common()),
        tools_exposed_unneeded=dict(unneeded.most_common()),
        registry_tools=len(suite.registry),
        domains=dict(sorted(domains.items())),
    )


def format_stats(st: SuiteStats) -> str:
    """Plain-text tables for the terminal."""
    out = [
        f"suite {st.suite!r}: {st.tasks} tasks, {st.calls} required calls (ground truth, seed {st.seed})",
        "",
    ]
    out.append(f"{'pattern':<16}{'tasks':>6}{'calls':>7}{'width':>8}{'depth':>8}{'writes':>8}")
    for p in st.patterns:
        w = f"{p.min_width}-{p.max_width}" if p.min_width != p.max_width else str(p.min_width)
        d = f"{p.min_depth}-{p.max_depth}" if p.min_depth != p.max_depth else str(p.min_depth)
        out.append(f"{p.pattern:<16}{p.tasks:>6}{p.calls:>7}{w:>8}{d:>8}{p.writes:>8}")
    out.append("")
    out.append("width (largest oracle batch): " + "  ".join(f"{k}:{v}" for k, v in st.width_hist.items()))
    out.append("depth (oracle batches):       " + "  ".join(f"{k}:{v}" for k, v in st.depth_hist.items()))
    out.append("")
    out.append(
        f"tools needed: {len(st.tools_needed)} of {st.registry_tools} available; "
        f"tasks using each domain: " + ", ".join(f"{d} {n}" for d, n in st.domains.items())
    )
    out.append("  " + ", ".join(f"{t} {n}" for t, n in st.tools_needed.items()))
    out.append(f"tools exposed but not needed (distractors): {len(st.tools_exposed_unneeded)}")
    out.append("  " + ", ".join(f"{t} {n}" for t, n in st.tools_exposed_unneeded.items()))
    return "\n".join(out)
