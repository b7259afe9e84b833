"""The importer protocol and registry: every `fanout tasks import FORMAT` is one registered class.

An importer has a `name`, a one-line `summary`, an options model (pydantic; the CLI derives its
flags from the fields, so adding an option is one field), the kinds of entry it skips and why
(`skip_reasons`, shown in `--help`), and `convert(options) -> Conversion`: the suite settings, the
task mappings per file and the report of records read, tasks made, skips and repairs. Writing the
folder is common to all of them (`Conversion.write`). Register with `@importer`:

    @importer
    class MyFormat(Importer[MyOptions]):
        name = "myformat"
        summary = "..."
        options = MyOptions
        def convert(self, opts: MyOptions) -> Conversion: ...
"""

from __future__ import annotations

import importlib
import shutil
from abc import ABC, abstractmethod
from dataclasses import dataclass
from pathlib import Path
from typing import Any, ClassVar, Generic, TypeVar

import yaml
from pydantic import BaseModel, ConfigDict, Field

from evals.schema import SuiteSpec

from .common import ImportReport, SourceError, SuiteBuilder

BUILTIN_MODULES = ("bfcl", "nestful", "taskbench")  # imported on first use, so each registers itself


class ImportOptions(BaseModel):
    """Options every importer takes; subclasses add their own fields (each becomes a CLI flag)."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    source: str = Field(description="where the benchmark's files are (see the format's docs)")


OptionsT = TypeVar("OptionsT", bound=ImportOptions)


@dataclass
class Conversion:
    """What an importer made of a source: a suite's settings and table tools, its tasks, the report."""

    suite: SuiteSpec
    tasks: dict[str, list[dict]]  # task file stem -> task mappings
    report: ImportReport
    readme: str | None = None

    @classmethod
    def of(cls, builder: SuiteBuilder, suite: SuiteSpec, readme: str | None = None) -> Conversion:
        spec = suite.model_copy(update={"tools": builder.table_specs()})
        return cls(spec, dict(sorted(builder.tasks.items())), builder.report, readme)

    def write(self, out: Path, force: bool = False) -> None:
        """`suite.yaml` and one task file per category. Refuses to mix with an existing suite."""
        _prepare(out, force)
        if not self.suite.name:
            self.suite = self.suite.model_copy(update={"name": out.name})
        data = self.suite.model_dump(mode="json", exclude_defaults=True)
        data["tools"] = [_tool_dict(t) for t in self.suite.tools]
        _dump(out / "suite.yaml", data)
        for stem, tasks in self.tasks.items():
            _dump(out / f"{stem}.yaml", tasks)
        if self.readme:
            (out / "README.md").write_text(self.readme, encoding="utf-8")


class Importer(ABC, Generic[OptionsT]):
    """One source format. Subclasses set the class attributes and implement `convert`."""

    name: ClassVar[str]
    summary: ClassVar[str]
    options: ClassVar[type[ImportOptions]]
    default_out: ClassVar[str] = "tasks/imported"
    skip_reasons: ClassVar[tuple[str, ...]] = ()
    docs: ClassVar[str] = "docs/importing.md"

    @abstractmethod
    def convert(self, opts: OptionsT) -> Conversion:
        """Read the source the options name and convert every entry it can; never raises for one
        bad entry (that is a reported skip), only `SourceError` for a source it cannot read."""


IMPORTERS: dict[str, type[Importer[Any]]] = {}
_T = TypeVar("_T", bound=type)


def importer(cls: _T) -> _T:
    """Class decorator: register an importer under its `name`."""
    name = getattr(cls, "name", None)
    if not isinstance(name, str) or not name:
        raise TypeError(f"{cls.__name__} has no importer name")
    if name in IMPORTERS and IMPORTERS[name] is not cls:
        raise ValueError(f"importer {name!r} is registered twice")
    IMPORTERS[name] = cls
    return cls


def registered() -> dict[str, type[Importer[Any]]]:
    """Every importer, the built-in ones included, by name."""
    for mod in BUILTIN_MODULES:
        importlib.import_module(f"{__package__}.{mod}")
    return dict(sorted(IMPORTERS.items()))


def convert(name: str, **options: Any) -> Conversion:
    """Run the importer `name` with these options (validated by its options model)."""
    imps = registered()
    if name not in imps:
        raise SourceError(f"unknown import format {name!r}; known: {', '.join(imps)}")
    cls = imps[name]
    return cls().convert(cls.options.model_validate(options))


def import_suite(name: str, out: Path, force: bool = False, **options: Any) -> ImportReport:
    """Convert and write a suite folder; the report says what was read, made and skipped."""
    check_out(out, force)
    conv = convert(name, **options)
    conv.write(out, force)
    return conv.report


# -- writing ------------------------------------------------------------------------------------
def _tool_dict(spec: Any) -> dict:
    d = spec.model_dump(mode="json", exclude_defaults=True)
    d.pop("latency", None)
    d["name"] = spec.name
    return d


def check_out(out: Path, force: bool) -> None:
    """Fail before reading a large source when --out cannot be written."""
    if out.exists() and not out.is_dir():
        raise SourceError(f"--out {out} exists and is not a folder")
    if out.is_dir() and not force and any(p.suffix in (".yaml", ".yml") for p in out.iterdir()):
        raise SourceError(f"--out {out} already holds a suite; pass --force to replace it")


def _prepare(out: Path, force: bool) -> None:
    check_out(out, force)
    if out.is_dir():
        for p in out.iterdir():
            if p.suffix in (".yaml", ".yml") or p.name == "README.md":
                shutil.rmtree(p) if p.is_dir() else p.unlink()
    out.mkdir(parents=True, exist_ok=True)


class _Dumper(yaml.SafeDumper):
    pass


def _str_presenter(dumper: yaml.SafeDumper, value: str) -> yaml.Node:
    style = "|" if "\n" in value and not value.endswith((" ", "\t")) and "\r" not in value else None
    return dumper.represent_scalar("tag:yaml.org,2002:str", value, style=style)


_Dumper.add_representer(str, _str_presenter)


def _dump(path: Path, data: Any) -> None:
    text = yaml.dump(data, Dumper=_Dumper, sort_keys=False, allow_unicode=True, width=100_000)
    path.write_text(text, encoding="utf-8")


__all__ = [
    "IMPORTERS",
    "Conversion",
    "ImportOptions",
    "Importer",
    "check_out",
    "convert",
    "import_suite",
    "importer",
    "registered",
]
