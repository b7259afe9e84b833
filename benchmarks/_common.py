"""Shared by the benchmark scripts: machine description, child processes, interleaved comparison.

A comparison runs the same measurement under several Python interpreters (say, a checkout of
main and this one, each with its own virtualenv) in interleaved rounds: round 1 measures every
interpreter once, then round 2 again, so a burst of load elsewhere on the machine hits each alike.
Each measurement runs in a fresh process.
"""

from __future__ import annotations

import json
import os
import platform
import resource
import statistics
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path


def machine() -> str:
    """One line: architecture, cores, Python and the load average (other work on the machine)."""
    return (
        f"machine: {platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}, "
        f"load average {os.getloadavg()[0]:.2f}"
    )


@dataclass
class Proc:
    """A finished child process: wall seconds, CPU seconds (user + system), peak RSS, output."""

    wall_s: float
    cpu_s: float
    rss_mib: float
    stdout: str
    returncode: int


def measured(cmd: Sequence[str], cwd: str | Path | None = None, env: dict[str, str] | None = None) -> Proc:
    """Run `cmd` and return its wall time, CPU time and peak RSS (os.wait4 on the child)."""
    t0 = time.perf_counter()
    p = subprocess.Popen(
        list(cmd), cwd=cwd, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )
    assert p.stdout is not None and p.stderr is not None
    # Read both pipes without blocking the child on a full pipe, then reap it with wait4.
    chunks: dict[str, str] = {}

    def drain(name: str, f: object) -> None:
        chunks[name] = f.read()  # type: ignore[attr-defined]

    threads = [
        threading.Thread(target=drain, args=("out", p.stdout)),
        threading.Thread(target=drain, args=("err", p.stderr)),
    ]
    for t in threads:
        t.start()
    _, status, usage = os.wait4(p.pid, 0)
    wall = time.perf_counter() - t0
    for t in threads:
        t.join()
    p.returncode = os.waitstatus_to_exitcode(status)
    out = chunks.get("out", "")
    if p.returncode != 0:
        out += chunks.get("err", "")
    return Proc(wall, usage.ru_utime + usage.ru_stime, usage.ru_maxrss / 1024, out, p.returncode)


def self_rss_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def interleave(
    labels: Sequence[str], rounds: int, measure: Callable[[str], dict[str, float]]
) -> dict[str, list[dict[str, float]]]:
    """`measure(label)` for each label, round after round; the results per label."""
    out: dict[str, list[dict[str, float]]] = {label: [] for label in labels}
    for _ in range(rounds):
        for label in labels:
            out[label].append(measure(label))
    return out


def median(rows: list[dict[str, float]], key: str) -> float:
    return statistics.median(r[key] for r in rows)


def pythons(spec: str | None, this: str = sys.executable) -> dict[str, str]:
    """`--compare` values: `label=/path/to/python,...` (or another executable, such as an
    install's fanout); `this` (this interpreter by default) is always the first, labelled `this`."""
    out = {"this": this}
    for part in (spec or "").split(","):
        if part.strip():
            label, _, path = part.partition("=")
            out[label.strip()] = path.strip() or label.strip()
    return out


def emit(data: object) -> None:
    """The last stdout line of a child measurement: its figures as JSON."""
    print(json.dumps(data))


def last_json(text: str) -> dict:
    return json.loads(text.strip().splitlines()[-1])
