"""`make reports` keeps the published report's stamp when nothing but the stamp would change, so
a commit to code or docs does not turn into a diff of run ids and dates (issue 17, item 5)."""

from __future__ import annotations

import importlib.util
import json
import os
from datetime import UTC, datetime
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture
def demo(tmp_path, monkeypatch):
    spec = importlib.util.spec_from_file_location("fanout_demo", ROOT / "scripts" / "demo.py")
    assert spec is not None and spec.loader is not None
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    monkeypatch.setattr(mod, "PUBLISHED", tmp_path / "reports")
    return mod


def _fake_leaderboard(results: str):
    """A stand-in for the demo's runs and report: files that hold the stamp and `results`."""

    def write(report: Path) -> None:
        report.mkdir(parents=True, exist_ok=True)
        epoch = int(os.environ["SOURCE_DATE_EPOCH"])
        created = datetime.fromtimestamp(epoch, UTC).isoformat()
        (report / "leaderboard.json").write_text(json.dumps({"rows": [{"created": created, "r": results}]}))
        (report / "leaderboard.md").write_text(f"{created} {results}\n")

    return write


def test_an_unchanged_report_keeps_its_stamp_and_a_changed_one_takes_the_new(demo, monkeypatch):
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1000")
    assert demo.keep_published_stamp() is False  # nothing published yet
    _fake_leaderboard("a")(demo.PUBLISHED)
    before = (demo.PUBLISHED / "leaderboard.md").read_bytes()
    assert demo.published_epoch() == 1000

    monkeypatch.setenv("SOURCE_DATE_EPOCH", "2000")  # a later commit that changes no result
    monkeypatch.setattr(demo, "leaderboard", _fake_leaderboard("a"))
    assert demo.keep_published_stamp() is True
    assert (demo.PUBLISHED / "leaderboard.md").read_bytes() == before
    assert demo.published_epoch() == 1000

    monkeypatch.setattr(demo, "leaderboard", _fake_leaderboard("b"))  # a commit that changes results
    assert demo.keep_published_stamp() is False  # main() then makes it again at 2000
    assert os.environ["SOURCE_DATE_EPOCH"] == "2000"

    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1000")  # the published stamp itself: nothing to try
    assert demo.keep_published_stamp() is False
