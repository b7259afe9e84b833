"""The core suite's play-test as a regression test (docs/suite-review.md, "Play-test").

Every core task was played once through `fanout play` by a player who had not read the fixture,
answering in deliberately varied but correct styles; tests/data/playtest holds those responses.
Replayed through the same runtime and scorer, each must still succeed: a fixture or matcher change
that would fail a capable model's correct play is caught here. (A change to world data that moves
a value the recorded answer states must re-record that task's answer.)
"""

from __future__ import annotations

import asyncio
import io
from pathlib import Path

import pytest

from evals.fixtures import Suite
from evals.groundtruth import resolve
from evals.models.play import FileSource, PlayModel
from evals.runtime import run_episode
from evals.scoring import score
from evals.settings import RuntimeSettings

PLAYED = Path(__file__).parent / "data" / "playtest"


def test_every_core_task_was_played(core_suite: Suite) -> None:
    assert {p.stem for p in PLAYED.glob("*.jsonl")} == set(core_suite.by_id)


def test_played_answers_still_succeed(core_suite: Suite) -> None:
    cfg = RuntimeSettings()
    failed = []
    for path in sorted(PLAYED.glob("*.jsonl")):
        task = core_suite.by_id[path.stem]
        model = PlayModel(FileSource.read(str(path)), io.StringIO(), player="playtest", intro=False)
        trace = asyncio.run(run_episode(model, task, cfg))
        s = score(resolve(task, 0), trace)
        if not s.success:
            failed.append(f"{task.id}: answer_ok={s.answer_ok}, {s.required_satisfied}/{s.required_total}")
    assert not failed, failed


@pytest.mark.parametrize("task_id", ["hr_chain_02", "people_multi_wave_13", "calendar_multi_wave_07"])
def test_played_shorter_routes_are_not_penalised(core_suite: Suite, task_id: str) -> None:
    """Players took find_user's manager_id straight to the next call: on the declared route."""
    cfg = RuntimeSettings()
    task = core_suite.by_id[task_id]
    model = PlayModel(FileSource.read(str(PLAYED / f"{task_id}.jsonl")), io.StringIO(), intro=False)
    trace = asyncio.run(run_episode(model, task, cfg))
    s = score(resolve(task, 0), trace)
    assert s.success and s.classes["premature"] == 0 and s.redundant_calls == 0


def test_a_player_who_names_the_products_keeps_the_headline(core_suite: Suite) -> None:
    """orders_chain_01: the player looked up the order's products (optional steps, issued together
    at the first turn they were ready) to name them instead of their SKUs: one turn more than the
    oracle, and still parallel success (docs/scoring.md, "Parallel success")."""
    task = core_suite.by_id["orders_chain_01"]
    path = PLAYED / "orders_chain_01.jsonl"
    model = PlayModel(FileSource.read(str(path)), io.StringIO(), intro=False)
    s = score(resolve(task, 0), asyncio.run(run_episode(model, task, RuntimeSettings())))
    assert s.turns == 5 and s.oracle_turns == 4 and s.optional_turns == 5
    assert s.parallel_success
