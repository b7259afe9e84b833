"""The gate: rule parsing, pairing, exact verdicts on constructed runs, outputs and the CLI."""

from __future__ import annotations

import json
import re
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
from run_builders import scores, tasks, write_run

from evals.cli import main
from evals.gate import (
    DEFAULT_RULES,
    GateError,
    Rule,
    RuleSet,
    gate,
    load_rules,
    paired_median_bootstrap,
    parse_rules,
    rules_toml,
)
from evals.gate_render import render_junit, render_markdown

# --------------------------------------------------------------------------------------------
# rules


def test_defaults_are_the_documented_ones():
    doc = (Path(__file__).parents[1] / "docs" / "gating.md").read_text()
    documented = re.findall(r"^\| `(\w+)` \| (?:higher|lower) \| ((?:drop|rise) <= [\d.]+%?) \|", doc, re.M)
    assert len(documented) == 8 and documented == [(r.metric, r.describe()) for r in DEFAULT_RULES]
    assert parse_rules(rules_toml(RuleSet())).rules == DEFAULT_RULES


def test_rules_file_overrides_disables_and_adds():
    rs = parse_rules(
        """
        [significance]
        confidence = 0.9
        seed = 7
        [rules.fan_out_recall]
        max_drop = 0.1
        [rules.cost_per_task]
        enabled = false
        [rules.turns_per_task]
        max_rise_pct = 25
        """,
        "gate.toml",
    )
    by = {r.metric: r for r in rs.rules}
    assert by["fan_out_recall"] == Rule("fan_out_recall", 0.1, False)
    assert "cost_per_task" not in by
    assert by["turns_per_task"] == Rule("turns_per_task", 0.25, True)
    assert by["success_rate"] == next(r for r in DEFAULT_RULES if r.metric == "success_rate")
    assert (rs.significance.confidence, rs.significance.seed, rs.significance.resamples) == (0.9, 7, 2000)


def test_defaults_false_keeps_only_the_file_rules():
    rs = parse_rules("defaults = false\n[rules.redundant_rate]\nmax_rise = 0.1\n")
    assert rs.rules == (Rule("redundant_rate", 0.1, False),)


@pytest.mark.parametrize(
    "text, message",
    [
        ("[rules.success_rate\nmax_drop = 1", "gate.toml: invalid TOML"),
        (
            "[rules.succes_rate]\nmax_drop = 0.1",
            "rules.succes_rate: unknown metric 'succes_rate'; known: parallel_success_rate, success_rate",
        ),
        ("[rules.success_rate]\nmax_dorp = 0.1", "rules.success_rate.max_dorp: unknown key"),
        (
            "[rules.success_rate]\nmax_rise = 0.1",
            "rules.success_rate: success_rate gets worse when it drops, so bound it with max_drop or "
            "max_drop_pct, not max_rise",
        ),
        (
            "[rules.wall_s_p50]\nmax_drop_pct = 10",
            "rules.wall_s_p50: wall_s_p50 gets worse when it rises, so bound it with max_rise or max_rise_pct",
        ),
        (
            "[rules.fan_out_recall]\nmax_drop = -0.1",
            "rules.fan_out_recall.max_drop: Input should be greater than or equal to 0",
        ),
        (
            "[rules.fan_out_recall]\nmax_drop = 'a lot'",
            "rules.fan_out_recall.max_drop: Input should be a valid number",
        ),
        (
            "[rules.fan_out_recall]\nmax_drop = 0.1\nmax_drop_pct = 5",
            "rules.fan_out_recall: several tolerances (max_drop, max_drop_pct); give exactly one of max_drop or max_drop_pct",
        ),
        ("[rules.fan_out_recall]\nenabled = true", "rules.fan_out_recall: no tolerance; give exactly one of"),
        (
            "treshold = 3",
            "gate.toml: treshold: unknown key (allowed: defaults, [significance], [rules.<metric>])",
        ),
        ("[significance]\nconfidence = 1.5", "significance.confidence: Input should be less than 1"),
        ('[significance]\nresamples = "2000"', "significance.resamples: Input should be a valid integer"),
        (
            '[rules.fan_out_recall]\nmax_drop = "0.1"',
            "rules.fan_out_recall.max_drop: Input should be a valid number",
        ),
        (
            "[significance]\nresamples = 10",
            "significance.resamples: Input should be greater than or equal to 100",
        ),
        ("rules = 3", "`rules` must be a table of [rules.<metric>] tables"),
        ("defaults = false", "no rule is enabled; the gate would pass anything"),
    ],
)
def test_rule_errors_are_clear(text, message):
    with pytest.raises(GateError) as exc:
        parse_rules(text, "gate.toml")
    assert message in str(exc.value)
    assert str(exc.value).startswith("gate.toml")


def test_only_unknown_keys_get_the_allowed_keys_hint():
    allowed = " (allowed: defaults, [significance], [rules.<metric>])"

    def message(text: str) -> str:
        with pytest.raises(GateError) as exc:
            parse_rules(text, "gate.toml")
        return str(exc.value)

    assert message("[rules.success_rate]\nmax_drop = -0.1") == (
        "gate.toml: rules.success_rate.max_drop: Input should be greater than or equal to 0"
    )
    assert message("[significance]\nresamples = 10") == (
        "gate.toml: significance.resamples: Input should be greater than or equal to 100"
    )
    assert message("treshold = 3") == "gate.toml: treshold: unknown key" + allowed
    # an unknown key inside a table gets that table's keys
    assert message("[rules.fan_out_recall]\nmax_dorp = 0.1") == (
        "gate.toml: rules.fan_out_recall.max_dorp: unknown key "
        "(allowed: max_drop, max_rise, max_drop_pct, max_rise_pct, enabled)"
    )
    assert message("[significance]\nconfidance = 0.9") == (
        "gate.toml: significance.confidance: unknown key (allowed: confidence, resamples, seed)"
    )
    # several errors: the hint follows the unknown key, not the value error
    assert message("treshold = 3\n[rules.success_rate]\nmax_drop = -0.1") == (
        "gate.toml: rules.success_rate.max_drop: Input should be greater than or equal to 0; "
        "treshold: unknown key" + allowed
    )
    assert message("[significance]\nseeed = 1\n[rules.success_rate]\nmax_drop = -0.1") == (
        "gate.toml: significance.seeed: unknown key (allowed: confidence, resamples, seed); "
        "rules.success_rate.max_drop: Input should be greater than or equal to 0"
    )


@pytest.mark.parametrize(
    "text, message",
    [
        ('defaults = "no"', 'gate.toml: defaults must be true or false, not the string "no"'),
        ("defaults = 0", "gate.toml: defaults must be true or false, not the number 0"),
        (
            '[rules.success_rate]\nmax_drop = 0.1\nenabled = "false"',
            'gate.toml: rules.success_rate.enabled must be true or false, not the string "false"',
        ),
    ],
)
def test_booleans_are_toml_booleans(text, message):
    """A quoted "no" was read as false: the file was then refused as enabling no rule, and
    `enabled = "false"` switched a rule off without a word."""
    with pytest.raises(GateError) as exc:
        parse_rules(text, "gate.toml")
    assert str(exc.value) == message


def test_toml_booleans_mean_what_they_did():
    assert parse_rules("defaults = true").rules == DEFAULT_RULES
    rs = parse_rules("[rules.success_rate]\nmax_drop = 0.1\nenabled = false\n")
    assert [r.metric for r in rs.rules] == [r.metric for r in DEFAULT_RULES if r.metric != "success_rate"]
    rs = parse_rules("defaults = false\n[rules.success_rate]\nmax_drop = 0.1\nenabled = true\n")
    assert rs.rules == (Rule("success_rate", 0.1, False),)


def test_missing_rules_file(tmp_path):
    with pytest.raises(GateError, match=r"rules file .*nope.toml does not exist"):
        load_rules(tmp_path / "nope.toml")
    with pytest.raises(GateError, match="is not a file"):
        load_rules(tmp_path)


def test_shipped_example_rules_parse():
    example = Path(__file__).parent.parent / "examples" / "gate.toml"
    rs = load_rules(example)
    assert {r.metric for r in rs.rules} >= {r.metric for r in DEFAULT_RULES} - {"cost_per_task"}


# --------------------------------------------------------------------------------------------
# pairing


def _pair(tmp_path, base_eps, cand_eps, **kw):
    b = write_run(tmp_path / "base", base_eps, **kw.get("base", {}))
    c = write_run(tmp_path / "cand", cand_eps, **kw.get("cand", {}))
    return b, c


def test_pairing_errors(tmp_path):
    eps = [scores(t) for t in tasks(3)]
    b = write_run(tmp_path / "b", eps)
    with pytest.raises(GateError, match=r"candidate run folder .*missing does not exist"):
        gate(b, tmp_path / "missing")
    (tmp_path / "file.txt").write_text("x")
    with pytest.raises(GateError, match="is not a folder"):
        gate(b, tmp_path / "file.txt")
    (tmp_path / "empty").mkdir()
    with pytest.raises(GateError, match="has no run.json"):
        gate(tmp_path / "empty", b)
    bad = tmp_path / "bad"
    bad.mkdir()
    (bad / "run.json").write_text('{"run_id": 3}')
    with pytest.raises(
        GateError, match=r"baseline run .*bad: run.json is not valid: run_id: Input should be a valid string"
    ):
        gate(bad, b)
    other_suite = write_run(tmp_path / "os", eps, suite="other")
    with pytest.raises(
        GateError, match="different suites: baseline .* ran 'synthetic', candidate .* ran 'other'"
    ):
        gate(b, other_suite)
    other_hash = write_run(tmp_path / "oh", eps, suite_hash="zzz")
    with pytest.raises(GateError, match=r"changed between the runs \(suite hash abc123 != zzz\)"):
        gate(b, other_hash)
    no_eps = write_run(tmp_path / "ne", [])
    with pytest.raises(GateError, match="has no finished episode"):
        gate(b, no_eps)


def test_different_task_sets_refused_unless_allow_subset(tmp_path):
    b, c = _pair(tmp_path, [scores(t) for t in tasks(4)], [scores(t) for t in tasks(6)[1:]])
    with pytest.raises(GateError) as exc:
        gate(b, c)
    msg = str(exc.value)
    assert "only in the baseline: t000" in msg
    assert "only in the candidate: t004, t005" in msg
    assert "--allow-subset" in msg
    res = gate(b, c, allow_subset=True)
    assert res.pairing.tasks == ["t001", "t002", "t003"]
    assert (res.pairing.only_baseline, res.pairing.only_candidate) == (
        [("t000", 0)],
        [("t004", 0), ("t005", 0)],
    )
    d = write_run(tmp_path / "disjoint", [scores("zzz")])
    with pytest.raises(GateError, match="share no"):
        gate(b, d, allow_subset=True)


def test_bad_episode_lines_name_the_line(tmp_path):
    b = write_run(tmp_path / "b", [scores("t1"), scores("t2")])
    c = write_run(tmp_path / "c", [scores("t1"), scores("t1")])
    with pytest.raises(GateError, match="line 2: a second episode for task 't1' epoch 0"):
        gate(b, c)
    with open(c / "episodes.jsonl", "w") as f:
        f.write(json.dumps({"task_id": "t1", "scores": {"task_id": "t1"}}) + "\n")
    with pytest.raises(
        GateError, match="episodes.jsonl line 1: scores are not valid: pattern: Field required"
    ):
        gate(b, c)
    (c / "episodes.jsonl").write_text(json.dumps({"task_id": "t1"}) + "\n")
    with pytest.raises(GateError, match="line 1: no `scores` object"):
        gate(b, c)


def test_epochs_pair_by_task_and_epoch(tmp_path):
    eps = [scores("a"), scores("a"), scores("b"), scores("b")]
    ep = {0: 0, 1: 1, 2: 0, 3: 1}
    cand = [scores("a"), scores("a", success=False), scores("b"), scores("b")]
    b = write_run(tmp_path / "b", eps, epochs=ep)
    c = write_run(tmp_path / "c", cand, epochs=ep)
    res = gate(b, c)
    assert res.pairing.keys == [("a", 0), ("a", 1), ("b", 0), ("b", 1)]
    assert res.pairing.epochs == 2
    [flip] = res.regressed
    assert (flip.task_id, flip.baseline_passed, flip.candidate_passed, flip.epochs) == ("a", 2, 1, 2)
    sr = next(r for r in res.results if r.rule.metric == "success_rate")
    assert sr.baseline == 1.0 and sr.candidate == 0.75


# --------------------------------------------------------------------------------------------
# exact verdicts


def _result(res, metric):
    return next(r for r in res.results if r.rule.metric == metric)


def test_identical_runs_pass_every_rule(tmp_path):
    eps = [scores(t, wall_s=1 + i / 10, cost_usd=0.01 * (i + 1)) for i, t in enumerate(tasks(20))]
    b, c = _pair(tmp_path, eps, eps)
    res = gate(b, c)
    assert res.passed
    assert [r.status for r in res.results] == ["pass"] * 8
    assert all(r.diff == 0 and r.ci == (0.0, 0.0) for r in res.results)
    assert res.regressed == [] and res.fixed == []


def _flipped(n_tasks: int, n_fail: int) -> tuple[list[dict], list[dict]]:
    base = [scores(t) for t in tasks(n_tasks)]
    cand = [scores(t, success=i >= n_fail) for i, t in enumerate(tasks(n_tasks))]
    return base, cand


def test_success_drop_equal_to_tolerance_passes(tmp_path):
    b, c = _pair(tmp_path, *_flipped(50, 1))  # drop 0.02, tolerance 0.02
    r = _result(gate(b, c), "success_rate")
    assert r.diff == pytest.approx(-0.02)
    assert (r.status, r.reason) == ("pass", "within tolerance")


def test_success_drop_beyond_tolerance_but_not_significant_passes(tmp_path):
    b, c = _pair(tmp_path, *_flipped(50, 2))  # drop 0.04 > 0.02, but 2 of 50 tasks
    res = gate(b, c)
    r = _result(res, "success_rate")
    assert r.regression == pytest.approx(0.04)
    assert r.ci[1] == 0.0 and not r.significant
    assert r.status == "pass"
    assert r.reason == "worse than tolerance, but the 95% interval includes zero"
    assert [f.task_id for f in res.regressed] == ["t000", "t001"]
    assert res.passed


def test_success_drop_beyond_tolerance_and_significant_fails(tmp_path):
    b, c = _pair(tmp_path, *_flipped(50, 4))  # drop 0.08; a resample without a flip is < 2.5% likely
    res = gate(b, c)
    r = _result(res, "success_rate")
    assert r.diff == pytest.approx(-0.08)
    assert r.ci[1] < 0 and r.significant
    assert r.status == "fail"
    # the headline fails with it: a failed episode is never a parallel success
    assert _result(res, "parallel_success_rate").status == "fail"
    assert not res.passed and res.count("fail") == 2


@pytest.mark.parametrize("tolerance, status", [(0.2, "pass"), (0.19, "fail")])
def test_significant_regression_just_inside_and_just_outside(tmp_path, tolerance, status):
    b, c = _pair(tmp_path, *_flipped(50, 10))  # drop exactly 0.2, clearly significant
    rules = tmp_path / "gate.toml"
    rules.write_text(f"defaults = false\n[rules.success_rate]\nmax_drop = {tolerance}\n")
    r = _result(gate(b, c, rules), "success_rate")
    assert r.significant
    assert r.status == status


@pytest.mark.parametrize("cand_wall, status", [(1.10, "pass"), (1.11, "fail")])
def test_relative_wall_p50_rule(tmp_path, cand_wall, status):
    b, c = _pair(
        tmp_path, [scores(t, wall_s=1.0) for t in tasks(10)], [scores(t, wall_s=cand_wall) for t in tasks(10)]
    )
    r = _result(gate(b, c), "wall_s_p50")
    assert r.baseline == 1.0 and r.candidate == cand_wall
    assert r.regression == pytest.approx(cand_wall - 1.0)
    assert r.ci == (pytest.approx(cand_wall - 1.0), pytest.approx(cand_wall - 1.0))
    assert r.status == status


def test_cost_rule_relative_and_unknown_cost_skipped(tmp_path):
    base = [scores(t, cost_usd=0.010) for t in tasks(10)]
    ok = write_run(tmp_path / "ok", [scores(t, cost_usd=0.0105) for t in tasks(10)])
    bad = write_run(tmp_path / "bad", [scores(t, cost_usd=0.012) for t in tasks(10)])
    b = write_run(tmp_path / "b", base)
    assert _result(gate(b, ok), "cost_per_task").status == "pass"
    r = _result(gate(b, bad), "cost_per_task")
    assert (r.status, r.regression) == ("fail", pytest.approx(0.2))
    unknown = write_run(tmp_path / "unk", [scores(t) for t in tasks(10)], model="openai/mystery")
    r = _result(gate(b, unknown), "cost_per_task")
    assert r.status == "skip"
    assert r.reason == "cost unknown (no price for openai/mystery): skipped, never read as 0"
    assert r.baseline is None and r.diff is None


def test_ratio_rules_are_micro_averaged(tmp_path):
    # baseline: 10 tasks x 3 parallelizable nodes, all on time; candidate: 2 tasks lose 2 each
    base = [scores(t) for t in tasks(10)]
    cand = [scores(t, on_time=1 if i < 2 else 3) for i, t in enumerate(tasks(10))]
    b, c = _pair(tmp_path, base, cand)
    r = _result(gate(b, c), "fan_out_recall")
    assert (r.baseline, r.candidate) == (1.0, pytest.approx(26 / 30))
    assert r.diff == pytest.approx(-4 / 30)


def test_ratio_rule_not_significant_on_two_of_ten(tmp_path):
    # 2 of 10 tasks lose recall: a resample misses both with probability 0.8^10 = 0.107 > 2.5%
    base = [scores(t) for t in tasks(10)]
    cand = [scores(t, on_time=1 if i < 2 else 3) for i, t in enumerate(tasks(10))]
    b, c = _pair(tmp_path, base, cand)
    r = _result(gate(b, c), "fan_out_recall")
    assert r.ci[1] == 0.0
    assert r.status == "pass"


def test_undefined_ratio_is_skipped(tmp_path):
    eps = [scores(t, on_time=0, parallelizable=0, fan_out_recall=None) for t in tasks(5)]
    b, c = _pair(tmp_path, eps, eps)
    r = _result(gate(b, c), "fan_out_recall")
    assert (r.status, r.reason) == (
        "skip",
        "fan_out_recall is undefined: no paired episode has any parallelizable",
    )


def test_paired_median_bootstrap():
    point, lo, hi = paired_median_bootstrap([1, 2, 3, 4, 5], [2, 3, 4, 5, 6], seed=0)
    assert (point, lo, hi) == (1.0, 1.0, 1.0)
    assert paired_median_bootstrap([1.0], [3.0]) == (2.0, 2.0, 2.0)
    with pytest.raises(ValueError):
        paired_median_bootstrap([1, 2], [1])


# --------------------------------------------------------------------------------------------
# outputs and CLI


def _regressed_pair(tmp_path):
    base = [scores(t, wall_s=1.0) for t in tasks(20)]
    cand = [
        scores(t, wall_s=1.5, on_time=1, success=i >= 2, classes={"correct": 4, "premature": 1})
        for i, t in enumerate(tasks(20))
    ]
    return _pair(tmp_path, base, cand, cand={"prompt_hash": "p1"})


def test_cli_exit_codes_and_outputs(tmp_path, capsys, monkeypatch):
    monkeypatch.delenv("GITHUB_STEP_SUMMARY", raising=False)
    b, c = _regressed_pair(tmp_path)
    junit, md = tmp_path / "gate.xml", tmp_path / "gate.md"
    assert main(["gate", str(b), str(c), "--junit", str(junit), "--markdown", str(md)]) == 1
    out = capsys.readouterr().out
    assert out.startswith("fanout gate: FAIL (4 of 8 rules regressed, 1 skipped)\n")
    assert "changed:   prompt_hash\n" in out
    lost = ", ".join(f"t{i:03d}" for i in range(20))  # every task lost parallel success; two fail
    assert f"tasks that lost parallel success (20): {lost}\n" in out
    text = md.read_text()
    assert text.startswith("## ❌ Fanout gate: FAIL (4 of 8 rules regressed, 1 skipped)\n")
    assert "| `fan_out_recall` | 1.000 | 0.333 | -0.667 | drop ≤ 0.02 |" in text
    assert (
        "| `wall_s_p50` | 1.000 | 1.500 | +0.500 (+50.0%) | rise ≤ 10% | [+0.500, +0.500] | ❌ **FAIL** |"
        in text
    )
    assert "- parallel success lost (20): `t000`, `t001`, `t002`," in text

    root = ET.parse(junit).getroot()
    assert root.tag == "testsuites"
    assert (root.get("tests"), root.get("failures"), root.get("skipped")) == ("8", "4", "1")
    [suite] = root.findall("testsuite")
    cases = suite.findall("testcase")
    assert [tc.get("name") for tc in cases] == [r.metric for r in DEFAULT_RULES]
    failed = [tc.get("name") for tc in cases if tc.find("failure") is not None]
    skipped = [tc.get("name") for tc in cases if tc.find("skipped") is not None]
    assert failed == ["parallel_success_rate", "fan_out_recall", "speedup_vs_sequential", "wall_s_p50"]
    assert skipped == ["cost_per_task"]
    assert int(suite.get("failures")) == len(failed) and int(suite.get("skipped")) == len(skipped)

    assert main(["gate", str(b), str(b)]) == 0
    assert capsys.readouterr().out.startswith("fanout gate: PASS (7 rules hold, 1 skipped)\n")


@pytest.mark.parametrize(
    "argv, message",
    [
        (["gate", "{b}", "{tmp}/nope"], "fanout gate: candidate run folder {tmp}/nope does not exist"),
        (["gate", "{b}"], "fanout gate: give two run folders"),
        (
            ["gate", "{b}", "{b}", "--rules", "{tmp}/r.toml"],
            "fanout gate: {tmp}/r.toml: rules.x: unknown metric 'x'",
        ),
        (
            ["gate", "{b}", "{b}", "--junit", "{tmp}/no/dir/j.xml"],
            "fanout gate: cannot write the JUnit XML to",
        ),
    ],
)
def test_cli_misuse_exits_2(tmp_path, capsys, argv, message):
    b = write_run(tmp_path / "b", [scores("t1")])
    (tmp_path / "r.toml").write_text("[rules.x]\nmax_drop = 1\n")
    fill = {"b": str(b), "tmp": str(tmp_path)}
    assert main([a.format(**fill) for a in argv]) == 2
    err = capsys.readouterr().err
    assert err.startswith(message.format(**fill))
    assert "Traceback" not in err


def test_step_summary_is_appended(tmp_path, capsys, monkeypatch):
    b, c = _regressed_pair(tmp_path)
    summary = tmp_path / "summary.md"
    summary.write_text("# earlier step\n")
    monkeypatch.setenv("GITHUB_STEP_SUMMARY", str(summary))
    assert main(["gate", str(b), str(c)]) == 1
    assert main(["gate", str(b), str(b)]) == 0
    text = summary.read_text()
    assert text.startswith("# earlier step\n## ❌ Fanout gate: FAIL")
    assert text.count("Fanout gate:") == 2
    assert "## ✅ Fanout gate: PASS" in text


def test_verdict_is_deterministic(tmp_path):
    b, c = _regressed_pair(tmp_path)
    first = render_markdown(gate(b, c), "b", "c")
    second = render_markdown(gate(b, c), "b", "c")
    assert first.encode() == second.encode()
    assert render_junit([("b", "c", gate(b, c))]) == render_junit([("b", "c", gate(b, c))])


def test_show_rules(capsys):
    assert main(["gate", "--show-rules"]) == 0
    assert parse_rules(capsys.readouterr().out).rules == DEFAULT_RULES


def test_allow_subset_and_incomplete_runs_are_reported(tmp_path, capsys):
    b = write_run(tmp_path / "b", [scores(t) for t in tasks(4)])
    c = write_run(tmp_path / "c", [scores(t) for t in tasks(3)], status="interrupted")
    assert main(["gate", str(b), str(c)]) == 2
    assert "only in the baseline: t003" in capsys.readouterr().err
    assert main(["gate", str(b), str(c), "--allow-subset"]) == 0
    out = capsys.readouterr().out
    assert "paired:    3 tasks x 1 epoch (3 episode pairs) of suite synthetic (hash abc123); " in out
    assert "--allow-subset left out 1 baseline and 0 candidate episodes" in out
    assert f"warning:   the candidate run {c} is interrupted, not complete" in out


def test_the_interval_level_is_written_as_set_and_epochs_are_a_listed_change(tmp_path):
    """0.999 is "99.9%", not a rounded "100%"; a run of more epochs is a listed difference."""
    from evals.gate import Significance, confidence_label, config_changes

    assert [confidence_label(c) for c in (0.95, 0.9, 0.975, 0.999)] == ["95%", "90%", "97.5%", "99.9%"]
    worse = [scores(t, success=False) for t in tasks(20)]
    b, c = _pair(tmp_path, [scores(t) for t in tasks(20)], worse)
    strict = RuleSet(significance=Significance(confidence=0.999))
    rules = tmp_path / "gate.toml"
    rules.write_text(rules_toml(strict))
    res = gate(b, c, rules)
    failed = [r for r in res.results if r.status == "fail"]
    assert failed and all("99.9% interval" in r.reason for r in failed)
    assert "99.9% CI of change" in render_markdown(res, str(b), str(c))
    two = write_run(
        tmp_path / "two", [scores(t) for t in tasks(20)] * 2, epochs={i: i // 20 for i in range(40)}
    )
    res2 = gate(b, two, allow_subset=True)
    assert "epochs" in config_changes(res2.pairing)


def test_tasks_that_stay_successful_but_go_sequential_are_listed_as_flipped(tmp_path, capsys):
    """The demo's worse prompt: every task still succeeds, fan-out is lost; the flipped list follows
    the headline (parallel success), and past FLIPS_LISTED names the rest is counted."""
    base = [scores(t) for t in tasks(50)]
    cand = [scores(t, on_time=1, fan_out_recall=1 / 3, turns=5) for t in tasks(50)]
    b, c = _pair(tmp_path, base, cand)
    assert main(["gate", str(b), str(c)]) == 1
    out = capsys.readouterr().out
    listed = ", ".join(f"t{i:03d}" for i in range(40))
    assert f"tasks that lost parallel success (50): {listed} and 10 more\n" in out
    assert "tasks that gained parallel success (0): none\n" in out
