"""Writing an imported suite: `suite.yaml` with its table tools, task files, and the import report.

Every importer turns source records into TaskSpec mappings and table tools through a SuiteBuilder,
which owns the suite-wide concerns the formats share: one tool name per distinct function spec
(benchmarks reuse a name for different specs, and table tools are suite-wide), no clash with a
built-in mock tool, one response row per distinct call, and prompts unique within the suite (the
reference policies identify a task by its prompt).
"""

from __future__ import annotations

import hashlib
import json
import shutil
import sys
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TextIO

import yaml
from pydantic import ValidationError

from evals.schema import SuiteSpec, TaskSpec
from evals.templating import literal  # noqa: F401  (re-exported for the importers)
from mock_tools import default_registry
from mock_tools.canonical import canonical_json, normalize
from mock_tools.table import TableRow, TableToolSpec

from .schemas import tool_name

DUPLICATE_POLICIES = ("tag", "skip")


class ImportError_(ValueError):
    """A source that cannot be imported at all (missing file, unreadable archive): a clear message."""


class EntrySkip(Exception):
    """A source entry that cannot become a task; the message is the reported reason."""


def malformed(exc: ValidationError) -> str:
    """The skip reason for a source record that fails its schema."""
    e = exc.errors()[0]
    return f"malformed record: {'.'.join(map(str, e['loc']))}: {e['msg']}"


@dataclass
class Skip:
    category: str
    entry: str
    reason: str


@dataclass
class ImportReport:
    source: str
    counts: Counter = field(default_factory=Counter)
    skipped: list[Skip] = field(default_factory=list)
    notes: list[Skip] = field(default_factory=list)

    def skip(self, category: str, entry: str, reason: str) -> None:
        self.skipped.append(Skip(category, entry, reason))

    def note(self, category: str, entry: str, text: str) -> None:
        self.notes.append(Skip(category, entry, text))

    @property
    def total(self) -> int:
        return sum(self.counts.values())

    def print(self, out: TextIO | None = None) -> None:
        out = out or sys.stdout
        cats = sorted(set(self.counts) | {s.category for s in self.skipped})
        skipped = Counter(s.category for s in self.skipped)
        print(f"imported from {self.source}:", file=out)
        for c in cats:
            print(f"  {c:<28} {self.counts[c]:>5} tasks  {skipped[c]:>4} skipped", file=out)
        print(f"  {'total':<28} {self.total:>5} tasks  {len(self.skipped):>4} skipped", file=out)
        for s in self.skipped:
            print(f"skipped {s.category}/{s.entry}: {s.reason}", file=out)
        for n in self.notes:
            print(f"note {n.category}/{n.entry}: {n.reason}", file=out)


def digest(*parts: Any) -> str:
    return hashlib.blake2b("\x1f".join(map(str, parts)).encode(), digest_size=8).hexdigest()


def synth_value(kind: str, *parts: Any) -> Any:
    """A deterministic synthetic value of a JSON type, derived from `parts` (tool, args, field path)."""
    h = digest(*parts)
    n = int(h, 16)
    if kind == "integer" or kind == "number":
        return 1 + n % 997
    if kind == "boolean":
        return n % 2 == 0
    if kind == "array":
        return [f"item_{h[:6]}"]
    if kind == "object":
        return {"id": f"id_{h[:8]}"}
    label = str(parts[-1]).rsplit(".", 1)[-1] if parts else "value"
    return f"{label}_{h[:6]}"


def answer_group(node: str, value: Any, path: tuple = (), limit: int = 12) -> list[str]:
    """References to the scalar leaves of `value` (a node's output, or part of it): an answer that
    mentions any one of them reports that result. Booleans and empty strings say nothing, so they
    are left out."""
    out: list[str] = []

    def walk(v: Any, p: tuple) -> None:
        if len(out) >= limit:
            return
        if isinstance(v, dict):
            for k, x in v.items():
                walk(x, p + (k,))
        elif isinstance(v, list):
            for i, x in enumerate(v):
                walk(x, p + (i,))
        elif isinstance(v, bool) or v is None or (isinstance(v, str) and not v.strip()):
            return
        elif isinstance(v, str | int | float):
            out.append(
                "{{ "
                + node
                + "".join(f"[{x}]" if isinstance(x, int) else f"[{json.dumps(x)}]" for x in p)
                + " }}"
            )

    walk(value, tuple(path))
    return out


class SuiteBuilder:
    """Accumulates table tools, response rows and tasks; writes them as a suite folder."""

    def __init__(self, report: ImportReport, duplicates: str = "tag"):
        if duplicates not in DUPLICATE_POLICIES:
            raise ValueError(f"duplicates must be one of {DUPLICATE_POLICIES}, not {duplicates!r}")
        self.report = report
        self.duplicates = duplicates
        self.taken: set[str] = set(default_registry().names())
        self.tools: dict[str, TableToolSpec] = {}
        self._by_key: dict[str, str] = {}
        self._rows: dict[str, dict[str, tuple[dict, Any]]] = {}
        self._defaults: dict[str, Any] = {}
        self.tasks: dict[str, list[dict]] = {}
        self._prompts: dict[str, str] = {}
        self._ids: set[str] = set()

    # -- tools ---------------------------------------------------------------------------------
    def tool(self, raw_name: str, description: str, parameters: dict, default: Any = None) -> str:
        """The suite's name for this function spec: shared when identical, suffixed when a different
        spec (or a built-in mock tool) already holds the name."""
        key = canonical_json([raw_name, description, parameters, default])
        name = self._by_key.get(key)
        if name is not None:
            return name
        base = tool_name(raw_name)
        name, i = base, 1
        while name in self.taken:
            i += 1
            suffix = f"_v{i}"
            name = base[: 64 - len(suffix)] + suffix
        self.taken.add(name)
        self._by_key[key] = name
        self.tools[name] = TableToolSpec(name=name, description=description, parameters=parameters)
        self._defaults[name] = default
        self._rows[name] = {}
        return name

    def default(self, name: str) -> Any:
        return self._defaults[name]

    def tool_parameters(self, name: str) -> dict:
        return self.tools[name].parameters

    def row(self, tool: str, args: dict, response: dict) -> dict:
        """Record `response` as the tool's result for `args`; responses for the same call merge, so
        every task that makes it sees every field any task needs. Returns the merged response."""
        key = canonical_json(normalize(args))
        old = self._rows[tool].get(key)
        merged = _merge(old[1], response) if old else response
        self._rows[tool][key] = (args, merged)
        return merged

    # -- tasks ---------------------------------------------------------------------------------
    def prompt_for(self, category: str, entry: str, prompt: str) -> str | None:
        """The prompt to use, or None when a duplicate must be skipped (the skip is reported)."""
        key = " ".join(prompt.split())
        first = self._prompts.get(key)
        if first is None:
            self._prompts[key] = entry
            return prompt
        if self.duplicates == "skip":
            self.report.skip(category, entry, f"same prompt as {first}")
            return None
        tagged = f"{prompt}\n\n(Request {entry}.)"
        self._prompts[" ".join(tagged.split())] = entry
        self.report.note(
            category, entry, f"same prompt as {first}; tagged with its id to keep prompts unique"
        )
        return tagged

    def add(self, file_stem: str, category: str, entry: str, task: dict) -> bool:
        """Keep an imported task under a unique prompt (see `prompt_for`); False when skipped."""
        prompt = self.prompt_for(category, entry, task["prompt"])
        if prompt is None:
            return False
        task["prompt"] = prompt
        return self.add_task(file_stem, category, task)

    def add_task(self, file_stem: str, category: str, task: dict) -> bool:
        """Validate against TaskSpec and keep it; a schema problem is a reported skip, not a crash."""
        try:
            spec = TaskSpec.model_validate(task)
        except ValidationError as exc:
            e = exc.errors()[0]
            self.report.skip(category, str(task.get("id")), f"{'.'.join(map(str, e['loc']))}: {e['msg']}")
            return False
        if spec.id in self._ids:
            self.report.skip(category, spec.id, "duplicate task id")
            return False
        self._ids.add(spec.id)
        self.tasks.setdefault(file_stem, []).append(task)
        self.report.counts[category] += 1
        return True

    # -- output --------------------------------------------------------------------------------
    def table_specs(self) -> list[TableToolSpec]:
        out = []
        for name, spec in self.tools.items():
            rows = sorted(self._rows[name].values(), key=lambda r: -len(r[0]))  # most specific first
            spec = spec.model_copy(
                update={
                    "rows": [TableRow(match=a, response=r) for a, r in rows],
                    "default": self._defaults[name],
                }
            )
            out.append(spec)
        return out

    def write(self, out: Path, suite: SuiteSpec, force: bool = False, readme: str | None = None) -> None:
        """Write `suite.yaml` and one task file per category. Refuses to mix with an existing suite."""
        _prepare(out, force)
        used = {t for tasks in self.tasks.values() for task in tasks for t in task["tools"]}
        suite = suite.model_copy(update={"tools": [s for s in self.table_specs() if s.name in used]})
        data = suite.model_dump(mode="json", exclude_defaults=True)
        data["tools"] = [_tool_dict(s) for s in suite.tools]
        if suite.matching != "default":
            data["matching"] = suite.matching
        _dump(out / "suite.yaml", data)
        for stem, tasks in sorted(self.tasks.items()):
            _dump(out / f"{stem}.yaml", tasks)
        if readme:
            (out / "README.md").write_text(readme, encoding="utf-8")


def _tool_dict(spec: TableToolSpec) -> dict:
    d = spec.model_dump(mode="json", exclude_defaults=True)
    d.pop("latency", None)
    d["name"] = spec.name
    return d


def _merge(a: Any, b: Any) -> Any:
    if isinstance(a, dict) and isinstance(b, dict):
        out = dict(a)
        for k, v in b.items():
            out[k] = _merge(out[k], v) if k in out else v
        return out
    return a


def check_out(out: Path, force: bool) -> None:
    """Fail before reading a large source when --out cannot be written."""
    if out.exists() and not out.is_dir():
        raise ImportError_(f"--out {out} exists and is not a folder")
    if out.is_dir() and not force and any(p.suffix in (".yaml", ".yml") for p in out.iterdir()):
        raise ImportError_(f"--out {out} already holds a suite; pass --force to replace it")


def _prepare(out: Path, force: bool) -> None:
    if out.exists() and not out.is_dir():
        raise ImportError_(f"--out {out} exists and is not a folder")
    if out.is_dir():
        existing = [p for p in out.iterdir() if p.suffix in (".yaml", ".yml") or p.name == "README.md"]
        if existing and not force:
            raise ImportError_(
                f"--out {out} already holds a suite ({len(existing)} files); pass --force to replace it"
            )
        for p in existing:
            if p.is_dir():
                shutil.rmtree(p)
            else:
                p.unlink()
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
