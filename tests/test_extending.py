"""docs/extending.md's recipes, run from the page's own code blocks, so the documented extension
points keep working and each declaration keeps reaching every consumer.

Provider and importer recipes register at run time here (and are unregistered after each test).
The metric recipe runs in a child process that declares the page's metrics before any consumer is
imported (consumers read the registry when they load). The runtime-setting recipe is applied to a
copy of the tree, as a contributor would apply it, and checked from the flag to the what-if
column: if a consumer lists settings or metrics by hand again, these tests fail."""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import re
import shutil
import subprocess
import sys
import textwrap
import types
from pathlib import Path

import pytest
from conftest import TOOLS, conversation, generate
from wire_server import WireServer, ok

import evals.models.providers as providers
from evals.cli import build_parser, main
from evals.emulator.server import EmulatorServer
from evals.fixtures import load_suite
from evals.groundtruth import resolve
from evals.importers import base as importer_base
from evals.importers.base import registered
from evals.importers.common import SourceError
from evals.models import kinds, make_model, registry
from evals.models.base import ModelRequest
from evals.models.policies import POLICIES, PolicyModel
from evals.runtime import run_episode
from evals.scoring import score
from evals.settings import RuntimeSettings

ROOT = Path(__file__).resolve().parents[1]
PAGE = ROOT / "docs" / "extending.md"
FILE_LINE = re.compile(r"^# ((?:evals|mock_tools)/[\w/]+\.py)\b")


def recipes() -> dict[str, list[str]]:
    """The page's Python blocks, split at each `# <file>.py` line: file -> its snippets, in order."""
    out: dict[str, list[str]] = {}
    for block in re.findall(r"```python\n(.*?)```", PAGE.read_text(encoding="utf-8"), re.S):
        path = None
        for line in block.splitlines(keepends=True):
            m = FILE_LINE.match(line)
            if m:
                path = m.group(1)
                out.setdefault(path, []).append("")
            elif path is not None:
                out[path][-1] += line
    return out


RECIPES = recipes()


def snippet(path: str, contains: str) -> str:
    (code,) = [c for c in RECIPES[path] if contains in c]
    return textwrap.dedent(code)


def as_module(name: str, code: str, monkeypatch: pytest.MonkeyPatch) -> types.ModuleType:
    """`code` as the module `name` (what the page says to create), importable for the test."""
    mod = types.ModuleType(name)
    mod.__package__ = name.rpartition(".")[0]
    monkeypatch.setitem(sys.modules, name, mod)
    exec(compile(code, f"<docs/extending.md: {name}>", "exec"), vars(mod))
    return mod


def register_factory(code: str) -> None:
    """A factory snippet, as if written in `evals/models/providers.py`."""
    exec(compile(code, "<docs/extending.md: providers.py>", "exec"), dict(vars(providers)))


@pytest.fixture(autouse=True)
def registries():
    """What a recipe registers is gone after its test: other tests list the built-in kinds."""
    kinds(), registered()  # the built-in kinds and importers first, so the snapshot holds them
    saved_kinds, saved_usage = dict(registry._KINDS), dict(registry._USAGE)
    saved_imps = dict(importer_base.IMPORTERS)
    yield
    registry._KINDS.clear()
    registry._KINDS.update(saved_kinds)
    registry._USAGE.clear()
    registry._USAGE.update(saved_usage)
    importer_base.IMPORTERS.clear()
    importer_base.IMPORTERS.update(saved_imps)


def test_the_page_shows_every_recipe_this_file_runs():
    assert {"evals/models/silent.py", "evals/models/myco.py", "evals/models/providers.py"} <= set(RECIPES)
    assert {"evals/importers/calls.py", "evals/metrics.py", "evals/settings.py", "evals/timing.py"} <= set(
        RECIPES
    )


# -- providers --------------------------------------------------------------------------------


def run_help() -> str:
    parser = build_parser(["run"])
    (sub,) = [a for a in parser._actions if isinstance(a, argparse._SubParsersAction)]
    return " ".join(sub.choices["run"].format_help().split())


def test_a_provider_is_one_module_and_one_decorated_factory(core_suite, monkeypatch):
    as_module("evals.models.silent", snippet("evals/models/silent.py", "SilentModel"), monkeypatch)
    register_factory(snippet("evals/models/providers.py", '"silent"'))
    assert "silent" in kinds() and "silent/<model>" in run_help()
    model = make_model("silent/x", [core_suite])
    task = core_suite.tasks[0]
    trace = asyncio.run(run_episode(model, task))
    assert trace.final_text == "I cannot help with that." and not score(resolve(task, 0), trace).success


def test_run_help_lists_every_registered_kind_with_its_usage():
    text = run_help()
    for kind in kinds():
        assert f"{kind}/" in text, kind
    assert all(p in text for p in POLICIES) and "replay/<run dir>" in text and "agent/<name>" in text


def test_an_openai_compatible_server_with_another_auth_header(monkeypatch):
    as_module("evals.models.myco", snippet("evals/models/myco.py", "MyCoModel"), monkeypatch)
    register_factory(snippet("evals/models/providers.py", '"myco"'))
    monkeypatch.setenv("MYCO_API_KEY", "myco-secret")
    with WireServer([ok("openai_chat_parallel.json")]) as srv:
        model = make_model("myco/m1", [], options={"base_url": srv.url + "/v1", "cache": False})
        resp = generate(model, ModelRequest(conversation()[:2], TOOLS))
    assert model.name == "myco/m1" and [c.name for c in resp.tool_calls] == ["get_weather", "get_weather"]
    seen = srv.seen[0]
    assert seen.path == "/v1/chat/completions" and seen.body["model"] == "m1"
    assert seen.headers["api-key"] == "myco-secret" and "authorization" not in seen.headers
    monkeypatch.delenv("MYCO_API_KEY")
    with pytest.raises(ValueError, match="MYCO_API_KEY"):  # the default endpoint needs its key
        make_model("myco/m1", [])


def test_the_auth_quirk_runs_the_oracle_through_the_emulator(core_suite, monkeypatch):
    """As the page says: the emulator takes the `api-key` header, so the adapter runs end to end."""
    as_module("evals.models.myco", snippet("evals/models/myco.py", "MyCoModel"), monkeypatch)
    register_factory(snippet("evals/models/providers.py", '"myco"'))
    monkeypatch.setenv("MYCO_API_KEY", "k")
    task = core_suite.tasks[0]
    with EmulatorServer([core_suite]) as srv:
        model = make_model(
            "myco/oracle", [core_suite], options={"base_url": srv.base_url + "/v1", "cache": False}
        )
        trace = asyncio.run(run_episode(model, task, RuntimeSettings()))
    assert trace.error is None and score(resolve(task), trace).success


# -- importers --------------------------------------------------------------------------------


def load_calls_importer(monkeypatch: pytest.MonkeyPatch) -> types.ModuleType:
    return as_module("evals.importers.calls", snippet("evals/importers/calls.py", "class Calls"), monkeypatch)


def test_an_importer_is_one_registered_class(tmp_path, monkeypatch):
    mod = load_calls_importer(monkeypatch)
    assert registered()["calls"] is mod.Calls
    source = tmp_path / "calls.json"
    entry = {
        "id": "weather_twice",
        "prompt": "What is the code for Oslo and for {{ Bergen }}?",
        "calls": [
            {"tool": "city_code", "args": {"city": "Oslo"}, "output": {"value": "OSL-9"}},
            {"tool": "city_code", "args": {"city": "{{ Bergen }}"}, "output": {"value": "BGO-4"}},
        ],
    }
    source.write_text(json.dumps([entry, {"id": "no_calls", "prompt": "p"}, "not an entry"]))
    conv = mod.Calls().convert(mod.CallsOptions(source=str(source)))
    assert conv.report.records["calls"] == 3 and conv.report.total == 1
    assert [s.entry for s in conv.report.skipped] == ["entry 1", "entry 2"]
    conv.write(tmp_path / "calls")
    suite = load_suite(tmp_path / "calls")
    task = suite.tasks[0]
    trace = asyncio.run(run_episode(PolicyModel("oracle", [suite]), task))
    s = score(resolve(task, 0), trace)
    assert s.success and s.fan_out_recall == 1.0
    assert trace.calls[1].arguments == {"city": "{{ Bergen }}"}  # data, not a template


@pytest.mark.parametrize("text", ["not json", '{"id": "x"}', "[" * 100_000])
def test_an_unreadable_source_is_one_clear_error(tmp_path, monkeypatch, text, capsys):
    mod = load_calls_importer(monkeypatch)
    source = tmp_path / "calls.json"
    source.write_text(text)
    with pytest.raises(SourceError, match="calls.json"):
        mod.Calls().convert(mod.CallsOptions(source=str(source)))
    code = main(["tasks", "import", "calls", "--source", str(source), "--out", str(tmp_path / "out")])
    err = capsys.readouterr().err
    assert code == 2 and err.count("\n") == 1 and "Traceback" not in err
    assert not (tmp_path / "out").exists()


# -- metrics: declared once, in every output --------------------------------------------------

METRIC_SCRIPT = r"""
import contextlib, io, json, sys
from pathlib import Path

import evals.metrics as M

ns = dict(vars(M), add=M.METRICS.add)
for code in json.loads(sys.argv[1]):
    exec(code, ns)

from evals.cli import main
from evals.metric_doc import render

out = Path(sys.argv[2])
seen = {}

def fanout(*argv):
    buf = io.StringIO()
    with contextlib.redirect_stdout(buf):
        code = main(list(argv))
    return code, buf.getvalue()

code, text = fanout("run", "--model", "policy/oracle", "--model", "policy/sequential", "--suite", "core",
                    "--limit", "16", "--out", str(out / "runs"), "--no-progress")
seen["run"] = (code, text.splitlines()[0])
oracle, sequential = sorted((out / "runs").iterdir(), key=lambda p: "sequential" in p.name)
seen["summary"] = {k: json.loads((d / "summary.json").read_text()).get(k)
                   for d in (oracle,) for k in ("first_turn_call_share", "max_batch_mean")}
code, _ = fanout("report", str(out / "runs"), "--out", str(out / "report"))
seen["report"] = {f: (out / "report" / f"leaderboard.{f}").read_text() for f in ("md", "html", "csv", "json")}
(out / "rules.toml").write_text("defaults = false\n[rules.first_turn_call_share]\nmax_drop = 0.05\n")
code, text = fanout("gate", str(oracle), str(sequential), "--rules", str(out / "rules.toml"))
seen["gate"] = (code, text)
code, text = fanout("whatif", str(oracle), "--fan-out-cap", "1,none", "--out", str(out / "whatif"))
seen["whatif"] = (code, text.splitlines()[0], json.loads((out / "whatif" / "whatif.json").read_text())[0])
code, text = fanout("compare", str(oracle), str(sequential))
seen["compare"] = (code, text)
seen["doc"] = render()
print(json.dumps(seen))
"""


def test_a_metric_declared_once_reaches_every_output(tmp_path):
    codes = [
        snippet("evals/metrics.py", "max_batch_mean"),
        snippet("evals/metrics.py", "first_turn_call_share"),
    ]
    proc = subprocess.run(
        [sys.executable, "-c", METRIC_SCRIPT, json.dumps(codes), str(tmp_path)],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=300,
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    seen = json.loads(proc.stdout.splitlines()[-1])
    assert seen["run"][0] == 0 and "first%" in seen["run"][1]
    share = seen["summary"]["first_turn_call_share"]
    assert share is not None and 0 < share < 1 and seen["summary"]["max_batch_mean"] is not None
    md, html, csv, js = (seen["report"][f] for f in ("md", "html", "csv", "json"))
    assert "First-turn calls" in md and "Widest batch" in md
    assert "First-turn calls" in html and "first_turn_call_share" in html  # column and metric reference
    header = csv.splitlines()[0].split(",")
    assert header[-3:] == ["first_turn_call_share", "first_turn_call_share_lo", "first_turn_call_share_hi"]
    assert "max_batch_mean" in header and "first_turn_call_share" in json.loads(js)["pattern_columns"]
    code, text = seen["gate"]
    assert code == 1 and re.search(r"^first_turn_call_share .* FAIL", text, re.M)
    code, head, row = seen["whatif"]
    assert code == 0 and "first%" in head and row["first_turn_call_share"] == share
    code, text = seen["compare"]
    assert code == 0 and "first_turn_call_share" in text and "max_batch" in text
    # each episode's own share (first_turn_calls / n_calls), not the numerator alone
    assert re.search(r"^analytics_wide_01 .* 12\.00 -> 1\.00 +1\.00 -> 0\.08 ", text, re.M)
    assert re.search(r"^calendar_fan_in_write_01 .* 0\.67 -> 0\.33 ", text, re.M)
    assert "`first_turn_call_share`" in seen["doc"] and "`max_batch_mean`" in seen["doc"]


# -- runtime settings: declared once, from the flag to the what-if column ---------------------

SETTING_SCRIPT = r"""
import contextlib, io, json, sys
from pathlib import Path

import evals
from evals.cli import main

out = Path(sys.argv[1])
seen = {"package": evals.__file__}

def fanout(*argv):
    buf, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(buf), contextlib.redirect_stderr(err):
        try:
            code = main(list(argv))
        except SystemExit as exc:  # --help
            code = exc.code
    return code, buf.getvalue(), err.getvalue()

MODEL = ("run", "--model", "policy/oracle", "--suite", "core", "--no-progress")
RUN = (*MODEL, "--sample-id", "analytics_fan_out_join_01,users_chain_01")
seen["help"] = fanout("run", "--help")[1]
seen["bad"] = fanout(*RUN, "--latency-offset", "-1", "--out", str(out / "bad"))
seen["bad_dir"] = (out / "bad").exists()
fanout(*RUN, "--out", str(out / "base"))
fanout(*RUN, "--latency-offset", "0.25", "--out", str(out / "shifted"))
(base,), (shifted,) = (list((out / d).iterdir()) for d in ("base", "shifted"))
seen["run_json"] = json.loads((shifted / "run.json").read_text())["runtime"]
seen["trace"] = json.loads((shifted / "episodes.jsonl").read_text().splitlines()[0])["trace"]["runtime"]
seen["summaries"] = [json.loads((d / "summary.json").read_text())["wall_s_mean"] for d in (base, shifted)]
seen["resume"] = fanout("run", "--resume", str(shifted), "--latency-offset", "1")
seen["gate"] = fanout("gate", str(base), str(shifted))
seen["whatif"] = fanout("whatif", str(base), "--latency-offset", "0.25", "--out", str(out / "w"))
seen["whatif_rows"] = json.loads((out / "w" / "whatif.json").read_text())
seen["whatif_csv"] = (out / "w" / "whatif.csv").read_text().splitlines()[0]
seen["report"] = fanout("report", str(base), str(shifted), "--out", str(out / "report"))
fanout(*MODEL, "--sample-id", "analytics_fan_out_join_01", "--clock", "real", "--inference-profile", "fast",
       "--latency-scale", "0.01", "--latency-offset", "0.05", "--out", str(out / "real"))
(real,) = list((out / "real").iterdir())
calls = json.loads((real / "episodes.jsonl").read_text().splitlines()[0])["trace"]["calls"]
seen["real_calls"] = [(c["end_s"] - c["start_s"], c["sample_s"]) for c in calls]
print(json.dumps(seen))
"""


def apply_setting_recipe(tree: Path) -> None:
    """The page's runtime-setting recipe, applied to a copy of the tree as a contributor would."""
    field = RECIPES["evals/settings.py"][0]
    settings = tree / "evals" / "settings.py"
    text = settings.read_text()
    anchor = "    max_turns: int = _setting("
    assert text.count(anchor) == 1
    settings.write_text(text.replace(anchor, field.rstrip("\n") + "\n" + anchor))
    line = RECIPES["evals/timing.py"][0].strip()
    timing = tree / "evals" / "timing.py"
    text = timing.read_text()
    old = "    return sample * settings.latency_scale\n"
    assert text.count(old) == 1 and line.startswith("return sample * settings.latency_scale")
    timing.write_text(text.replace(old, f"    {line}\n"))


def test_a_runtime_setting_declared_once_reaches_every_consumer(tmp_path):
    tree = tmp_path / "tree"
    ignore = shutil.ignore_patterns("__pycache__", "*.pyc")
    for part in ("evals", "mock_tools", "tasks"):
        shutil.copytree(ROOT / part, tree / part, ignore=ignore)
    apply_setting_recipe(tree)
    env = {**os.environ, "PYTHONPATH": str(tree), "PYTHONDONTWRITEBYTECODE": "1"}
    env = {k: v for k, v in env.items() if not k.startswith("FANOUT_")}
    proc = subprocess.run(
        [sys.executable, "-c", SETTING_SCRIPT, str(tmp_path / "out")],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        env=env,
        timeout=300,
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    seen = json.loads(proc.stdout.splitlines()[-1])
    assert seen["package"].startswith(str(tree))  # the copy ran, not this tree
    assert "--latency-offset" in seen["help"] and "FANOUT_LATENCY_OFFSET" in seen["help"]
    code, _, err = seen["bad"]
    assert code == 2 and "--latency-offset '-1'" in err and err.count("\n") == 1 and not seen["bad_dir"]
    assert seen["run_json"]["latency_offset"] == 0.25 and seen["trace"]["latency_offset"] == 0.25
    base_wall, shifted_wall = seen["summaries"]
    assert shifted_wall > base_wall
    code, _, err = seen["resume"]
    assert code == 2 and "--latency-offset would be ignored" in err
    code, out, _ = seen["gate"]
    assert re.search(r"^changed: +latency_offset$", out, re.M)
    code, out, _ = seen["whatif"]
    assert code == 0 and "latency_offset" in out.splitlines()[0]
    (row,) = [r for r in seen["whatif_rows"] if r["pattern"] is None]
    assert row["latency_offset"] == 0.25
    assert row["wall_s_mean"] == shifted_wall  # the base run re-timed = the shifted run, bit for bit
    assert "hedge_after,latency_offset,episodes" in seen["whatif_csv"]
    code, out, err = seen["report"]
    assert code == 0 and "other runtime settings" in out + err
    assert seen["real_calls"] and all(d >= 0.05 for d, _ in seen["real_calls"])  # the real clock waited it


def test_whatif_columns_keep_their_published_order():
    """Settings, then metrics, each in declaration order: a setting or metric declared later is
    added to its group, and the columns published before keep their order."""
    from evals.whatif import COLUMNS

    published = ["model", "suite", "run_id", "clock", "pattern", "inference_profile", "latency_scale"]
    published += ["latency_profile", "fan_out_cap", "tool_timeout", "hedge_after", "episodes", "calls"]
    assert [c for c in COLUMNS if c in published] == published
