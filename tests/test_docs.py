"""Every command block of README.md and docs/*.md, so the documentation cannot drift from the code.

Each shell block's commands are collected (continuation lines joined, comments dropped; lines of
output such as `fanout gate: ...` are not commands). Two tests:

- every command is *known*: a `fanout` line parses with the real argument parser (flags, choices,
  subcommands), a `make` target exists, a script exists, an extra exists;
- every command *runs*, file by file in a scratch folder, in the order the page gives them, with
  the reader's placeholders filled in (`M` -> a reference policy, `<run_id>` -> the run an earlier
  command made, `/tmp/...` -> the scratch folder, `[optional]` parts dropped) and the files a page
  shows (a YAML block whose first line is `# landmarks/suite.yaml`) written first. A command that
  needs what a test cannot have (a provider key, the network, a server left running, an interactive
  player, the reader's own data) is only parsed, and says why; the slow ones (real clock, agent
  frameworks, `make run`) are marked `docs_slow` and run by `make test-docs`.
"""

from __future__ import annotations

import contextlib
import glob
import os
import re
import shlex
import shutil
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from evals.cli import build_parser, main
from evals.errors import UsageError

ROOT = Path(__file__).resolve().parents[1]
PAGES = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
SHELL = {"", "sh", "bash", "shell", "console"}
PROGRAMS = ("fanout", "make", "pip", "python", ".venv/bin/python", ".venv/bin/fanout", "git", "apt-get", ".")
SHOWN_FILE = re.compile(r"^#\s+([\w./-]+\.(?:ya?ml|toml|j2|json))\s*$")


@dataclass
class Command:
    page: str
    line: int
    text: str
    env: dict[str, str] = field(default_factory=dict)
    argv: list[str] = field(default_factory=list)

    @property
    def id(self) -> str:
        return f"{self.page}:{self.line}"

    @property
    def program(self) -> str:
        return self.argv[0] if self.argv else ""


@dataclass
class ShownFile:
    page: str
    line: int
    path: str
    text: str


def _split(text: str) -> tuple[dict[str, str], list[str]]:
    words = shlex.split(text, comments=True)
    env = {}
    while words and re.match(r"^[A-Z_][A-Z0-9_]*=", words[0]):
        k, _, v = words.pop(0).partition("=")
        env[k] = v
    return env, words


def parse_page(path: Path) -> list[Command | ShownFile]:
    """The page's commands and shown files, in page order."""
    out: list[Command | ShownFile] = []
    lines = path.read_text(encoding="utf-8").splitlines()
    page = str(path.relative_to(ROOT))
    i = 0
    while i < len(lines):
        m = re.match(r"^\s*```(\S*)\s*$", lines[i])
        if not m:
            i += 1
            continue
        lang, start = m.group(1), i + 1
        end = next(j for j in range(start, len(lines)) if re.match(r"^\s*```\s*$", lines[j]))
        body = lines[start:end]
        shown = SHOWN_FILE.match(body[0]) if body else None
        if shown and lang in ("yaml", "yml", "toml", "json", "jinja", ""):
            out.append(ShownFile(page, start + 1, shown.group(1), "\n".join(body[1:]) + "\n"))
        elif lang in SHELL:
            k = 0
            while k < len(body):
                first, text = k, body[k].strip()
                while text.endswith("\\") and k + 1 < len(body):
                    k += 1
                    text = text[:-1] + " " + body[k].strip()
                k += 1
                try:
                    env, words = _split(text)
                except ValueError:
                    continue
                if not words or words[0] not in PROGRAMS:
                    continue
                if words[0] in ("fanout", ".venv/bin/fanout") and (len(words) < 2 or words[1].endswith(":")):
                    continue  # output: `fanout gate: FAIL ...`
                out.append(Command(page, start + first + 1, text, env, words))
        i = end + 1
    return out


ALL = [item for p in PAGES for item in parse_page(p)]
COMMANDS = [c for c in ALL if isinstance(c, Command)]


def test_every_page_has_its_commands_collected():
    pages = {c.page for c in COMMANDS}
    assert {"README.md", "docs/whatif.md", "docs/reports.md", "docs/gating.md", "docs/tasks.md"} <= pages
    assert len(COMMANDS) > 80


# -- known ------------------------------------------------------------------------------------


def _words(words: list[str]) -> list[str]:
    """A documented command's arguments: [optional] groups, `...` and a trailing `&` dropped, the
    model `M` a reference policy; `<placeholders>` kept (`--out ...` becomes `--out x`)."""
    out: list[str] = []
    depth = 0
    for w in words[1:]:
        if w.startswith("[") or depth:
            depth += w.count("[") - w.count("]")
            continue
        if w == "&":
            continue
        if w == "...":
            if out and out[-1].startswith("--"):
                out.append("x")
            continue
        out.append("policy/oracle" if w == "M" else w)
    return out


def _fanout_argv(words: list[str]) -> list[str]:
    """A documented `fanout` line as argv for the parser, placeholders made concrete enough to parse."""
    return [re.sub(r"<[a-z_]+>", "x", w) for w in _words(words)]


MAKE_TARGETS = set(re.findall(r"^([a-z][\w-]*):", (ROOT / "Makefile").read_text(), re.M))


@pytest.mark.parametrize("cmd", COMMANDS, ids=[c.id for c in COMMANDS])
def test_every_documented_command_is_known(cmd: Command, capsys):
    if cmd.program in ("fanout", ".venv/bin/fanout"):
        try:
            build_parser().parse_args(_fanout_argv(cmd.argv))
        except UsageError as exc:
            pytest.fail(f"{cmd.id}: `{cmd.text}` does not parse: {exc}")
        except SystemExit as exc:  # --help
            assert exc.code == 0, cmd.id
        capsys.readouterr()
    elif cmd.program == "make":
        targets = [w for w in cmd.argv[1:] if "=" not in w and not w.startswith("-")]
        assert set(targets) <= MAKE_TARGETS, f"{cmd.id}: no make target {set(targets) - MAKE_TARGETS}"
    elif cmd.program in ("python", ".venv/bin/python"):
        script = next((w for w in cmd.argv[1:] if not w.startswith("-")), None)
        if cmd.argv[1:2] != ["-m"]:
            assert script and (ROOT / script).exists(), f"{cmd.id}: no script {script}"
    elif cmd.program == "pip" and "-e" in cmd.argv:
        spec = cmd.argv[cmd.argv.index("-e") + 1]
        extra = re.search(r"\[([\w,-]+)\]", spec)
        text = (ROOT / "pyproject.toml").read_text()
        for e in extra.group(1).split(",") if extra else []:
            assert re.search(rf"^{e} = \[", text, re.M), f"{cmd.id}: no extra {e!r}"


# -- runs -------------------------------------------------------------------------------------

PROVIDERS = ("openai/", "anthropic/", "google/", "openai-responses/")
SLOW = (
    "--clock real",
    "agent/",
    "make run",
    "make reports",
    "make gate-demo",
    "benchmarks/",
    "-m pytest",
    "--format hf",
    "core_dataset",
    "tasks validate core",
)


def not_runnable(cmd: Command, server: bool) -> str | None:
    """Why a command is only parsed here, or None when it runs."""
    t, argv = cmd.text, cmd.argv
    if any(k.endswith("_API_KEY") for k in cmd.env) or "gpt-" in t or "claude" in t or "gemini" in t:
        return "needs a provider's API key"
    models = [argv[i + 1] for i, w in enumerate(argv[:-1]) if w == "--model"]
    local = "--base-url http://127.0.0.1:" in t
    if any(m.startswith(PROVIDERS) or "@openai" in m for m in models) and not (local and server):
        return "needs a provider, or the server the line before starts"
    if "localhost:" in t:
        return "needs a local model server (vLLM, Ollama)"
    if cmd.program in ("pip", "git", "apt-get") or "microsoft/Taskbench" in t:
        return "network or system install"
    if cmd.program == ".":
        return "a shell built-in (activates the venv)"
    if argv[:2] == ["make", "test"] or argv[:2] == ["make", "test-docs"]:
        return "this test suite itself"
    if argv[1:2] == ["serve-tools"] or (argv[1:2] == ["serve"] and not t.rstrip().endswith("&")):
        return "a server that runs until stopped"
    if "examples/agents/plain_openai.py" in t:
        return "needs the servers of `fanout serve-tools` running"
    if argv[1:2] == ["play"] and "--responses" not in argv:
        return "interactive: a person types the responses"
    if argv[1:2] == ["view"]:
        return "opens a browser"
    if re.search(r"path/to/|\bPATH\b|PATH_OR_HUB_NAME|FILE\b|my-agent|--out \.\.\.", t):
        return "a placeholder for the reader's own data"
    if "--source /tmp/bfcl/" in t:
        return "needs the bfcl-eval wheel of the `pip download` above (network)"
    if "--responses" in argv:
        return "needs the player's responses file"
    return None


def is_slow(cmd: Command) -> bool:
    return any(s in cmd.text for s in SLOW)


PAGE_IDS = sorted({c.page for c in COMMANDS})


def _params():
    for page in PAGE_IDS:
        cmds = [c for c in COMMANDS if c.page == page]
        yield pytest.param(page, False, id=f"{page}-fast")
        if any(is_slow(c) and not_runnable(c, True) is None for c in cmds):
            yield pytest.param(page, True, id=f"{page}-slow", marks=pytest.mark.docs_slow)


class Sandbox:
    """A scratch folder standing in for the reader's checkout."""

    def __init__(self, root: Path):
        self.root = root
        shutil.copytree(ROOT / "tasks", root / "tasks", ignore=shutil.ignore_patterns("__pycache__"))
        os.symlink(ROOT / "examples", root / "examples")
        shutil.copy(ROOT / "examples" / "prompt_baseline.j2", root / "baseline.j2")
        shutil.copy(ROOT / "examples" / "prompt_candidate.j2", root / "candidate.j2")
        shutil.copy(ROOT / "examples" / "gate.toml", root / "gate.toml")
        (root / "tmp").mkdir()
        for d in ("scripts", "benchmarks"):  # the checkout's scripts; what they write stays here
            os.symlink(ROOT / d, root / d)
        shutil.copytree(ROOT / "reports", root / "reports")
        (root / "docs").mkdir()
        self.port: int | None = None

    def argv(self, cmd: Command) -> list[str]:
        words = _words(cmd.argv) if cmd.program == "fanout" else cmd.argv[1:]
        out: list[str] = []
        globs: dict[str, int] = {}
        for w in words:
            w = w.replace("/tmp/", f"{self.root}/tmp/")
            if self.port is not None:
                w = re.sub(r"http://127\.0\.0\.1:\d+", f"http://127.0.0.1:{self.port}", w)
            if w == "&":
                continue
            prefix = "replay/" if w.startswith("replay/") else ""
            body = w[len(prefix) :]
            if re.search(r"<[a-z_]+>|\d{4}\.\.\.", body) or body.endswith("/*"):
                pattern = re.sub(r"<[a-z_]+>|\.\.\.", "*", body)
                found = sorted(glob.glob(pattern if os.path.isabs(pattern) else str(self.root / pattern)))
                found = [f for f in found if Path(f, "run.json").exists()] or found
                k = globs.get(pattern, 0)
                globs[pattern] = k + 1
                if found:
                    body = os.path.relpath(found[min(k, len(found) - 1)], self.root)
                w = prefix + body
            out.append(w)
        return out


OUTPUTS = {"--out", "--junit", "--markdown", "--record"}


def _missing_input(argv: list[str], cwd: Path) -> bool:
    """Whether the command reads a path (a suite folder, a run folder) that is not there."""
    if argv[:1] == ["prices"]:
        return False  # model strings
    for i, w in enumerate(argv):
        after = argv[i - 1] if i else ""
        if after in OUTPUTS or after == "--model" or w.startswith("-") or "/" not in w or "://" in w:
            continue
        if not (Path(w) if os.path.isabs(w) else cwd / w).exists():
            return True
    return False


def _run_fanout(argv: list[str], env: dict[str, str], cwd: Path, capsys) -> tuple[int, str]:
    old_env = {k: os.environ.get(k) for k in env}
    old_cwd = os.getcwd()
    os.environ.update(env)
    os.chdir(cwd)
    try:
        code = main(argv)
    except SystemExit as exc:  # --help
        code = int(exc.code or 0)
    finally:
        os.chdir(old_cwd)
        for k, v in old_env.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v
    captured = capsys.readouterr()
    return code, (captured.out + captured.err)[-3000:]


@pytest.mark.parametrize(("page", "slow"), list(_params()))
def test_documented_commands_run(page: str, slow: bool, tmp_path, capsys):
    sandbox = Sandbox(tmp_path)
    ran, parsed_only = [], []
    with contextlib.ExitStack() as stack:
        for item in [x for x in ALL if x.page == page]:
            if isinstance(item, ShownFile):
                target = tmp_path / item.path
                target.parent.mkdir(parents=True, exist_ok=True)
                target.write_text(item.text, encoding="utf-8")
                continue
            cmd = item
            why = not_runnable(cmd, sandbox.port is not None)
            if why:
                parsed_only.append((cmd.id, why))
                continue
            if is_slow(cmd) and not slow:
                continue
            if cmd.argv[1:2] == ["serve"]:  # `fanout serve ... &`: the emulator, for the lines after it
                from evals.emulator import EmulatorServer
                from evals.fixtures import load_suite

                server = stack.enter_context(EmulatorServer([load_suite("core")]))
                sandbox.port = int(server.base_url.rsplit(":", 1)[1])
                os.environ.setdefault("OPENAI_API_KEY", "fanout-docs-test")
                continue
            argv = sandbox.argv(cmd)
            t0 = time.perf_counter()
            if cmd.program == "fanout":
                if any("*" in w or "<" in w for w in argv):
                    parsed_only.append((cmd.id, "names runs or files the reader has (a placeholder or glob)"))
                    continue
                if _missing_input(argv, tmp_path):
                    # Only a command above that was parsed, not run, may owe this one its input:
                    # otherwise the page names a path no command makes (a typo).
                    assert parsed_only, f"{cmd.id}: `{cmd.text}` reads a path nothing on the page made"
                    parsed_only.append((cmd.id, "reads what a command above only parsed"))
                    continue
                code, output = _run_fanout(argv, cmd.env, tmp_path, capsys)
            elif cmd.program == "make":
                extra = [f"GATE_DEMO_OUT={tmp_path / 'gate-demo'}"] if "gate-demo" in argv else []
                res = subprocess.run(["make", *argv, *extra], cwd=ROOT, capture_output=True, text=True)
                code, output = res.returncode, (res.stdout + res.stderr)[-3000:]
            else:  # a script of the checkout, run in the scratch folder (pytest: in the checkout)
                cwd = ROOT if argv[:2] == ["-m", "pytest"] else tmp_path
                res = subprocess.run([sys.executable, *argv], cwd=cwd, capture_output=True, text=True)
                code, output = res.returncode, (res.stdout + res.stderr)[-3000:]
            allowed = {0, 1} if cmd.argv[1:2] == ["gate"] else {0}
            if argv[:1] and argv[0].startswith("benchmarks/") and code == 1 and "\nFAIL" in output:
                # A benchmark that ran to its verdict works as documented; its time limit is for a
                # quiet machine, not for a test running beside other tests (timings are no test).
                code = 0
            assert code in allowed, f"{cmd.id}: `{cmd.text}` (as {argv}) exited {code}:\n{output}"
            ran.append((cmd.id, round(time.perf_counter() - t0, 2)))
    if os.environ.get("FANOUT_DOCS_TIMES"):
        print(f"\n{page}: ran {ran}; parsed only {parsed_only}", file=sys.__stderr__)
    if not slow:
        assert ran or parsed_only, page
