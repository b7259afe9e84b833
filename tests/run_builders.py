"""Run folders written directly from Scores-shaped dicts, for the gate and compare tests.

Writing the files by hand (rather than running a model) lets a test set each metric to the exact
value it needs, e.g. a regression of exactly the tolerance.
"""

from __future__ import annotations

import json
from pathlib import Path

from evals.metrics import METRICS
from evals.runs import RunConfig
from evals.scoring import Scores


def scores(task_id: str, **over) -> dict:
    """An oracle-like episode on a task with 3 parallelizable nodes and 1 dependent node."""
    base = dict(
        task_id=task_id,
        pattern="synthetic",
        success=True,
        answer_ok=True,
        required_satisfied=4,
        required_total=4,
        classes={"correct": 4, "premature": 0, "duplicate": 0, "wrong_args": 0, "extraneous": 0},
        n_calls=4,
        on_time=3,
        parallelizable=3,
        premature_nodes=0,
        nodes_with_deps=1,
        fan_out_recall=1.0,
        incorrect_fan_out_rate=0.0,
        redundant_calls=0,
        redundant_rate=0.0,
        turns=3,
        ideal_turns=3,
        max_batch=3,
        wall_s=1.0,
        serial_wall_s=1.6,
        parallel_speedup=1.6,
        ideal_wall_s=1.0,  # the oracle's 0.4 s of tools + 3 turns of 0.2 s
        reference_turn_s=0.2,
        oracle_turns=3,
        oracle_tool_s=0.4,
        sequential_turns=5,
        sequential_tool_s=0.6,
        sequential_wall_s=1.6,  # 0.6 s + 5 turns of 0.2 s
        rejoin_s=0.5,
        model_time_s=0.6,
        tool_time_s=0.4,
        prompt_tokens=1000,
        completion_tokens=50,
        cached_tokens=0,
        usage_estimated=True,
        cost_usd=None,
        stop="answer",
    )
    base.update({ev.name: 0.0 for ev in METRICS.episode_values()})  # values computed from a trace
    base.update(over)
    if "speedup_vs_sequential" not in over:
        base["speedup_vs_sequential"] = base["sequential_wall_s"] / base["wall_s"] if base["wall_s"] else None
    return Scores.model_validate(base).model_dump()


def write_run(
    folder: Path,
    episodes: list[dict],
    *,
    suite: str = "synthetic",
    suite_hash: str = "abc123",
    model: str = "policy/oracle",
    prompt_hash: str = "p0",
    epochs: dict[int, int] | None = None,
    status: str = "complete",
) -> Path:
    """A run folder holding `episodes` (scores dicts); `epochs` maps an episode's index to its epoch."""
    folder.mkdir(parents=True, exist_ok=True)
    task_ids = sorted({e["task_id"] for e in episodes})
    cfg = RunConfig(
        run_id=folder.name,
        model=model,
        suite=suite,
        suite_path=f"tasks/{suite}",
        suite_hash=suite_hash,
        task_ids=task_ids,
        prompt_hash=prompt_hash,
        created="2026-01-01T00:00:00+00:00",
        status=status,
        epochs=1 + max((epochs or {0: 0}).values()),
    )
    (folder / "run.json").write_text(json.dumps(cfg.model_dump(), indent=2), encoding="utf-8")
    with open(folder / "episodes.jsonl", "w", encoding="utf-8") as f:
        for i, sc in enumerate(episodes):
            trace = {"task_id": sc["task_id"], "suite": suite, "model": model}  # no turn, no call
            epoch = (epochs or {}).get(i, 0)
            row = {
                "task_id": sc["task_id"],
                "epoch": epoch,
                "pattern": sc["pattern"],
                "scores": sc,
                "trace": trace,
            }
            f.write(json.dumps(row) + "\n")
    return folder


def tasks(n: int) -> list[str]:
    return [f"t{i:03d}" for i in range(n)]
