"""Suite validation beyond the schema: every reference resolves on the mock tools (every failing
node is reported, with the fields the referenced results do have), no two nodes are the same call,
a table tool answers every argument variant a node accepts, the answer check checks something
(`evals.answer_lint`), and the oracle policy succeeds with its answer passing the check."""

from __future__ import annotations

import asyncio
from typing import Any

from mock_tools import EpisodeState, ToolContext, World, is_error
from mock_tools.canonical import canonical_json, normalized_key
from mock_tools.table import TableTool

from .answer_lint import answer_problem
from .fixtures import Suite, Task
from .groundtruth import GroundTruth, GroundTruthError, resolve
from .models.policies import PolicyModel
from .route_lint import lint_routes
from .runtime import run_episode
from .scoring import score
from .settings import RuntimeSettings
from .templating import TemplateError, refs_in


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
        return unresolved_nodes(task, seed) or [str(exc)]
    problems = accept_problems(task, gt)
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


def answer_lint(task: Task, gt: GroundTruth) -> str | None:
    """The answer lint (`evals.answer_lint`): a read-only task's answer check must hold a value the
    model can only know from a tool result. A task with a write is judged by the write's effect, and
    one with no call has no tool result, so neither is linted."""
    if task.spec.answer is None or not gt.nodes or any(n.write for n in gt.nodes.values()):
        return None
    why = answer_problem(task.prompt, gt.answer_contains, gt.answer_any)
    return f"{task.file}: task {task.id!r}: answer: {why}" if why else None


def validate_suite(
    suite: Suite, seeds: tuple[int, ...] = (0,), warnings: list[str] | None = None
) -> list[str]:
    """Load errors, then each task's problems under each seed. A problem that only some seeds show
    (a `when` that flips, a lookup that fails for one seeded world) is labelled with its seed.

    The answer lint runs on every suite; its findings go to `warnings` when a list is given (the CLI
    prints them, and `--strict` fails on them), so a suite with checks the lint doubts still runs."""
    problems = [str(e) for e in getattr(suite, "errors", [])]
    reported: set[str] = set()
    for seed in seeds:
        oracle = PolicyModel("oracle", [suite], seed=seed)
        cfg = RuntimeSettings(seed=seed)
        for t in suite.tasks:
            found = validate_task(
                t, oracle, cfg, seed, suite.spec.require_answer_checks, suite.spec.allow_identical_calls
            )
            if warnings is not None and not found:
                lint = answer_lint(t, resolve(t, seed))
                if lint and lint not in reported:
                    reported.add(lint)
                    warnings.append(f"{lint} [seed {seed}]" if len(seeds) > 1 else lint)
            for p in found:
                if p in reported:
                    continue
                reported.add(p)
                problems.append(f"{p} [seed {seed}]" if len(seeds) > 1 else p)
    return problems


def _fields(task: Task, value: Any, outputs: dict[str, Any]) -> str:
    """What the results a failing value reads do hold: "s1 has: name, height_m"."""
    parts = []
    for r in sorted(refs_in(value)):
        out = outputs.get(r)
        if isinstance(out, dict):
            keys = list(out)
            shown = ", ".join(map(str, keys[:12])) + (f", ... ({len(keys)} fields)" if len(keys) > 12 else "")
            parts.append(f"{r} has: {shown}")
        elif isinstance(out, list):
            parts.append(f"{r} is a list of {len(out)}")
    return f" ({'; '.join(parts)})" if parts else ""


def unresolved_nodes(task: Task, seed: int = 0) -> list[str]:
    """Every node (and the answer check) whose ground truth fails, not just the first: the graph is
    executed as `resolve` does, a failing node's dependents are left out, and a reference that does
    not resolve is reported with the fields its source's result has. Runs only once `resolve` failed."""
    where = f"{task.file}: task {task.id!r}"
    world, state = World(seed), EpisodeState()
    outputs: dict[str, Any] = {}
    ok: set[str] = set()
    problems: list[str] = []
    for level in task.graph.levels():
        writes: list = []
        for vid in level:
            node = task.node_by_id[vid]
            if not all(u in ok for u in node.deps):
                continue
            try:
                if node.when_fn is not None:
                    cond = node.when_fn(outputs)
                    if isinstance(cond, str):
                        cond = cond.strip().lower() not in ("", "false", "0", "none", "no")
                    if not cond:
                        continue
            except TemplateError as exc:
                problems.append(
                    f"{where}: node {vid!r}: condition: {exc}{_fields(task, node.spec.when, outputs)}"
                )
                continue
            try:
                args = node.args_fn(outputs)
            except TemplateError as exc:
                bad = next((v for v in node.spec.args.values() if _fails(v, outputs)), node.spec.args)
                problems.append(
                    f"{where}: node {vid!r}: argument reference does not resolve: {exc}{_fields(task, bad, outputs)}"
                )
                continue
            ctx = ToolContext(world, state)
            out = task.tool_by_name[node.tool].invoke(args, ctx)
            if is_error(out):
                msg = out["error"].get("message", out["error"])
                problems.append(
                    f"{where}: node {vid!r}: ground-truth call {node.tool}({canonical_json(args)}) failed: {msg}"
                )
                continue
            writes.extend(ctx.writes)
            outputs[vid] = out
            ok.add(vid)
        state.apply(writes)
    if task.spec.answer is not None and all(u in ok for u in task.answer_refs):
        answer = task.spec.answer
        for fld, values in (("contains", answer.contains), ("contains_any", answer.contains_any)):
            for j, v in enumerate(values):
                if _fails(v, outputs):
                    problems.append(f"{where}: answer.{fld}[{j}] does not resolve{_fields(task, v, outputs)}")
    return problems


def _fails(value: Any, outputs: dict[str, Any]) -> bool:
    from .templating import compile_value

    try:
        compile_value(value)(outputs)
    except TemplateError:
        return True
    return False


def accept_problems(task: Task, gt: GroundTruth) -> list[str]:
    """A table tool must answer every argument variant its node accepts: each `accept` alternative,
    and leaving out an `omissible` argument. A variant it answers with an error (a row it lacks, a
    required argument) would score `correct` and still leave the node unsatisfied; a variant it
    answers differently matters when a later call or the answer reads the node's result."""
    where = f"{task.file}: task {task.id!r}"
    read = set(task.answer_refs) | {u for n in task.nodes for u in n.deps}
    problems: list[str] = []
    for vid, rn in gt.nodes.items():
        node = task.node_by_id[vid]
        tool = task.tool_by_name[rn.tool]
        if not isinstance(tool, TableTool) or not (node.accept_fns or node.spec.omissible):
            continue
        accept = {k: [f(gt.outputs) for f in fs] for k, fs in node.accept_fns.items()}
        variants = [
            (f"accept.{k}: {canonical_json(alt)}", {**rn.args, k: alt})
            for k, alts in accept.items()
            for alt in alts
        ]
        variants += [
            (f"omissible: {k} left out", {a: v for a, v in rn.args.items() if a != k})
            for k in node.spec.omissible
            if k in rn.args
        ]
        base = tool.invoke(rn.args, ToolContext(World(gt.seed), EpisodeState()))
        for label, args in variants:
            out = tool.invoke(args, ToolContext(World(gt.seed), EpisodeState()))
            if is_error(out):
                msg = out["error"].get("message", out["error"])
                problems.append(
                    f"{where}: node {vid!r}: {label}: table tool {rn.tool} does not answer it ({msg})"
                )
            elif vid in read and canonical_json(out) != canonical_json(base):
                problems.append(
                    f"{where}: node {vid!r}: {label}: table tool {rn.tool} answers it differently, and "
                    "a later call or the answer reads this result"
                )
    return problems
