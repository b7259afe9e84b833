"""Reference schedules (DESIGN.md section 5): the oracle's and the sequential schedule of a task,
against which a model's wall-clock is compared.

Why references are computed by running the reference policies, not from the graph: under a tool
timeout the oracle retries the calls that timed out (a new attempt, a new latency sample, one more
turn), and only the runtime knows what that costs. So the oracle policy and the sequential policy
are run through the runtime itself, on the virtual clock, under the episode's runtime settings
and prompts (nothing sleeps; an episode takes well under a millisecond), and cached per task,
settings and prompts, so a run computes each reference once whatever the number of models.

The model time of a reference never comes from the episode's own turns, so an episode's extra
tokens or turns cannot move its own baseline:
  - turns timed by an inference profile (reference policies, `--inference-profile`): the
    profile's latency of the reference policy's own turns, so `ideal_wall_s` is exactly the wall
    the oracle achieves and the sequential reference exactly the sequential policy's (both are
    calibrated: the oracle's wall / ideal and the sequential policy's speedup are 1);
  - measured turns (real providers): one fixed latency per model and run, the run's median turn
    latency, known only once the run is read whole; `complete` fills those episodes in
    (`reference_turn_s` is None until then).
Within one oracle batch under a fan-out cap the longest call goes first (DESIGN 5).
"""

from __future__ import annotations

import functools
import statistics
from collections.abc import Iterable, Mapping, MutableMapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, cast

from .timing import schedule

if TYPE_CHECKING:
    from .fixtures import Suite, Task
    from .groundtruth import GroundTruth
    from .prompts import PromptTemplates
    from .settings import RuntimeSettings
    from .trace import Trace

# What an episode stores of the two schedules (the rest is derived from them at a turn latency).
PARTS = ("oracle_turns", "oracle_tool_s", "sequential_turns", "sequential_tool_s")
# Per-episode score keys this module writes (scoring.Scores fields).
KEYS = (
    "reference_turn_s",
    "oracle_turns",
    "oracle_tool_s",
    "sequential_turns",
    "sequential_tool_s",
    "ideal_wall_s",
    "sequential_wall_s",
    "speedup_vs_sequential",
)


@dataclass(frozen=True)
class Schedule:
    """One reference policy's schedule of a task: per turn, its model latency (as the profile
    times it) and the makespan of the calls it issued (0 for the answer turn)."""

    latencies: tuple[float, ...]
    batches: tuple[float, ...]

    @property
    def turns(self) -> int:
        return len(self.latencies)

    @property
    def tool_s(self) -> float:
        return sum(self.batches)

    def wall(self, turn_s: float | None = None) -> float:
        """The wall-clock with each turn at its own latency, or at `turn_s` when given; summed in
        the runtime's order of float operations, so the oracle's own run reproduces it exactly."""
        now = 0.0
        for lat, b in zip(self.latencies, self.batches, strict=True):
            now = now + (lat if turn_s is None else turn_s)
            now += b
        return now


@dataclass(frozen=True)
class Reference:
    oracle: Schedule
    sequential: Schedule

    @functools.cached_property
    def parts(self) -> dict[str, Any]:
        """The schedules' turns and summed makespans (what an episode stores of them)."""
        oracle, seq = self.oracle, self.sequential
        return dict(zip(PARTS, (oracle.turns, oracle.tool_s, seq.turns, seq.tool_s), strict=True))

    @functools.cached_property
    def profile_walls(self) -> tuple[float, float, float]:
        """(mean oracle turn, oracle wall, sequential wall) with each turn at its own latency."""
        oracle = self.oracle
        mean = sum(oracle.latencies) / oracle.turns if oracle.turns else 0.0
        return mean, oracle.wall(), self.sequential.wall()


_PER_TASK = 64  # references kept per task (one per runtime settings and prompts a process uses)


class _OneTask:
    """A suite of one task, for the policies' task index (they find the task by its prompt)."""

    def __init__(self, task: Task):
        self.tasks = [task]


def _run(
    policy: str, task: Task, gt: GroundTruth, settings: RuntimeSettings, prompts: PromptTemplates
) -> Trace:
    from .models.policies import PolicyModel
    from .runtime import run_episode

    model = PolicyModel(policy, cast("list[Suite]", [_OneTask(task)]), seed=settings.seed)
    coro = run_episode(model, task, settings, 0, prompts=prompts)
    try:  # the virtual clock and the policies never suspend, so one step runs the episode
        coro.send(None)
    except StopIteration as done:
        return cast("Trace", done.value)
    coro.close()
    raise RuntimeError("a reference episode suspended: the virtual clock must not wait")


def _schedule(trace: Trace, cap: int | None, longest_first: bool) -> Schedule:
    by_turn: dict[int, list[float]] = {}
    for c in trace.calls:
        by_turn.setdefault(c.turn, []).append(c.duration_s)
    batches = []
    for t in trace.turns:
        durs = by_turn.get(t.index, [])
        if longest_first:
            durs = sorted(durs, reverse=True)
        batches.append(schedule(durs, cap)[1])
    return Schedule(tuple(t.model_latency_s for t in trace.turns), tuple(batches))


def reference(
    gt: GroundTruth, settings: RuntimeSettings, prompts: PromptTemplates | None = None
) -> Reference:
    """The oracle's and the sequential policy's schedules of `gt`'s task under `settings` (run on
    the virtual clock) and `prompts` (default: the shipped ones)."""
    if prompts is None:
        from .runtime import shipped_prompts

        prompts = shipped_prompts()
    virtual = settings if settings.clock == "virtual" else settings.replace(clock="virtual")
    task = gt.task
    # Kept on the task object, as its other memos are: its tools' latency models and responses
    # live in its suite, so two loads of a task are not the same key, and the models of one run
    # share their suite's task objects, hence the references.
    memo: dict[tuple[RuntimeSettings, str], Reference] = vars(task).setdefault("_references", {})
    key = (virtual, prompts.source_hash)  # settings are frozen: equal ones hash alike
    ref = memo.get(key)
    if ref is None:
        cap = virtual.fan_out_cap
        ref = Reference(
            oracle=_schedule(_run("oracle", task, gt, virtual, prompts), cap, longest_first=True),
            sequential=_schedule(_run("sequential", task, gt, virtual, prompts), cap, longest_first=False),
        )
        if len(memo) < _PER_TASK:
            memo[key] = ref
    return ref


def profile_timed(trace: Trace, settings: RuntimeSettings | None = None) -> bool:
    """Whether the turns are timed by an inference profile (set, or the default one a model that
    measures no latency gets) rather than by measured latencies. An episode without a turn (its
    first request failed) says nothing either way, so without a profile it waits for the run's
    median turn like its run's other episodes: timed by the default profile instead, a measured
    run's ideal wall mean would mix the profile's seconds into the run's own."""
    s = settings or trace.runtime
    if s.profile is not None:
        return True
    return bool(trace.turns) and all(t.measured_latency_s is None for t in trace.turns)


def values(ref: Reference, wall_s: float, turn_s: float | None) -> dict[str, Any]:
    """The per-episode reference scores at the fixed turn latency `turn_s`; None: the turns are
    profile-timed, so each reference policy's turns take what the profile gives them (the ideal
    is then exactly the oracle's wall, the sequential schedule exactly the sequential policy's)."""
    parts = ref.parts
    if turn_s is None:
        mean, ideal, seq = ref.profile_walls
        return parts | _ratios(mean, ideal, seq, wall_s)
    return parts | derived(parts, wall_s, turn_s)


def derived(parts: Mapping[str, Any], wall_s: float, turn_s: float) -> dict[str, Any]:
    """`ideal_wall_s`, `sequential_wall_s` and `speedup_vs_sequential` from the schedules' parts
    at a fixed turn latency."""
    ideal = parts["oracle_tool_s"] + parts["oracle_turns"] * turn_s
    seq = parts["sequential_tool_s"] + parts["sequential_turns"] * turn_s
    return _ratios(turn_s, ideal, seq, wall_s)


def _ratios(turn_s: float, ideal: float, seq: float, wall_s: float) -> dict[str, Any]:
    return {
        "reference_turn_s": turn_s,
        "ideal_wall_s": ideal,
        "sequential_wall_s": seq,
        "speedup_vs_sequential": seq / wall_s if wall_s > 0 else None,
    }


def episode_scores(ref: Reference, wall_s: float, timed_by_profile: bool) -> dict[str, Any]:
    """What an episode stores of its references: every value when its turns are profile-timed;
    the schedules' parts only when they are measured (`waits_for_run`: the rest waits for the
    run's median turn latency, `complete`)."""
    return values(ref, wall_s, None) if timed_by_profile else dict(ref.parts)


def waits_for_run(scores: Any) -> bool:
    """Whether an episode's references wait for its run's median turn latency (measured turns:
    parts known, `reference_turn_s` not yet); `scores` is a mapping or a `Scores`."""
    get = scores.get if isinstance(scores, Mapping) else lambda k: getattr(scores, k, None)
    return get("reference_turn_s") is None and get("oracle_turns") is not None


def run_turn_latency(latencies: Iterable[float]) -> float | None:
    """A run's fixed reference turn latency when its turns are measured: their median."""
    lats = list(latencies)
    return statistics.median(lats) if lats else None


def complete(rows: Sequence[MutableMapping[str, Any]], latencies: Iterable[float]) -> None:
    """Fill in the references of a run's measured episodes (`reference_turn_s` None, parts known)
    with the run's median turn latency over `latencies` (every turn of the run's measured
    episodes). Rows are episode score mappings; profile-timed and old rows are left alone."""
    todo = [r for r in rows if waits_for_run(r)]
    if not todo:
        return
    turn_s = run_turn_latency(latencies)
    if turn_s is None:
        return
    for r in todo:
        r.update(derived(r, float(r["wall_s"]), turn_s))


def complete_records(records: Sequence[Any]) -> None:
    """`complete` over typed episode records (`EpisodeRecord`): their scores are updated in place."""
    todo = [r for r in records if waits_for_run(r.scores)]
    if not todo:
        return
    turn_s = run_turn_latency(t.model_latency_s for r in todo for t in r.trace.turns)
    if turn_s is None:
        return
    for r in todo:
        sc = r.scores
        for k, v in derived({k: getattr(sc, k) for k in PARTS}, sc.wall_s, turn_s).items():
            setattr(sc, k, v)
