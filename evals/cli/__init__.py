"""`fanout` command line. Each subcommand lives in its own module with a `register(subparsers)`."""

from __future__ import annotations

import argparse
import importlib
import os
import sys

from .. import __version__

# Subcommand modules, in help order. A module that is not part of this build is skipped.
COMMANDS = ("run", "play", "tasks", "serve", "serve_tools", "report", "gate", "compare", "whatif", "prices")

EXIT_OK, EXIT_FAIL, EXIT_MISUSE = 0, 1, 2


def env(flag: str, default=None, cast=None):
    """Default for `--flag` from `FANOUT_<FLAG>` (dashes become underscores), as inspect_ai does."""
    raw = os.environ.get("FANOUT_" + flag.upper().replace("-", "_"))
    if raw is None or raw == "":
        return default
    return cast(raw) if cast else raw


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="fanout",
        description="Evaluate how well LLMs use parallel tool calls.",
        epilog="Every flag of `fanout run` can also be set with an environment variable FANOUT_<FLAG>.",
    )
    p.add_argument("--version", action="version", version=f"fanout {__version__}")
    sub = p.add_subparsers(dest="command", metavar="COMMAND")
    for name in COMMANDS:
        mod_name = f"{__name__}.{name}"
        try:
            mod = importlib.import_module(mod_name)
        except ModuleNotFoundError as exc:
            if exc.name == mod_name:
                continue
            raise
        mod.register(sub)
    return p


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if not getattr(args, "func", None):
        parser.print_help()
        return EXIT_MISUSE
    try:
        return int(args.func(args) or 0)
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:
        # The reader (e.g. `| head`) went away: stop quietly, as Unix tools do.
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        return 0


if __name__ == "__main__":
    sys.exit(main())
