"""The benchmark workload: a generated suite of N tasks, each 4 independent lookups then an answer.

Every task asks for the weather in four cities on one date: four `get_weather` calls with no
dependency between them (one batch for the oracle), then an answer that must quote each city's
temperature. It is the workload of issue 13's end-to-end and peer figures, written as a plain
suite folder so `fanout run --suite DIR` and the peer harness read the same tasks.

Usage: python benchmarks/widesuite.py OUT_DIR [--tasks 500]
"""

from __future__ import annotations

import argparse
import datetime as dt
import itertools
import json
from pathlib import Path

WIDTH = 4


def _cities() -> list[str]:
    from mock_tools.world import CITIES

    return sorted(CITIES)


def tasks(n: int = 500) -> list[dict]:
    """The task mappings (deterministic): task i asks about 4 cities on one of the next days."""
    combos = list(itertools.combinations(_cities(), WIDTH))
    if n > len(combos):
        raise ValueError(f"at most {len(combos)} tasks")
    start = dt.date(2026, 10, 29)
    out = []
    for i in range(n):
        picked = list(combos[i * 7919 % len(combos)])  # a prime stride: distinct, spread out
        day = (start + dt.timedelta(days=i % 28)).isoformat()
        ids = [f"w{k}" for k in range(WIDTH)]
        out.append(
            {
                "id": f"wide4_{i:04d}",
                "pattern": "independent",
                "prompt": f"What will the weather be on {day} in {', '.join(picked[:-1])} and {picked[-1]}?",
                "tools": ["get_weather", "get_local_time"],
                "calls": [
                    {"id": v, "tool": "get_weather", "args": {"city": c, "date": day}}
                    for v, c in zip(ids, picked, strict=True)
                ],
                "answer": {"contains": [{"quantity": f"{{{{ {v}.temp_c }}}}", "unit": "C"} for v in ids]},
            }
        )
    return out


def write_suite(folder: Path, n: int = 500) -> Path:
    """Write the suite folder (suite.yaml + tasks.yaml, a JSON list: JSON is YAML) and return it."""
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "suite.yaml").write_text(
        json.dumps({"name": f"wide4x{n}", "description": "benchmark: 4 independent lookups then an answer"})
        + "\n",
        encoding="utf-8",
    )
    (folder / "tasks.yaml").write_text(
        json.dumps(tasks(n), ensure_ascii=False, indent=1) + "\n", encoding="utf-8"
    )
    return folder


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("out", type=Path)
    ap.add_argument("--tasks", type=int, default=500)
    args = ap.parse_args()
    print(write_suite(args.out, args.tasks))


if __name__ == "__main__":
    main()
