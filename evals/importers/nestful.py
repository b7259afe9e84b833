"""NESTFUL (nested API-call sequences) -> a Fanout suite whose references are real dependencies.

A call's argument `"$var1.field$"` names the output of the call labelled `var1`; it becomes the
reference `{{ var1["field"] }}`, so the dependency graph is exactly the data flow NESTFUL records.
NESTFUL's tools are not executable here, so each becomes a table tool whose response to the
sample's call carries every field later calls read, with deterministic synthetic values (typed by
the parameter that consumes them: a number where a later call needs a number, and so on).

Accepted sources: the v1 release (a folder of `<name>-data.json` + `<name>-spec.json`, or one
data file with its spec beside it) and the v2 JSON Lines format (`sample_id, input,
output[{name, label, arguments}], tools, gold_answer`).
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, ValidationError

from evals.schema import SuiteSpec
from evals.templating import TemplateError, compile_value, refs_in
from mock_tools.canonical import canonical_json, normalized_key

from .common import (
    EntrySkip,
    ImportError_,
    ImportReport,
    SuiteBuilder,
    answer_group,
    check_out,
    literal,
    malformed,
    synth_value,
)
from .schemas import infer_schema, loose_schema, loose_type

RESULT_CALL = "var_result"  # NESTFUL's marker for the final answer, not a tool
_REF = re.compile(r"\$(var_?\d+)((?:\.[^$]*)?)\$")
_BROKEN_REF = re.compile(r"^\$?(var_?\d+)((?:\.[^$\s]+)?)\$?$")
_ARITH = re.compile(r"^[\d\s+\-*/().]*$")
_SEGMENT = re.compile(r"([^.\[\]]+)|\[(\d+)\]")


class NestfulCall(BaseModel):
    model_config = ConfigDict(extra="allow")
    name: str
    arguments: dict[str, Any] = {}
    label: str | None = None


class NestfulSample(BaseModel):
    model_config = ConfigDict(extra="allow")
    sample_id: str | None = None
    input: str
    output: list[NestfulCall]
    tools: list[dict] | None = None
    gold_answer: Any = None


@dataclass
class Source:
    category: str
    samples: list[tuple[str, Any]]  # (entry id, raw record)
    specs: dict[str, dict] = field(default_factory=dict)  # tool name -> spec, for v1


def _load_json(path: Path) -> Any:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise ImportError_(f"cannot read {path}: {exc}") from exc


def _spec_map(path: Path) -> dict[str, dict]:
    data = _load_json(path)
    if isinstance(data, dict):
        data = data.get("tools") or list(data.values())
    if not isinstance(data, list):
        raise ImportError_(f"{path}: expected a list of tool specs")
    return {s["name"]: s for s in data if isinstance(s, dict) and isinstance(s.get("name"), str)}


def discover(source: Path) -> list[Source]:
    if not source.exists():
        raise ImportError_(f"source {source} does not exist")
    if source.is_dir():
        data_files = sorted(source.glob("*-data.json")) + sorted(source.glob("*.jsonl"))
        if not data_files:
            raise ImportError_(f"{source}: no NESTFUL files (*-data.json with *-spec.json, or *.jsonl)")
        return [s for f in data_files for s in discover(f)]
    if source.suffix == ".jsonl":
        samples = []
        for i, line in enumerate(source.read_text(encoding="utf-8").splitlines(), start=1):
            if line.strip():
                try:
                    rec = json.loads(line)
                except ValueError as exc:
                    raise ImportError_(f"{source} line {i}: not JSON ({exc})") from exc
                sid = rec.get("sample_id") if isinstance(rec, dict) else None
                samples.append((str(sid) if sid is not None else f"{source.stem}_{i}", rec))
        return [Source(source.stem, samples)]
    stem = source.name.removesuffix(".json").removesuffix("-data")
    spec_file = source.with_name(f"{stem}-spec.json")
    if not spec_file.exists():
        raise ImportError_(f"{source}: its tool specs {spec_file.name} are not beside it")
    data = _load_json(source)
    if not isinstance(data, list):
        raise ImportError_(f"{source}: expected a JSON list of samples")
    return [Source(stem, [(f"{stem}_{i}", rec) for i, rec in enumerate(data)], _spec_map(spec_file))]


def _slug(s: str) -> str:
    return re.sub(r"[^A-Za-z0-9_]", "_", s)


# -- references -----------------------------------------------------------------------------------
def _path(text: str) -> list[str | int]:
    """`.author[0].id` -> ['author', 0, 'id']."""
    out: list[str | int] = []
    for part in text.lstrip(".").split("."):
        if not part:
            continue
        segs = list(_SEGMENT.finditer(part))
        if not segs:
            out.append(part)
        for m in segs:
            out.append(m.group(1) if m.group(1) is not None else int(m.group(2)))
    return out


def _accessor(node: str, path: list[str | int]) -> str:
    return node + "".join(f"[{p}]" if isinstance(p, int) else f"[{json.dumps(p)}]" for p in path)


@dataclass
class Use:
    """A later call reads `path` of a call's output, as a value of `kind`."""

    path: list[str | int]
    kind: str


def _convert(
    value: Any, kind: str, labels: dict[str, str], uses: dict[str, list[Use]], notes: list[str]
) -> Any:
    """Source argument -> fixture value with jinja references; records what each output must carry."""
    if isinstance(value, list):
        item_kind = "string"
        return [_convert(v, item_kind, labels, uses, notes) for v in value]
    if isinstance(value, dict):
        return {k: _convert(v, "string", labels, uses, notes) for k, v in value.items()}
    if not isinstance(value, str):
        return value
    refs = list(_REF.finditer(value))
    if not refs:
        m = _BROKEN_REF.match(value.strip())
        if m and "$" in value and m.group(1).replace("_", "") in {k.replace("_", "") for k in labels}:
            notes.append(f"repaired malformed reference {value!r}")
            return _convert(f"${m.group(1)}{m.group(2)}$", kind, labels, uses, notes)
        return literal(value)

    def acc(m: re.Match, as_kind: str) -> str:
        label = m.group(1)
        node = labels.get(label)
        if node is None:
            raise EntrySkip(f"reference {m.group(0)!r} to a call that is not made before it")
        path = _path(m.group(2))
        uses.setdefault(node, []).append(Use(path, as_kind))
        return _accessor(node, path)

    if len(refs) == 1 and refs[0].group(0) == value.strip():
        return "{{ " + acc(refs[0], kind) + " }}"
    arithmetic = bool(_ARITH.match(_REF.sub("", value)))
    if arithmetic and kind in ("integer", "number"):
        # `5 * $var1.rate$` feeding a number: the model is to compute it.
        expr = _REF.sub(lambda m: " " + acc(m, "integer") + " ", value)
        return "{{ " + " ".join(expr.split()) + " }}"
    out, pos = [], 0
    for m in refs:  # text substitution, as NESTFUL's executor does; numbers where the text is arithmetic
        out.append(literal(value[pos : m.start()]))
        out.append("{{ " + acc(m, "integer" if arithmetic else "string") + " }}")
        pos = m.end()
    out.append(literal(value[pos:]))
    return "".join(out)


def _synth(tool: str, args: dict, uses: list[Use], out_params: dict) -> dict:
    """The response a call must give: its spec's output fields plus every path later calls read."""
    seed = (tool, normalized_key(args))
    resp: dict[str, Any] = {}
    for name, spec in out_params.items():
        kind = loose_type(spec.get("type") if isinstance(spec, dict) else None)[0]
        resp[name] = synth_value(kind, *seed, name)
    for use in uses:
        _put(resp, use.path, use.kind, seed)
    if not resp:
        resp["result"] = synth_value("string", *seed, "result")  # something for the answer to report
    return resp


def _put(resp: dict, path: list[str | int], kind: str, seed: tuple) -> None:
    if not path:
        return
    cur: Any = resp
    trail: list[str] = []
    for i, seg in enumerate(path):
        last = i == len(path) - 1
        trail.append(str(seg))
        nxt_is_index = not last and isinstance(path[i + 1], int)
        if isinstance(seg, int):
            while len(cur) <= seg:
                cur.append(None)
            if last:
                if cur[seg] is None or not _fits(cur[seg], kind):
                    cur[seg] = synth_value(kind, *seed, ".".join(trail))
                return
            if not isinstance(cur[seg], list | dict) or (nxt_is_index != isinstance(cur[seg], list)):
                cur[seg] = [] if nxt_is_index else {}
            cur = cur[seg]
        else:
            if not isinstance(cur, dict):
                raise EntrySkip(f"output path {'.'.join(trail)} needs both a list and a dict")
            if last:
                if seg not in cur or not _fits(cur[seg], kind):
                    cur[seg] = synth_value(kind, *seed, ".".join(trail))
                return
            if not isinstance(cur.get(seg), list | dict) or (nxt_is_index != isinstance(cur.get(seg), list)):
                cur[seg] = [] if nxt_is_index else {}
            cur = cur[seg]


def _fits(value: Any, kind: str) -> bool:
    if isinstance(value, dict | list):
        return True  # a deeper path already needs this container; reading it whole still works
    if kind in ("integer", "number"):
        return isinstance(value, int | float) and not isinstance(value, bool)
    if kind == "string":
        return isinstance(value, str)
    if kind == "boolean":
        return isinstance(value, bool)
    if kind == "array":
        return isinstance(value, list)
    if kind == "object":
        return isinstance(value, dict)
    return True


# -- tools ------------------------------------------------------------------------------------
def _spec_params(spec: dict) -> dict:
    params: dict = {}
    for key in ("parameters", "arguments", "path_parameters", "query_parameters"):
        p = spec.get(key)
        if isinstance(p, dict):
            if p.get("type") == "object" and isinstance(p.get("properties"), dict):
                return loose_schema(p)
            params.update(p)
    return loose_schema(params)


def _out_params(spec: dict) -> dict:
    op = spec.get("output_parameters")
    if isinstance(op, dict) and op.get("type") == "object" and isinstance(op.get("properties"), dict):
        op = op["properties"]
    return op if isinstance(op, dict) else {}


# -- import -----------------------------------------------------------------------------------
def import_nestful(source: Path, out: Path, force: bool = False, duplicates: str = "tag") -> ImportReport:
    check_out(out, force)
    report = ImportReport(str(source))
    builder = SuiteBuilder(report, duplicates)
    sources = discover(source)
    parsed: list[tuple[Source, str, NestfulSample, dict[str, dict]]] = []
    for src in sources:
        for eid, raw in src.samples:
            try:
                sample = NestfulSample.model_validate(raw)
            except ValidationError as exc:
                report.skip(src.category, eid, malformed(exc))
                continue
            specs = dict(src.specs)
            for t in sample.tools or []:
                if isinstance(t, dict) and isinstance(t.get("name"), str):
                    specs[t["name"]] = t
            parsed.append((src, eid, sample, specs))
    schemas = _tool_schemas(parsed, report)
    for src, eid, sample, specs in parsed:
        try:
            task = _task(builder, src.category, eid, sample, specs, schemas)
        except EntrySkip as exc:
            report.skip(src.category, eid, str(exc))
            continue
        builder.add(_slug(src.category), src.category, eid, task)
    suite = SuiteSpec(
        name=out.name,
        description=f"NESTFUL nested call sequences, imported from {source.name}",
        license="Apache-2.0 (NESTFUL, IBM)",
    )
    builder.write(out, suite, force=force)
    return report


def _tool_schemas(parsed: list, report: ImportReport) -> dict[tuple[str, str], dict]:
    """One schema per (spec, tool): the spec's parameters, widened where the gold calls disagree with
    it (an argument the spec forgot is added; a `required` one some gold call omits is relaxed), so
    that every gold call is a valid call of its tool."""
    calls: dict[tuple[str, str], list[dict]] = {}
    spec_of: dict[tuple[str, str], dict] = {}
    for _src, _eid, sample, specs in parsed:
        for c in sample.output:
            if c.name == RESULT_CALL or c.name not in specs:
                continue
            key = (canonical_json(specs[c.name]), c.name)
            spec_of[key] = specs[c.name]
            calls.setdefault(key, []).append(c.arguments)
    out: dict[tuple[str, str], dict] = {}
    for key, spec in spec_of.items():
        schema = _spec_params(spec)
        props = schema.setdefault("properties", {})
        added = sorted({a for args in calls[key] for a in args if a not in props})
        for a in added:
            sample_value = next(args[a] for args in calls[key] if a in args)
            props[a] = infer_schema(sample_value if not _is_ref(sample_value) else "")
        req = schema.get("required", [])
        relaxed = [r for r in req if any(r not in args for args in calls[key])]
        if relaxed:
            schema["required"] = [r for r in req if r not in relaxed]
            if not schema["required"]:
                schema.pop("required")
        if added or relaxed:
            what = []
            if added:
                what.append(f"added argument(s) {added} its gold calls use")
            if relaxed:
                what.append(f"made {relaxed} optional (some gold calls omit them)")
            report.note("tools", key[1], "; ".join(what))
        out[key] = schema
    return out


def _is_ref(v: Any) -> bool:
    return isinstance(v, str) and bool(_REF.search(v))


def _pattern(nodes: list[dict]) -> str:
    deps = {n["id"]: n["_deps"] for n in nodes}
    if len(nodes) == 1:
        return "single"
    if not any(deps.values()):
        return "independent"
    dependents: dict[str, int] = {}
    for ds in deps.values():
        for d in ds:
            dependents[d] = dependents.get(d, 0) + 1
    roots = [v for v, ds in deps.items() if not ds]
    if (
        len(roots) == 1
        and all(len(ds) <= 1 for ds in deps.values())
        and all(c <= 1 for c in dependents.values())
    ):
        return "chain"
    return "dag"


def _task(
    builder: SuiteBuilder,
    category: str,
    eid: str,
    sample: NestfulSample,
    specs: dict[str, dict],
    schemas: dict[tuple[str, str], dict],
) -> dict:
    calls = [c for c in sample.output if c.name != RESULT_CALL]
    if not calls:
        raise EntrySkip("no tool calls")
    labels: dict[str, str] = {}
    used_ids: set[str] = set()
    nodes: list[dict] = []
    uses: dict[str, list[Use]] = {}
    notes: list[str] = []
    tools: list[str] = []
    for i, c in enumerate(calls, start=1):
        spec = specs.get(c.name)
        if spec is None:
            raise EntrySkip(f"tool {c.name!r} has no spec")
        schema = schemas[(canonical_json(spec), c.name)]
        tool = builder.tool(c.name, str(spec.get("description", "")), schema)
        if tool not in tools:
            tools.append(tool)
        props = schema.get("properties", {})
        args = {
            k: _convert(v, (props.get(k) or {}).get("type", "string"), labels, uses, notes)
            for k, v in c.arguments.items()
        }
        base = _slug((c.label or f"call{i}").lstrip("$")) or f"call{i}"
        nid, j = base, 1
        while nid in used_ids:
            j += 1
            nid = f"{base}_{j}"
        if nid != base:
            notes.append(f"label {base} reused; later calls read the latest one ({nid})")
        used_ids.add(nid)
        if c.label:
            labels[c.label.lstrip("$")] = nid
        nodes.append({"id": nid, "tool": tool, "args": args, "_name": c.name, "_spec": spec})
    for final in [c for c in sample.output if c.name == RESULT_CALL][-1:]:
        for v in final.arguments.values():  # the answer's fields must exist in the responses too
            try:
                _convert(v, "any", labels, uses, [])  # "any": never retypes what a call needs
            except EntrySkip:
                pass  # the answer names a label no call carries: nothing to synthesize for it
    # Resolve in call order: each response carries what later calls (and the answer) read from it.
    outputs: dict[str, Any] = {}
    seen: dict[str, str] = {}
    for n in nodes:
        try:
            resolved = compile_value(n["args"])(outputs)
        except TemplateError as exc:
            raise EntrySkip(f"call {n['id']}: reference does not resolve ({exc})") from exc
        key = n["tool"] + "\x00" + normalized_key(resolved)
        if key in seen:
            raise EntrySkip(
                f"calls {seen[key]} and {n['id']} are the same call; a Fanout graph cannot hold both"
            )
        seen[key] = n["id"]
        response = _synth(n["_name"], resolved, uses.get(n["id"], []), _out_params(n["_spec"]))
        outputs[n["id"]] = builder.row(n["tool"], resolved, response)
    for n in nodes:  # the merged responses must still serve every reference of this sample
        try:
            compile_value(n["args"])(outputs)
        except TemplateError as exc:
            raise EntrySkip(f"call {n['id']}: synthesized responses conflict ({exc})") from exc
        n["_deps"] = sorted(refs_in(n["args"]))
    groups = _answer(sample, labels, outputs, nodes[-1]["id"])
    task = {
        "id": re.sub(r"[^A-Za-z0-9_.:\-]", "_", eid),
        "pattern": _pattern(nodes),
        "prompt": sample.input,
        "tools": tools,
        "calls": [{"id": n["id"], "tool": n["tool"], "args": n["args"]} for n in nodes],
        "answer": {"contains_any": groups},
        "tags": ["nestful", category],
        "source": {"dataset": "nestful", "category": category, "id": eid},
    }
    if notes:
        task["notes"] = "; ".join(notes)
        for t in notes:
            builder.report.note(category, eid, t)
    return task


def _answer(
    sample: NestfulSample, labels: dict[str, str], outputs: dict[str, Any], last: str
) -> list[list[str]]:
    """What the final answer must report: for each output NESTFUL's `var_result` names, one of its
    values (the last call's output when a sample has no `var_result`)."""
    final = [c for c in sample.output if c.name == RESULT_CALL]
    targets: list[tuple[str, list[str | int]]] = []
    if final:
        for v in final[-1].arguments.values():
            for m in _REF.finditer(v if isinstance(v, str) else json.dumps(v)):
                node = labels.get(m.group(1))
                if node is not None:
                    targets.append((node, _path(m.group(2))))
    if not targets:
        targets = [(last, [])]
    groups = []
    for node, path in targets:
        value: Any = outputs[node]
        try:
            for p in path:
                value = value[p]
        except (KeyError, IndexError, TypeError):
            continue
        group = answer_group(node, value, tuple(path))
        if group and group not in groups:
            groups.append(group)
    if not groups:
        raise EntrySkip("the final result has no value an answer could report")
    return groups
