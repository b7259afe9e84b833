"""TaskBench (tool graphs) -> a Fanout suite whose graph is TaskBench's data flow.

Resource domains (huggingface, multimedia): a tool takes typed inputs (`input-type`: text, image,
audio, video, url) and returns typed outputs. An argument `"<node-j>"` (or `"<output_of_Tool_Name>"`)
is another step's output; it becomes a reference to that step's output of the type its parameter
takes, and a placeholder inside text ("you're feeling <node-0>") is substituted as text. Records
index `<node-j>` from 0 (TaskBench's own evaluator does) or, in some records, from 1: the indexing
under which more references agree with `task_links` wins, ties going to 0. A reference the links
do not list is kept (the record's arguments say where the data comes from; the link is added, with
a note), and a link with no argument behind it becomes an `after` edge. Arguments are placed by
type, not position: a step's output by its output type, a literal by its file extension (TaskBench's
own `get_content_type`) or URL shape; a record whose arguments fit no assignment is skipped.

DailyLife (dailylifeapis): arguments are `[{name, value}]` literals, coerced to the parameter's
type, and links only say which step comes first. They become `after` edges and the suite is marked
`ordering_only` (or, with `--dailylife skip`, the domain is refused with a message). TaskBench
scores DailyLife on the tool graph alone, so its tasks are calls-only (no answer check).
"""

from __future__ import annotations

import itertools
import json
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from evals.schema import SuiteSpec
from evals.templating import TemplateError, compile_value
from mock_tools.canonical import normalized_key

from .base import Conversion, Importer, ImportOptions, importer
from .common import (
    EntrySkip,
    ImportReport,
    SourceError,
    SuiteBuilder,
    answer_group,
    coerce,
    digest,
    graph_pattern,
    literal,
    loads,
    read_source,
)
from .schemas import loose_type, tool_name

_PLACEHOLDER = re.compile(r"<node-(\d+)>|<output_of_([^<>]+)>")
_EXT = {"image": ".jpg", "audio": ".wav", "video": ".mp4"}
# TaskBench's evaluate.py (get_content_type): a literal's type from its file extension.
_CONTENT_EXT = {
    "image": ("jpg", "png", "jpeg", "gif", "bmp", "tiff", "svg", "ico"),
    "audio": ("mp3", "wav", "wma", "ogg", "aac", "flac", "aiff", "au"),
    "video": ("mp4", "avi", "mov", "flv", "wmv", "mkv", "webm", "m4v", "mpg", "mpeg"),
}
_URL = re.compile(r"^(https?://|www\.)\S+$", re.IGNORECASE)


class TaskBenchRecord(BaseModel):
    model_config = ConfigDict(extra="allow")
    id: str | int
    type: str = "dag"
    instruction: str | None = None
    user_request: str | None = None
    task_nodes: list | str | None = None
    task_links: list | str | None = None
    tool_nodes: list | str | None = None
    tool_links: list | str | None = None

    def prompt(self) -> str | None:
        """The user's request: `instruction` in the released data, `user_request` in some versions."""
        return self.instruction or self.user_request

    def nodes(self) -> list:
        return _maybe_json(self.task_nodes if self.task_nodes is not None else self.tool_nodes) or []

    def links(self) -> list:
        return _maybe_json(self.task_links if self.task_links is not None else self.tool_links) or []


def _maybe_json(v: Any) -> Any:
    if isinstance(v, str):
        try:
            return loads(v)
        except ValueError:
            return None
    return v


# -- reading ----------------------------------------------------------------------------------
def _read_records(path: Path) -> list[dict]:
    text = read_source(path)
    if text.lstrip().startswith("["):
        try:
            data = loads(text)
        except ValueError as exc:
            raise SourceError(f"{path}: not JSON ({exc})") from exc
        return [d for d in data if isinstance(d, dict)]
    out = []
    for i, line in enumerate(text.splitlines(), start=1):
        if line.strip():
            try:
                out.append(loads(line))
            except ValueError as exc:
                raise SourceError(f"{path} line {i}: not JSON ({exc})") from exc
    return out


def _read_tools(path: Path) -> list[dict]:
    try:
        data = loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise SourceError(f"cannot read tool descriptions {path}: {exc}") from exc
    nodes = data.get("nodes") if isinstance(data, dict) else data
    if not isinstance(nodes, list):
        raise SourceError(f"{path}: expected {{'nodes': [...]}} tool descriptions")
    return [n for n in nodes if isinstance(n, dict) and "id" in n]


def _from_hub(name: str, domain: str | None) -> list[dict]:
    try:
        import datasets  # heavy; only needed for hub sources
    except ImportError as exc:
        raise SourceError(
            f"{name!r} is not a local path, and the `datasets` package is not installed"
        ) from exc
    try:
        ds = datasets.load_dataset(name, domain) if domain else datasets.load_dataset(name)
    except Exception as exc:  # noqa: BLE001 - any hub failure gets the same advice
        raise SourceError(
            f"{name!r} is not a local path and loading it from the hub failed "
            f"({type(exc).__name__}: {str(exc).splitlines()[0][:200] if str(exc) else ''}). "
            "Download the domain's data.json and tool_desc.json and pass --source FOLDER."
        ) from exc
    rows: list[dict] = []
    for split in ds.values() if hasattr(ds, "values") else [ds]:
        rows.extend(dict(r) for r in split)
    return rows


def load(source: str, tools: Path | None, domain: str | None) -> tuple[str, list[dict], list[dict]]:
    """(domain name, records, tool descriptions)."""
    p = Path(source)
    if p.exists():
        data_file = p / "data.json" if p.is_dir() else p
        if not data_file.exists():
            raise SourceError(f"{p}: no data.json in this folder")
        tool_file = tools or data_file.with_name("tool_desc.json")
        if not tool_file.exists():
            raise SourceError(f"no tool descriptions: {tool_file} does not exist (pass --tools)")
        name = domain or (p.name if p.is_dir() else data_file.parent.name)
        return name, _read_records(data_file), _read_tools(tool_file)
    if tools is None:
        raise SourceError(
            f"{source!r} is not a local path; a hub dataset also needs --tools tool_desc.json "
            "(the hub copy has no tool descriptions)"
        )
    return domain or source.rsplit("/", 1)[-1], _from_hub(source, domain), _read_tools(tools)


def is_dailylife(tools: list[dict], records: list[dict]) -> bool:
    if any(isinstance(t.get("parameters"), list) for t in tools):
        return True
    for r in records[:50]:
        nodes = _maybe_json(r.get("task_nodes") or r.get("tool_nodes")) or []
        for n in nodes:
            args = n.get("arguments") if isinstance(n, dict) else None
            if isinstance(args, list) and any(isinstance(a, dict) and "name" in a for a in args):
                return True
    return False


# -- tools ------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Param:
    name: str
    kind: str  # resource domains: text/image/audio/video/url; DailyLife: the JSON type


@dataclass(frozen=True)
class ToolInfo:
    source_name: str  # TaskBench's id, e.g. "Image Segmentation"
    key: str  # the suite's table tool
    params: tuple[Param, ...]
    outputs: tuple[str, ...]  # response fields: output types (resource domains) or status/result


def _kind(raw: Any) -> str:
    return str(raw).strip().lower() or "text"


def _resource_params(types: list[str]) -> tuple[Param, ...]:
    """Input types -> parameters: `["text", "text"]` -> text_1, text_2."""
    seen: dict[str, int] = {}
    out = []
    for t in types:
        seen[t] = seen.get(t, 0) + 1
        out.append(Param(t if types.count(t) == 1 else f"{t}_{seen[t]}", t))
    return tuple(out)


def _tool_info(builder: SuiteBuilder, desc: dict, dailylife: bool) -> ToolInfo:
    tid = str(desc["id"])
    if dailylife:
        props: dict[str, dict] = {}
        params = []
        for prm in desc.get("parameters") or []:
            if not isinstance(prm, dict) or "name" not in prm:
                continue
            typ, fmt = loose_type(prm.get("type"))
            props[prm["name"]] = {"type": typ, "description": str(prm.get("desc", ""))}
            if fmt:
                props[prm["name"]]["format"] = fmt
            params.append(Param(prm["name"], typ))
        schema = {"type": "object", "properties": props, "required": [p.name for p in params]}
        outputs: tuple[str, ...] = ("status", "result")
    else:
        params = list(_resource_params([_kind(t) for t in desc.get("input-type") or []]))
        schema = {
            "type": "object",
            "properties": {
                p.name: {
                    "type": "string",
                    "description": f"{p.kind} input: a file name, URL or text, or an earlier step's output",
                }
                for p in params
            },
            "required": [p.name for p in params],
        }
        outputs = tuple(dict.fromkeys(_kind(t) for t in desc.get("output-type") or [])) or ("result",)
    key = builder.tool(tid, str(desc.get("desc", "")), schema)
    return ToolInfo(tid, key, tuple(params), outputs)


def _synth_output(tool: ToolInfo, args: dict) -> dict:
    h = digest(tool.key, normalized_key(args))
    out: dict[str, Any] = {}
    for f in tool.outputs:
        if f == "status":
            out[f] = "success"
        elif f == "url":
            out[f] = f"https://example.com/{h[:8]}"
        else:
            out[f] = f"{f}_{h[:8]}{_EXT.get(f, '')}"
    return out


# -- the importer -----------------------------------------------------------------------------
class TaskBenchOptions(ImportOptions):
    source: str = Field(
        description="domain folder (data.json + tool_desc.json), a data file, or a hub dataset name"
    )
    tools: str | None = Field(None, description="tool_desc.json (default: beside the data file)")
    domain: str | None = Field(
        None, description="hub config / domain name (huggingface, multimedia, dailylifeapis)"
    )
    dailylife: Literal["after", "skip"] = Field(
        "after",
        description="DailyLife links are temporal order: import them as `after` edges or skip the domain",
    )


@importer
class TaskBench(Importer[TaskBenchOptions]):
    name = "taskbench"
    summary = "TaskBench domain (data.json + tool_desc.json) or a hub dataset"
    options = TaskBenchOptions
    default_out = "tasks/taskbench"
    skip_reasons = (
        "a tool the tool descriptions do not list, or one tool used twice (links name tools)",
        "<node-j> references that fit neither 0- nor 1-based indexing, or a placeholder naming no step",
        "arguments that fit the tool's typed inputs in no order, or fewer arguments than inputs",
        "links that form a cycle, or two steps that are the same call",
        "the same instruction as an earlier record (a suite holds each prompt once)",
    )

    def convert(self, opts: TaskBenchOptions) -> Conversion:
        name, records, descs = load(opts.source, Path(opts.tools) if opts.tools else None, opts.domain)
        daily = is_dailylife(descs, records)
        if daily and opts.dailylife == "skip":
            raise SourceError(
                f"{name}: DailyLife-style domain (arguments [{{name, value}}], links are temporal order, not "
                "data flow); skipped as asked by --dailylife skip. Use --dailylife after to import the links "
                "as ordering (`after`) edges."
            )
        report = ImportReport(opts.source)
        builder = SuiteBuilder(report)
        tools = {str(d["id"]): _tool_info(builder, d, daily) for d in descs}
        cat = tool_name(name)
        for raw in records:
            rid = str(raw.get("id", "?")) if isinstance(raw, dict) else "?"
            report.records[cat] += 1
            notes: list[str] = []
            task = report.attempt(cat, rid, _record_task, builder, raw, tools, daily, cat, notes)
            if task is not None and builder.add(cat, cat, rid, task):
                for n in notes:
                    report.note(cat, rid, n)
        suite = SuiteSpec(
            description=f"TaskBench {name} tool graphs"
            + (" (links are temporal order: imported as `after` edges; calls-only)" if daily else ""),
            ordering_only=daily,
            license="MIT (TaskBench, Microsoft JARVIS)",
        )
        return Conversion.of(builder, suite)


# -- one record -------------------------------------------------------------------------------
@dataclass
class Step:
    index: int
    tool: ToolInfo
    raw_args: Any

    @property
    def id(self) -> str:
        return f"n{self.index}"


@dataclass
class Arg:
    """One source argument before placement: the kinds of parameter it fits, and its fixture value
    for a parameter of a given kind (a reference reads the source step's output of that kind)."""

    text: str  # as the record wrote it, for messages
    kinds: tuple[str, ...]
    value: Callable[[str], Any]
    sources: frozenset[int] = frozenset()


def _record_task(
    builder: SuiteBuilder, raw: Any, tools: dict[str, ToolInfo], daily: bool, cat: str, notes: list[str]
) -> dict:
    return _Record(builder, TaskBenchRecord.model_validate(raw), tools, daily, cat, notes).task()


@dataclass
class _Record:
    builder: SuiteBuilder
    rec: TaskBenchRecord
    tools: dict[str, ToolInfo]
    daily: bool
    cat: str
    notes: list[str]
    steps: list[Step] = field(default_factory=list)

    def task(self) -> dict:
        prompt = self.rec.prompt()
        if not prompt or not prompt.strip():
            raise EntrySkip("no instruction")
        self.steps = self._steps()
        links = self._links()
        if self.daily:
            calls = [self._daily_call(s, links) for s in self.steps]
        else:
            sources = self._reference_sources(links)
            calls = [self._resource_call(s, links, sources) for s in self.steps]
        outputs = self._resolve(calls)
        deps = {c["id"]: set(c.get("after", [])) | _refs_of(c["args"]) for c in calls}
        pattern = graph_pattern(deps)
        if self.rec.type in ("single", "chain", "dag") and self.rec.type != pattern:
            self.notes.append(f"TaskBench labels it {self.rec.type!r}; the imported graph is {pattern!r}")
        task: dict[str, Any] = {
            "id": re.sub(r"[^A-Za-z0-9_.:\-]", "_", f"{self.cat}_{self.rec.id}"),
            "pattern": pattern,
            "prompt": prompt,
            "tools": list(dict.fromkeys(c["tool"] for c in calls)),
            "calls": calls,
            "tags": ["taskbench", self.cat] + (["ordering_only", "calls_only"] if self.daily else []),
            "source": {"dataset": "taskbench", "domain": self.cat, "id": str(self.rec.id)},
        }
        if not self.daily:
            # The steps no other step reads end the task: the answer reports their results.
            needed = {u for ds in deps.values() for u in ds}
            groups = [answer_group(c["id"], outputs[c["id"]], prompt) for c in calls if c["id"] not in needed]
            groups = [g for g in groups if g]
            if groups:
                task["answer"] = {"contains_any": groups}
        if self.notes:
            task["notes"] = "; ".join(self.notes)
        return task

    # -- graph ---------------------------------------------------------------------------------
    def _steps(self) -> list[Step]:
        raw_nodes = self.rec.nodes()
        if not raw_nodes:
            raise EntrySkip("no task nodes")
        steps = []
        for i, n in enumerate(raw_nodes):
            if not isinstance(n, dict) or not isinstance(n.get("task"), str):
                raise EntrySkip("a task node without a `task` name")
            tool = self.tools.get(n["task"])
            if tool is None:
                raise EntrySkip(f"tool {n['task']!r} is not in tool_desc.json")
            steps.append(Step(i, tool, n.get("arguments")))
        names = [s.tool.source_name for s in steps]
        dup = sorted({t for t in names if names.count(t) > 1})
        if dup:
            raise EntrySkip(f"tool(s) {dup} used twice; task_links name tools, so their links are ambiguous")
        return steps

    def _links(self) -> set[tuple[int, int]]:
        by_name = {s.tool.source_name: s.index for s in self.steps}
        links: set[tuple[int, int]] = set()
        for link in self.rec.links():
            s, t = (link.get("source"), link.get("target")) if isinstance(link, dict) else (None, None)
            if s not in by_name or t not in by_name:
                raise EntrySkip(f"link {s!r} -> {t!r} names a tool that is not a node of this record")
            if s == t:
                raise EntrySkip(f"link {s!r} -> {t!r} is a self-loop")
            links.add((by_name[s], by_name[t]))
        return links

    def _placeholders(self) -> list[tuple[int, re.Match]]:
        out: list[tuple[int, re.Match]] = []
        for s in self.steps:
            for text in _strings(s.raw_args):
                out.extend((s.index, m) for m in _PLACEHOLDER.finditer(text))
        return out

    def _reference_sources(self, links: set[tuple[int, int]]) -> dict[str, int]:
        """Each placeholder's source step, `<node-j>` under the indexing the links agree with more."""
        found = self._placeholders()
        node_refs = [(i, int(m.group(1))) for i, m in found if m.group(1) is not None]
        base = 0
        if node_refs:
            n = len(self.steps)
            valid = [b for b in (0, 1) if all(0 <= j - b < n and j - b != i for i, j in node_refs)]
            if not valid:
                raise EntrySkip("<node-j> arguments fit neither 0- nor 1-based indexing of the steps")
            agree = {b: sum((j - b, i) in links for i, j in node_refs) for b in valid}
            base = max(valid, key=lambda b: (agree[b], -b))
            if base == 1:
                self.notes.append("<node-j> counted from 1 in this record (the links agree)")
        by_tool = {_squash(s.tool.source_name): s.index for s in self.steps}
        out: dict[str, int] = {}
        for i, m in found:
            token = m.group(0)
            if m.group(1) is not None:
                k = int(m.group(1)) - base
            else:
                k_ = by_tool.get(_squash(m.group(2)))
                if k_ is None:
                    raise EntrySkip(f"placeholder {token} names no step of this record")
                if k_ == i:
                    raise EntrySkip(f"placeholder {token} in step {i} names the step itself")
                k = k_
            if (k, i) not in links:
                self.notes.append(
                    f"step {i} ({self.steps[i].tool.source_name}) reads {token} "
                    f"({self.steps[k].tool.source_name}) but task_links omit that link: the reference is kept"
                )
            out[f"{i}:{token}"] = k
        return out

    # -- calls ---------------------------------------------------------------------------------
    def _resource_call(self, step: Step, links: set[tuple[int, int]], sources: dict[str, int]) -> dict:
        raw = step.raw_args
        if isinstance(raw, str | int | float) and not isinstance(raw, bool):
            raw = [raw]
        raw = list(raw or []) if isinstance(raw, list) else raw
        if not isinstance(raw, list):
            raise EntrySkip(f"arguments of {step.tool.source_name} are not a list")
        args = [self._arg(step, a, sources) for a in raw]
        params = step.tool.params
        name = step.tool.source_name
        if len(args) > len(params):
            raise EntrySkip(f"{name} gets {len(args)} arguments but takes {len(params)}")
        if len(args) < len(params):
            raise EntrySkip(
                f"{name} takes {len(params)} inputs ({', '.join(p.kind for p in params)}) "
                f"but the record gives {len(args)}"
            )
        placed = _place(args, params)
        if placed is None:
            given = ", ".join(f"{a.text!r} ({'/'.join(a.kinds)})" for a in args)
            raise EntrySkip(
                f"arguments {given} fit the inputs of {name} ({', '.join(p.kind for p in params)}) in no order"
            )
        if placed != list(range(len(args))):
            self.notes.append(
                f"placed the arguments of step {step.index} ({name}) by type: "
                + ", ".join(f"{args[a].text!r} -> {params[p].name}" for a, p in enumerate(placed))
            )
        out: dict[str, Any] = {}
        refs: set[int] = set()
        for a, p in enumerate(placed):
            out[params[p].name] = args[a].value(params[p].kind)
            refs |= args[a].sources
        call: dict[str, Any] = {"id": step.id, "tool": step.tool.key, "args": out}
        after = sorted(s for s, t in links if t == step.index and s not in refs)
        if after:
            call["after"] = [f"n{s}" for s in after]
        return call

    def _arg(self, step: Step, raw: Any, sources: dict[str, int]) -> Arg:
        if isinstance(raw, dict):  # some releases write {"name": ..., "value": ...}
            raw = raw.get("value", next(iter(raw.values()), ""))
        if isinstance(raw, list):
            raw = " ".join(str(x) for x in raw)
        if not isinstance(raw, str):
            text = coerce(raw, "string")
            return Arg(str(text), ("text",), _constant(text))
        matches = list(_PLACEHOLDER.finditer(raw))
        if not matches:
            return Arg(raw, _content_kinds(raw), _constant(literal(raw)))
        srcs = [sources[f"{step.index}:{m.group(0)}"] for m in matches]
        if len(matches) == 1 and matches[0].group(0) == raw.strip():
            src = self.steps[srcs[0]]
            return Arg(raw, src.tool.outputs, _reference(src), frozenset(srcs))
        parts, pos = [], 0  # a placeholder inside text: substituted as text
        for m, k in zip(matches, srcs, strict=True):
            src = self.steps[k]
            parts.append(literal(raw[pos : m.start()]))
            parts.append("{{ " + src.id + "[" + json.dumps(_field(src.tool, "text")) + "] }}")
            pos = m.end()
        parts.append(literal(raw[pos:]))
        return Arg(raw, ("text",), _constant("".join(parts)), frozenset(srcs))

    def _daily_call(self, step: Step, links: set[tuple[int, int]]) -> dict:
        raw = step.raw_args
        name = step.tool.source_name
        if not isinstance(raw, list):
            raise EntrySkip(f"arguments of {name} are not a [{{name, value}}] list")
        types = {p.name: p.kind for p in step.tool.params}
        args: dict[str, Any] = {}
        for a in raw:
            if not isinstance(a, dict) or "name" not in a:
                raise EntrySkip(f"an argument of {name} has no name")
            if a["name"] not in types:
                raise EntrySkip(f"argument {a['name']!r} is not a parameter of {name}")
            value = coerce(a.get("value"), types[a["name"]])
            if value != a.get("value"):
                self.notes.append(
                    f"{name}.{a['name']}: {a.get('value')!r} given as the {types[a['name']]} {value!r}"
                )
            args[a["name"]] = literal(value)
        call: dict[str, Any] = {"id": step.id, "tool": step.tool.key, "args": args}
        after = sorted(s for s, t in links if t == step.index)
        if after:
            call["after"] = [f"n{s}" for s in after]
        return call

    def _resolve(self, calls: list[dict]) -> dict[str, Any]:
        """Execute the graph on the synthesized tools: each step's response row, by step id."""
        by_id = {c["id"]: c for c in calls}
        step_of = {s.id: s for s in self.steps}
        outputs: dict[str, Any] = {}
        seen: dict[str, str] = {}
        for v in _topo(calls):
            c = by_id[v]
            try:
                resolved = compile_value(c["args"])(outputs)
            except TemplateError as exc:
                raise EntrySkip(f"node {v}: {exc}") from exc
            key = c["tool"] + "\x00" + normalized_key(resolved)
            if key in seen:
                raise EntrySkip(f"nodes {seen[key]} and {v} are the same call")
            seen[key] = v
            tool = step_of[v].tool
            outputs[v] = self.builder.row(c["tool"], resolved, _synth_output(tool, resolved))
        return outputs


def _constant(value: Any) -> Callable[[str], Any]:
    """The fixture value of a literal argument, whatever parameter it lands in."""
    return lambda _kind: value


def _reference(src: Step) -> Callable[[str], Any]:
    """A reference to `src`'s output of the kind the parameter takes."""
    return lambda kind: "{{ " + src.id + "[" + json.dumps(_field(src.tool, kind)) + "] }}"


def _strings(raw: Any) -> list[str]:
    if isinstance(raw, str):
        return [raw]
    if isinstance(raw, list):
        return [x for r in raw for x in _strings(r)]
    if isinstance(raw, dict):
        return [x for r in raw.values() for x in _strings(r)]
    return []


def _squash(name: str) -> str:
    return re.sub(r"[^a-z0-9]", "", name.lower())


def _content_kinds(text: str) -> tuple[str, ...]:
    """The parameter types a literal fits: its media type by extension (as TaskBench's evaluator
    reads it), `url` for a URL, text otherwise; a URL also fits a text input (URL Extractor)."""
    low = text.strip().lower()
    media = next((k for k, exts in _CONTENT_EXT.items() if any("." + e in low for e in exts)), None)
    url = bool(_URL.match(low))
    if media:
        return (media, "url") if url else (media,)
    return ("url", "text") if url else ("text",)


def _field(tool: ToolInfo, kind: str) -> str:
    """The output field a reference reads for a parameter of `kind`."""
    return kind if kind in tool.outputs else tool.outputs[0]


def _place(args: list[Arg], params: tuple[Param, ...]) -> list[int] | None:
    """Parameter index for each argument: positional when every argument fits its position, else
    the first assignment (in positional preference) where each fits its parameter's type."""
    if all(p.kind in a.kinds for a, p in zip(args, params, strict=False)):
        return list(range(len(args)))
    for perm in itertools.permutations(range(len(params)), len(args)):
        if all(params[p].kind in args[a].kinds for a, p in enumerate(perm)):
            return list(perm)
    return None


def _refs_of(args: dict) -> set[str]:
    out: set[str] = set()
    for v in args.values():
        if isinstance(v, str):
            out |= set(re.findall(r"\{\{ (n\d+)\[", v))
    return out


def _topo(calls: list[dict]) -> list[str]:
    deps = {c["id"]: set(c.get("after", [])) | _refs_of(c["args"]) for c in calls}
    done: list[str] = []
    while len(done) < len(calls):
        ready = [v for v in deps if v not in done and deps[v] <= set(done)]
        if not ready:
            raise EntrySkip("task_links form a cycle")
        done.extend(ready)
    return done
