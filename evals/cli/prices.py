"""`fanout prices`: the price table a run is billed with, and which entries are getting old.

Prices change without notice and a stale entry silently misstates every cost a run reports, so
the command shows, for each model string given (or every entry), the entry it is billed as
(aliases and dated snapshots resolved), the four rates, where each was read and when, and flags
entries read longer ago than `--max-age-days`.
"""

from __future__ import annotations

import argparse
import datetime as _dt
import sys

from . import EXIT_MISUSE, env


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "prices",
        help="show the price table a run is billed with; flag old entries",
        description="List USD per million tokens (input, cached input, cache write, output) with each entry's "
        "source and the date it was read. With model strings, show what a run of each would be billed as. "
        "Entries read more than --max-age-days ago are flagged STALE.",
        formatter_class=argparse.ArgumentDefaultsHelpFormatter,
    )
    p.add_argument(
        "models", nargs="*", help="model strings, e.g. openai/gpt-5 anthropic/claude-sonnet-4-5-20250929"
    )
    p.add_argument(
        "--prices", default=env("prices"), help="JSON price table overriding the shipped one [FANOUT_PRICES]"
    )
    p.add_argument("--max-age-days", type=int, default=90, help="flag entries read longer ago than this")
    p.add_argument("--sources", action="store_true", help="also print what each source key stands for")
    p.set_defaults(func=cmd_prices)


def _rate(v: float | None) -> str:
    return "n/a" if v is None else f"{v:g}"


def cmd_prices(args: argparse.Namespace) -> int:
    from ..prices import load_prices

    table = load_prices(args.prices)  # a bad --prices file is a UsageError: one line, exit 2
    if args.max_age_days < 0:
        print("fanout prices: --max-age-days must be >= 0", file=sys.stderr)
        return EXIT_MISUSE
    today = _dt.date.today()
    header = ["model", "billed as", "input", "cached", "cache write", "output", "source", "read on", ""]
    rows: list[list[str]] = []
    stale = unknown = 0
    names = args.models or list(table.models)
    for name in names:
        key = table.resolve(name)
        if key is None:
            rows.append([name, "unknown: cost n/a", "", "", "", "", "", "", ""])
            unknown += 1
            continue
        price = table.models[key]
        read_on = price.read_on or table.read_on
        flag = ""
        try:
            age = (today - _dt.date.fromisoformat(read_on)).days
        except ValueError:
            age = None
        if age is None or age > args.max_age_days:
            flag = "STALE" if age is not None else "undated"
            stale += 1
        rows.append(
            [
                name,
                key if key != name else "",
                _rate(price.input),
                _rate(price.cached_input),
                _rate(price.cache_write),
                _rate(price.output),
                price.source or "",
                read_on,
                flag,
            ]
        )
    widths = [max(len(h), *(len(r[i]) for r in rows)) for i, h in enumerate(header)]
    print("  ".join(h.ljust(w) for h, w in zip(header, widths, strict=True)).rstrip())
    for r in rows:
        print("  ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)).rstrip())
    print(f"USD per million tokens; table version {table.version}.", file=sys.stderr)
    if stale:
        print(
            f"{stale} entr{'y' if stale == 1 else 'ies'} read more than {args.max_age_days} days ago: "
            "check the providers' pricing pages and override with --prices FILE",
            file=sys.stderr,
        )
    if unknown:
        print(f"{unknown} model(s) not in the table: their cost is reported as n/a", file=sys.stderr)
    if args.sources:
        for k, v in table.source.items():
            print(f"{k}: {v}")
    return 0
