"""The CI gate: pair two runs episode by episode, then decide for each rule whether the candidate
regressed beyond its tolerance.

A rule fails only when BOTH hold:
  1. the point estimate of the change is worse than the rule's tolerance (absolute, or relative to
     the baseline value), and
  2. the paired bootstrap interval of the change (resampling tasks, fixed seed) excludes zero
     on the worse side.
The first keeps noise-free but negligible changes from blocking a merge; the second keeps a large
but unreproducible change on a handful of tasks from blocking it. The fixed seed makes the verdict
a pure function of the two runs and the rules, so a re-run of CI gives the same answer.

Misuse (missing folders, different suites or task sets, malformed rules) raises GateError, which
the CLI turns into exit code 2.
"""

from __future__ import annotations

import json
import math
import tomllib
from collections import defaultdict
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import numpy as np
from numpy.typing import ArrayLike
from pydantic import BaseModel, ConfigDict, Field, ValidationError
from pydantic_core import ErrorDetails

from .episodes import EpisodeRecord
from .episodes import parse as parse_record
from .errors import UsageError, describe_validation
from .metrics import METRICS as REGISTRY
from .metrics import Metric
from .reference import complete_records
from .runs import BadRunFolder, RunConfig, is_run_folder, read_episodes, read_run_config, run_folders_in
from .settings import RuntimeSettings
from .stats import DEFAULT_RESAMPLES, Bootstrap, paired_bootstrap, paired_ratio_bootstrap

# A regression equal to the tolerance passes; this absorbs float noise such as 49/50 - 1.
EPS = 1e-9


class GateError(UsageError, ValueError):
    """Misuse of the gate: the message says what is wrong and how to fix it (exit code 2)."""


# --------------------------------------------------------------------------------------------
# Metrics the rules can bound: the registry's gated metrics, by their rule name

METRICS: dict[str, Metric] = {m.rule: m for m in REGISTRY.gated()}


# --------------------------------------------------------------------------------------------
# Rules: shipped defaults and the TOML file


@dataclass(frozen=True)
class Rule:
    metric: str
    tolerance: float  # absolute units of the metric, or a fraction of the baseline when relative
    relative: bool

    @property
    def key(self) -> str:
        m = METRICS[self.metric]
        return f"max_{m.worse_word}" + ("_pct" if self.relative else "")

    def describe(self) -> str:
        m = METRICS[self.metric]
        if self.relative:
            return f"{m.worse_word} <= {_num(self.tolerance * 100)}%"
        return f"{m.worse_word} <= {_num(self.tolerance)}"


def _num(x: float) -> str:
    return f"{x:g}"


DEFAULT_RULES: tuple[Rule, ...] = (
    Rule("parallel_success_rate", 0.02, False),
    Rule("success_rate", 0.02, False),
    Rule("fan_out_recall", 0.02, False),
    Rule("incorrect_fan_out_rate", 0.02, False),
    Rule("redundant_rate", 0.05, False),
    Rule("cost_per_task", 0.10, True),
    Rule("speedup_vs_sequential", 0.10, True),
    Rule("wall_s_p50", 0.10, True),
)


@dataclass(frozen=True)
class Significance:
    confidence: float = 0.95
    resamples: int = DEFAULT_RESAMPLES
    seed: int = 0


@dataclass(frozen=True)
class RuleSet:
    rules: tuple[Rule, ...] = DEFAULT_RULES
    significance: Significance = field(default_factory=Significance)
    source: str = "shipped defaults"


# TOML has numbers and booleans of its own: a value written as a string ("2000", "no") is a
# mistake in the file, refused rather than read (strict fields; an integer still counts as a float).
class _RuleSpec(BaseModel):
    model_config = ConfigDict(extra="forbid")
    max_drop: float | None = Field(None, ge=0, strict=True)
    max_rise: float | None = Field(None, ge=0, strict=True)
    max_drop_pct: float | None = Field(None, ge=0, strict=True)
    max_rise_pct: float | None = Field(None, ge=0, strict=True)
    enabled: bool = Field(True, strict=True)  # a TOML boolean: a quoted "no" is not false


class _SignificanceSpec(BaseModel):
    model_config = ConfigDict(extra="forbid")
    confidence: float = Field(0.95, gt=0, lt=1, strict=True)
    resamples: int = Field(DEFAULT_RESAMPLES, ge=100, le=100_000, strict=True)
    seed: int = Field(0, ge=0, strict=True)


class _GateFile(BaseModel):
    model_config = ConfigDict(extra="forbid")
    defaults: bool = Field(True, strict=True)  # a TOML boolean: a quoted "no" is not false
    significance: _SignificanceSpec = Field(default_factory=_SignificanceSpec)
    rules: dict[str, _RuleSpec] = Field(default_factory=dict)


def _allowed_keys(loc: tuple[int | str, ...]) -> str:
    """The keys of the table an unknown key stands in: a `[rules.<metric>]` table's, the
    `[significance]` table's, or the file's own."""
    if len(loc) == 3 and loc[0] == "rules":
        return ", ".join(_RuleSpec.model_fields)
    if len(loc) == 2 and loc[0] == "significance":
        return ", ".join(_SignificanceSpec.model_fields)
    return "defaults, [significance], [rules.<metric>]"


def parse_rules(text: str, source: str = "<rules>") -> RuleSet:
    """A RuleSet from gate.toml text; every problem is a GateError naming the file and the key."""
    try:
        raw = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise GateError(f"{source}: invalid TOML: {exc}") from None
    if "rules" in raw and not isinstance(raw["rules"], dict):
        raise GateError(f"{source}: `rules` must be a table of [rules.<metric>] tables")
    for name in raw.get("rules", {}):
        if name not in METRICS:
            raise GateError(f"{source}: rules.{name}: unknown metric {name!r}; known: {', '.join(METRICS)}")
    try:
        spec = _GateFile.model_validate(raw)
    except ValidationError as exc:
        errors = exc.errors()
        parts = [_describe_error(e) for e in errors]
        last: dict[str, int] = {}  # the keys a table allows -> its last unknown key's error
        for i, e in enumerate(errors):
            if e["type"] == "extra_forbidden":
                last[_allowed_keys(e["loc"])] = i
        for allowed, i in last.items():  # the hint follows an unknown key, never a value error
            parts[i] += f" (allowed: {allowed})"
        raise GateError(f"{source}: {'; '.join(parts)}") from None
    rules: dict[str, Rule | None] = {r.metric: r for r in DEFAULT_RULES} if spec.defaults else {}
    for name, rs in spec.rules.items():
        m = METRICS[name]
        given = {k: v for k, v in rs.model_dump(exclude={"enabled"}).items() if v is not None}
        if not rs.enabled:
            rules[name] = None
            continue
        if len(given) != 1:
            keys = f"max_{m.worse_word} or max_{m.worse_word}_pct"
            what = "no tolerance" if not given else f"several tolerances ({', '.join(sorted(given))})"
            raise GateError(f"{source}: rules.{name}: {what}; give exactly one of {keys}")
        key, value = next(iter(given.items()))
        if not key.startswith(f"max_{m.worse_word}"):
            raise GateError(
                f"{source}: rules.{name}: {name} gets worse when it {m.worse_word}s, so bound it with "
                f"max_{m.worse_word} or max_{m.worse_word}_pct, not {key}"
            )
        relative = key.endswith("_pct")
        rules[name] = Rule(name, value / 100 if relative else value, relative)
    kept = tuple(r for r in rules.values() if r is not None)
    if not kept:
        raise GateError(f"{source}: no rule is enabled; the gate would pass anything")
    sig = Significance(spec.significance.confidence, spec.significance.resamples, spec.significance.seed)
    return RuleSet(kept, sig, source)


def _describe_error(e: ErrorDetails) -> str:
    if e["type"] == "bool_type":  # `defaults`, `enabled`: strict booleans
        return f"{'.'.join(str(x) for x in e['loc'])} must be true or false, not {_toml_value(e['input'])}"
    return describe_validation([e])


def _toml_value(v: Any) -> str:
    if isinstance(v, str):
        return f"the string {json.dumps(v, ensure_ascii=False)}"
    if isinstance(v, int | float):
        return f"the number {v}"
    if isinstance(v, list):
        return "an array"
    return "a table" if isinstance(v, dict) else "a date or time"


def load_rules(path: str | Path | None) -> RuleSet:
    if path is None:
        return RuleSet()
    p = Path(path)
    if not p.is_file():
        raise GateError(
            f"rules file {p} does not exist" if not p.exists() else f"rules file {p} is not a file"
        )
    try:
        text = p.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise GateError(f"rules file {p} cannot be read: {exc}") from None
    return parse_rules(text, str(p))


def rules_toml(ruleset: RuleSet) -> str:
    """The rules as gate.toml text (documentation and `--show-rules`)."""
    s = ruleset.significance
    lines = [
        "defaults = false",
        "",
        "[significance]",
        f"confidence = {s.confidence}",
        f"resamples = {s.resamples}",
        f"seed = {s.seed}",
    ]
    for r in ruleset.rules:
        value = _num(round(r.tolerance * 100, 12)) if r.relative else _num(r.tolerance)
        lines += ["", f"[rules.{r.metric}]", f"{r.key} = {value}"]
    return "\n".join(lines) + "\n"


# --------------------------------------------------------------------------------------------
# Loading and pairing runs

Key = tuple[str, int]


@dataclass
class RunData:
    path: Path
    config: RunConfig
    episodes: dict[Key, dict]  # (task, epoch) -> scores dict


def load_run_data(path: str | Path, role: str) -> RunData:
    """A run folder for the gate, validated: every problem is a GateError naming the folder."""
    d = Path(path)
    if not d.exists():
        raise GateError(f"{role} run folder {d} does not exist")
    if not d.is_dir():
        raise GateError(f"{role} run {d} is not a folder (give the run folder that holds run.json)")
    if not is_run_folder(d):
        raise GateError(f"{role} run folder {d} has no run.json (is it a run folder of `fanout run`?)")
    try:
        cfg = read_run_config(d)
    except BadRunFolder as exc:
        raise GateError(f"{role} run {exc}") from None
    if not (d / "episodes.jsonl").is_file():
        raise GateError(f"{role} run folder {d} has no episodes.jsonl")
    try:
        rows = read_episodes(d / "episodes.jsonl")
    except OSError as exc:
        raise GateError(f"{role} run {d}: episodes.jsonl cannot be read: {exc.strerror}") from None
    records: dict[Key, EpisodeRecord] = {}
    for n, row in enumerate(rows, start=1):
        where = f"{role} run {d}: episodes.jsonl line {n}"
        if not isinstance(row, dict) or not isinstance(row.get("scores"), dict):
            raise GateError(f"{where}: no `scores` object")
        try:
            rec = parse_record(row, cfg.runtime)
        except ValidationError as exc:
            in_scores = [e for e in exc.errors() if e["loc"][:1] == ("scores",)]
            if in_scores:
                raise GateError(
                    f"{where}: scores are not valid: {describe_validation(in_scores, 'scores')}"
                ) from None
            raise GateError(f"{where}: not a valid episode: {describe_validation(exc.errors())}") from None
        key = (rec.task_id, rec.epoch)
        if key in records:
            raise GateError(f"{where}: a second episode for task {key[0]!r} epoch {key[1]}")
        records[key] = rec
    complete_records(list(records.values()))  # measured turns: references at the run's median turn
    episodes = {k: r.scores.model_dump() for k, r in records.items()}
    if not episodes:
        raise GateError(f"{role} run {d} has no finished episode")
    return RunData(d, cfg, episodes)


@dataclass
class Pairing:
    baseline: RunData
    candidate: RunData
    keys: list[Key]  # paired (task, epoch), sorted
    only_baseline: list[Key]
    only_candidate: list[Key]
    warnings: list[str] = field(default_factory=list)

    @property
    def tasks(self) -> list[str]:
        return sorted({t for t, _ in self.keys})

    @property
    def epochs(self) -> int:
        return len({e for _, e in self.keys})


def _few(keys: list[Key], limit: int = 5) -> str:
    shown = ", ".join(t if e == 0 else f"{t} (epoch {e})" for t, e in keys[:limit])
    return shown + (f" and {len(keys) - limit} more" if len(keys) > limit else "")


def pair_runs(
    baseline: RunData, candidate: RunData, allow_subset: bool = False, same_suite_hash: bool = True
) -> Pairing:
    """Episodes of the two runs matched by (task, epoch). Runs of different suites never pair;
    different task sets pair only with `allow_subset` (on their intersection)."""
    b, c = baseline.config, candidate.config
    if b.suite != c.suite:
        raise GateError(
            f"the runs are of different suites: baseline {baseline.path} ran {b.suite!r}, "
            f"candidate {candidate.path} ran {c.suite!r}"
        )
    warnings = []
    if b.suite_hash != c.suite_hash:
        msg = (
            f"suite {b.suite!r} changed between the runs (suite hash {b.suite_hash} != {c.suite_hash}): "
            "tasks or their ground truth differ"
        )
        if same_suite_hash:
            raise GateError(msg + "; re-run the baseline on the current suite")
        warnings.append(msg)
    bk, ck = set(baseline.episodes), set(candidate.episodes)
    only_b, only_c = sorted(bk - ck), sorted(ck - bk)
    keys = sorted(bk & ck)
    if (only_b or only_c) and not allow_subset:
        parts = []
        if only_b:
            parts.append(f"only in the baseline: {_few(only_b)}")
        if only_c:
            parts.append(f"only in the candidate: {_few(only_c)}")
        raise GateError(
            "the runs cover different tasks (" + "; ".join(parts) + "); re-run them on the same tasks, "
            "or pass --allow-subset to gate on the tasks they share"
        )
    if not keys:
        raise GateError("the runs share no (task, epoch): there is nothing to compare")
    for role, run in (("baseline", baseline), ("candidate", candidate)):
        if run.config.status != "complete":
            warnings.append(f"the {role} run {run.path} is {run.config.status}, not complete")
    return Pairing(baseline, candidate, keys, only_b, only_c, warnings)


# --------------------------------------------------------------------------------------------
# Verdicts


@dataclass
class RuleResult:
    rule: Rule
    status: Literal["pass", "fail", "skip"]
    reason: str
    baseline: float | None = None
    candidate: float | None = None
    diff: float | None = None  # candidate - baseline
    ci: tuple[float, float] | None = None
    regression: float | None = None  # how much worse, in the rule's units (fraction when relative)
    significant: bool = False

    @property
    def metric(self) -> Metric:
        return METRICS[self.rule.metric]


@dataclass
class Flip:
    task_id: str
    baseline_passed: int
    candidate_passed: int
    epochs: int


@dataclass
class GateResult:
    pairing: Pairing
    ruleset: RuleSet
    results: list[RuleResult]
    regressed: list[Flip]  # tasks with parallel success in fewer epochs of the candidate
    fixed: list[Flip]  # in more

    @property
    def passed(self) -> bool:
        return not any(r.status == "fail" for r in self.results)

    def count(self, status: str) -> int:
        return sum(1 for r in self.results if r.status == status)


def _value(sc: Mapping[str, Any], fields: tuple[str, ...]) -> float | None:
    """The per-episode value of a metric: its field, or the sum of its fields (None if one is)."""
    total = 0.0
    for f in fields:
        v = sc.get(f)
        if v is None:
            return None
        total += float(v)
    return total


def _per_task(
    run: RunData, keys: list[Key], tasks: list[str], fields: tuple[str, ...], how: Literal["mean", "sum"]
) -> np.ndarray | None:
    """One value per task over its paired epochs: the mean (`mean`) or the sum (`sum`); None when
    an episode has no value."""
    groups: dict[str, list[float | None]] = defaultdict(list)
    for k in keys:
        groups[k[0]].append(_value(run.episodes[k], fields))
    out = []
    for t in tasks:
        vals = [v for v in groups[t] if v is not None]
        if len(vals) != len(groups[t]):
            return None
        out.append(sum(vals) / len(vals) if how == "mean" else sum(vals))
    return np.asarray(out, dtype=float)


def paired_median_bootstrap(
    base: ArrayLike, cand: ArrayLike, resamples: int = DEFAULT_RESAMPLES, seed: int = 0, alpha: float = 0.05
) -> tuple[float, float, float]:
    """median(cand) - median(base) over paired tasks, resampling the same tasks for both (the
    resampling scheme of evals.stats, so one seed drives every rule)."""
    b = np.asarray(base, dtype=float)
    c = np.asarray(cand, dtype=float)
    if b.shape != c.shape:
        raise ValueError("paired samples must have the same length")
    if b.size == 0:
        return (0.0, 0.0, 0.0)
    point = float(np.median(c) - np.median(b))
    if b.size == 1:
        return (point, point, point)
    idx = np.random.default_rng(seed).integers(0, b.size, size=(resamples, b.size))
    diffs = np.median(c[idx], axis=1) - np.median(b[idx], axis=1)
    return (point, float(np.quantile(diffs, alpha / 2)), float(np.quantile(diffs, 1 - alpha / 2)))


def _missing_reason(p: Pairing, m: Metric, fields: tuple[str, ...]) -> str:
    runs = [
        run.config.model
        for run in (p.baseline, p.candidate)
        if any(_value(run.episodes[k], fields) is None for k in p.keys)
    ]
    models = list(dict.fromkeys(runs))
    if m.unit == "usd":
        return f"cost unknown (no price for {' and '.join(models)}): skipped, never read as 0"
    return f"{m.name} is not recorded for every paired episode of {' and '.join(models)}: skipped"


def evaluate_rule(rule: Rule, p: Pairing, sig: Significance) -> RuleResult:
    m = METRICS[rule.metric]
    tasks, keys = p.tasks, p.keys
    if m.agg.where is not None:  # a speed figure: over the pairs where both episodes succeeded
        keys = [
            k
            for k in keys
            if p.baseline.episodes[k].get(m.agg.where) and p.candidate.episodes[k].get(m.agg.where)
        ]
        if not keys:
            return RuleResult(rule, "skip", f"no paired episode has {m.agg.where} in both runs")
        tasks = sorted({t for t, _ in keys})
    boot = Bootstrap(resamples=sig.resamples, seed=sig.seed, alpha=1 - sig.confidence)
    fields = m.agg.fields
    if m.agg.gate_kind == "ratio":
        num, den = fields
        bn = _per_task(p.baseline, keys, tasks, (num,), "sum")
        bd = _per_task(p.baseline, keys, tasks, (den,), "sum")
        cn = _per_task(p.candidate, keys, tasks, (num,), "sum")
        cd = _per_task(p.candidate, keys, tasks, (den,), "sum")
        if bn is None or bd is None or cn is None or cd is None:
            return RuleResult(rule, "skip", _missing_reason(p, m, fields))
        if bd.sum() == 0 or cd.sum() == 0:
            return RuleResult(rule, "skip", f"{m.name} is undefined: no paired episode has any {den}")
        base, cand = bn.sum() / bd.sum(), cn.sum() / cd.sum()
        diff, lo, hi = paired_ratio_bootstrap(bn, bd, cn, cd, **boot)
    else:
        b = _per_task(p.baseline, keys, tasks, fields, "mean")
        c = _per_task(p.candidate, keys, tasks, fields, "mean")
        if b is None or c is None:
            return RuleResult(rule, "skip", _missing_reason(p, m, fields))
        if m.agg.gate_kind == "median":
            base, cand = float(np.median(b)), float(np.median(c))
            diff, lo, hi = paired_median_bootstrap(b, c, **boot)
        else:
            base, cand = float(b.mean()), float(c.mean())
            diff, lo, hi = paired_bootstrap(b, c, **boot)
    worse = -diff if m.better == "higher" else diff
    if rule.relative:
        regression = worse / abs(base) if base else (math.inf if worse > EPS else 0.0)
    else:
        regression = worse
    significant = hi < 0 if m.better == "higher" else lo > 0
    exceeds = regression > rule.tolerance + EPS
    level = confidence_label(sig.confidence)
    status: Literal["pass", "fail", "skip"]
    if not exceeds:
        status, reason = "pass", "within tolerance"
    elif not significant:
        status, reason = "pass", f"worse than tolerance, but the {level} interval includes zero"
    else:
        status, reason = "fail", f"worse than tolerance and the {level} interval excludes zero"
    return RuleResult(
        rule,
        status,
        reason,
        float(base),
        float(cand),
        float(diff),
        (float(lo), float(hi)),
        regression,
        significant,
    )


def flips(p: Pairing) -> tuple[list[Flip], list[Flip]]:
    """Tasks whose number of epochs with parallel success (the headline, docs/scoring.md) went
    down or up. A failed task has no parallel success either, so a task that now fails is listed
    too; a prompt that makes a model sequential shows its tasks here though every one still
    succeeds (plain success would list none)."""
    passed: dict[str, list[int]] = defaultdict(lambda: [0, 0, 0])
    for k in p.keys:
        row = passed[k[0]]
        row[0] += bool(p.baseline.episodes[k]["parallel_success"])
        row[1] += bool(p.candidate.episodes[k]["parallel_success"])
        row[2] += 1
    worse = [Flip(t, b, c, n) for t, (b, c, n) in sorted(passed.items()) if c < b]
    better = [Flip(t, b, c, n) for t, (b, c, n) in sorted(passed.items()) if c > b]
    return worse, better


def run_gate(p: Pairing, ruleset: RuleSet) -> GateResult:
    results = [evaluate_rule(r, p, ruleset.significance) for r in ruleset.rules]
    worse, better = flips(p)
    return GateResult(p, ruleset, results, worse, better)


def gate(
    baseline: str | Path, candidate: str | Path, rules: str | Path | None = None, allow_subset: bool = False
) -> GateResult:
    """Load, pair and judge two run folders (the whole gate without its output)."""
    ruleset = load_rules(rules)
    b = load_run_data(baseline, "baseline")
    c = load_run_data(candidate, "candidate")
    return run_gate(pair_runs(b, c, allow_subset=allow_subset), ruleset)


def _runs_in(path: str | Path, role: str) -> list[tuple[Path, RunConfig]]:
    d = Path(path)
    if is_run_folder(d):
        return [(d, read_run_config(d))]
    out = []
    for sub in run_folders_in(d):
        try:
            out.append((sub, read_run_config(sub)))
        except BadRunFolder as exc:
            raise GateError(f"{role} folder {d}: {exc}") from None
    return out


def run_pairs(baseline: str | Path, candidate: str | Path) -> list[tuple[Path, Path]]:
    """The (baseline, candidate) run folders to judge. Two run folders are one pair; a folder of
    run folders (a `fanout run --out` target) stands for its runs: one run each side is a pair
    whatever its model (a model swap), several are paired by model, each model once per side."""
    b_path, c_path = Path(baseline), Path(candidate)
    expand = [p.is_dir() and not is_run_folder(p) for p in (b_path, c_path)]
    if not any(expand):  # run folders, or paths the loader reports on (missing, not a folder)
        return [(b_path, c_path)]
    sides = {}
    for role, path in (("baseline", b_path), ("candidate", c_path)):
        if not path.exists():
            raise GateError(f"{role} run folder {path} does not exist")
        runs = _runs_in(path, role)
        if not runs:
            raise GateError(f"{role} folder {path} holds no run (no run.json in it or in its subfolders)")
        sides[role] = runs
    b_runs, c_runs = sides["baseline"], sides["candidate"]
    if len(b_runs) == 1 and len(c_runs) == 1:
        return [(b_runs[0][0], c_runs[0][0])]
    by_model: dict[str, dict[str, list[Path]]] = {}
    for role, runs in sides.items():
        for d, cfg in runs:
            by_model.setdefault(cfg.model, {}).setdefault(role, []).append(d)
    pairs = []
    for model, found in sorted(by_model.items()):
        for role, path in (("baseline", b_path), ("candidate", c_path)):
            dirs = found.get(role, [])
            if len(dirs) != 1:
                what = "no run" if not dirs else f"{len(dirs)} runs ({', '.join(x.name for x in dirs)})"
                raise GateError(
                    f"{role} folder {path} holds {what} of model {model!r}: a folder of runs pairs one run per "
                    "model on each side; name the run folders instead"
                )
        pairs.append((found["baseline"][0], found["candidate"][0]))
    return pairs


def confidence_label(confidence: float) -> str:
    """The interval's level as written in every output: 95%, 97.5%, 99.9% (never rounded to a
    level it is not)."""
    return f"{confidence * 100:.10g}%"


CONFIG_FIELDS = ("model", "system_prompt", "user_prompt", "prompt_hash", "epochs", "max_concurrency")
CONFIG_FIELDS_AFTER = ("model_options", "prices", "price_table_version", "harness_version")


def config_changes(p: Pairing) -> list[str]:
    """run.json settings that differ between the runs: what the gate is judging (every runtime
    setting by its own name)."""
    b, c = p.baseline.config, p.candidate.config
    changed = [f for f in CONFIG_FIELDS if getattr(b, f) != getattr(c, f)]
    changed += [f for f in RuntimeSettings.model_fields if getattr(b.runtime, f) != getattr(c.runtime, f)]
    return changed + [f for f in CONFIG_FIELDS_AFTER if getattr(b, f) != getattr(c, f)]


__all__ = [
    "DEFAULT_RULES",
    "METRICS",
    "Flip",
    "GateError",
    "GateResult",
    "Pairing",
    "Rule",
    "RuleResult",
    "RuleSet",
    "RunData",
    "Significance",
    "confidence_label",
    "config_changes",
    "evaluate_rule",
    "gate",
    "load_rules",
    "load_run_data",
    "pair_runs",
    "paired_median_bootstrap",
    "parse_rules",
    "rules_toml",
    "run_gate",
    "run_pairs",
]
