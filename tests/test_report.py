"""`fanout report`: rows, intervals, order, formats, errors and determinism on real run folders."""

from __future__ import annotations

import csv
import io
import json
import re
from pathlib import Path

import pandas as pd
import pytest
from report_runs import run_policies, write_suite

from evals.cli import main as fanout
from evals.report import charts, formatting
from evals.report.build import build_report
from evals.report.load import ReportInputError, load_runs
from evals.report.markdown import cell
from evals.report.tables import LEADERBOARD_COLUMNS, intervals, sort_default
from evals.report.timeline import CLASSES, Strings, encode_episode
from evals.stats import bootstrap_ci, bootstrap_ratio_ci
from evals.trace import Trace

MODELS = ["policy/oracle", "policy/greedy", "policy/sequential", "policy/lazy"]


@pytest.fixture(scope="module")
def runs_dir(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("report")
    suite = write_suite(root)
    prices = root / "prices.json"
    prices.write_text(json.dumps({"policy/oracle": {"input": 2.0, "cached_input": 0.5, "output": 8.0}}))
    run_policies(suite, root / "runs", MODELS, "--prices", str(prices))
    return root / "runs"


@pytest.fixture(scope="module")
def report(runs_dir, tmp_path_factory):
    out = tmp_path_factory.mktemp("out")
    return build_report([runs_dir], out)


def test_rows_match_summaries_and_columns_are_stable(runs_dir, report):
    assert list(json.loads(report.json.read_text())["columns"]) == LEADERBOARD_COLUMNS
    summaries = {
        json.loads((d / "summary.json").read_text())["model"]: json.loads((d / "summary.json").read_text())
        for d in runs_dir.iterdir()
    }
    assert {r["model"] for r in report.rows} == set(MODELS)
    for r in report.rows:
        s = summaries[r["model"]]
        for k in (
            "success_rate",
            "fan_out_recall",
            "incorrect_fan_out_rate",
            "wall_s_p50",
            "parallel_speedup",
        ):
            assert r[k] == s[k], (r["model"], k)
        assert r["episodes"] == 6 and r["tasks"] == 6


def test_default_order_is_the_headline_then_success_then_speed(report):
    # The oracle is the only model that is parallel-perfect; lazy never finishes a task.
    models = [r["model"] for r in report.rows]
    assert models[0] == "policy/oracle" and models[-1] == "policy/lazy"
    assert report.rows[0]["parallel_success_rate"] == 1.0

    def neg(v):
        return -v if v is not None else float("inf")

    keys = [
        (neg(r["parallel_success_rate"]), neg(r["success_rate"]), neg(r["speedup_vs_sequential"]))
        for r in report.rows
    ]
    assert keys == sorted(keys)


def test_sort_default_puts_missing_values_last_and_breaks_ties_by_name():
    base = {"suite": "s", "run_id": "r", "speedup_vs_sequential": 1.0}
    rows = [
        {**base, "model": "b", "parallel_success_rate": 0.5, "success_rate": 0.9},
        {**base, "model": "a", "parallel_success_rate": 0.5, "success_rate": 0.9},
        {**base, "model": "c", "parallel_success_rate": None, "success_rate": 1.0},
        {**base, "model": "d", "parallel_success_rate": 0.5, "success_rate": 1.0},
        {**base, "model": "e", "parallel_success_rate": 0.9, "success_rate": 0.1},
        {
            **base,
            "model": "f",
            "parallel_success_rate": 0.5,
            "success_rate": 0.9,
            "speedup_vs_sequential": 1.5,
        },
    ]
    assert [r["model"] for r in sort_default(rows)] == ["e", "d", "f", "a", "b", "c"]


def test_intervals_resample_tasks_with_epochs_together():
    df = pd.DataFrame(
        {
            "task_id": ["t1", "t1", "t2", "t2", "t3", "t3"],
            "epoch": [0, 1, 0, 1, 0, 1],
            "success": [True, False, True, True, False, False],
            "on_time": [1, 2, 3, 3, 0, 1],
            "parallelizable": [3, 3, 3, 3, 2, 2],
            "premature_nodes": [0, 1, 0, 0, 2, 2],
            "nodes_with_deps": [2, 2, 1, 1, 2, 2],
            "redundant_calls": [0, 2, 1, 1, 0, 0],
            "n_calls": [5, 7, 4, 4, 3, 3],
        }
    )
    ci = intervals(df)
    assert ci["success_rate"] == bootstrap_ci([0.5, 1.0, 0.0])
    assert ci["fan_out_recall"] == bootstrap_ratio_ci([3, 6, 1], [6, 6, 4])
    assert ci["incorrect_fan_out_rate"] == bootstrap_ratio_ci([1, 0, 4], [4, 2, 4])
    assert ci["redundant_calls_per_task"] == bootstrap_ci([1.0, 1.0, 0.0])
    lo, hi = ci["success_rate"]
    assert 0.0 <= lo < 0.5 < hi <= 1.0


def test_undefined_ratio_has_no_interval():
    df = pd.DataFrame(
        {
            "task_id": ["t1"],
            "success": [True],
            "on_time": [0],
            "parallelizable": [0],
            "premature_nodes": [0],
            "nodes_with_deps": [0],
            "redundant_calls": [0],
            "n_calls": [1],
        }
    )
    ci = intervals(df)
    assert ci["fan_out_recall"] == (None, None)
    assert ci["success_rate"] == (1.0, 1.0)


def test_cost_unknown_is_never_zero(report):
    rows = {r["model"]: r for r in report.rows}
    assert rows["policy/oracle"]["cost_per_task_usd"] > 0
    assert rows["policy/greedy"]["cost_per_task_usd"] is None
    table = list(csv.DictReader(io.StringIO(report.csv.read_text())))
    by_model = {r["model"]: r for r in table}
    assert by_model["policy/greedy"]["cost_per_task_usd"] == ""
    assert float(by_model["policy/oracle"]["cost_per_task_usd"]) == rows["policy/oracle"]["cost_per_task_usd"]
    md = report.markdown.read_text()
    greedy_line = next(line for line in md.splitlines() if "| policy/greedy |" in line)
    assert "| unknown |" in greedy_line
    html = report.html.read_text()
    note = re.search(r"Not shown, cost unknown: ([^.]*)\.", html)  # some prices known: chart plus a note
    assert note and "policy/greedy" in note.group(1).split(", ")
    assert formatting.cost(None) == "unknown" and formatting.cost(0.0) == "$0"


def test_cost_chart_replaced_by_a_note_when_no_price_is_known(runs_dir, tmp_path):
    greedy = next(d for d in runs_dir.iterdir() if d.name.endswith("policy-greedy"))
    files = build_report([greedy], tmp_path)
    html = files.html.read_text()
    assert "Cost is unknown for every model in this report" in html
    assert 'aria-label="Success vs cost"' not in html  # a chart's accessible name is its title
    assert 'aria-label="Success vs wall-clock"' in html


def test_html_is_self_contained(report):
    html = report.html.read_text()
    assert not re.search(r"""(src|href)\s*=\s*["']?(https?:)?//""", html)
    assert "@import" not in html and "url(http" not in html
    assert "<image" not in html  # charts are vector, no embedded bitmaps
    # charts carry per-chart id prefixes so several SVGs can share the page
    ids = re.findall(r'\bid="([^"]+)"', html)
    assert len(ids) == len(set(ids))


def test_markdown_is_a_gfm_table(report):
    lines = report.markdown.read_text().splitlines()
    head = next(i for i, line in enumerate(lines) if line.startswith("| # | Model |"))
    cols = lines[head].count("|")
    assert re.fullmatch(r"\|(-{3}:?\||---:\|)+", lines[head + 1].replace("---:|", "---|"))
    body = lines[head + 2 : head + 2 + len(MODELS)]
    assert [line.count("|") for line in body] == [cols] * len(MODELS)
    assert "| wide |" in report.markdown.read_text()


def test_every_interval_the_registry_declares_is_shown_on_the_page_and_in_markdown(report):
    """metrics.md's "interval" column says the report shows it: speedup vs sequential and wall /
    ideal (factors) had theirs in the CSV and JSON only, while the header's help promised them."""
    from evals.report.html import LEADERBOARD

    board = [c.metric for c in LEADERBOARD if c.metric is not None and c.metric.interval]
    assert {"speedup_vs_sequential", "wall_over_ideal"} <= {m.name for m in board}
    md = report.markdown.read_text()
    page = report.html.read_text()
    for row in report.rows:
        for m in board:
            lo, hi = row.get(f"{m.name}_lo"), row.get(f"{m.name}_hi")
            text, interval = formatting.metric_cell(m, row)
            assert bool(interval) == (lo is not None and hi is not None), (m.name, row["model"])
            if interval:
                assert f"{text} {interval}" in md, (m.name, row["model"])
                assert f'{text}<span class="ci">{interval}</span>' in page, (m.name, row["model"])


def test_shares_never_round_to_perfect_or_to_nothing():
    """One failure in 2,000 episodes is not a perfect score, nor one premature call in 2,000 nodes
    a clean one: the rounding says which side of 100 and 0 the share is on."""
    pct = formatting.pct
    assert [pct(1.0), pct(0.0), pct(0.5), pct(0.9995), pct(1999 / 2000), pct(0.00049), pct(None)] == [
        "100.0%",
        "0.0%",
        "50.0%",
        ">99.9%",
        ">99.9%",
        "<0.1%",
        "n/a",
    ]
    assert [pct(0.996, 0), pct(0.004, 0), pct(0.994, 0), pct(0.006, 0)] == [">99%", "<1%", "99%", "1%"]


def test_markdown_cells_are_inert():
    assert cell("a|b") == "a\\|b"
    assert cell("<script>x</script>") == "&lt;script&gt;x&lt;/script&gt;"
    assert cell("two\nlines") == "two lines"
    assert cell(None) == ""


def test_same_runs_give_identical_files(runs_dir, report, tmp_path):
    again = build_report([runs_dir], tmp_path)
    for a, b in ((report.html, again.html), (report.markdown, again.markdown), (report.csv, again.csv)):
        assert a.read_bytes() == b.read_bytes(), a.name
    assert report.json.read_bytes() == again.json.read_bytes()


def test_rows_are_model_by_suite(tmp_path, runs_dir):
    other = write_suite(tmp_path, name="rtest2")
    extra = run_policies(other, tmp_path / "runs2", ["policy/oracle"])
    files = build_report([runs_dir, *extra], tmp_path / "out")
    keys = sorted((r["model"], r["suite"]) for r in files.rows)
    assert keys == sorted([(m, "rtest") for m in MODELS] + [("policy/oracle", "rtest2")])
    md = files.markdown.read_text()
    assert "| # | Model | Suite |" in md
    assert "policy/oracle (rtest2)" in files.html.read_text()  # chart and picker labels name the suite


def test_fan_out_width_counts_come_from_traces(runs_dir, report):
    doc = json.loads(report.json.read_text())
    for row in doc["rows"]:
        d = next(
            d for d in runs_dir.iterdir() if json.loads((d / "run.json").read_text())["model"] == row["model"]
        )
        counts: dict[str, int] = {}
        for line in (d / "episodes.jsonl").read_text().splitlines():
            for t in json.loads(line)["trace"]["turns"]:
                if t["n_calls"]:
                    counts[str(t["n_calls"])] = counts.get(str(t["n_calls"]), 0) + 1
        assert row["fan_out_widths"] == counts
    widths = {r["model"]: r["fan_out_widths"] for r in doc["rows"]}
    assert widths["policy/sequential"] == {"1": 24}  # 3 wide tasks x 6 calls + 3 chains x 2
    assert widths["policy/oracle"] == {"1": 6, "3": 6}


def test_timeline_encoding():
    strings = Strings()
    trace = {
        "task_id": "t",
        "suite": "s",
        "model": "m",
        "stop": "answer",
        "wall_s": 2.12345,
        "final_text": "x" * 500,
        "turns": [
            {"index": 1, "start_s": 0, "end_s": 1.0, "text": None},
            {"index": 2, "start_s": 1.5, "end_s": 2.12345},
        ],
        "calls": [
            {
                "index": 0,
                "position": 0,
                "turn": 1,
                "start_s": 1.0,
                "end_s": 1.5,
                "cls": "premature",
                "straggler": True,
                "name": "a",
                "raw_arguments": "{}",
            },
            {
                "index": 1,
                "position": 1,
                "turn": 1,
                "start_s": 1.0,
                "end_s": 1.2,
                "cls": "correct",
                "name": "a",
                "raw_arguments": "{}",
                "error": "e",
            },
        ],
    }
    ep = encode_episode(Trace.model_validate(trace), {"task_id": "t", "epoch": 0, "success": True}, strings)
    assert ep[:5] == [3, 0, 1, 4, 2.123]
    assert ep[5] == [[0.0, 1.0, -1], [1.5, 2.123, -1]]
    assert ep[6] == [[1, 1.0, 1.5, CLASSES.index("premature"), 1, 0, 1, -1], [1, 1.0, 1.2, 0, 0, 0, 1, 2]]
    assert strings.items[:5] == ["a", "{}", "e", "t", "answer"]
    assert len(strings.items[ep[7]]) == 300  # long model text is cut


def test_pareto_front():
    # (x = cost, y = success): (1, .5) and (2, .9) are on the front; (3, .8) is beaten by (2, .9).
    assert charts.pareto_front([(3, 0.8), (1, 0.5), (2, 0.9), (1, 0.4)]) == [1, 2]


def test_chart_labels_are_literal_text():
    assert charts.plain("cost $5 a\\b") == "cost \\$5 a\\\\b"
    svg = charts.success_vs(
        [{"wall_s_p50": 1.0, "success_rate": 0.5, "success_rate_lo": 0.4, "success_rate_hi": 0.6}],
        ["m<$x$>"],
        ["#000000"],
        "wall_s_p50",
        "wall",
        "c1",
    )
    assert svg.startswith("<svg") and "m&lt;$x$&gt;" in svg and "<?xml" not in svg


def test_whatif_chart(runs_dir, tmp_path):
    def row(model, prof, speedup, **kw):
        return (
            {"model": model, "inference_profile": prof, "pattern": None, "fan_out_cap": None}
            | {"speedup_vs_sequential": speedup}
            | kw
        )

    rows = [
        row("policy/oracle", "fast", 1.5),
        row("policy/oracle", "fast", 9.0, pattern="chain"),  # per-pattern rows are not the whole run
        row("policy/oracle", "typical", 1.4),
        row("policy/oracle", "typical", 3.0, fan_out_cap=2),  # capped: another setting
        row("policy/oracle", "slow", 1.3),
        row("policy/sequential", "fast", 1.0),
        row("policy/old", "fast", None, parallel_speedup=1.2),  # a file from before the metric: no point
    ]
    series = charts.whatif_series(rows)
    assert series == {
        "policy/oracle": {"fast": 1.5, "typical": 1.4, "slow": 1.3},
        "policy/sequential": {"fast": 1.0},
    }
    path = tmp_path / "whatif.json"
    path.write_text(json.dumps(rows))
    files = build_report([runs_dir], tmp_path / "out", whatif=path)
    html = files.html.read_text()
    assert (
        'aria-label="Speedup vs sequential by inference speed"' in html
        and "Speedup vs sequential by inference speed" in html
    )
    assert charts.whatif_speedup([{"model": "m"}], "w") is None


def test_cli_writes_the_four_files(runs_dir, tmp_path, capsys):
    assert fanout(["report", str(runs_dir), "--out", str(tmp_path / "r"), "--title", "My <board>"]) == 0
    out = capsys.readouterr().out
    assert f"report: {len(MODELS)} runs, {6 * len(MODELS)} episodes" in out
    names = sorted(p.name for p in (tmp_path / "r").iterdir())
    assert names == ["leaderboard.csv", "leaderboard.html", "leaderboard.json", "leaderboard.md"]
    assert "<title>My &lt;board&gt;</title>" in (tmp_path / "r" / "leaderboard.html").read_text()


@pytest.mark.parametrize(
    "setup, message",
    [
        (lambda d: d / "missing", "no such folder"),
        (lambda d: (d / "empty").mkdir() or d / "empty", "holds no run folders"),
        (lambda d: _write(d / "bad", run_json="{not json"), "run.json"),
        (lambda d: _write(d / "bad2", run_json=json.dumps({"model": "m"})), "run_id: Field required"),
        (lambda d: _write(d / "bad3", episodes='{"task_id": "x"}\n'), "line 1 has no 'scores' and 'trace'"),
    ],
)
def test_cli_names_the_bad_input(tmp_path, runs_dir, capsys, setup, message):
    target = setup(tmp_path)
    code = fanout(["report", str(target), "--out", str(tmp_path / "o")])
    err = capsys.readouterr().err
    assert code == 2
    assert err.startswith("fanout report: ") and message in err and str(target) in err
    assert "Traceback" not in err


def test_cli_names_an_unwritable_out(runs_dir, tmp_path, capsys):
    blocker = tmp_path / "file"
    blocker.write_text("not a folder")
    assert fanout(["report", str(runs_dir), "--out", str(blocker)]) == 2
    err = capsys.readouterr().err
    assert err.startswith(f"fanout report: --out {blocker}: is a file") and "Traceback" not in err


def test_cli_rejects_a_bad_whatif_file(runs_dir, tmp_path, capsys):
    bad = tmp_path / "w.json"
    bad.write_text('{"rows": 3}')
    assert fanout(["report", str(runs_dir), "--out", str(tmp_path / "o"), "--whatif", str(bad)]) == 2
    assert "expected a list of what-if rows" in capsys.readouterr().err


@pytest.mark.parametrize("flag,what", [("--whatif", "what-if"), ("--agent-runtimes", "agent-runtimes")])
def test_cli_names_an_input_file_that_is_a_folder_not_the_out_folder(runs_dir, tmp_path, capsys, flag, what):
    folder = tmp_path / "a-folder"
    folder.mkdir()
    assert fanout(["report", str(runs_dir), "--out", str(tmp_path / "o"), flag, str(folder)]) == 2
    err = capsys.readouterr().err
    assert f"{folder}: cannot read the {what} file" in err and "cannot write" not in err


def test_load_runs_labels_twins(runs_dir, tmp_path):
    oracle = next(d for d in runs_dir.iterdir() if d.name.endswith("policy-oracle"))
    twin = tmp_path / "twin"
    twin.mkdir()
    cfg = json.loads((oracle / "run.json").read_text())
    cfg["run_id"] = "twin-run"
    (twin / "run.json").write_text(json.dumps(cfg))
    (twin / "episodes.jsonl").write_text((oracle / "episodes.jsonl").read_text())
    runs = load_runs([oracle, twin, oracle])  # the same folder twice counts once
    assert sorted(r.label for r in runs) == sorted(
        ["policy/oracle [twin-run]", f"policy/oracle [{oracle.name}]"]
    )
    with pytest.raises(ReportInputError):
        load_runs([tmp_path / "nope"])


def _write(d: Path, run_json: str | None = None, episodes: str | None = None) -> Path:
    d.mkdir()
    if run_json is None:
        src = json.loads(
            json.dumps(
                {
                    "run_id": "r",
                    "model": "m",
                    "suite": "s",
                    "suite_path": "s",
                    "suite_hash": "h",
                    "task_ids": ["x"],
                    "prompt_hash": "p",
                    "created": "2026-01-01T00:00:00+00:00",
                }
            )
        )
        run_json = json.dumps(src)
    (d / "run.json").write_text(run_json)
    (d / "episodes.jsonl").write_text(episodes or "")
    return d


def test_a_run_without_episodes_still_reports(tmp_path, runs_dir):
    empty = _write(tmp_path / "empty-run")  # e.g. interrupted before its first episode
    files = build_report([empty, runs_dir], tmp_path / "out")
    row = next(r for r in files.rows if r["run_id"] == "r")
    assert row["episodes"] == 0 and row["success_rate"] is None and row["cost_per_task_usd"] is None
    assert files.rows[-1] is row  # another suite: its own group, after the first
    assert row["group"] == "B" and {r["group"] for r in files.rows[:-1]} == {"A"}
    csv_row = next(r for r in csv.DictReader(io.StringIO(files.csv.read_text())) if r["run_id"] == "r")
    assert csv_row["success_rate"] == "" and csv_row["episodes"] == "0"
    md = files.markdown.read_text()
    assert "| 1 | m | s | n/a | n/a | 0 |" in md  # two suites: a Suite column, a group each
    assert "## Group B: suite: s" in md and "The runs differ in suite (rtest: 4 runs; s: 1 run)" in md


def test_a_published_report_is_reproducible_byte_for_byte(tmp_path, monkeypatch):
    """`make reports` stamps its runs with SOURCE_DATE_EPOCH: two runs of the same commit give the
    same run ids and dates, so the same report, byte for byte, though they ran at other times."""
    suite = write_suite(tmp_path)
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1764000000")
    files = []
    for name in ("first", "second"):
        runs = run_policies(suite, tmp_path / name / "runs", ["policy/oracle", "policy/sequential"])
        assert [r.name for r in runs] == [
            "20251124-160000-policy-oracle",
            "20251124-160000-policy-sequential",
        ]
        files.append(build_report([tmp_path / name / "runs"], tmp_path / name / "report"))
    for a, b in zip(
        (files[0].html, files[0].markdown, files[0].csv, files[0].json),
        (files[1].html, files[1].markdown, files[1].csv, files[1].json),
        strict=True,
    ):
        assert a.read_bytes() == b.read_bytes(), a.name


@pytest.mark.parametrize(
    ("extra", "warning"),
    [
        (["--seed", "1"], "the runs differ in seed (0: 2 runs; 1: 1 run): ranked in separate groups"),
        (
            ["--clock", "real"],
            "the runs differ in clock (real: 1 run; virtual: 2 runs): ranked in separate groups",
        ),
        (
            ["--inference-profile", "fast"],
            "the runs differ in inference profile (fast: 1 run; typical: 2 runs): ranked in separate groups",
        ),
        (["--fan-out-cap", "2"], "the runs differ in runtime policies (cap 2, "),
        (["--system-prompt", "neutral"], "the runs differ in prompts ("),
        (["--task", "*_wide_01"], "the runs differ in tasks (1 task ("),
        (
            ["--epochs", "2"],
            "the runs differ in epochs (1: 2 runs; 2: 1 run): their intervals differ in width",
        ),
    ],
    ids=lambda v: " ".join(v) if isinstance(v, list) else None,
)
def test_runs_that_do_not_compare_are_grouped_and_warned_about_in_the_output(
    tmp_path, runs_dir, capsys, extra, warning
):
    """Issue 17 item 10 without a browser: `fanout report` prints the warning and the rows are
    ranked per group, one group per setting, so numbers that do not compare are never interleaved."""
    import shutil

    mixed = tmp_path / "runs"
    for name in ("policy-oracle", "policy-greedy"):
        (src,) = [p for p in runs_dir.iterdir() if p.name.endswith(name)]
        shutil.copytree(src, mixed / src.name)
    suite = Path(json.loads((next(mixed.iterdir()) / "run.json").read_text())["suite_path"])
    run_policies(suite, mixed, ["policy/sequential"], *extra)
    capsys.readouterr()
    assert fanout(["report", str(mixed), "--out", str(tmp_path / "rep")]) == 0
    err = capsys.readouterr().err.splitlines()
    assert len(err) == 1 and err[0].startswith("fanout report: warning: " + warning), err
    rows = json.loads((tmp_path / "rep" / "leaderboard.json").read_text())["rows"]
    groups = {r["model"]: r.get("group") for r in rows}
    if "epochs" in warning:  # a warning only: one ranking
        assert set(groups.values()) == {None}
    else:
        assert groups["policy/oracle"] == groups["policy/greedy"] != groups["policy/sequential"]


def test_the_policies_default_profile_compares_with_the_profile_named(tmp_path, runs_dir, capsys):
    """A policy run without --inference-profile is timed by the default profile (typical): it ran
    under the same conditions as one given `--inference-profile typical`, so no warning, one ranking."""
    import shutil

    mixed = tmp_path / "runs"
    (src,) = [p for p in runs_dir.iterdir() if p.name.endswith("policy-oracle")]
    shutil.copytree(src, mixed / src.name)
    suite = Path(json.loads((mixed / src.name / "run.json").read_text())["suite_path"])
    run_policies(suite, mixed, ["policy/greedy"], "--inference-profile", "typical")
    capsys.readouterr()
    assert fanout(["report", str(mixed), "--out", str(tmp_path / "rep")]) == 0
    assert "warning" not in capsys.readouterr().err
    rows = json.loads((tmp_path / "rep" / "leaderboard.json").read_text())["rows"]
    assert [r["group"] for r in rows] == [None, None]


def test_a_run_that_is_not_complete_is_reported_with_a_warning(tmp_path, capsys):
    """A report of a run still in progress, killed or interrupted scores only the episodes it
    has: the files are written as for any run, and stderr says which runs are partial."""
    suite = write_suite(tmp_path)
    (done, partial) = run_policies(suite, tmp_path / "runs", ["policy/oracle", "policy/greedy"])
    lines = (partial / "episodes.jsonl").read_bytes().splitlines(keepends=True)
    (partial / "episodes.jsonl").write_bytes(b"".join(lines[:2]) + lines[2][:40])  # killed mid-line
    cfg = json.loads((partial / "run.json").read_text())
    cfg["status"] = "running"
    (partial / "run.json").write_text(json.dumps(cfg))
    capsys.readouterr()
    assert fanout(["report", str(done), str(partial), "--out", str(tmp_path / "rep")]) == 0
    err = capsys.readouterr().err
    assert err == (
        f"fanout report: warning: {partial} is running (in progress, or killed), not complete "
        f"(2 of {len(lines)} episodes): its row scores only those; finish it with: "
        f"fanout run --resume {partial}\n"
    )
    rows = json.loads((tmp_path / "rep" / "leaderboard.json").read_text())["rows"]
    assert sorted((r["status"], r["episodes"]) for r in rows) == [("complete", len(lines)), ("running", 2)]
    # the page and the Markdown say so too (a reader of a PR comment never sees the terminal),
    # naming the run by its label, not a local path
    note = (
        f"The run {cfg['model']} is running (in progress, or killed), not complete (2 of {len(lines)} "
        "episodes): its row scores only those episodes."
    )
    md = (tmp_path / "rep" / "leaderboard.md").read_text()
    assert f"> **Warning:** {note}" in md
    assert "| Epochs | Status |" in md and "| 1 | running |" in md and "| 1 | complete |" in md
    assert f"<li>{note}</li>" in (tmp_path / "rep" / "leaderboard.html").read_text()
