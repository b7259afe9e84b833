"""The gate's verdict as a terminal table, a Markdown summary (PR comments, $GITHUB_STEP_SUMMARY)
and JUnit XML (one test case per rule, for CI systems that chart test results).

Every output is a pure function of the GateResult: no clock, no host name, no absolute path the
user did not give, so the same inputs render byte-identical text.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET

from .gate import Flip, GateResult, RuleResult, confidence_label, config_changes
from .metrics import Metric

# Decimals of a gated metric's values and changes, by the metric's unit.
_DIGITS = {"rate": 3, "share": 3, "factor": 3, "count": 2, "tokens": 2, "int": 2, "seconds": 3, "usd": 6}
_FORMATS = {unit: f"{{:.{d}f}}" for unit, d in _DIGITS.items()}
_SIGNED = {unit: f"{{:+.{d}f}}" for unit, d in _DIGITS.items()}


def fmt_value(m: Metric, v: float | None) -> str:
    return "n/a" if v is None else _FORMATS[m.unit].format(v)


def fmt_change(r: RuleResult) -> str:
    if r.diff is None:
        return "n/a"
    out = _SIGNED[r.metric.unit].format(r.diff)
    if r.rule.relative and r.baseline:
        out += f" ({r.diff / abs(r.baseline):+.1%})"
    return out


def fmt_ci(r: RuleResult) -> str:
    if r.ci is None:
        return "n/a"
    f = _SIGNED[r.metric.unit]
    return f"[{f.format(r.ci[0])}, {f.format(r.ci[1])}]"


def headline(res: GateResult) -> str:
    n = len(res.results)
    parts = [
        f"{res.count('fail')} of {n} rules regressed"
        if not res.passed
        else f"{n - res.count('skip')} rules hold"
    ]
    if res.count("skip"):
        parts.append(f"{res.count('skip')} skipped")
    return ("PASS" if res.passed else "FAIL") + " (" + ", ".join(parts) + ")"


def _paired_line(res: GateResult) -> str:
    p = res.pairing
    cfg = p.baseline.config
    n_tasks, epochs = len(p.tasks), p.epochs
    text = f"{n_tasks} tasks x {epochs} epoch{'s' if epochs != 1 else ''} ({len(p.keys)} episode pairs)"
    text += f" of suite {cfg.suite} (hash {cfg.suite_hash})"
    if p.only_baseline or p.only_candidate:
        text += f"; --allow-subset left out {len(p.only_baseline)} baseline and {len(p.only_candidate)} candidate episodes"
    return text


def _flip_text(f: Flip) -> str:
    if f.epochs == 1:
        return f.task_id
    return f"{f.task_id} ({f.baseline_passed}/{f.epochs} -> {f.candidate_passed}/{f.epochs})"


FLIPS_LISTED = 40  # past this many, the rest is counted (fanout compare lists every task)


def _flip_list(flips: list[Flip], form: str) -> str:
    names = [form.format(_flip_text(f)) for f in flips[:FLIPS_LISTED]]
    more = len(flips) - len(names)
    return (", ".join(names) or "none") + (f" and {more} more" if more > 0 else "")


def _significance_text(res: GateResult) -> str:
    s = res.ruleset.significance
    return (
        f"A rule fails only when the change is worse than its tolerance and the {confidence_label(s.confidence)} paired "
        f"bootstrap interval of the change ({s.resamples} resamples over tasks, seed {s.seed}) excludes zero."
    )


def _table(rows: list[list[str]]) -> str:
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
    return "\n".join("  ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)).rstrip() for r in rows)


def render_text(res: GateResult, baseline_arg: str, candidate_arg: str) -> str:
    p = res.pairing
    lines = [f"fanout gate: {headline(res)}"]
    for role, run, arg in (("baseline", p.baseline, baseline_arg), ("candidate", p.candidate, candidate_arg)):
        lines.append(f"{role + ':':<11}{arg}  model {run.config.model}  prompt {run.config.prompt_hash}")
    lines.append(f"{'paired:':<11}{_paired_line(res)}")
    changes = config_changes(p)
    lines.append(f"{'changed:':<11}{', '.join(changes) if changes else 'nothing in run.json'}")
    lines.append(f"{'rules:':<11}{res.ruleset.source}")
    for w in p.warnings:
        lines.append(f"{'warning:':<11}{w}")
    lines.append("")
    rows = [["rule", "baseline", "candidate", "change", "tolerance", "95% CI of change", "verdict", "note"]]
    rows[0][5] = f"{confidence_label(res.ruleset.significance.confidence)} CI of change"
    for r in res.results:
        rows.append(
            [
                r.rule.metric,
                fmt_value(r.metric, r.baseline),
                fmt_value(r.metric, r.candidate),
                fmt_change(r),
                r.rule.describe(),
                fmt_ci(r),
                {"pass": "pass", "fail": "FAIL", "skip": "skip"}[r.status],
                r.reason,
            ]
        )
    lines.append(_table(rows))
    lines.append("")
    lines.append(
        f"tasks that lost parallel success ({len(res.regressed)}): " + _flip_list(res.regressed, "{}")
    )
    lines.append(f"tasks that gained parallel success ({len(res.fixed)}): " + _flip_list(res.fixed, "{}"))
    if not res.passed:
        lines.append(f"per-task diff: fanout compare {baseline_arg} {candidate_arg}")
    return "\n".join(lines) + "\n"


def _md_escape(s: str) -> str:
    return s.replace("|", "\\|")


def render_markdown(res: GateResult, baseline_arg: str, candidate_arg: str) -> str:
    p = res.pairing
    icon = "✅" if res.passed else "❌"
    out = [f"## {icon} Fanout gate: {headline(res)}", ""]
    out += ["| | run | model | prompt hash | episodes |", "|---|---|---|---|---|"]
    for role, run, arg in (("baseline", p.baseline, baseline_arg), ("candidate", p.candidate, candidate_arg)):
        out.append(
            f"| {role} | `{_md_escape(arg)}` | `{_md_escape(run.config.model)}` | `{run.config.prompt_hash}` "
            f"| {len(run.episodes)} |"
        )
    out.append("")
    changes = config_changes(p)
    out.append(f"Paired {_paired_line(res)}.")
    out.append(
        "Changed between the runs: "
        + (", ".join(f"`{c}`" for c in changes) if changes else "nothing in run.json")
        + "."
    )
    for w in p.warnings:
        out.append(f"\n> **Warning:** {_md_escape(w)}")
    out += [
        "",
        f"| rule | baseline | candidate | change | tolerance | {confidence_label(res.ruleset.significance.confidence)} CI of change | verdict |",
    ]
    out.append("|---|---:|---:|---:|---|---|---|")
    for r in res.results:
        verdict = {"pass": "✅ pass", "fail": "❌ **FAIL**", "skip": "⏭️ skip"}[r.status]
        out.append(
            f"| `{r.rule.metric}` | {fmt_value(r.metric, r.baseline)} | {fmt_value(r.metric, r.candidate)} "
            f"| {fmt_change(r)} | {r.rule.describe().replace('<=', '≤')} | {fmt_ci(r)} | {verdict} |"
        )
    out.append("")
    notes = [r for r in res.results if r.status != "pass" or r.reason != "within tolerance"]
    for r in notes:
        out.append(f"- `{r.rule.metric}`: {_md_escape(r.reason)}")
    if notes:
        out.append("")
    out.append(_significance_text(res) + f" Rules: {_md_escape(res.ruleset.source)}.")
    out += ["", "### Tasks that flipped", ""]
    out.append(f"- parallel success lost ({len(res.regressed)}): " + _flip_list(res.regressed, "`{}`"))
    out.append(f"- parallel success gained ({len(res.fixed)}): " + _flip_list(res.fixed, "`{}`"))
    if not res.passed:
        out += ["", f"Per-task diff: `fanout compare {_md_escape(baseline_arg)} {_md_escape(candidate_arg)}`"]
    return "\n".join(out) + "\n"


def _counts(res: GateResult) -> dict[str, int]:
    return {
        "tests": len(res.results),
        "failures": res.count("fail"),
        "errors": 0,
        "skipped": res.count("skip"),
    }


def _junit_suite(
    parent: ET.Element, res: GateResult, baseline_arg: str, candidate_arg: str, name: str
) -> None:
    """One <testsuite> of a model pair: one <testcase> per rule; failed rules carry <failure>,
    skipped ones <skipped>."""
    counts = {k: str(v) for k, v in _counts(res).items()} | {"time": "0"}
    suite = ET.SubElement(parent, "testsuite", {"name": name, **counts})
    props = ET.SubElement(suite, "properties")
    for prop, value in (
        ("baseline", baseline_arg),
        ("candidate", candidate_arg),
        ("baseline_model", res.pairing.baseline.config.model),
        ("candidate_model", res.pairing.candidate.config.model),
        ("paired_episodes", str(len(res.pairing.keys))),
        ("rules", res.ruleset.source),
    ):
        ET.SubElement(props, "property", {"name": prop, "value": value})
    for r in res.results:
        case = ET.SubElement(
            suite, "testcase", {"classname": "fanout.gate", "name": r.rule.metric, "time": "0"}
        )
        detail = (
            f"{r.rule.metric}: baseline {fmt_value(r.metric, r.baseline)}, candidate "
            f"{fmt_value(r.metric, r.candidate)}, change {fmt_change(r)}, tolerance {r.rule.describe()}, "
            f"CI {fmt_ci(r)}: {r.reason}"
        )
        if r.status == "fail":
            el = ET.SubElement(case, "failure", {"type": "regression", "message": detail})
            el.text = detail
        elif r.status == "skip":
            ET.SubElement(case, "skipped", {"message": r.reason})
        else:
            ET.SubElement(case, "system-out").text = detail


def render_junit(results: list[tuple[str, str, GateResult]]) -> str:
    """JUnit XML of (baseline argument, candidate argument, result) pairs: one <testsuite> per
    model pair (named for its model when there are several) under one <testsuites> root."""
    totals = {"tests": 0, "failures": 0, "errors": 0, "skipped": 0}
    for _, _, res in results:
        for k, v in _counts(res).items():
            totals[k] += v
    root = ET.Element(
        "testsuites", {"name": "fanout gate", **{k: str(v) for k, v in totals.items()}, "time": "0"}
    )
    for b, c, res in results:
        name = f"fanout gate: {res.pairing.baseline.config.suite}"
        if len(results) > 1:
            name += f" ({res.pairing.baseline.config.model})"
        _junit_suite(root, res, b, c, name)
    ET.indent(root)
    return '<?xml version="1.0" encoding="utf-8"?>\n' + ET.tostring(root, encoding="unicode") + "\n"
