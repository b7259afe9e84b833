"""Task data must resolve after a non-editable install, not only from a checkout."""

from __future__ import annotations

import subprocess
import sys
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

PROBE = r"""
import sys
# Drop the editable-install finder so only the installed wheel can provide the packages.
sys.meta_path[:] = [f for f in sys.meta_path if "editable" not in repr(f).lower()]
sys.path[:] = [p for p in sys.path if p not in (sys.argv[2], "")]
sys.path.insert(0, sys.argv[1])
import evals, fanout_tasks
from evals.fixtures import load_suite
s = load_suite("core", collect=True)
assert evals.__file__.startswith(sys.argv[1]), evals.__file__
assert str(s.path).startswith(sys.argv[1]), s.path
print(len(s.tasks), s.path)
"""


def test_wheel_ships_tasks_and_they_resolve_when_installed(tmp_path):
    wheels = tmp_path / "wheels"
    build = subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "wheel",
            "--no-deps",
            "--no-build-isolation",
            "-v",
            "-w",
            str(wheels),
            str(ROOT),
        ],
        check=True,
        cwd=tmp_path,
        capture_output=True,
        text=True,
    )
    # Every data folder is declared: setuptools has nothing to warn about (it printed ~200 lines of
    # "Package would be ignored" when the data folders were left out of `packages`).
    assert "would be ignored" not in build.stdout + build.stderr
    wheel = next(wheels.glob("fanout_evals-*.whl"))
    names = zipfile.ZipFile(wheel).namelist()
    assert "fanout_tasks/core/suite.yaml" in names
    assert "evals/prompts/system.j2" in names and "evals/data/prices.json" in names
    assert "evals/report/templates/report.js" in names and "evals/data/suite_template/tasks.yaml" in names
    target = tmp_path / "site"
    subprocess.run(
        [sys.executable, "-m", "pip", "install", "--no-deps", "-q", "--target", str(target), str(wheel)],
        check=True,
        capture_output=True,
    )
    out = subprocess.run(
        [sys.executable, "-c", PROBE, str(target), str(ROOT)], cwd=tmp_path, capture_output=True, text=True
    )
    assert out.returncode == 0, out.stderr
    n, path = out.stdout.split(maxsplit=1)
    assert int(n) >= 2 and "site" in path
