"""`fanout` command line. Each subcommand lives in its own module with a `register(subparsers)`.

Commands raise; `main` is the one place an error becomes a message and an exit code: a
`FanoutError` prints one line (`fanout <command>: <message>`) and exits with its class's code
(`evals.errors`), so no command picks its own.
"""

from __future__ import annotations

import argparse
import importlib
import os
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any, NoReturn

from .. import __version__
from ..errors import EXIT_INTERRUPTED, EXIT_OK, EXIT_USAGE, FanoutError, UsageError

# Subcommand modules, in help order. A module that is not part of this build is skipped.
COMMANDS = (
    "run",
    "merge",
    "play",
    "tasks",
    "serve",
    "serve_tools",
    "report",
    "view",
    "gate",
    "compare",
    "whatif",
    "prices",
)

Subparsers = argparse._SubParsersAction  # what each command module's `register` adds its parser to
EXIT_MISUSE = EXIT_USAGE  # the name `fanout serve` still imports; the codes live in evals.errors


class BadEnv:
    """A FANOUT_* value its flag's type rejects. Parsers are built for every command at once, so
    the value is kept as the flag's default and reported (one line, exit 2) only when the command
    that has the flag runs: `FANOUT_EPOCHS=abc fanout tasks list` and `fanout --help` still work."""

    def __init__(self, var: str, raw: str, reason: str):
        self.var, self.raw, self.reason = var, raw, reason

    def __str__(self) -> str:
        return f"{self.var} {self.raw!r}: {self.reason}"


def env(flag: str, default: Any = None, cast: Callable[[str], Any] | None = None) -> Any:
    """Default for `--flag` from `FANOUT_<FLAG>` (dashes become underscores), as inspect_ai does;
    a value `cast` rejects becomes a `BadEnv`, which `main` reports for the command that runs."""
    var = "FANOUT_" + flag.upper().replace("-", "_")
    raw = os.environ.get(var)
    if raw is None or raw == "":
        return default
    if cast is None:
        return raw
    try:
        return cast(raw)
    except (ValueError, argparse.ArgumentTypeError) as exc:
        return BadEnv(var, raw, str(exc) or f"not a valid {getattr(cast, '__name__', 'value')}")


def boolean(v: str) -> bool:
    """A yes/no flag value or FANOUT_* value: 1/true/yes/on or 0/false/no/off."""
    low = v.strip().lower()
    if low in ("1", "true", "yes", "on"):
        return True
    if low in ("0", "false", "no", "off"):
        return False
    raise argparse.ArgumentTypeError(f"expected true or false, not {v!r}")


def number(kind: type, text: str, low: float | None = None, strict: bool = False) -> Any:
    """A finite `kind` (int or float) from a flag's text, at least `low` (above it if `strict`;
    None: unbounded); anything else is argparse's one-line error."""
    try:
        v = kind(text)
    except ValueError:
        v = None
    if (
        v is None
        or v != v
        or v in (float("inf"), float("-inf"))
        or (low is not None and (v <= low if strict else v < low))
    ):
        what = "an integer" if kind is int else "a number"
        bound = "" if low is None else f" {'>' if strict else '>='} {low:g}"
        raise argparse.ArgumentTypeError(f"expected {what}{bound}, not {text!r}")
    return v


def positive_int(text: str) -> int:
    """An integer >= 1 (epochs, concurrency, limits): 0 and negatives are refused, never read as
    "unbounded" or silently clamped."""
    return int(number(int, text, 1))


def positive_float(text: str) -> float:
    """A finite number > 0 (a budget in USD, a duration)."""
    return float(number(float, text, 0, strict=True))


class Parser(argparse.ArgumentParser):
    """An ArgumentParser whose usage errors are one line (`fanout run: argument --epochs: ...`)
    and exit 2 through `main`, like every other usage error, instead of the whole usage text."""

    def error(self, message: str) -> NoReturn:
        raise UsageError(f"{self.prog}: {message} (see {self.prog} --help)")


def out_folder(text: str, holds: str) -> Path:
    """An --out that is a folder, or will be made as one; an existing file is a usage error."""
    out = Path(text)
    if out.exists() and not out.is_dir():
        raise UsageError(f"--out {out}: is a file, not a folder for {holds}")
    return out


def command(sub: Subparsers, name: str, doc: str | None, help: str, **kw: Any) -> argparse.ArgumentParser:
    """A subcommand parser whose description is its module docstring after the first line, so the
    module says what the command does once."""
    description = (doc or "").partition("\n\n")[2] or None
    return sub.add_parser(name, help=help, description=description, **kw)


def _wanted(argv: list[str] | None) -> str | None:
    """The subcommand module `argv` names (None: no command or an unknown one, so every command
    is registered, for the help text and argparse's "invalid choice" message)."""
    first = next((a for a in argv or () if not a.startswith("-")), None)
    mod = first.replace("-", "_") if first else None
    return mod if mod in COMMANDS else None


def build_parser(argv: list[str] | None = None) -> argparse.ArgumentParser:
    """The parser of every command, or, given the command line, of the one command it names: a
    command imports only its own module (and what that needs), so start-up stays short."""
    p = Parser(
        prog="fanout",
        description="Evaluate how well LLMs use parallel tool calls.",
        epilog="Every flag of `fanout run` can also be set with an environment variable FANOUT_<FLAG>.",
    )
    p.add_argument("--version", action="version", version=f"fanout {__version__}")
    sub = p.add_subparsers(dest="command", metavar="COMMAND")
    wanted = _wanted(argv)
    # pydantic looks for plugins in every installed distribution's entry points when the first
    # model class is built: tens of milliseconds in a large environment, on every command, for
    # plugins Fanout's own models do not use. An explicit setting is kept (empty: load them).
    os.environ.setdefault("PYDANTIC_DISABLE_PLUGINS", "__all__")
    for name in COMMANDS if wanted is None else (wanted,):
        mod_name = f"{__name__}.{name}"
        try:
            mod = importlib.import_module(mod_name)
        except ModuleNotFoundError as exc:
            if exc.name == mod_name:
                continue
            raise
        mod.register(sub)
    _name_commands(p)
    return p


def _name_commands(parser: argparse.ArgumentParser) -> None:
    """Give each (sub)command its full name (`fanout tasks validate`) for `main`'s messages."""
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for sub in action.choices.values():
                sub.set_defaults(command_name=sub.prog)
                _name_commands(sub)


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else list(argv)
    if argv[:1] == ["--version"]:  # no command module needed
        print(f"fanout {__version__}")
        return EXIT_OK
    parser = build_parser(argv)
    try:
        args, unknown = parser.parse_known_args(argv)
    except UsageError as exc:  # from Parser.error: the message names the command already
        print(exc, file=sys.stderr)
        return EXIT_USAGE
    if unknown:  # named for the subcommand that was given them, not `fanout:`
        name = getattr(args, "command_name", "fanout")
        print(f"{name}: unrecognized arguments: {' '.join(unknown)} (see {name} --help)", file=sys.stderr)
        return EXIT_USAGE
    if not getattr(args, "func", None):
        parser.print_help()
        return EXIT_USAGE
    bad = next((v for v in vars(args).values() if isinstance(v, BadEnv)), None)
    if bad is not None:
        print(f"{args.command_name}: {bad}", file=sys.stderr)
        return EXIT_USAGE
    args.argv = argv  # what was typed, for a command that must tell a flag given from its default
    try:
        return int(args.func(args) or EXIT_OK)
    except FanoutError as exc:
        print(f"{args.command_name}: {exc}", file=sys.stderr)
        return exc.exit_code
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return EXIT_INTERRUPTED
    except BrokenPipeError:
        # The reader (e.g. `| head`) went away: stop quietly, as Unix tools do.
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        return EXIT_OK


if __name__ == "__main__":
    sys.exit(main())
