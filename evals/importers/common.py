"""What the importers share: the import report, the suite builder, graph patterns and answer values.

Every importer turns source records into TaskSpec mappings and table tools through a SuiteBuilder,
which owns the suite-wide concerns the formats share: one table tool per distinct function spec,
shown to the model under the source's own name (benchmarks reuse a name for different specs, and a
few names are taken by built-in mock tools, so the suite-wide key may carry a suffix the model never
sees), one response row per distinct call, and prompts unique within the suite (the reference
policies identify a task by its prompt).
"""

from __future__ import annotations

import hashlib
import json
import sys
from collections import Counter
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TextIO, TypeVar

from pydantic import ValidationError

from evals.answer_lint import counts_as_check
from evals.errors import UsageError
from evals.schema import TaskSpec
from evals.templating import literal  # noqa: F401  (re-exported for the importers)
from mock_tools import default_registry
from mock_tools.canonical import canonical_json, normalize
from mock_tools.table import TableRow, TableToolSpec

from .schemas import tool_name

T = TypeVar("T")


def loads(text: str | bytes) -> Any:
    """`json.loads` for source data: JSON nested past the parser's recursion is a ValueError like
    any other unreadable JSON, so each reader's handling of bad data (skip the entry, or one clear
    SourceError) covers it too."""
    try:
        return json.loads(text)
    except RecursionError:
        raise ValueError("JSON nested too deep to read") from None


class SourceError(UsageError):
    """A source that cannot be imported at all (missing file, unreadable archive): one clear line."""


def decode_source(data: bytes, where: str) -> str:
    """Source bytes as text, or a SourceError naming the file and the first byte that is no UTF-8."""
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise SourceError(
            f"{where}: not UTF-8 text (byte {exc.object[exc.start]:#04x} at offset {exc.start})"
        ) from None


def read_source(path: Path) -> str:
    """A source file's text, or one SourceError line (not UTF-8, unreadable)."""
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise SourceError(f"cannot read {path}: {exc.strerror or exc}") from None
    return decode_source(data, str(path))


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
    """Per category: records read, tasks written, and every skip and repair with its reason."""

    source: str
    records: Counter = field(default_factory=Counter)
    counts: Counter = field(default_factory=Counter)
    skipped: list[Skip] = field(default_factory=list)
    notes: list[Skip] = field(default_factory=list)

    def skip(self, category: str, entry: str, reason: str) -> None:
        self.skipped.append(Skip(category, entry, reason))

    def attempt(self, category: str, entry: str, build: Callable[..., T], *args: Any) -> T | None:
        """`build(*args)`, or None with the skip recorded when the record cannot become a task: a record
        that fails its schema (`malformed`) or an `EntrySkip` with its reason."""
        try:
            return build(*args)
        except ValidationError as exc:
            self.skip(category, entry, malformed(exc))
        except EntrySkip as exc:
            self.skip(category, entry, str(exc))
        return None

    def note(self, category: str, entry: str, text: str) -> None:
        self.notes.append(Skip(category, entry, text))

    @property
    def total(self) -> int:
        return sum(self.counts.values())

    def skip_reasons(self) -> Counter:
        """How many entries each kind of reason skipped (the reason up to its first colon)."""
        return Counter(s.reason.split(":")[0] for s in self.skipped)

    def print(self, out: TextIO | None = None) -> None:
        out = out or sys.stdout
        cats = sorted(set(self.counts) | set(self.records) | {s.category for s in self.skipped})
        skipped = Counter(s.category for s in self.skipped)
        print(f"imported from {self.source}:", file=out)
        for c in cats:
            print(
                f"  {c:<28} {self.records[c]:>5} records {self.counts[c]:>5} tasks  {skipped[c]:>4} skipped",
                file=out,
            )
        print(
            f"  {'total':<28} {sum(self.records.values()):>5} records {self.total:>5} tasks  "
            f"{len(self.skipped):>4} skipped",
            file=out,
        )
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


def coerce(value: Any, json_type: str | None) -> Any:
    """A source value in the type its parameter declares, when it converts without loss (TaskBench
    writes `2` for a text parameter and `"5"` for an integer one). Anything else is kept as given."""
    if json_type == "string":
        if isinstance(value, bool):
            return str(value).lower()
        if isinstance(value, int | float):
            return str(value)
        return value
    if not isinstance(value, str):
        return value
    text = value.strip()
    if json_type == "integer":
        try:
            return int(text)
        except ValueError:
            return value
    if json_type == "number":
        try:
            f = float(text)
        except ValueError:
            return value
        return int(f) if f.is_integer() and "." not in text and "e" not in text.lower() else f
    if json_type == "boolean" and text.lower() in ("true", "false"):
        return text.lower() == "true"
    return value


def graph_pattern(deps: Mapping[str, Iterable[str]]) -> str:
    """The shape of an imported graph (its direct dependencies per node): single, independent,
    chain or dag. Derived from the graph itself, never copied from a source's label."""
    d = {v: set(us) for v, us in deps.items()}
    if len(d) == 1:
        return "single"
    if not any(d.values()):
        return "independent"
    dependents = Counter(u for us in d.values() for u in us)
    roots = [v for v, us in d.items() if not us]
    if (
        len(roots) == 1
        and all(len(us) <= 1 for us in d.values())
        and all(c <= 1 for c in dependents.values())
    ):
        return "chain"
    return "dag"


def _accessor(node: str, path: tuple) -> str:
    return node + "".join(f"[{x}]" if isinstance(x, int) else f"[{json.dumps(x)}]" for x in path)


def answer_group(node: str, value: Any, prompt: str, path: tuple = (), limit: int = 12) -> list[str]:
    """References to the scalar leaves of `value` (a node's output, or part of it) that an answer can
    only know from that tool result: an answer that mentions any one of them reports it. A leaf the
    prompt already holds, a boolean or a generic word checks nothing (`evals.answer_lint`), so it
    is left out, and a group whose every leaf is left out is empty."""
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
        elif isinstance(v, str | int | float) and not isinstance(v, bool) and counts_as_check(v, prompt):
            out.append("{{ " + _accessor(node, p) + " }}")

    walk(value, tuple(path))
    return out


class SuiteBuilder:
    """Accumulates table tools, response rows and tasks of one import."""

    def __init__(self, report: ImportReport):
        self.report = report
        self.taken: set[str] = set(default_registry().names())
        self.tools: dict[str, TableToolSpec] = {}
        self._by_key: dict[str, str] = {}
        self._rows: dict[str, dict[str, tuple[dict, Any]]] = {}
        self.tasks: dict[str, list[dict]] = {}
        self._prompts: dict[str, str] = {}
        self._ids: set[str] = set()

    # -- tools ---------------------------------------------------------------------------------
    def tool(
        self, raw_name: str, description: str, parameters: dict, default: Any = None, compute: bool = False
    ) -> str:
        """The suite-wide key of this function spec: shared when identical, suffixed when a different
        spec (or a built-in mock tool) already holds the name. The model always sees the source's
        name (`expose_as`); only the key, which fixtures refer to, carries the suffix."""
        key = canonical_json([raw_name, description, parameters, default, compute])
        name = self._by_key.get(key)
        if name is not None:
            return name
        shown = tool_name(raw_name)
        name, i = shown, 1
        while name in self.taken:
            i += 1
            suffix = f"_v{i}"
            name = shown[: 64 - len(suffix)] + suffix
        self.taken.add(name)
        self._by_key[key] = name
        self.tools[name] = TableToolSpec(
            name=name,
            expose_as=shown if shown != name else None,
            description=description,
            parameters=parameters,
            default=default,
            compute=compute,
        )
        self._rows[name] = {}
        return name

    def shown_name(self, name: str) -> str:
        return self.tools[name].expose_as or name

    def row(self, tool: str, args: dict, response: dict) -> dict:
        """Record `response` as the tool's result for `args`; responses for the same call merge, so
        every task that makes it sees every field any task needs. Returns the merged response."""
        key = canonical_json(normalize(args))
        old = self._rows[tool].get(key)
        merged = _merge(old[1], response) if old else response
        self._rows[tool][key] = (args, merged)
        return merged

    # -- tasks ---------------------------------------------------------------------------------
    def add(self, file_stem: str, category: str, entry: str, task: dict) -> bool:
        """Keep an imported task; False when it is skipped (the reason is reported).

        The reference policies find a task by its prompt, so a suite holds each prompt once: a later
        entry with a prompt already used is skipped with the id of the first (an entry is never
        reworded to make it unique: the model must see the source's prompt)."""
        key = " ".join(task["prompt"].split())
        first = self._prompts.get(key)
        if first is not None:
            self.report.skip(
                category, entry, f"same prompt as {first} (a suite holds each prompt once; the first is kept)"
            )
            return False
        try:
            spec = TaskSpec.model_validate(task)
        except ValidationError as exc:
            e = exc.errors()[0]
            self.report.skip(category, entry, f"{'.'.join(map(str, e['loc']))}: {e['msg']}")
            return False
        if spec.id in self._ids:
            self.report.skip(category, entry, "duplicate task id")
            return False
        self._prompts[key] = entry
        self._ids.add(spec.id)
        self.tasks.setdefault(file_stem, []).append(task)
        self.report.counts[category] += 1
        return True

    # -- output --------------------------------------------------------------------------------
    def table_specs(self) -> list[TableToolSpec]:
        """The table tools some task exposes, each with its response rows (most specific first)."""
        used = {t for tasks in self.tasks.values() for task in tasks for t in task["tools"]}
        out = []
        for name, spec in self.tools.items():
            if name not in used:
                continue
            rows = sorted(self._rows[name].values(), key=lambda r: -len(r[0]))
            out.append(spec.model_copy(update={"rows": [TableRow(match=a, response=r) for a, r in rows]}))
        return out


def _merge(a: Any, b: Any) -> Any:
    if isinstance(a, dict) and isinstance(b, dict):
        out = dict(a)
        for k, v in b.items():
            out[k] = _merge(out[k], v) if k in out else v
        return out
    return a
