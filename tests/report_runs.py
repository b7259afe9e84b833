"""Real run folders for the report tests: a small self-contained suite (table tools, so it does not
move when the core suite or the mock-tool domains change) run through `fanout run` on policies."""

from __future__ import annotations

import json
from pathlib import Path

import yaml

from evals.cli import main as fanout

CITIES = {
    "Lisbon": ("LIS", 21),
    "Oslo": ("OSL", 4),
    "Cairo": ("CAI", 33),
    "Lima": ("LIM", 18),
    "Perth": ("PER", 27),
    "Quito": ("UIO", 14),
}

SCRIPT = "<script>window.__pwned=1;alert(1)</script>"
IMG = '<img src=x onerror="window.__pwned=1;alert(1)">'


def write_suite(root: Path, name: str = "rtest") -> Path:
    """Three `wide` tasks (lookups fan out, forecasts fan out after them) and three `chain` tasks."""
    d = root / name
    d.mkdir(parents=True, exist_ok=True)
    suite = {
        "name": name,
        "tools": [
            {
                "name": "lookup_city",
                "description": "Find a city id by the city's name.",
                "parameters": {
                    "type": "object",
                    "properties": {"name": {"type": "string"}},
                    "required": ["name"],
                },
                "latency": {
                    "kind": "lognormal",
                    "median_s": 0.3,
                    "sigma": 0.4,
                    "straggler_p": 0.3,
                    "straggler_mult": 6,
                },
                "rows": [{"match": {"name": c}, "response": {"id": i}} for c, (i, _) in CITIES.items()],
            },
            {
                "name": "get_forecast",
                "description": "Forecast for a city id.",
                "parameters": {
                    "type": "object",
                    "properties": {"city_id": {"type": "string"}},
                    "required": ["city_id"],
                },
                "latency": {"kind": "fixed", "median_s": 0.5},
                "rows": [{"match": {"city_id": i}, "response": {"temp_c": t}} for i, t in CITIES.values()],
            },
        ],
    }
    (d / "suite.yaml").write_text(yaml.safe_dump(suite, sort_keys=False))
    names = list(CITIES)
    tasks = []
    for k in range(3):
        group = names[k : k + 3]
        calls = [{"id": f"l{j}", "tool": "lookup_city", "args": {"name": c}} for j, c in enumerate(group)]
        calls += [
            {"id": f"f{j}", "tool": "get_forecast", "args": {"city_id": f"{{{{ l{j}.id }}}}"}}
            for j in range(len(group))
        ]
        tasks.append(
            {
                "id": f"{name}_wide_{k + 1:02d}",
                "pattern": "wide",
                "prompt": f"[{name}] What temperature is forecast in {', '.join(group)}?",
                "tools": ["lookup_city", "get_forecast"],
                "calls": calls,
                "answer": {"contains": [f"{{{{ f{j}.temp_c }}}}" for j in range(len(group))]},
            }
        )
    for k, city in enumerate(names[3:]):
        tasks.append(
            {
                "id": f"{name}_chain_{k + 1:02d}",
                "pattern": "chain",
                "prompt": f"[{name}] Forecast temperature for {city}, please.",
                "tools": ["lookup_city", "get_forecast"],
                "calls": [
                    {"id": "l", "tool": "lookup_city", "args": {"name": city}},
                    {"id": "f", "tool": "get_forecast", "args": {"city_id": "{{ l.id }}"}},
                ],
                "answer": {"contains": ["{{ f.temp_c }}"]},
            }
        )
    (d / "tasks.yaml").write_text(yaml.safe_dump(tasks, sort_keys=False))
    return d


def run_policies(suite_dir: Path, out: Path, models: list[str], *extra: str) -> list[Path]:
    argv = ["run", "--suite", str(suite_dir), "--out", str(out), "--no-progress", *extra]
    for m in models:
        argv += ["--model", m]
    before = {p for p in out.iterdir()} if out.exists() else set()
    assert fanout(argv) == 0
    return sorted(p for p in out.iterdir() if p not in before)


def poison(run_dir: Path) -> None:
    """Put script and HTML payloads into the model name, the model text and a tool's arguments."""
    cfg = json.loads((run_dir / "run.json").read_text())
    cfg["model"] = f"evil/{SCRIPT}"
    (run_dir / "run.json").write_text(json.dumps(cfg))
    lines = []
    for line in (run_dir / "episodes.jsonl").read_text().splitlines():
        rec = json.loads(line)
        tr = rec["trace"]
        tr["model"] = cfg["model"]
        tr["final_text"] = f"The answer {SCRIPT} and {IMG} end"
        tr["turns"][0]["text"] = f"thinking {IMG}"
        tr["calls"][0]["raw_arguments"] = json.dumps({"name": SCRIPT + IMG})
        tr["calls"][0]["name"] = f"lookup_city{IMG}"
        lines.append(json.dumps(rec))
    (run_dir / "episodes.jsonl").write_text("\n".join(lines) + "\n")
