"""`fanout tasks import FORMAT`: one subcommand per registered importer, its flags from its options."""

from __future__ import annotations

import argparse
import sys
import types
import typing
from pathlib import Path
from typing import Any

from pydantic import ValidationError
from pydantic.fields import FieldInfo

from .base import Importer, import_suite, registered
from .common import SourceError

EXIT_FAIL, EXIT_MISUSE = 1, 2


def register(tsub: Any) -> None:
    imps = registered()
    p = tsub.add_parser(
        "import",
        help="import an external benchmark (" + ", ".join(imps) + ") as a suite",
        description="Convert a public benchmark into a Fanout suite folder. Formats: "
        + "; ".join(f"{n}: {c.summary}" for n, c in imps.items())
        + ". See docs/importing.md.",
    )
    isub = p.add_subparsers(dest="import_format", metavar="FORMAT")
    for name, cls in imps.items():
        sp = isub.add_parser(
            name,
            help=cls.summary,
            description=f"{cls.summary}. See {cls.docs}.",
            epilog=(
                "Entries are skipped (each with its reason in the report) when: "
                + "; ".join(cls.skip_reasons)
                + "."
                if cls.skip_reasons
                else None
            ),
        )
        for fname, finfo in cls.options.model_fields.items():
            _add_option(sp, fname, finfo)
        sp.add_argument(
            "--out", default=cls.default_out, help=f"suite folder to write (default {cls.default_out})"
        )
        sp.add_argument("--force", action="store_true", help="replace the suite files already in --out")
        sp.set_defaults(func=_command(name, cls))
    p.set_defaults(func=lambda a: (p.print_help(), EXIT_MISUSE)[1])


def _add_option(p: argparse.ArgumentParser, name: str, info: FieldInfo) -> None:
    flag = "--" + name.replace("_", "-")
    ann = info.annotation
    origin = typing.get_origin(ann)
    args = typing.get_args(ann)
    kw: dict[str, Any] = {"dest": name, "help": info.description or ""}
    if ann is bool:
        kw["action"] = "store_true"
    elif origin is typing.Literal:
        kw["choices"] = list(args)
    elif origin in (typing.Union, types.UnionType) and args and typing.get_origin(args[0]) is typing.Literal:
        kw["choices"] = list(typing.get_args(args[0]))
    if info.is_required():
        kw["required"] = True
    else:
        kw["default"] = argparse.SUPPRESS  # the options model keeps its own default
        default = info.get_default()
        if default not in (None, False, (), []):
            shown = ",".join(default) if isinstance(default, tuple | list) else default
            kw["help"] += f" (default {shown})"
    p.add_argument(flag, **kw)


def _command(name: str, cls: type[Importer[Any]]) -> Any:
    def run(a: argparse.Namespace) -> int:
        opts = {f: getattr(a, f) for f in cls.options.model_fields if hasattr(a, f)}
        out = Path(a.out)
        try:
            report = import_suite(name, out, a.force, **opts)
        except ValidationError as exc:
            e = exc.errors()[0]
            loc = ".".join(map(str, e["loc"])).replace("_", "-")
            print(f"fanout tasks import {name}: --{loc}: {e['msg']}", file=sys.stderr)
            return EXIT_MISUSE
        except SourceError as exc:
            print(f"fanout tasks import {name}: {exc}", file=sys.stderr)
            return EXIT_MISUSE
        report.print()
        print(f"wrote {report.total} tasks to {out}; check them with: fanout tasks validate {out}")
        return 0 if report.total else EXIT_FAIL

    return run
