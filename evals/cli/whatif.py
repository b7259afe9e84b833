"""`fanout whatif`: re-time stored runs under other inference speeds, tool latencies and runtime
policies, without calling any model.

Recompute the time metrics of stored runs (wall-clock p50/p95, serial wall-clock, parallel
speedup, ideal wall-clock, rejoin latency, model vs tool share, straggler wait) under other
settings, without calling any model. Each setting flag takes one value or a comma list (every list
is a sweep dimension); 'as-run' keeps the run's own value, 'none' removes a cap/timeout/hedge.
RUN_DIR may also be a folder of run folders (a `fanout run --out` target).
"""

from __future__ import annotations

import argparse
import csv
import io
import json
import sys
from pathlib import Path
from typing import Any

from ..errors import EXIT_OK
from ..files import write_text_atomic
from ..metrics import METRICS
from ..settings import RuntimeSettings
from ..whatif import (
    COLUMNS,
    DIMENSIONS,
    METRIC_COLUMNS,
    SETTING_KEYS,
    WhatIfError,
    WhatIfRow,
    custom_profile,
    grid,
    load_runs,
    parse_sweep,
    parse_values,
    whatif_rows,
)
from . import Subparsers, command, out_folder
from .run import print_table


def register(sub: Subparsers) -> None:
    help = "re-time stored runs under other inference profiles, latencies and runtime policies"
    p = command(sub, "whatif", __doc__, help)
    p.add_argument("run_dirs", nargs="+", metavar="RUN_DIR", help="run folder(s)")
    for dim in DIMENSIONS:  # one flag per RuntimeSettings field whatif can vary
        field = RuntimeSettings.model_fields[dim.replace("-", "_")]
        p.add_argument(f"--{dim}", metavar="V[,V...]", help=f"{field.description}; or as-run")
    p.add_argument("--ttft", type=float, help="custom profile: time to first token, seconds")
    p.add_argument("--prefill-tps", type=float, help="custom profile: prefill tokens/s ('inf' allowed)")
    p.add_argument("--decode-tps", type=float, help="custom profile: decode tokens/s ('inf' allowed)")
    p.add_argument(
        "--sweep",
        nargs="+",
        default=[],
        metavar="SETTING=V1,V2",
        help=f"grid dimensions, e.g. inference-profile=fast,typical,slow fan-out-cap=2,4,8,none "
        f"(settings: {', '.join(DIMENSIONS)})",
    )
    p.add_argument("--by-pattern", action="store_true", help="also print one row per pattern")
    p.add_argument("--out", metavar="DIR", help="write whatif.json (a list of rows) and whatif.csv here")
    p.set_defaults(func=cmd_whatif)


def _dimensions(args: argparse.Namespace) -> dict[str, list[Any]]:
    dims = parse_sweep(args.sweep)
    for dim in DIMENSIONS:
        text = getattr(args, dim.replace("-", "_"))
        if text is None:
            continue
        if dim in dims:
            raise WhatIfError(f"{dim} is given both as --{dim} and in --sweep")
        dims[dim] = parse_values(dim, text)
    custom = (args.ttft, args.prefill_tps, args.decode_tps)
    if any(v is not None for v in custom):
        if any(v is None for v in custom):
            raise WhatIfError(
                "a custom inference profile needs all of --ttft, --prefill-tps and --decode-tps"
            )
        if "inference-profile" in dims:
            raise WhatIfError(
                "give either --inference-profile or --ttft/--prefill-tps/--decode-tps, not both"
            )
        dims["inference-profile"] = [custom_profile(*custom)]
    return dims


def table(rows: list[WhatIfRow], shown: list[str], by_pattern: bool) -> tuple[list[str], list[list[str]]]:
    metrics = [METRICS[k] for k in METRIC_COLUMNS if METRICS[k].short]
    header = ["model", *(["pattern"] if by_pattern else []), *shown, *(m.short or m.name for m in metrics)]
    out = []
    for r in rows:
        if r.pattern is not None and not by_pattern:
            continue
        line = [r.model, *([r.pattern or "(all)"] if by_pattern else [])]
        line += [RuntimeSettings.text(k, getattr(r, k)) for k in shown]
        values = r.model_extra or {}
        line += [m.terminal(values) for m in metrics]
        out.append(line)
    return header, out


def write_outputs(rows: list[WhatIfRow], out: Path) -> tuple[Path, Path]:
    out.mkdir(parents=True, exist_ok=True)
    data = [r.model_dump() for r in rows]
    jpath, cpath = out / "whatif.json", out / "whatif.csv"
    # Written whole (temporary file, renamed), like every other output: a reader never sees half.
    write_text_atomic(jpath, json.dumps(data, indent=2) + "\n")
    buf = io.StringIO(newline="")
    w = csv.DictWriter(buf, fieldnames=COLUMNS)
    w.writeheader()
    w.writerows(data)
    write_text_atomic(cpath, buf.getvalue())
    return jpath, cpath


def cmd_whatif(args: argparse.Namespace) -> int:
    if args.out:
        out_folder(args.out, "whatif.json and whatif.csv")
    dims = _dimensions(args)
    runs = load_runs(args.run_dirs)
    for run in runs:
        for w in run.warnings:
            print(f"fanout whatif: warning: {w}", file=sys.stderr)
    rows = whatif_rows(runs, grid(dims))
    shown = [k for k in SETTING_KEYS if k.replace("_", "-") in dims]
    header, lines = table(rows, shown, args.by_pattern)
    print_table(lines, header)
    if args.out:
        try:
            jpath, cpath = write_outputs(rows, Path(args.out))
        except OSError as exc:
            raise WhatIfError(f"--out {args.out}: cannot write there ({exc.strerror or exc})") from None
        print(f"wrote {jpath} and {cpath}", file=sys.stderr)
    return EXIT_OK
