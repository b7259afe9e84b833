"""Measure the reference agent runtimes and write the "agent runtimes" table.

    python examples/agents/measure.py                      # run every reference agent, then tabulate
    python examples/agents/measure.py --agents serial,gather --out runs/agent-runtimes
    python examples/agents/measure.py --tabulate runs/agent-runtimes/*   # tabulate finished runs only

Each agent runs as `fanout run --model agent/<name> --suite core --task '*_independent_*'
--task '*_wide_*' --task '*_straggler_*' --clock real` against the oracle policy served by the
model proxy, so the model's behaviour is fixed and only the runtime varies. The table (Markdown on
stdout) and its data (`reports/agent_runtimes.json`, for the leaderboard's "agent runtimes" table)
give per agent: success, measured runtime concurrency against what fully concurrent execution
would measure on the same calls (overall and per pattern), wall-clock lost to non-concurrent
execution per episode, dispatch delay per batch (model response to first call), mean episode
wall-clock of the successful episodes (first model request to last response), process time
(start-up included), start-up time, and the versions of the packages it ran on.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
from pathlib import Path

import numpy as np

from evals.agents.concurrency import aggregate, runtime_concurrency
from evals.runs import load_run
from evals.trace import Trace

AGENTS = ["serial", "gather", "openai-agents", "openai-agents-stdio", "pydantic-ai", "langgraph"]
TASKS = ["*_independent_*", "*_wide_*", "*_straggler_*"]
ROOT = Path(__file__).resolve().parents[2]


def run_agent(name: str, out: Path, suite: str) -> Path:
    before = {p for p in out.glob("*") if p.is_dir()}
    cmd = [sys.executable, "-m", "evals", "run", "--model", f"agent/{name}", "--suite", suite]
    cmd += [a for t in TASKS for a in ("--task", t)] + ["--clock", "real", "--out", str(out)]
    print("$", " ".join(cmd[1:]), file=sys.stderr, flush=True)
    subprocess.run(cmd, check=True)
    (new,) = {p for p in out.glob("*") if p.is_dir()} - before
    return new


def row(run_dir: Path) -> dict:
    cfg, rows = load_run(run_dir)
    rows.sort(key=lambda r: (r["task_id"], r.get("epoch", 0)))
    traces = [Trace.model_validate(r["trace"]) for r in rows]
    agents = [r["trace"].get("agent") or {} for r in rows]
    rcs = [runtime_concurrency(t) for t in traces]
    rc = aggregate(rcs)
    by_pattern = {}
    for pat in sorted({r["pattern"] for r in rows}):
        idx = [i for i, r in enumerate(rows) if r["pattern"] == pat]
        a = aggregate(rcs[i] for i in idx)
        ok_wall = [rows[i]["scores"]["wall_s"] for i in idx if rows[i]["scores"]["success"]]
        by_pattern[pat] = {
            "episodes": len(idx),
            "runtime_concurrency": a["runtime_concurrency"],
            "runtime_concurrency_ideal": a["runtime_concurrency_ideal"],
            "runtime_lost_s_mean": a["runtime_lost_s_mean"],
            "runtime_dispatch_s_mean": a["runtime_dispatch_s_mean"],
            "wall_s_mean": float(np.mean(ok_wall)) if ok_wall else None,
        }
    ok = [r for r in rows if r["scores"]["success"]]
    wall = [r["scores"]["wall_s"] for r in ok]
    process = [a.get("process_s", 0.0) for a in agents]
    startup = [a["startup_s"] for a in agents if a.get("startup_s") is not None]
    info = cfg.model_info
    return {
        "agent": cfg.model.removeprefix("agent/"),
        "description": _description(info),
        "model": info.get("model"),
        "versions": info.get("versions", {}),
        "run_id": cfg.run_id,
        "run_created": cfg.created,
        "episodes": len(rows),
        "success_rate": len(ok) / len(rows) if rows else None,
        "errors": sum(1 for r in rows if r["scores"]["stop"] == "error"),
        "runtime_concurrency": rc["runtime_concurrency"],
        "runtime_concurrency_ideal": rc["runtime_concurrency_ideal"],
        "runtime_lost_s_mean": rc["runtime_lost_s_mean"],
        "runtime_dispatch_s_mean": rc["runtime_dispatch_s_mean"],
        "concurrent_batches": rc["concurrent_batches"],
        "wall_s_mean": float(np.mean(wall)) if wall else None,
        "wall_s_p50": float(np.percentile(wall, 50)) if wall else None,
        "process_s_mean": float(np.mean(process)) if process else None,
        "startup_s_mean": float(np.mean(startup)) if startup else None,
        "by_pattern": by_pattern,
    }


def _description(info: dict) -> str:
    path = info.get("config")
    if not path or not Path(path).is_file():
        return ""
    import tomllib

    return tomllib.loads(Path(path).read_text()).get("description", "")


def markdown(rows: list[dict]) -> str:
    def f(v, fmt="{:.2f}"):
        return "n/a" if v is None else fmt.format(v)

    def conc(d: dict) -> str:
        return f"{f(d.get('runtime_concurrency'))} / {f(d.get('runtime_concurrency_ideal'))}"

    lines = [
        "| agent | success | runtime concurrency / ideal | `wide` | `independent` | `straggler` "
        "| lost s/episode | dispatch s/batch | wall s | process s | start-up s | versions |",
        "|---|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for r in rows:
        versions = ", ".join(f"{k} {v}" for k, v in r["versions"].items() if v)
        bp = r.get("by_pattern", {})
        lines.append(
            f"| `{r['agent']}` | {f(r['success_rate'])} | {conc(r)} | {conc(bp.get('wide', {}))} "
            f"| {conc(bp.get('independent', {}))} | {conc(bp.get('straggler', {}))} "
            f"| {f(r['runtime_lost_s_mean'])} | {f(r['runtime_dispatch_s_mean'], '{:.3f}')} "
            f"| {f(r['wall_s_mean'])} | {f(r['process_s_mean'])} "
            f"| {f(r['startup_s_mean'])} | {versions} |"
        )
    return "\n".join(lines)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--agents", default=",".join(AGENTS))
    ap.add_argument("--suite", default="core")
    ap.add_argument("--out", default="runs/agent-runtimes")
    ap.add_argument("--tabulate", nargs="*", default=None, metavar="RUN_DIR")
    ap.add_argument("--json", default=str(ROOT / "reports" / "agent_runtimes.json"))
    ap.add_argument("--note", default=None, help="free text stored with the data (e.g. the machine's load)")
    args = ap.parse_args()
    load_start = os.getloadavg()[0]
    if args.tabulate is not None:
        dirs = [Path(d) for d in args.tabulate]
    else:
        out = Path(args.out)
        out.mkdir(parents=True, exist_ok=True)
        dirs = [run_agent(a, out, args.suite) for a in args.agents.split(",") if a]
    rows = [row(d) for d in dirs]
    machine: dict = {"python": platform.python_version(), "cpus": os.cpu_count()}
    if args.tabulate is None:  # measured by this invocation: its load is the measurement's
        machine.update(load_avg_1m_start=load_start, load_avg_1m_end=os.getloadavg()[0])
    doc = {
        "table": "agent runtimes",
        "suite": args.suite,
        "tasks": TASKS,
        "clock": "real",
        "measured": min((r["run_created"] for r in rows), default=None),
        "machine": machine,
        "note": args.note,
        "rows": rows,
    }
    Path(args.json).write_text(json.dumps(doc, indent=2) + "\n")
    print(markdown(rows))
    print(f"\ndata: {args.json}", file=sys.stderr)


if __name__ == "__main__":
    main()
