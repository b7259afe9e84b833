"""The GitHub Actions examples (examples/github-actions-*.yml) work when copied: their structure is
checked statically (actions, expressions, artifacts, shard matrix, permissions, every `fanout`
command line against the real parser), and the matrix workflow's shell steps are executed in
order, each job in its own folder as on its own runner, with artifacts copied between folders."""

from __future__ import annotations

import fnmatch
import json
import os
import re
import shlex
import shutil
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest
import yaml

from evals.cli import build_parser
from evals.cli import main as fanout

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"
WORKFLOWS = sorted(EXAMPLES.glob("github-actions-*.yml"))
EXPR = re.compile(r"\$\{\{\s*(.*?)\s*\}\}")

# The major versions the examples may use: each exists, and takes the inputs the examples pass.
ACTIONS = {
    "actions/checkout@v4": {"fetch-depth"},
    "actions/setup-python@v5": {"python-version"},
    "actions/cache/restore@v4": {"path", "key", "restore-keys"},
    "actions/cache/save@v4": {"path", "key"},
    "actions/upload-artifact@v4": {"name", "path", "overwrite"},
    "actions/download-artifact@v4": {"pattern", "path", "merge-multiple"},
    "mikepenz/action-junit-report@v4": {"report_paths", "check_name"},
}


def load(name: str) -> dict[str, Any]:
    return yaml.safe_load((EXAMPLES / name).read_text(encoding="utf-8"))


def steps(wf: dict[str, Any]) -> list[tuple[str, dict[str, Any]]]:
    return [(job, s) for job, spec in wf["jobs"].items() for s in spec["steps"]]


def expressions(node: Any) -> list[str]:
    if isinstance(node, dict):
        return [e for k, v in node.items() for e in expressions(k) + expressions(v)]
    if isinstance(node, list):
        return [e for v in node for e in expressions(v)]
    return EXPR.findall(node) if isinstance(node, str) else []


def fanout_command_lines(run: str, values: dict[str, str]) -> list[list[str]]:
    """The argv of every `fanout ...` command in a step's script, the inline Python's included,
    with `${{ matrix.x }}`, `${{ env.X }}` and `$X` replaced by the workflow's values."""
    run = EXPR.sub(lambda m: values.get(m.group(1).partition(".")[2], "x"), run)
    run = re.sub(r"\$(\w+)", lambda m: values.get(m.group(1), "x"), run)
    found = []
    for line in run.replace("\\\n", " ").splitlines():
        line = line.split(" || ")[0].split(" >> ")[0]
        if line.strip().startswith("fanout "):
            found.append(shlex.split(line)[1:])
    for m in re.finditer(r'\["fanout", ([^\]]*)\]', run):  # subprocess.run(["fanout", ..., *dirs, ...])
        found.append([a.strip('"') if a.startswith('"') else "shards/x" for a in m.group(1).split(", ")])
    return found


@pytest.mark.parametrize("path", WORKFLOWS, ids=lambda p: p.name)
def test_every_action_expression_and_permission_is_valid(path):
    wf = yaml.safe_load(path.read_text(encoding="utf-8"))
    assert wf["permissions"] == {"contents": "read"}  # anything more is granted per job, where needed
    env = set(wf.get("env") or ())
    for job, spec in wf["jobs"].items():
        matrix = set((spec.get("strategy") or {}).get("matrix") or ())
        names = env | set(spec.get("env") or ())
        for expr in expressions(spec):
            ctx, _, rest = expr.lstrip("!").partition(".")
            if ctx == "matrix":
                assert rest in matrix, f"{job}: {expr}"
            elif ctx == "env":
                assert rest in names, f"{job}: {expr}"
            else:
                assert ctx in {"github", "secrets", "strategy"} or re.match(
                    r"!?(hashFiles|cancelled)\(", expr
                ), expr
        extra = set((spec.get("permissions") or {}).values()) - {"read"}
        uses = {s.get("uses", "").split("@")[0] for s in spec["steps"]}
        if extra:  # only the JUnit reporter writes (checks)
            assert spec["permissions"] == {"contents": "read", "checks": "write"}
            assert "mikepenz/action-junit-report" in uses
    for _, step in steps(wf):
        if "uses" in step:
            assert step["uses"].split(" ")[0] in ACTIONS, step["uses"]
            assert set(step.get("with") or ()) <= ACTIONS[step["uses"]], step
        if step.get("uses", "").startswith("actions/upload-artifact"):
            assert step["with"].get("overwrite") is True  # a re-run job must not fail with 409


@pytest.mark.parametrize("path", WORKFLOWS, ids=lambda p: p.name)
def test_every_fanout_command_parses_with_its_flags(path):
    wf = yaml.safe_load(path.read_text(encoding="utf-8"))
    values = {k: str(v) for k, v in (wf.get("env") or {}).items()}
    for spec in wf["jobs"].values():
        values |= {k: str(v) for k, v in (spec.get("env") or {}).items()}
        values |= {k: str(v[0]) for k, v in ((spec.get("strategy") or {}).get("matrix") or {}).items()}
    lines = [argv for _, s in steps(wf) for argv in fanout_command_lines(s.get("run", ""), values)]
    assert lines
    for argv in lines:
        _, unknown = build_parser(argv).parse_known_args(argv)  # a bad flag or choice raises UsageError
        assert not unknown, argv


def test_the_gate_example_gates_twice_run_suites_and_keeps_its_cache():
    wf = load("github-actions-gate.yml")
    job = wf["jobs"]["gate"]
    runs = [s.get("run", "") for s in job["steps"]]
    gate_step = next(r for r in runs if r.startswith("fanout gate"))
    assert "--junit gate.xml" in gate_step and "--rules gate.toml" in gate_step
    assert sum(r.startswith("fanout run") for r in runs) == 2
    assert any("runs/baseline runs/candidate" in r for r in runs if r.startswith("fanout compare"))
    by_uses = {s.get("uses", "").split("@")[0]: s for s in job["steps"]}
    restore, save = by_uses["actions/cache/restore"], by_uses["actions/cache/save"]
    assert save["if"] == "always()" and save["with"]["key"] == restore["with"]["key"]
    assert job["env"]["FANOUT_CACHE_DIR"].endswith("/" + restore["with"]["path"])
    uploaded = by_uses["actions/upload-artifact"]["with"]["path"].split()
    assert by_uses["mikepenz/action-junit-report"]["with"]["report_paths"] in uploaded
    assert list(wf["jobs"]) == ["gate"]  # nothing that needs the harness's own repository


def test_the_matrix_example_covers_every_shard_once_and_its_artifacts_meet():
    wf = load("github-actions-matrix.yml")
    n = int(wf["env"]["SHARDS"])
    shard, merge = wf["jobs"]["shard"], wf["jobs"]["merge"]
    assert shard["strategy"]["matrix"]["shard"] == list(range(1, n + 1))
    assert shard["strategy"]["fail-fast"] is False
    runs = " ".join(s.get("run", "") for s in shard["steps"])
    assert '--shard "${{ matrix.shard }}/$SHARDS"' in runs and "--out shards" in runs
    (up,) = [s for s in shard["steps"] if s.get("uses", "").startswith("actions/upload-artifact")]
    (down,) = [s for s in merge["steps"] if s.get("uses", "").startswith("actions/download-artifact")]
    assert "${{ strategy.job-index }}" in up["with"]["name"]  # one artifact per matrix job
    assert fnmatch.fnmatch(
        up["with"]["name"].replace("${{ strategy.job-index }}", "7"), down["with"]["pattern"]
    )
    assert up["with"]["path"].rstrip("/") == down["with"]["path"] and down["with"]["merge-multiple"] is True
    assert merge["needs"] == "shard" and merge["if"] == "${{ !cancelled() }}"


# --- the matrix workflow, executed --------------------------------------------------------------


class Runner:
    """Runs one job's steps like a GitHub-hosted runner: `run` scripts with `bash -eo pipefail` in
    a workspace of the job's own, `${{ }}` substituted, artifacts as folders under `artifacts`."""

    def __init__(self, wf: dict[str, Any], root: Path, repo: Path, env: dict[str, str]):
        self.wf, self.root, self.repo, self.env = wf, root, repo, env
        self.artifacts = root / "artifacts"
        self.artifacts.mkdir(parents=True, exist_ok=True)

    def job(
        self, name: str, folder: str, matrix: dict[str, str] | None = None, index: int = 0
    ) -> dict[str, Any]:
        spec = self.wf["jobs"][name]
        machine = self.root / folder
        ws = machine / "ws"
        ws.mkdir(parents=True)
        summary = machine / "summary.md"
        summary.touch()
        env = {k: str(v) for k, v in {**(self.wf.get("env") or {}), **(spec.get("env") or {})}.items()}
        github = {"workspace": str(ws), "run_id": "1", "run_attempt": "1"}
        ctx = {
            "matrix": matrix or {},
            "strategy": {"job-index": str(index)},
            "env": env,
            "secrets": {},
            "github": github,
        }

        def sub(text: str) -> str:
            def one(m: re.Match[str]) -> str:
                if m.group(1).startswith("hashFiles("):
                    return "hash"
                c, _, key = m.group(1).partition(".")
                return str(ctx[c].get(key, ""))

            return EXPR.sub(one, text)

        env = {k: sub(v) for k, v in env.items()}
        ctx["env"] = env
        proc_env = {**os.environ, **env, **self.env, "GITHUB_STEP_SUMMARY": str(summary), "CI": "true"}
        proc_env["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{proc_env['PATH']}"
        failed, results = False, []
        for i, step in enumerate(spec["steps"]):
            cond = step.get("if", "success()")
            if not {
                "success()": not failed,
                "failure()": failed,
                "always()": True,
                "${{ !cancelled() }}": True,
            }[cond]:
                continue
            if "run" in step:
                if "pip install" in step["run"]:
                    continue  # the harness under test is already installed
                script = machine / f"step{i}.sh"
                script.write_text(sub(step["run"]))
                p = subprocess.run(
                    ["bash", "--noprofile", "--norc", "-eo", "pipefail", str(script)],
                    cwd=ws,
                    env=proc_env,
                    capture_output=True,
                    text=True,
                )
                results.append((step.get("name", step["run"][:30]), p.returncode, p.stdout, p.stderr))
                failed = failed or p.returncode != 0
                continue
            uses, w = (
                step["uses"].split("@")[0],
                {k: sub(str(v)) for k, v in (step.get("with") or {}).items()},
            )
            if uses == "actions/checkout":
                if (self.repo / ".git").exists():  # a clone has origin/<every branch>, as fetch-depth 0
                    subprocess.run(["git", "clone", "-q", str(self.repo), str(ws)], check=True)
                    subprocess.run(
                        ["git", "-C", str(ws), "checkout", "-q", self.env["PR_BRANCH"]], check=True
                    )
                else:
                    shutil.copytree(self.repo, ws, dirs_exist_ok=True)
            elif uses == "actions/upload-artifact":
                dest = self.artifacts / w["name"]
                assert not dest.exists() or w.get("overwrite") == "True", f"409: {w['name']} exists"
                shutil.rmtree(dest, ignore_errors=True)
                paths = w["path"].split()
                for p_ in paths:  # one folder uploads its contents; hidden files are left out (v4.4+)
                    src, to = ws / p_, dest if len(paths) == 1 else dest / p_
                    if src.is_dir():
                        shutil.copytree(src, to, ignore=shutil.ignore_patterns(".*"), dirs_exist_ok=True)
            elif uses == "actions/download-artifact":
                for art in sorted(self.artifacts.iterdir()):
                    if fnmatch.fnmatch(art.name, w["pattern"]):
                        to = ws / w["path"] / ("" if w.get("merge-multiple") == "True" else art.name)
                        for f in art.rglob("*"):
                            if f.is_file():
                                assert not (to / f.relative_to(art)).exists(), f"{f} overwrites a file"
                        shutil.copytree(art, to, dirs_exist_ok=True)
        return {"failed": failed, "steps": results, "summary": summary.read_text(), "ws": ws}


MODELS = ["policy/greedy", "policy/oracle"]  # the matrix's models, served by reference policies
TASKS = "weather_*,orders_*"  # a slice of the suite, through FANOUT_TASK: the commands stay as written


@pytest.fixture(scope="module")
def matrix_run(tmp_path_factory) -> dict[str, Any]:
    """Every shard job of the matrix example, each in its own folder, on a slice of the core
    suite (FANOUT_TASK, read by `fanout run` as --task), and an unsharded run of each model."""
    root = tmp_path_factory.mktemp("matrix")
    wf = load("github-actions-matrix.yml")
    repo = root / "repo"
    repo.mkdir()
    runner = Runner(wf, root, repo, {"FANOUT_TASK": TASKS})
    jobs = [(m, k) for m in MODELS for k in wf["jobs"]["shard"]["strategy"]["matrix"]["shard"]]
    with ThreadPoolExecutor(4) as pool:
        shards = list(
            pool.map(
                lambda a: runner.job(
                    "shard", f"shard{a[0]}", {"model": a[1][0], "shard": str(a[1][1])}, a[0]
                ),
                enumerate(jobs),
            )
        )
    assert not any(s["failed"] for s in shards), [s["steps"] for s in shards if s["failed"]]
    reference = {}
    for model in MODELS:  # the shard command without --shard, in this process
        out = root / "unsharded" / model.replace("/", "-")
        argv = ["run", "--model", model, "--suite", wf["env"]["SUITE"], "--epochs", wf["env"]["EPOCHS"]]
        assert (
            fanout(
                [
                    *argv,
                    *(a for t in TASKS.split(",") for a in ("--task", t)),
                    "--out",
                    str(out),
                    "--no-progress",
                ]
            )
            == 0
        )
        (run_dir,) = out.iterdir()
        reference[model] = json.loads((run_dir / "summary.json").read_text())
    return {"runner": runner, "root": root, "reference": reference}


def merged_summaries(ws: Path) -> dict[str, dict[str, Any]]:
    out = {}
    for cfg in (ws / "runs").glob("*/run.json"):
        out[json.loads(cfg.read_text())["model"]] = json.loads((cfg.parent / "summary.json").read_text())
    return out


def test_the_matrix_example_merges_into_the_unsharded_summary(matrix_run):
    """Then, from the same shard artifacts, the failure modes (one test: the shard jobs are the
    expensive part, and a module fixture would run once per xdist worker)."""
    job = matrix_run["runner"].job("merge", "merge")
    assert not job["failed"], job["steps"]
    merged = merged_summaries(job["ws"])
    assert set(merged) == set(MODELS)
    for model in MODELS:
        got, want = merged[model], matrix_run["reference"][model]
        got.pop("run_id"), want.pop("run_id")  # the one field docs say differs
        assert got == want
    assert "# Fanout leaderboard" in job["summary"]
    assert (job["ws"] / "report" / "leaderboard.md").exists()
    a_missing_shard_or_a_shard_run_twice_fails_the_merge_job_after_publishing_the_rest(matrix_run)


def with_artifacts(matrix_run, name: str, edit) -> Runner:
    base = matrix_run["runner"]
    root = matrix_run["root"] / name
    shutil.copytree(base.artifacts, root / "artifacts")
    edit(root / "artifacts")
    return Runner(base.wf, root, base.repo, base.env)


def a_missing_shard_or_a_shard_run_twice_fails_the_merge_job_after_publishing_the_rest(
    matrix_run,
):
    """shard-2 (the first model's shard 3/8) never uploaded; the second model's shard 4/8 arrives
    twice. Each is one `::error::` line in the log and the job summary, the step exits 1 after
    merging what it can, and the leaderboard and the runs are still published."""

    def damage(a: Path) -> None:
        shutil.rmtree(a / "shard-2")
        (run_dir,) = (a / "shard-11").iterdir()
        shutil.copytree(run_dir, a / "shard-99" / run_dir.name.replace("-", "-again-", 1))

    runner = with_artifacts(matrix_run, "damaged", damage)
    job = runner.job("merge", "merge")
    assert job["failed"]
    [(_, code, out, err)] = [s for s in job["steps"] if s[0] == "Merge the shards of each model"]
    assert code == 1
    assert "episodes are in no shard; the merged run is incomplete" in err
    assert f"::error::{MODELS[0]}: runs/" in out and "is interrupted: a shard is missing" in out
    assert "are both shard 4/8" in err and f"::error::{MODELS[1]}: fanout merge failed" in out
    assert job["summary"].count(":x: ") == 2 and "# Fanout leaderboard" in job["summary"]
    assert set(merged_summaries(job["ws"])) == {MODELS[0]}
    assert (runner.artifacts / "fanout-runs" / "report" / "leaderboard.md").exists()


@pytest.fixture(scope="module")
def user_repo(tmp_path_factory) -> Path:
    """A repository as the gate example expects: prompts/system.j2 and gate.toml on main, and two
    pull-request branches, one that leaves the prompt alone and one with the worse prompt."""
    repo = tmp_path_factory.mktemp("user-repo")
    (repo / "prompts").mkdir()
    shutil.copy(EXAMPLES / "prompt_baseline.j2", repo / "prompts" / "system.j2")
    shutil.copy(EXAMPLES / "gate.toml", repo / "gate.toml")

    def git(*argv: str) -> None:
        subprocess.run(
            ["git", "-c", "user.name=t", "-c", "user.email=t@example.com", *argv], cwd=repo, check=True
        )

    git("init", "-q", "-b", "main")
    git("add", ".")
    git("commit", "-qm", "base")
    git("checkout", "-qb", "pr-same")
    (repo / "gate.toml").write_text((repo / "gate.toml").read_text() + "# reviewed\n")
    git("commit", "-qam", "same prompt")
    git("checkout", "-q", "main")
    git("checkout", "-qb", "pr-worse")
    shutil.copy(EXAMPLES / "prompt_candidate.j2", repo / "prompts" / "system.j2")
    git("commit", "-qam", "worse prompt")
    git("checkout", "-q", "main")
    return repo


@pytest.mark.parametrize("branch", ["pr-same", "pr-worse"])
def test_the_gate_example_passes_an_unchanged_prompt_and_fails_the_worse_one(tmp_path, user_repo, branch):
    """The gate job's steps as written, the model swapped for the prompt-sensitive demo policy
    (MODEL) on a slice of the suite: exit 0 and a PASS summary, or exit 1, the per-task diff in
    the job summary, and well-formed JUnit XML either way."""
    import xml.etree.ElementTree as ET

    env = {
        "MODEL": "policy/prompt-sensitive",
        "FANOUT_TASK": TASKS,
        "GITHUB_BASE_REF": "main",
        "PR_BRANCH": branch,
    }
    env["FANOUT_CACHE_DIR"] = str(tmp_path / "cache")
    job = Runner(load("github-actions-gate.yml"), tmp_path, user_repo, env).job("gate", "gate")
    [(_, code, out, err)] = [s for s in job["steps"] if s[0] == "Gate"]
    assert (code, job["failed"]) == ((0, False) if branch == "pr-same" else (1, True)), err
    verdict = "PASS" if branch == "pr-same" else "FAIL"
    assert out.startswith(f"fanout gate: {verdict}") and job["summary"].startswith("## ")
    assert ("## Fanout compare" in job["summary"]) == (branch == "pr-worse")
    suite = ET.parse(job["ws"] / "gate.xml").getroot()
    assert int(suite.get("failures")) == (0 if branch == "pr-same" else len(suite.findall(".//failure")))
    assert (job["ws"] / "gate.md").read_text().startswith("## ")
