"""docs/metrics.md is the registry rendered: current, and complete."""

from __future__ import annotations

from evals.metric_doc import PAGE, _columns, render
from evals.metrics import METRICS


def test_the_metric_reference_page_is_current():
    assert PAGE.read_text(encoding="utf-8") == render(), "docs/metrics.md is stale: run `make docs-metrics`"


def test_every_metric_and_gate_rule_is_on_the_page():
    text = render()
    for m in METRICS:
        assert f"| `{m.name}` | {m.label} |" in text, m.name
        if m.gate:
            assert f"`{m.rule}`" in text


def test_column_orders_fold_intervals_and_keep_the_rest():
    cols = ["model", "a", "a_lo", "a_hi", "b", "c_hi", "d_lo"]
    assert _columns(cols) == "`model`, `a(_lo,_hi)`, `b`, `c_hi`, `d_lo`"
