"""evals/cli/view.py: which report `fanout view` opens when given no path."""

from __future__ import annotations

import os
from pathlib import Path

from evals.cli.view import newest_report


def test_the_newest_report_under_runs_is_opened_the_demo_included(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    assert newest_report() is None
    (tmp_path / "reports").mkdir()
    (tmp_path / "reports" / "leaderboard.html").write_text("published")
    assert newest_report() == Path("reports/leaderboard.html")
    made = []
    for i, d in enumerate(("runs/report-1", "runs/demo/report")):
        (tmp_path / d).mkdir(parents=True)
        page = tmp_path / d / "leaderboard.html"
        page.write_text(d)
        os.utime(page, (1000 + i, 1000 + i))
        made.append(page)
    assert newest_report().read_text() == "runs/demo/report"
    os.utime(made[0], (2000, 2000))
    assert newest_report().read_text() == "runs/report-1"
