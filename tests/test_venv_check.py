"""`make` rebuilds a .venv made by another Python instead of failing in it (issue 17, item 1):
scripts/venv_check.py tells ok, absent and stale apart, and the Makefile acts on its answer."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
CHECK = ROOT / "scripts" / "venv_check.py"


def _state(venv: Path) -> str:
    out = subprocess.run([sys.executable, str(CHECK), str(venv)], capture_output=True, text=True, check=True)
    return out.stdout.strip()


def _fake_python(venv: Path, script: str) -> None:
    (venv / "bin").mkdir(parents=True)
    py = venv / "bin" / "python"
    py.write_text("#!/bin/sh\n" + script + "\n")
    py.chmod(0o755)


def test_absent_ok_and_each_kind_of_stale(tmp_path):
    assert _state(tmp_path / "none") == "absent"
    ours = tmp_path / "ours"
    (ours / "bin").mkdir(parents=True)
    (ours / "bin" / "python").symlink_to(sys.executable)  # this Python, with pip: usable
    assert _state(ours) == "ok"
    empty = tmp_path / "empty"
    empty.mkdir()
    assert _state(empty) == f"stale: {empty} has no working interpreter (its Python was removed or upgraded)"
    older = tmp_path / "older"
    _fake_python(older, "echo 3.9")
    mine = "{}.{}".format(*sys.version_info[:2])
    assert _state(older).startswith(f"stale: {older} was made by Python 3.9, not this Python {mine}")
    broken = tmp_path / "broken"
    _fake_python(broken, "exit 1")
    assert _state(broken) == f"stale: {broken}/bin/python does not run or has no pip"
    dangling = tmp_path / "dangling"
    (dangling / "bin").mkdir(parents=True)
    (dangling / "bin" / "python").symlink_to(tmp_path / "removed-python")
    assert _state(dangling).startswith(f"stale: {dangling} has no working interpreter")


def test_require_refuses_a_python_that_is_too_old():
    out = subprocess.run([sys.executable, str(CHECK), "--require"], capture_output=True, text=True)
    assert out.returncode == 0 and out.stderr == ""
    probe = (
        "import runpy, sys; g = runpy.run_path(sys.argv[1]); g['NEEDED'] = (99, 0); "
        "g['main'].__globals__['NEEDED'] = (99, 0); sys.exit(g['main'](['x', '--require']))"
    )
    out = subprocess.run([sys.executable, "-c", probe, str(CHECK)], capture_output=True, text=True)
    assert out.returncode == 1
    assert out.stderr.startswith("Fanout needs Python >= 99.0;") and "PYTHON=python3.11" in out.stderr


@pytest.mark.skipif(shutil.which("make") is None, reason="needs make")
def test_make_rebuilds_a_stale_venv_and_keeps_a_good_one(tmp_path):
    stale = tmp_path / "stale"
    _fake_python(stale, "echo 3.9")
    # run from `make test` too: no inherited flags, and no "Entering directory" lines
    env = {k: v for k, v in os.environ.items() if k not in ("MAKEFLAGS", "MAKELEVEL", "MFLAGS")}

    def plan_of(venv: Path) -> list[str]:
        cmd = ["make", "--no-print-directory", "-n", "run", f"VENV={venv}"]
        return subprocess.run(
            cmd, cwd=ROOT, capture_output=True, text=True, check=True, env=env
        ).stdout.splitlines()

    plan = plan_of(stale)
    assert f"rm -rf {stale}" in plan
    assert plan.index(f"rm -rf {stale}") < next(i for i, c in enumerate(plan) if "-m venv" in c)
    assert any("pip install" in c and "-e '.[test]'" in c for c in plan)
    assert f'echo "==> {stale} was made by Python 3.9' in plan[0]
    good = tmp_path / "good"
    (good / "bin").mkdir(parents=True)
    (good / "bin" / "python").symlink_to(sys.executable)
    (good / ".installed").touch()
    plan = plan_of(good)
    assert plan == [  # nothing rebuilt, nothing installed: changed sources byte-compiled, the demo run
        f"{good}/bin/python -m compileall -q -j 0 evals mock_tools > /dev/null",
        f"{good}/bin/python scripts/demo.py",
    ]
