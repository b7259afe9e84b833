"""Suite validation beyond the schema: every reference resolves on the mock tools, no two nodes
are the same call, and the oracle policy succeeds with its answer passing the check."""

from __future__ import annotations

import asyncio

from mock_tools.canonical import normalized_key

from .fixtures import Suite, Task
from .groundtruth import GroundTruthError, resolve
from .models.policies import PolicyModel
from .route_lint import lint_routes
from .runtime import run_episode
from .scoring import score
from .settings import RuntimeSettings


def validate_task(
    task: Task,
    oracle: PolicyModel,
    cfg: RuntimeSettings,
    seed: int = 0,
    require_answer: bool = False,
    allow_identical: bool = False,
) -> list[str]:
    where = f"{task.file}: task {task.id!r}"
    try:
        gt = resolve(task, seed)
    except GroundTruthError as exc:
        return [str(exc)]
    problems = []
    if (
        require_answer
        and task.spec.answer is None
        and not any(task.tool_by_name[n.tool].write for n in task.nodes)
    ):
        problems.append(f"{where}: answer: a task with no write has an answer to give, but no answer check")
    seen: dict[str, str] = {}
    for v, n in gt.nodes.items():
        if task.node_by_id[v].spec.after:
            continue  # ordered after another call (a read after a write): not the same call in time
        key = n.tool + "\x00" + normalized_key(n.args)
        if key in seen and not allow_identical:
            problems.append(
                f"{where}: nodes {seen[key]!r} and {v!r} are the same call {n.tool}({n.canon_args})"
            )
        seen[key] = v
    problems += [f.message(task) for f in lint_routes(gt)]
    trace = asyncio.run(run_episode(oracle, task, cfg))
    sc = score(gt, trace)
    if not sc.success:
        why = []
        if sc.required_satisfied < sc.required_total:
            why.append(f"{sc.required_total - sc.required_satisfied} required node(s) unsatisfied")
        if not sc.answer_ok:
            why.append(f"answer check failed on the oracle's answer {trace.final_text!r}")
        if trace.error:
            why.append(trace.error)
        problems.append(f"{where}: oracle does not succeed: {'; '.join(why) or trace.stop}")
    elif sc.fan_out_recall not in (None, 1.0) or sc.incorrect_fan_out_rate not in (None, 0.0):
        problems.append(
            f"{where}: oracle scores recall {sc.fan_out_recall}, incorrect {sc.incorrect_fan_out_rate}"
        )
    return problems


def validate_suite(suite: Suite, seeds: tuple[int, ...] = (0,)) -> list[str]:
    """Load errors, then each task's problems under each seed. A problem that only some seeds show
    (a `when` that flips, a lookup that fails for one seeded world) is labelled with its seed."""
    problems = [str(e) for e in getattr(suite, "errors", [])]
    reported: set[str] = set()
    for seed in seeds:
        oracle = PolicyModel("oracle", [suite], seed=seed)
        cfg = RuntimeSettings(seed=seed)
        for t in suite.tasks:
            for p in validate_task(
                t, oracle, cfg, seed, suite.spec.require_answer_checks, suite.spec.allow_identical_calls
            ):
                if p in reported:
                    continue
                reported.add(p)
                problems.append(f"{p} [seed {seed}]" if len(seeds) > 1 else p)
    return problems
