"""NESTFUL (nested API-call sequences) -> a Fanout suite whose references are real dependencies.

A call's argument `"$var1.field$"` names the output of the call labelled `var1`; it becomes the
reference `{{ var1["field"] }}`, so the dependency graph is exactly the data flow NESTFUL records.
NESTFUL's tools are not executable here, so each becomes a table tool whose response to the
sample's call carries every field later calls read, with deterministic synthetic values (typed by
the parameter that consumes them: a number where a later call needs a number, and so on).

Accepted sources: the v1 release (a folder of `<name>-data.json` + `<name>-spec.json`, or one
data file with its spec beside it) and the v2 JSON Lines format (`sample_id, input,
output[{name, label, arguments}], tools, gold_answer`; the hub copy stores `tools`, `output` and
`gold_answer` as text, which is parsed as data, never evaluated).

v2 samples are MathQA problems over executable arithmetic tools (`add(arg_0, arg_1)`, types such as
"int or float" and "list of float"): the tools Fanout knows the meaning of become computing table
tools (`{{ arg_0 * arg_1 }}`), so results are real numbers that feed later calls, and the answer
check is the final result, compared with the sample's `gold_answer`. Each v2 sample lists 7-8
candidate tools; all of them are exposed (the unused ones are the task's distractors).
"""

from __future__ import annotations

import ast
import json
import math
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from evals.answer_lint import render
from evals.schema import SuiteSpec
from evals.templating import TemplateError, compile_value, refs_in
from mock_tools import EpisodeState, ToolContext, World, is_error
from mock_tools.canonical import canonical_json, normalized_key
from mock_tools.table import TableTool, table_tool

from .base import Conversion, Importer, ImportOptions, importer
from .common import (
    EntrySkip,
    ImportReport,
    SourceError,
    SuiteBuilder,
    answer_group,
    digest,
    graph_pattern,
    literal,
    loads,
    malformed,
    read_source,
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

    @field_validator("output", "tools", mode="before")
    @classmethod
    def _json_text(cls, v: Any) -> Any:
        """The hub copy stores these columns as JSON text."""
        if isinstance(v, str):
            try:
                return loads(v)
            except ValueError as exc:
                raise ValueError(f"not JSON: {exc}") from None
        return v

    @field_validator("gold_answer", mode="before")
    @classmethod
    def _literal_text(cls, v: Any) -> Any:
        """The hub copy stores the answer as Python literal text (its card says to `eval` it): read
        it as a literal, never evaluated, and keep it as text when it is none."""
        if not isinstance(v, str) or len(v) > 10_000:
            return v
        for parse in (json.loads, ast.literal_eval):
            try:
                return parse(v.strip())
            except (ValueError, SyntaxError, TypeError, MemoryError, RecursionError):
                continue
        return v


# MathQA's operations as NESTFUL v2 names them, over arg_0, arg_1, ...: the tools whose meaning is
# known, so an imported call computes its real result. Any other tool gets synthesized values.
PI = "3.141592653589793"
MATH: dict[str, str] = {
    "add": "a + b",
    "subtract": "a - b",
    "multiply": "a * b",
    "divide": "a / b",
    "inverse": "1 / a",
    "negate": "-a",
    "power": "a ** b",
    "sqrt": "a ** 0.5",
    "floor": "a | round(0, 'floor') | int",
    "ceil": "a | round(0, 'ceil') | int",
    "max": "[a, b] | max",
    "min": "[a, b] | min",
    "reminder": "a % b",
    "remainder": "a % b",
    "modulo": "a % b",
    "square_area": "a * a",
    "square_perimeter": "4 * a",
    "square_edge_by_area": "a ** 0.5",
    "square_edge_by_perimeter": "a / 4",
    "rectangle_area": "a * b",
    "rectangle_perimeter": "2 * (a + b)",
    "rhombus_area": "a * b / 2",
    "triangle_area": "a * b / 2",
    "circle_area": f"{PI} * a * a",
    "circumface": f"2 * {PI} * a",
    "circumference": f"2 * {PI} * a",
    "volume_cube": "a ** 3",
    "surface_cube": "6 * a * a",
    "cube_edge_by_volume": "a ** (1 / 3)",
    "volume_rectangular_prism": "a * b * c",
    "surface_rectangular_prism": "2 * (a * b + b * c + a * c)",
    "volume_sphere": f"4 / 3 * {PI} * a ** 3",
    "surface_sphere": f"4 * {PI} * a * a",
    "volume_cylinder": f"{PI} * a * a * b",
    "volume_cone": f"{PI} * a * a * b / 3",
    "speed": "a / b",
    "from_percent": "a / 100",
    "to_percent": "a * 100",
    "percent": "a * 100",
    "p_after_gain": "(1 + a / 100) * b",
    "p_after_loss": "(1 - a / 100) * b",
    "original_price_before_gain": "b / (1 + a / 100)",
    "original_price_before_loss": "b / (1 - a / 100)",
    "gain_percent": "(a - b) / b * 100",
    "loss_percent": "(b - a) / b * 100",
}
_MATH_ARGS = ("a", "b", "c")


def math_template(name: str, params: list[str]) -> dict | None:
    """The computing response of a known arithmetic tool whose parameters are arg_0, arg_1, ...;
    None for any other tool."""
    expr = MATH.get(name.lower())
    if expr is None:
        return None
    used = [v for v in _MATH_ARGS if re.search(rf"\b{v}\b", expr)]
    if params[: len(used)] != [f"arg_{i}" for i in range(len(used))] or len(params) != len(used):
        return None
    for i, v in enumerate(used):
        expr = re.sub(rf"\b{v}\b", f"arg_{i}", expr)
    return {"result": "{{ " + expr + " }}"}


@dataclass
class Source:
    category: str
    samples: list[tuple[str, Any]]  # (entry id, raw record)
    specs: dict[str, dict] = field(default_factory=dict)  # tool name -> spec, for v1


def _load_json(path: Path) -> Any:
    try:
        return loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise SourceError(f"cannot read {path}: {exc}") from exc


def _spec_map(path: Path) -> dict[str, dict]:
    data = _load_json(path)
    if isinstance(data, dict):
        data = data.get("tools") or list(data.values())
    if not isinstance(data, list):
        raise SourceError(f"{path}: expected a list of tool specs")
    return {s["name"]: s for s in data if isinstance(s, dict) and isinstance(s.get("name"), str)}


def discover(source: Path) -> list[Source]:
    if not source.exists():
        raise SourceError(f"source {source} does not exist")
    if source.is_dir():
        data_files = sorted(source.glob("*-data.json")) + sorted(source.glob("*.jsonl"))
        if not data_files:
            raise SourceError(f"{source}: no NESTFUL files (*-data.json with *-spec.json, or *.jsonl)")
        return [s for f in data_files for s in discover(f)]
    if source.suffix == ".jsonl":
        samples = []
        for i, line in enumerate(read_source(source).splitlines(), start=1):
            if line.strip():
                try:
                    rec = loads(line)
                except ValueError as exc:
                    raise SourceError(f"{source} line {i}: not JSON ({exc})") from exc
                sid = rec.get("sample_id") if isinstance(rec, dict) else None
                samples.append((str(sid) if sid is not None else f"{source.stem}_{i}", rec))
        return [Source(source.stem, samples)]
    stem = source.name.removesuffix(".json").removesuffix("-data")
    spec_file = source.with_name(f"{stem}-spec.json")
    if not spec_file.exists():
        raise SourceError(f"{source}: its tool specs {spec_file.name} are not beside it")
    data = _load_json(source)
    if not isinstance(data, list):
        raise SourceError(f"{source}: expected a JSON list of samples")
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
        allowed = (spec.get("possible_values") or spec.get("enum")) if isinstance(spec, dict) else None
        if isinstance(allowed, list) and allowed:  # one of the values the spec says it takes
            resp[name] = allowed[int(digest(*seed, name), 16) % len(allowed)]
        else:
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
    op = spec.get("output_parameters", spec.get("output_parameter"))
    if isinstance(op, dict) and op.get("type") == "object" and isinstance(op.get("properties"), dict):
        op = op["properties"]
    return op if isinstance(op, dict) else {}


# -- import -----------------------------------------------------------------------------------
class NestfulOptions(ImportOptions):
    source: str = Field(description="folder of v1 files, a v1 *-data.json, or a v2 .jsonl")


@importer
class Nestful(Importer[NestfulOptions]):
    name = "nestful"
    summary = "NESTFUL v1 folder (*-data.json + *-spec.json) or a v2 JSONL file"
    options = NestfulOptions
    default_out = "tasks/nestful"
    skip_reasons = (
        "a call to a tool that has no spec",
        "a reference to a label no earlier call carries",
        "two calls that are the same call",
        "the same prompt as an earlier sample (a suite holds each prompt once)",
    )

    def convert(self, opts: NestfulOptions) -> Conversion:
        source = Path(opts.source)
        report = ImportReport(str(source))
        builder = SuiteBuilder(report)
        parsed: list[tuple[Source, str, NestfulSample, dict[str, dict]]] = []
        for src in discover(source):
            for eid, raw in src.samples:
                report.records[src.category] += 1
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
            notes: list[str] = []
            sampled = _Sample(builder, src.category, eid, sample, specs, schemas, notes)
            task = report.attempt(src.category, eid, sampled.task)
            if task is not None and builder.add(_slug(src.category), src.category, eid, task):
                for text in notes:
                    report.note(src.category, eid, text)
        suite = SuiteSpec(
            description=f"NESTFUL nested call sequences, imported from {source.name}",
            license="Apache-2.0 (NESTFUL, IBM)",
        )
        return Conversion.of(builder, suite)


def _tool_schemas(parsed: list, report: ImportReport) -> dict[tuple[str, str], dict]:
    """One schema per (spec, tool): the spec's parameters, widened where the gold calls disagree with
    it (an argument the spec forgot is added; a `required` one some gold call omits is relaxed), so
    that every gold call is a valid call of its tool."""
    calls: dict[tuple[str, str], list[dict]] = {}
    spec_of: dict[tuple[str, str], dict] = {}
    for _src, _eid, sample, specs in parsed:
        for name, spec in specs.items():
            if sample.tools is not None:  # v2: every candidate is exposed, called or not
                key = (canonical_json(spec), name)
                spec_of[key] = spec
                calls.setdefault(key, [])
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


@dataclass
class _Sample:
    builder: SuiteBuilder
    category: str
    eid: str
    sample: NestfulSample
    specs: dict[str, dict]
    schemas: dict[tuple[str, str], dict]
    notes: list[str]
    computing: dict[str, TableTool] = field(default_factory=dict)

    def _tool(self, name: str) -> str:
        """The suite key of one of the sample's tools (computing when its meaning is known)."""
        spec = self.specs[name]
        schema = self.schemas[(canonical_json(spec), name)]
        template = math_template(name, list(schema.get("properties", {}))) if self.sample.tools else None
        key = self.builder.tool(
            name, str(spec.get("description", "")), schema, default=template, compute=template is not None
        )
        if template is not None and key not in self.computing:
            self.computing[key] = table_tool(self.builder.tools[key])
        return key

    def task(self) -> dict:
        sample = self.sample
        calls = [c for c in sample.output if c.name != RESULT_CALL]
        if not calls:
            raise EntrySkip("no tool calls")
        labels: dict[str, str] = {}
        used_ids: set[str] = set()
        nodes: list[dict] = []
        uses: dict[str, list[Use]] = {}
        tools: list[str] = []
        for i, c in enumerate(calls, start=1):
            if c.name not in self.specs:
                raise EntrySkip(f"tool {c.name!r} has no spec")
            tool = self._tool(c.name)
            if tool not in tools:
                tools.append(tool)
            props = self.schemas[(canonical_json(self.specs[c.name]), c.name)].get("properties", {})
            args = {
                k: _convert(v, (props.get(k) or {}).get("type", "string"), labels, uses, self.notes)
                for k, v in c.arguments.items()
            }
            base = _slug((c.label or f"call{i}").lstrip("$")) or f"call{i}"
            nid, j = base, 1
            while nid in used_ids:
                j += 1
                nid = f"{base}_{j}"
            if nid != base:
                self.notes.append(f"label {base} reused; later calls read the latest one ({nid})")
            used_ids.add(nid)
            if c.label:
                labels[c.label.lstrip("$")] = nid
            nodes.append(
                {"id": nid, "tool": tool, "args": args, "_name": c.name, "_spec": self.specs[c.name]}
            )
        for final in [c for c in sample.output if c.name == RESULT_CALL][-1:]:
            for v in final.arguments.values():  # the answer's fields must exist in the responses too
                try:
                    _convert(v, "any", labels, uses, [])  # "any": never retypes what a call needs
                except EntrySkip:
                    pass  # the answer names a label no call carries: nothing to synthesize for it
        self._check_declared_outputs(nodes, uses)
        if sample.tools:  # v2: every candidate tool is exposed; the unused ones are distractors
            for t in sample.tools:
                if isinstance(t, dict) and isinstance(t.get("name"), str) and t["name"] in self.specs:
                    key = self._tool(t["name"])
                    if key not in tools:
                        tools.append(key)
        outputs = self._resolve(nodes, uses)
        task: dict[str, Any] = {
            "id": re.sub(r"[^A-Za-z0-9_.:\-]", "_", self.eid),
            "pattern": graph_pattern({n["id"]: n["_deps"] for n in nodes}),
            "prompt": sample.input,
            "tools": tools,
            "calls": [{"id": n["id"], "tool": n["tool"], "args": n["args"]} for n in nodes],
            "tags": ["nestful", self.category],
            "source": {"dataset": "nestful", "category": self.category, "id": self.eid},
        }
        answer = self._answer(labels, outputs, nodes)
        if answer:
            task["answer"] = answer
        else:
            task["tags"].append("calls_only")
            self.notes.append(
                "no result value an answer can only know from a tool (each is in the prompt, a boolean "
                "or a generic word): the task checks the calls only"
            )
        if self.notes:
            task["notes"] = "; ".join(self.notes)
        return task

    def _check_declared_outputs(self, nodes: list[dict], uses: dict[str, list[Use]]) -> None:
        """A reference must read a field its tool declares (when the spec declares any): NESTFUL has
        samples reading `$var2.BMI$` from a tool whose outputs are `pace`. The field is added to the
        synthesized response so the reference resolves, and the disagreement is a note."""
        by_id = {n["id"]: n for n in nodes}
        for nid, us in uses.items():
            declared = _out_params(by_id[nid]["_spec"])
            if not declared:
                continue
            for u in us:
                head = u.path[0] if u.path else None
                if isinstance(head, str) and head not in declared:
                    self.notes.append(
                        f"reads {head!r} of {nid} ({by_id[nid]['_name']}), whose spec declares only "
                        f"{', '.join(declared)}: the field is added to its response"
                    )
        # one note per field is enough
        self.notes[:] = list(dict.fromkeys(self.notes))

    def _resolve(self, nodes: list[dict], uses: dict[str, list[Use]]) -> dict[str, Any]:
        """Execute in call order: each response carries what later calls (and the answer) read from
        it; a computing tool's response is its real result."""
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
            tool = self.computing.get(n["tool"])
            if tool is not None:
                result = tool.invoke(resolved, ToolContext(World(0), EpisodeState()))
                if is_error(result):
                    raise EntrySkip(
                        f"call {n['id']}: {n['_name']}{resolved} fails: {result['error']['message']}"
                    )
                outputs[n["id"]] = result
                continue
            response = _synth(n["_name"], resolved, uses.get(n["id"], []), _out_params(n["_spec"]))
            outputs[n["id"]] = self.builder.row(n["tool"], resolved, response)
        for n in nodes:  # the merged responses must still serve every reference of this sample
            try:
                compile_value(n["args"])(outputs)
            except TemplateError as exc:
                raise EntrySkip(f"call {n['id']}: synthesized responses conflict ({exc})") from exc
            n["_deps"] = sorted(refs_in(n["args"]))
        return outputs

    def _answer(self, labels: dict[str, str], outputs: dict[str, Any], nodes: list[dict]) -> dict | None:
        """What the final answer must report: for each output NESTFUL's `var_result` names, one of its
        values an answer can only know from the tools (a value the prompt holds, a boolean or a
        generic word is left out); the last call's output when `var_result` names nothing usable.
        A v2 sample's final number is compared with its `gold_answer`."""
        final = [c for c in self.sample.output if c.name == RESULT_CALL]
        targets: list[tuple[str, list[str | int]]] = []
        if final:
            for v in final[-1].arguments.values():
                for m in _REF.finditer(v if isinstance(v, str) else json.dumps(v)):
                    node = labels.get(m.group(1))
                    if node is not None:
                        targets.append((node, _path(m.group(2))))
        last = nodes[-1]["id"]
        if not targets:
            targets = [
                (last, ["result"] if last in [n["id"] for n in nodes if n["tool"] in self.computing] else [])
            ]
        self._check_gold(targets, outputs)
        groups: list[list[str]] = []
        for group in (self._group(node, path, outputs) for node, path in targets):
            if group and group not in groups:
                groups.append(group)
        if not groups:
            fallback = self._group(last, [], outputs)
            if fallback:
                groups.append(fallback)
        return {"contains_any": groups} if groups else None

    def _group(self, node: str, path: list[str | int], outputs: dict[str, Any]) -> list[str]:
        value: Any = outputs[node]
        try:
            for p in path:
                value = value[p]
        except (KeyError, IndexError, TypeError):
            return []
        return answer_group(node, value, self.sample.input, tuple(path))

    def _check_gold(self, targets: list[tuple[str, list[str | int]]], outputs: dict[str, Any]) -> None:
        gold = self.sample.gold_answer
        if gold is None or self.sample.tools is None:
            return
        values = []
        for node, path in targets:
            v: Any = outputs[node]
            try:
                for p in path:
                    v = v[p]
            except (KeyError, IndexError, TypeError):
                continue
            values.append(v)
        if any(_same_number(v, gold) for v in values):
            return
        computed = ", ".join(render(v) for v in values) or "nothing"
        self.notes.append(
            f"gold_answer {render(gold)} is not what the imported tools compute ({computed}); "
            "the answer checks the computed result"
        )


def _same_number(a: Any, b: Any) -> bool:
    if isinstance(a, bool) or isinstance(b, bool):
        return a == b
    if isinstance(a, int | float) and isinstance(b, int | float):
        return math.isclose(a, b, rel_tol=1e-6, abs_tol=1e-9)
    return render(a) == render(b)
