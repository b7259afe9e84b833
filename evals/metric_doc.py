"""docs/metrics.md, rendered from the metric registry: the reference a reader and a contributor
check a metric against, never edited by hand.

The prose docs (scoring, reports, gating, what-if) explain the metrics; this page lists them as
declared, with every output each one reaches and the column orders of the published files, so
adding a metric to `evals/metrics.py` updates the documentation with one command
(`make docs-metrics`), and `tests/test_metric_doc.py` fails while the page is stale.

    python -m evals.metric_doc            # print the page
    python -m evals.metric_doc --write    # write docs/metrics.md
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from .metrics import METRICS, Metric

PAGE = Path(__file__).resolve().parents[1] / "docs" / "metrics.md"

# Where a surface shows a metric, in the words of the page.
_SURFACES = (
    ("summary", "summary.json"),
    ("board", "leaderboard"),
    ("patterns", "by pattern"),
    ("run", "fanout run"),
    ("whatif", "fanout whatif"),
    ("compare", "fanout compare"),
)


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def _shown(m: Metric) -> str:
    return ", ".join(label for s, label in _SURFACES if s in m.show)


def _columns(cols: list[str]) -> str:
    """A column order as the page writes it: `x(_lo,_hi)` for a value and its interval."""
    out: list[str] = []
    for c in cols:
        base = c[:-3]
        if c.endswith("_lo") and out and out[-1] == f"`{base}`":
            out[-1] = f"`{base}(_lo,_hi)`"
        elif not (c.endswith("_hi") and out and out[-1] == f"`{base}(_lo,_hi)`"):
            out.append(f"`{c}`")
    return ", ".join(out)


def render() -> str:
    """The whole page."""
    from . import whatif
    from .report.tables import LEADERBOARD_COLUMNS, PATTERN_COLUMNS

    lines = [
        "# Metric reference",
        "",
        "<!-- Generated from evals/metrics.py by `make docs-metrics` (python -m evals.metric_doc --write);",
        "     do not edit: tests/test_metric_doc.py fails while this page is stale. -->",
        "",
        "Every metric Fanout reports, as the registry (`evals/metrics.py`) declares it, in declaration",
        "order: its key (in `summary.json`, `leaderboard.csv` and the other outputs), its column title,",
        "how a suite aggregates its episodes, which direction is better, whether the report shows a 95%",
        "bootstrap interval, its `fanout gate` rule name, and the outputs it appears in. Definitions and",
        "decisions: [scoring](scoring.md); adding one: [extending](extending.md#a-metric).",
        "",
        "| key | column | meaning | suite aggregate | unit | better | interval | gate rule | shown in |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for m in METRICS:
        row = [
            f"`{m.name}`",
            _cell(m.label),
            _cell(m.description),
            _cell(m.agg.describe()),
            m.unit,
            m.better or "",
            "yes" if m.interval else "",
            f"`{m.rule}`" if m.gate else "",
            _shown(m),
        ]
        lines.append("| " + " | ".join(row) + " |")
    lines += [
        "",
        "## Column orders",
        "",
        "Published orders only append: a metric declared later is added at the end, in declaration order.",
        "",
        f"- `leaderboard.csv` / `leaderboard.json` `columns`: {_columns(LEADERBOARD_COLUMNS)}.",
        f"- `leaderboard.json` `pattern_columns`: {_columns(PATTERN_COLUMNS)}.",
        f"- `whatif.csv` (and the keys of each `whatif.json` row): {_columns(whatif.COLUMNS)}.",
        "",
    ]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m evals.metric_doc", description=__doc__.split("\n\n")[0])
    p.add_argument("--write", action="store_true", help=f"write {PAGE.name} instead of printing it")
    args = p.parse_args(argv)
    text = render()
    if args.write:
        PAGE.write_text(text, encoding="utf-8")
        print(f"wrote {PAGE}", file=sys.stderr)
    else:
        sys.stdout.write(text)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
