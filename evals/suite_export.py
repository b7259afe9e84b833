"""Suites as shareable data: JSON Lines and Hugging Face `datasets` folders that load back into
the same tasks.

Each record is one task. Its full fixture travels as canonical JSON text (`task_json`), because
tool arguments are free-form and do not fit one Arrow schema; the flat columns beside it (id,
pattern, prompt, tools, graph shape) are for browsing on a hub. The suite's own settings
(`suite.yaml`: matching mode, table tools) travel in every record as `suite_json`, so a single
file is a complete suite. Loading rebuilds each task through the same checks as YAML fixtures.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, ValidationError

from mock_tools import ToolRegistry, default_registry, table_tool

from .errors import UsageError
from .fixtures import FixtureError, FixtureErrors, Suite, Task, build_task
from .schema import SuiteSpec, TaskSpec

FORMATS = ("jsonl", "hf")
FORMAT_VERSION = 1


class TaskRecord(BaseModel):
    """One exported task (one JSONL line, one dataset row)."""

    model_config = ConfigDict(extra="forbid")

    format_version: int = FORMAT_VERSION
    suite: str
    id: str
    pattern: str
    prompt: str
    tools: list[str]
    n_calls: int
    depth: int
    width: int
    file: str
    task_json: str
    suite_json: str


class ExportError(UsageError, ValueError):
    """An export that cannot be read back; the message names the file and the record."""


def _dumps(value: Any) -> str:
    # Key order is kept: it is part of the fixture (argument order shows in prompts and hashes).
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"))


def task_record(task: Task, suite: Suite) -> TaskRecord:
    return TaskRecord(
        suite=suite.name,
        id=task.id,
        pattern=task.pattern,
        prompt=task.prompt,
        tools=[t.name for t in task.tools],
        n_calls=len(task.nodes),
        depth=task.graph.longest_path(),
        width=task.graph.width(),
        file=task.file,
        task_json=_dumps(task.spec.model_dump(mode="json", exclude_defaults=True)),
        suite_json=_dumps(suite.spec.model_dump(mode="json", exclude_defaults=True)),
    )


def suite_records(suite: Suite) -> list[TaskRecord]:
    return [task_record(t, suite) for t in suite.tasks]


def export_jsonl(suite: Suite, out: Path) -> Path:
    out.parent.mkdir(parents=True, exist_ok=True)
    with out.open("w", encoding="utf-8") as fh:
        for rec in suite_records(suite):
            fh.write(rec.model_dump_json() + "\n")
    return out


def export_hf(suite: Suite, out: Path) -> Path:
    """A `datasets.Dataset` saved with `save_to_disk` (push it with `Dataset.push_to_hub`)."""
    import datasets

    datasets.disable_progress_bars()  # a CLI export should print its result, not a bar per shard
    rows = [r.model_dump() for r in suite_records(suite)]
    ds = datasets.Dataset.from_list(rows)
    ds.info.description = f"Fanout task suite {suite.name!r} ({len(rows)} tasks), format {FORMAT_VERSION}"
    ds.save_to_disk(str(out))
    return out


def export_suite(suite: Suite, fmt: Literal["jsonl", "hf"], out: Path) -> Path:
    if fmt == "jsonl":
        return export_jsonl(suite, out)
    if fmt == "hf":
        return export_hf(suite, out)
    raise ValueError(f"unknown export format {fmt!r}; known: {', '.join(FORMATS)}")


# ---------------------------------------------------------------------------------------
def is_export(path: Path) -> bool:
    """True for a JSONL export file or a `save_to_disk` dataset folder."""
    return (path.is_file() and path.suffix == ".jsonl") or (
        path.is_dir() and (path / "dataset_info.json").exists()
    )


def read_records(path: Path) -> list[dict]:
    if path.is_dir():
        import datasets

        try:
            ds = datasets.load_from_disk(str(path))
        except (FileNotFoundError, ValueError) as exc:
            raise ExportError(f"{path}: not a saved dataset: {exc}") from exc
        if isinstance(ds, datasets.DatasetDict):
            raise ExportError(f"{path}: holds several splits; export one suite per dataset")
        return [dict(r) for r in ds]
    rows = []
    for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        if not line.strip():
            continue
        try:
            rows.append(json.loads(line))
        except ValueError as exc:
            raise ExportError(f"{path}: line {n}: not JSON: {exc}") from exc
    return rows


def load_export(path: str | Path, registry: ToolRegistry | None = None) -> Suite:
    """Rebuild a suite from an export. Problems are raised together as FixtureErrors."""
    path = Path(path)
    rows = read_records(path)
    if not rows:
        raise ExportError(f"{path}: no tasks")
    errors: list[FixtureError] = []
    recs: list[TaskRecord] = []
    for n, row in enumerate(rows, start=1):
        try:
            recs.append(TaskRecord.model_validate(row))
        except ValidationError as exc:
            e = exc.errors()[0]
            loc = ".".join(map(str, e["loc"]))
            raise ExportError(f"{path}: record {n}: {loc}: {e['msg']}") from exc
    versions = {r.format_version for r in recs}
    if versions - {FORMAT_VERSION}:
        raise ExportError(f"{path}: format version {sorted(versions)}; this fanout reads {FORMAT_VERSION}")
    names = {r.suite for r in recs}
    if len(names) != 1 or len({r.suite_json for r in recs}) != 1:
        raise ExportError(f"{path}: records from more than one suite: {sorted(names)}")
    try:
        sspec = SuiteSpec.model_validate(json.loads(recs[0].suite_json))
    except (ValueError, ValidationError) as exc:
        raise ExportError(f"{path}: suite settings do not validate: {exc}") from exc
    try:
        reg = (registry or default_registry()).extended(table_tool(t) for t in sspec.tools)
    except ValueError as exc:
        raise ExportError(f"{path}: suite table tools: {exc}") from exc
    tasks: list[Task] = []
    for r in recs:
        try:
            spec = TaskSpec.model_validate(json.loads(r.task_json))
            tasks.append(build_task(spec, r.file, r.suite, reg, sspec.matching))
        except ValidationError as exc:
            e = exc.errors()[0]
            errors.append(FixtureError(r.file, r.id, ".".join(map(str, e["loc"])), e["msg"]))
        except ValueError as exc:  # FixtureError, or task_json that is not JSON
            errors.append(
                exc if isinstance(exc, FixtureError) else FixtureError(r.file, r.id, None, str(exc))
            )
    if errors:
        raise FixtureErrors(errors)
    return Suite(r.suite, path, sspec, sorted(tasks, key=lambda t: t.id), reg)
