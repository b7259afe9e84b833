"""`make gate-demo`: the CI gate end to end, with no API key.

The demo model `policy/prompt-sensitive` behaves like the oracle under the baseline prompt and
turns sequential under the candidate prompt ("make one tool call at a time"). The script runs the
core suite three times (baseline prompt, candidate prompt, baseline prompt again), then gates:
the candidate must FAIL with exit 1, the unchanged prompt must PASS with exit 0. The script
itself exits 0 only when both verdicts are the expected ones, so `make gate-demo` succeeds.

Each step is printed as the `fanout` command a CI job would run.
"""

from __future__ import annotations

import argparse
import shutil
import sys
from pathlib import Path

from evals.cli import main as fanout
from evals.compare import compare_runs, render

HERE = Path(__file__).resolve().parent
MODEL = "policy/prompt-sensitive"


def step(argv: list[str]) -> int:
    print("\n$ fanout " + " ".join(argv), flush=True)
    code = fanout(argv)
    print(f"(exit {code})", flush=True)
    return code


def run(out: Path, name: str, prompt: Path, suite: str) -> Path:
    folder = out / name
    argv = ["run", "--model", MODEL, "--suite", suite, "--system-prompt", str(prompt)]
    if step([*argv, "--out", str(folder), "--no-progress"]) != 0:
        sys.exit(f"gate-demo: the {name} run failed")
    [run_dir] = [p for p in folder.iterdir() if p.is_dir()]
    return run_dir


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", default="runs/gate-demo", help="folder for the demo's runs and reports")
    ap.add_argument("--suite", default="core")
    args = ap.parse_args()
    out = Path(args.out)
    if out.exists():
        shutil.rmtree(out)
    out.mkdir(parents=True)
    baseline_prompt, candidate_prompt = HERE / "prompt_baseline.j2", HERE / "prompt_candidate.j2"

    base = run(out, "baseline", baseline_prompt, args.suite)
    cand = run(out, "candidate", candidate_prompt, args.suite)
    again = run(out, "baseline-again", baseline_prompt, args.suite)

    fail_md, pass_md = out / "gate-candidate.md", out / "gate-unchanged.md"
    worse = step(
        ["gate", str(base), str(cand), "--junit", str(out / "gate-candidate.xml"), "--markdown", str(fail_md)]
    )
    same = step(
        [
            "gate",
            str(base),
            str(again),
            "--junit",
            str(out / "gate-unchanged.xml"),
            "--markdown",
            str(pass_md),
        ]
    )
    diff = render(compare_runs(base, cand), "text")
    (out / "compare.txt").write_text(diff, encoding="utf-8")

    print("\n---- Markdown summary of the failing gate (" + str(fail_md) + ") ----\n")
    print(fail_md.read_text(encoding="utf-8") if fail_md.exists() else "(not written)")
    head = diff.splitlines()[:12]
    print(f"---- first lines of `fanout compare {base} {cand}` ({out / 'compare.txt'}) ----\n")
    print("\n".join(head) + "\n...\n")
    ok = worse == 1 and same == 0
    print(
        f"gate-demo: worse prompt -> exit {worse} (expected 1); unchanged prompt -> exit {same} (expected 0)"
    )
    print("gate-demo: OK" if ok else "gate-demo: UNEXPECTED VERDICT")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
