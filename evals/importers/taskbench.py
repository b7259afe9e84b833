"""TaskBench (tool graphs) -> a Fanout suite whose graph is TaskBench's `task_links`.

Resource domains (huggingface, multimedia): a tool takes typed inputs (`input-type`) and an
argument `"<node-j>"` is the output of another step. The `j` indexes inconsistently (from 0 in some
records, from 1 in others), so the links decide: an argument reference becomes a jinja reference to
the link source it names under whichever indexing agrees with the links, and a link with no argument
behind it becomes an `after` edge.

DailyLife (dailylifeapis): arguments are `[{name, value}]` literals and links only say which step
comes first. They become `after` edges and the suite is marked `ordering_only` (or, with
`--dailylife skip`, the domain is refused with a message).
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, ValidationError

from evals.schema import SuiteSpec
from evals.templating import TemplateError, compile_value
from mock_tools.canonical import normalized_key

from .common import (
    EntrySkip,
    ImportError_,
    ImportReport,
    SuiteBuilder,
    answer_group,
    check_out,
    digest,
    literal,
    malformed,
)
from .schemas import loose_type, tool_name

_NODE_REF = re.compile(r"^<node-(\d+)>$")
_EXT = {"image": ".jpg", "audio": ".wav", "video": ".mp4"}


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
        return self.instruction or self.user_request

    def nodes(self) -> list:
        return _maybe_json(self.task_nodes if self.task_nodes is not None else self.tool_nodes) or []

    def links(self) -> list:
        return _maybe_json(self.task_links if self.task_links is not None else self.tool_links) or []


def _maybe_json(v: Any) -> Any:
    if isinstance(v, str):
        try:
            return json.loads(v)
        except ValueError:
            return None
    return v


# -- reading ----------------------------------------------------------------------------------
def _read_records(path: Path) -> list[dict]:
    text = path.read_text(encoding="utf-8")
    stripped = text.lstrip()
    if stripped.startswith("["):
        try:
            data = json.loads(text)
        except ValueError as exc:
            raise ImportError_(f"{path}: not JSON ({exc})") from exc
        return [d for d in data if isinstance(d, dict)]
    out = []
    for i, line in enumerate(text.splitlines(), start=1):
        if line.strip():
            try:
                out.append(json.loads(line))
            except ValueError as exc:
                raise ImportError_(f"{path} line {i}: not JSON ({exc})") from exc
    return out


def _read_tools(path: Path) -> list[dict]:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise ImportError_(f"cannot read tool descriptions {path}: {exc}") from exc
    nodes = data.get("nodes") if isinstance(data, dict) else data
    if not isinstance(nodes, list):
        raise ImportError_(f"{path}: expected {{'nodes': [...]}} tool descriptions")
    return [n for n in nodes if isinstance(n, dict) and "id" in n]


def _from_hub(name: str, domain: str | None) -> list[dict]:
    try:
        import datasets  # heavy; only needed for hub sources
    except ImportError as exc:
        raise ImportError_(
            f"{name!r} is not a local path, and the `datasets` package is not installed"
        ) from exc
    try:
        ds = datasets.load_dataset(name, domain) if domain else datasets.load_dataset(name)
    except Exception as exc:  # noqa: BLE001 - any hub failure gets the same advice
        raise ImportError_(
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
            raise ImportError_(f"{p}: no data.json in this folder")
        tool_file = tools or data_file.with_name("tool_desc.json")
        if not tool_file.exists():
            raise ImportError_(f"no tool descriptions: {tool_file} does not exist (pass --tools)")
        name = domain or (p.name if p.is_dir() else data_file.parent.name)
        return name, _read_records(data_file), _read_tools(tool_file)
    if tools is None:
        raise ImportError_(
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
def _resource_params(types: list[str]) -> list[tuple[str, str]]:
    """Positional input types -> (parameter name, type): `["text", "text"]` -> text_1, text_2."""
    counts = {t: types.count(t) for t in types}
    seen: dict[str, int] = {}
    out = []
    for t in types:
        seen[t] = seen.get(t, 0) + 1
        out.append((t if counts[t] == 1 else f"{t}_{seen[t]}", t))
    return out


def _tool_spec(desc: dict, dailylife: bool) -> tuple[dict, list[tuple[str, str]], list[str]]:
    """(JSON schema, positional params, output fields)."""
    if dailylife:
        props, order = {}, []
        for prm in desc.get("parameters") or []:
            if not isinstance(prm, dict) or "name" not in prm:
                continue
            typ, fmt = loose_type(prm.get("type"))
            props[prm["name"]] = {"type": typ, "description": str(prm.get("desc", ""))}
            if fmt:
                props[prm["name"]]["format"] = fmt
            order.append((prm["name"], typ))
        schema = {"type": "object", "properties": props, "required": [n for n, _ in order]}
        return schema, order, ["status", "result"]
    params = _resource_params([str(t) for t in desc.get("input-type") or []])
    props = {
        n: {
            "type": "string",
            "description": f"{t} input: a file name, URL or text, or an earlier step's output",
        }
        for n, t in params
    }
    schema = {"type": "object", "properties": props, "required": [n for n, _ in params]}
    outs = [str(t) for t in desc.get("output-type") or []] or ["result"]
    return schema, params, list(dict.fromkeys(outs))


def _synth_output(fields: list[str], tool: str, args: dict) -> dict:
    h = digest(tool, normalized_key(args))
    out: dict[str, Any] = {}
    for f in fields:
        if f == "status":
            out[f] = "success"
        elif f in _EXT:
            out[f] = f"{f}_{h[:8]}{_EXT[f]}"
        else:
            out[f] = f"{f}_{h[:8]}"
    return out


# -- import -----------------------------------------------------------------------------------
def import_taskbench(
    source: str,
    out: Path,
    tools: Path | None = None,
    domain: str | None = None,
    dailylife: str = "after",
    force: bool = False,
    duplicates: str = "tag",
) -> ImportReport:
    check_out(out, force)
    name, records, descs = load(source, tools, domain)
    daily = is_dailylife(descs, records)
    if daily and dailylife == "skip":
        raise ImportError_(
            f"{name}: DailyLife-style domain (arguments [{{name, value}}], links are temporal order, not "
            "data flow); skipped as asked by --dailylife skip. Use --dailylife after to import the links "
            "as ordering (`after`) edges."
        )
    report = ImportReport(source)
    builder = SuiteBuilder(report, duplicates)
    by_name = {str(d["id"]): d for d in descs}
    tool_info: dict[str, tuple[str, list[tuple[str, str]], list[str]]] = {}
    for tid, d in by_name.items():
        schema, params, outs = _tool_spec(d, daily)
        tool_info[tid] = (builder.tool(tid, str(d.get("desc", "")), schema), params, outs)
    cat = tool_name(name)
    for raw in records:
        rid = str(raw.get("id", "?")) if isinstance(raw, dict) else "?"
        try:
            rec = TaskBenchRecord.model_validate(raw)
            task = _task(builder, rec, tool_info, daily, cat)
        except ValidationError as exc:
            report.skip(cat, rid, malformed(exc))
            continue
        except EntrySkip as exc:
            report.skip(cat, rid, str(exc))
            continue
        builder.add(cat, cat, rid, task)
    suite = SuiteSpec(
        name=out.name,
        description=f"TaskBench {name} tool graphs"
        + (" (links are temporal order: imported as `after` edges)" if daily else ""),
        ordering_only=daily,
        license="MIT (TaskBench, Microsoft JARVIS)",
    )
    builder.write(out, suite, force=force)
    return report


def _task(builder: SuiteBuilder, rec: TaskBenchRecord, tool_info: dict, daily: bool, cat: str) -> dict:
    prompt = rec.prompt()
    if not prompt or not prompt.strip():
        raise EntrySkip("no instruction")
    raw_nodes = rec.nodes()
    if not raw_nodes:
        raise EntrySkip("no task nodes")
    names = []
    for n in raw_nodes:
        if not isinstance(n, dict) or not isinstance(n.get("task"), str):
            raise EntrySkip("a task node without a `task` name")
        if n["task"] not in tool_info:
            raise EntrySkip(f"tool {n['task']!r} is not in tool_desc.json")
        names.append(n["task"])
    dup = sorted({t for t in names if names.count(t) > 1})
    if dup:
        raise EntrySkip(f"tool(s) {dup} used twice; task_links name tools, so their links are ambiguous")
    ids = {t: f"n{i}" for i, t in enumerate(names)}
    incoming: dict[str, list[str]] = {t: [] for t in names}
    for link in rec.links():
        s, t = (link.get("source"), link.get("target")) if isinstance(link, dict) else (None, None)
        if s not in ids or t not in ids:
            raise EntrySkip(f"link {s!r} -> {t!r} names a tool that is not a node of this record")
        if s == t:
            raise EntrySkip(f"link {s!r} -> {t!r} is a self-loop")
        if s not in incoming[t]:
            incoming[t].append(s)
    base = None if daily else _index_base(raw_nodes, names, incoming)
    calls = []
    for i, n in enumerate(raw_nodes):
        tool, params, _outs = tool_info[names[i]]
        args, refs = _args(n.get("arguments"), params, daily, names, i, base, tool_info, incoming)
        after = [ids[s] for s in incoming[names[i]] if s not in refs]
        node: dict[str, Any] = {"id": ids[names[i]], "tool": tool, "args": args}
        if after:
            node["after"] = after
        calls.append(node)
    outputs: dict[str, Any] = {}
    order = _topo(calls)
    seen: dict[str, str] = {}
    for c in order:
        try:
            resolved = compile_value(c["args"])(outputs)
        except TemplateError as exc:
            raise EntrySkip(f"node {c['id']}: {exc}") from exc
        key = c["tool"] + "\x00" + normalized_key(resolved)
        if key in seen:
            raise EntrySkip(f"nodes {seen[key]} and {c['id']} are the same call")
        seen[key] = c["id"]
        outs = tool_info[names[int(c["id"][1:])]][2]
        outputs[c["id"]] = builder.row(c["tool"], resolved, _synth_output(outs, c["tool"], resolved))
    needed = {u for c in calls for u in set(c.get("after", [])) | _refs_of(c["args"])}
    sinks = [c["id"] for c in calls if c["id"] not in needed]  # the steps whose results end the task
    groups = [g for g in (answer_group(v, outputs[v]) for v in sinks) if g]
    return {
        "id": re.sub(r"[^A-Za-z0-9_.:\-]", "_", f"{cat}_{rec.id}"),
        "pattern": rec.type if rec.type in ("single", "chain", "dag") else "dag",
        "prompt": prompt,
        "tools": list(dict.fromkeys(c["tool"] for c in calls)),
        "calls": calls,
        "answer": {"contains_any": groups},
        "tags": ["taskbench", cat] + (["ordering_only"] if daily else []),
        "source": {"dataset": "taskbench", "domain": cat, "id": str(rec.id)},
    }


def _refs_of(args: dict) -> set[str]:
    out = set()
    for v in args.values():
        if isinstance(v, str):
            out |= set(re.findall(r"\{\{ (n\d+)\[", v))
    return out


def _topo(calls: list[dict]) -> list[dict]:
    by_id = {c["id"]: c for c in calls}
    deps = {c["id"]: set(c.get("after", [])) | _refs_of(c["args"]) for c in calls}
    done: list[str] = []
    while len(done) < len(calls):
        ready = [v for v in by_id if v not in done and deps[v] <= set(done)]
        if not ready:
            raise EntrySkip("task_links form a cycle")
        done.extend(ready)
    return [by_id[v] for v in done]


def _index_base(raw_nodes: list, names: list[str], incoming: dict[str, list[str]]) -> int | None:
    """0 or 1: the indexing of `<node-j>` under which every reference points at a link source."""
    refs: list[tuple[int, int]] = []
    for i, n in enumerate(raw_nodes):
        for a in n.get("arguments") or []:
            m = _NODE_REF.match(a.strip()) if isinstance(a, str) else None
            if m:
                refs.append((i, int(m.group(1))))
    if not refs:
        return None
    ok = []
    for base in (0, 1):
        good = True
        for i, j in refs:
            k = j - base
            if not (0 <= k < len(names)) or k == i or names[k] not in incoming[names[i]]:
                good = False
                break
        if good:
            ok.append(base)
    if len(ok) == 1:
        return ok[0]
    if not ok:
        # Fall back on the links alone when each referencing node has exactly one incoming link.
        if all(len(incoming[names[i]]) == 1 for i, _ in refs):
            return -1
        raise EntrySkip("<node-j> arguments match the task_links under neither 0- nor 1-based indexing")
    return ok[0]


def _args(
    raw: Any,
    params: list[tuple[str, str]],
    daily: bool,
    names: list[str],
    i: int,
    base: int | None,
    tool_info: dict,
    incoming: dict[str, list[str]],
) -> tuple[dict, set[str]]:
    """(fixture arguments, tools referenced)."""
    if daily:
        if not isinstance(raw, list):
            raise EntrySkip(f"arguments of {names[i]} are not a [{{name, value}}] list")
        args = {}
        known = {p for p, _ in params}
        for a in raw:
            if not isinstance(a, dict) or "name" not in a:
                raise EntrySkip(f"an argument of {names[i]} has no name")
            if a["name"] not in known:
                raise EntrySkip(f"argument {a['name']!r} is not a parameter of {names[i]}")
            args[a["name"]] = literal(a.get("value"))
        return args, set()
    if isinstance(raw, str):
        raw = [raw]
    raw = raw or []
    if len(raw) > len(params):
        raise EntrySkip(f"{names[i]} gets {len(raw)} arguments but takes {len(params)}")
    args, refs = {}, set()
    for (pname, ptype), value in zip(params, raw, strict=False):
        m = _NODE_REF.match(value.strip()) if isinstance(value, str) else None
        if m:
            if base == -1:  # indexing agrees with neither base; the node's single link decides
                src_name = incoming[names[i]][0]
            else:
                k = int(m.group(1)) - (base or 0)
                src_name = names[k]
            outs = tool_info[src_name][2]
            field = ptype if ptype in outs else outs[0]
            sid = f"n{names.index(src_name)}"
            args[pname] = "{{ " + sid + "[" + json.dumps(field) + "] }}"
            refs.add(src_name)
        else:
            args[pname] = literal(value)
    return args, refs
