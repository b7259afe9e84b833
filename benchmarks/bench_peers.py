"""Fanout against inspect_ai on the same workload, process to process (a script, not a test).

The workload (`widesuite.py`): N tasks, each four independent weather lookups then an answer
quoting the four temperatures. Both harnesses get the same tasks, the same tool data (the seeded
mock world), a model that answers at once and makes the ideal calls (Fanout's `policy/oracle`; an
inspect_ai model API doing the same: the four calls in one response, then the answer), a scorer
checking the answer, a log on disk, and 32 samples in flight:

  fanout:     fanout run --model policy/oracle --suite DIR --out TMP --no-progress
  inspect_ai: inspect_ai.eval(task, model="fanout-oracle/oracle", log_dir=TMP, display="none")

Each measurement is a fresh process (start-up, loading, running, scoring, writing the log and
the summary); the two alternate round after round, and the medians and their ratio are printed,
in wall seconds and in CPU seconds (which other load on the machine barely moves). inspect_ai is
an optional dependency: `pip install -e '.[bench]'`. It runs offline here: the model is local and
no tokenizer is loaded (usage is reported by the model API, as Fanout's policies estimate theirs).

Usage: python benchmarks/bench_peers.py [--tasks 500] [--rounds 5] [--compare main=../main/.venv/bin/fanout]
"""

from __future__ import annotations

import argparse
import json
import re
import shutil
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _common import machine, measured, pythons  # noqa: E402

FANOUT_BIN = Path(sys.executable).with_name("fanout")


# -- the inspect_ai side (runs in its own process) --------------------------------------------


def inspect_child(suite_dir: Path, log_dir: Path) -> None:
    import os

    os.environ.setdefault("INSPECT_DISPLAY", "none")
    from inspect_ai import Task, eval
    from inspect_ai.dataset import Sample
    from inspect_ai.model import (
        ChatCompletionChoice,
        ChatMessageAssistant,
        ChatMessageTool,
        GenerateConfig,
        ModelAPI,
        ModelOutput,
        ModelUsage,
        modelapi,
    )
    from inspect_ai.scorer import CORRECT, INCORRECT, Score, Target, accuracy, scorer
    from inspect_ai.solver import TaskState, generate, use_tools
    from inspect_ai.tool import ToolCall, tool

    from mock_tools.world import World

    world = World(0)
    tasks = [t for t in json.loads(_json_of(suite_dir / "tasks.yaml"))]
    prompt_re = re.compile(r"on (\d{4}-\d{2}-\d{2}) in (.+), (.+), (.+) and (.+)\?$")

    @tool
    def get_weather():  # type: ignore[no-untyped-def]
        async def execute(city: str, date: str) -> str:
            """Weather in a city on a date.

            Args:
                city: City name, e.g. Lisbon
                date: ISO date (YYYY-MM-DD)
            """
            return json.dumps(world.weather(city, date), separators=(",", ":"))

        return execute

    class Oracle(ModelAPI):
        """The ideal caller: the four lookups in one response, then the answer."""

        def __init__(
            self,
            model_name: str,
            base_url: str | None = None,
            api_key: str | None = None,
            config: GenerateConfig = GenerateConfig(),
            **kw: object,
        ) -> None:  # noqa: B008
            super().__init__(model_name, base_url, api_key, [], config)

        async def generate(self, input, tools, tool_choice, config):  # type: ignore[no-untyped-def]
            results = [json.loads(m.text) for m in input if isinstance(m, ChatMessageTool)]
            usage = ModelUsage(input_tokens=100, output_tokens=20, total_tokens=120)
            if not results:
                m = prompt_re.search(input[-1].text)
                assert m is not None
                day, cities = m.group(1), m.groups()[1:]
                calls = [
                    ToolCall(id=f"call_{i}", function="get_weather", arguments={"city": c, "date": day})
                    for i, c in enumerate(cities)
                ]
                msg = ChatMessageAssistant(content="", tool_calls=calls, model=self.model_name)
                choice = ChatCompletionChoice(message=msg, stop_reason="tool_calls")
            else:
                text = "Here is what I found: " + "; ".join(
                    f"{r['temp_c']} °C in {r['city']}" for r in results
                )
                choice = ChatCompletionChoice(
                    message=ChatMessageAssistant(content=text, model=self.model_name), stop_reason="stop"
                )
            return ModelOutput(model=self.model_name, choices=[choice], usage=usage)

    @modelapi(name="fanout-oracle")
    def oracle_api() -> type[ModelAPI]:
        return Oracle

    @scorer(metrics=[accuracy()])
    def temperatures():  # type: ignore[no-untyped-def]
        async def score(state: TaskState, target: Target) -> Score:
            answer = state.output.completion
            ok = all(t in answer for t in target.target)
            return Score(value=CORRECT if ok else INCORRECT)

        return score

    samples = []
    for t in tasks:
        expected = [str(world.weather(c["args"]["city"], c["args"]["date"])["temp_c"]) for c in t["calls"]]
        samples.append(Sample(input=t["prompt"], target=expected, id=t["id"]))
    task = Task(dataset=samples, solver=[use_tools(get_weather()), generate()], scorer=temperatures())
    (log,) = eval(
        task,
        model="fanout-oracle/oracle",
        log_dir=str(log_dir),
        display="none",
        max_samples=32,
        max_connections=32,
        max_tasks=1,
    )
    assert log.status == "success", log.status
    acc = log.results.scores[0].metrics["accuracy"].value if log.results else None
    print(json.dumps({"samples": len(log.samples or []), "accuracy": acc}))


def _json_of(path: Path) -> str:
    """The suite's task file (written as a JSON list by widesuite.py) as JSON text."""
    import yaml

    return json.dumps(yaml.load(path.read_text(), Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader)))


# -- the driver ---------------------------------------------------------------------------------


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--tasks", type=int, default=500)
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--fanout", default=str(FANOUT_BIN), help="the fanout executable to measure")
    ap.add_argument(
        "--compare",
        default=None,
        metavar="LABEL=FANOUT,...",
        help="also measure these fanout executables (e.g. another checkout's .venv/bin/fanout)",
    )
    ap.add_argument("--inspect-child", nargs=2, metavar=("SUITE_DIR", "LOG_DIR"), help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.inspect_child:
        inspect_child(Path(args.inspect_child[0]), Path(args.inspect_child[1]))
        return
    try:
        import inspect_ai  # noqa: F401
    except ImportError:
        raise SystemExit("inspect_ai is not installed: pip install -e '.[bench]'") from None
    from widesuite import write_suite

    print(machine())
    tmp = Path(tempfile.mkdtemp(prefix="fanout-peers-"))
    try:
        suite = write_suite(tmp / "suite", args.tasks)
        fanouts = {
            "fanout" if k == "this" else f"fanout {k}": v
            for k, v in pythons(args.compare, this=args.fanout).items()
        }
        rows: dict[str, list[tuple[float, float]]] = {k: [] for k in [*fanouts, "inspect_ai"]}
        for r in range(args.rounds):
            for k, (label, exe) in enumerate(fanouts.items()):
                out = tmp / f"fanout-{r}-{k}"
                argv = [exe, "run", "--model", "policy/oracle", "--suite", str(suite), "--out", str(out)]
                f = measured([*argv, "--no-progress"])
                if f.returncode != 0:
                    raise SystemExit(f"{label} failed:\n{f.stdout[-2000:]}")
                rows[label].append((f.wall_s, f.cpu_s))
                print(f"round {r + 1}: {label} {f.wall_s:.2f} s ({f.cpu_s:.2f} s CPU)", flush=True)
            i = measured([sys.executable, __file__, "--inspect-child", str(suite), str(tmp / f"inspect-{r}")])
            if i.returncode != 0:
                raise SystemExit(f"inspect_ai failed:\n{i.stdout[-3000:]}")
            check = json.loads(i.stdout.strip().splitlines()[-1])
            if check["samples"] != args.tasks or check["accuracy"] != 1.0:
                raise SystemExit(f"inspect_ai did not run the workload right: {check}")
            rows["inspect_ai"].append((i.wall_s, i.cpu_s))
            print(f"round {r + 1}: inspect_ai {i.wall_s:.2f} s ({i.cpu_s:.2f} s CPU)", flush=True)
        med = {k: (_median([w for w, _ in v]), _median([c for _, c in v])) for k, v in rows.items()}
        n = args.tasks
        print(f"{n} tasks x 4 lookups, {args.rounds} interleaved rounds, medians of whole processes:")
        for k, (w, c) in med.items():
            print(
                f"  {k:<11} {w:6.2f} s wall  {n / w:8.1f} episodes/s   {c:6.2f} s CPU  {n / c:8.1f} episodes/CPU-s"
            )
        for label in fanouts:
            print(
                f"  inspect_ai / {label}: {med['inspect_ai'][0] / med[label][0]:.1f}x wall, "
                f"{med['inspect_ai'][1] / med[label][1]:.1f}x CPU"
            )
        print(machine().replace("machine", "at the end"))
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def _median(xs: list[float]) -> float:
    xs = sorted(xs)
    return xs[len(xs) // 2] if len(xs) % 2 else (xs[len(xs) // 2 - 1] + xs[len(xs) // 2]) / 2


if __name__ == "__main__":
    main()
