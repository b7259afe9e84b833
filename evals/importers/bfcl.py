"""BFCL (Berkeley Function Calling Leaderboard) -> a Fanout suite scored in `bfcl` matching mode.

One task per entry; every function of the entry becomes a table tool; every expected call of
`possible_answer` becomes an independent node (BFCL wants them all in one response). Per-argument
alternatives become `accept`, `""` becomes `omissible` (and, for string and array parameters, the
literal `""` / `[]` that BFCL's checker also lets through). Values are written in the types BFCL's
checker compares in: a `float` parameter's numbers as floats, so the matcher's int-to-float
promotion applies exactly where BFCL's does; a number list's answer in the item types BFCL's item
type check passes there (all floats, integral items as ints, or both, when any mix then matches).
"""

from __future__ import annotations

import itertools
import json
import re
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, field_validator

from evals.schema import SuiteSpec

from .archive import SourceFiles
from .base import Conversion, Importer, ImportOptions, importer
from .common import EntrySkip, ImportReport, SourceError, SuiteBuilder, digest, literal, loads
from .schemas import bfcl_param_types, bfcl_schema

PARALLEL = ("parallel", "parallel_multiple", "live_parallel", "live_parallel_multiple")
BASELINES = ("simple", "multiple")
EXTRA = ("live_simple", "live_multiple")
CATEGORIES = PARALLEL + BASELINES + EXTRA
DEFAULT_CATEGORIES = PARALLEL + BASELINES
# BFCL v4 splits `simple` by language; only the Python one has JSON-typed answers.
FILE_ALIASES = {"simple": ("simple", "simple_python")}
MAX_ALTERNATIVES = 256

_FILE = re.compile(r"(?:^|/)BFCL_v(\d+)_([a-z_]+)\.json$")


class BfclEntry(BaseModel):
    model_config = ConfigDict(extra="allow")
    id: str
    question: list
    function: list[dict]


class BfclAnswer(BaseModel):
    model_config = ConfigDict(extra="allow")
    id: str
    ground_truth: list[dict]


def find_files(files: SourceFiles) -> dict[str, tuple[str, str]]:
    """category file stem -> (question file, answer file); the newest BFCL version wins."""
    questions: dict[str, tuple[int, str]] = {}
    answers: dict[str, tuple[int, str]] = {}
    for name in files.names:
        if "unused_datasets" in name:
            continue
        m = _FILE.search(name)
        if not m:
            continue
        version, stem = int(m.group(1)), m.group(2)
        table = answers if "/possible_answer/" in "/" + name else questions
        if stem not in table or table[stem][0] < version:
            table[stem] = (version, name)
    return {s: (q[1], answers[s][1]) for s, q in questions.items() if s in answers}


def _jsonl(files: SourceFiles, name: str) -> list[dict]:
    out = []
    for i, line in enumerate(files.read_text(name).splitlines(), start=1):
        if not line.strip():
            continue
        try:
            out.append(loads(line))
        except ValueError as exc:
            raise SourceError(f"{name} line {i}: not JSON ({exc})") from exc
    return out


class BfclOptions(ImportOptions):
    source: str = Field(description="bfcl-eval .whl / .tar.gz, or a folder with its data files")
    categories: tuple[str, ...] = Field(
        DEFAULT_CATEGORIES, description=f"comma-separated, from: {', '.join(CATEGORIES)}"
    )

    @field_validator("categories", mode="before")
    @classmethod
    def _split(cls, v: object) -> object:
        return tuple(c.strip() for c in v.split(",") if c.strip()) if isinstance(v, str) else v


@importer
class Bfcl(Importer[BfclOptions]):
    """BFCL's parallel categories (and single-call baselines) as calls-only tasks in `bfcl` matching."""

    name = "bfcl"
    summary = "BFCL from a bfcl-eval wheel, sdist or data folder"
    options = BfclOptions
    default_out = "tasks/bfcl"
    skip_reasons = (
        "multi-turn question (a task has one user prompt)",
        "an answer argument outside the function's schema that is not optional",
        'a required parameter whose only answer is "" where BFCL accepts no value',
        "a dict or list-of-dicts answer expanding to more than 256 alternatives",
        "the same prompt as an earlier entry (a suite holds each prompt once)",
    )

    def convert(self, opts: BfclOptions) -> Conversion:
        unknown = [c for c in opts.categories if c not in CATEGORIES]
        if unknown:
            raise SourceError(f"unknown BFCL categories {unknown}; known: {', '.join(CATEGORIES)}")
        source = Path(opts.source)
        report = ImportReport(str(source))
        builder = SuiteBuilder(report)
        with SourceFiles(source) as files:
            found = find_files(files)
            if not found:
                raise SourceError(
                    f"{source}: no BFCL_v*_<category>.json with a possible_answer/ twin; "
                    "expected a bfcl-eval wheel/sdist (pip download --no-deps bfcl-eval) or its data folder"
                )
            for cat in opts.categories:
                stem = next((s for s in FILE_ALIASES.get(cat, (cat,)) if s in found), None)
                if stem is None:
                    raise SourceError(
                        f"{source}: no data for category {cat!r} (found: {', '.join(sorted(found))})"
                    )
                qfile, afile = found[stem]
                answers = {a.get("id"): a for a in _jsonl(files, afile)}
                for raw in _jsonl(files, qfile):
                    report.records[cat] += 1
                    _import_entry(builder, report, cat, raw, answers)
        suite = SuiteSpec(
            description=f"BFCL categories {', '.join(opts.categories)}, imported from {source.name}; "
            "calls-only: BFCL judges the calls, so tasks have no answer check",
            matching="bfcl",
            # BFCL sometimes expects one call twice (parallel_158: two draws from one distribution).
            allow_identical_calls=True,
            license="Apache-2.0 (BFCL data, Gorilla project)",
        )
        return Conversion.of(builder, suite)


def _import_entry(builder: SuiteBuilder, report: ImportReport, cat: str, raw: dict, answers: dict) -> None:
    eid = str(raw.get("id", "?"))

    def build() -> dict:
        entry = BfclEntry.model_validate(raw)
        ans_raw = answers.get(entry.id)
        if ans_raw is None:
            raise EntrySkip("no possible_answer entry")
        return _task(builder, cat, entry, BfclAnswer.model_validate(ans_raw))

    task = report.attempt(cat, eid, build)
    if task is not None:
        builder.add(cat, cat, eid, task)


def _prompt(question: list) -> str:
    if len(question) != 1 or not isinstance(question[0], list):
        raise EntrySkip(f"multi-turn question ({len(question)} turns); Fanout tasks have one user prompt")
    parts = []
    for m in question[0]:
        if not isinstance(m, dict) or not isinstance(m.get("content"), str):
            raise EntrySkip("question message without text content")
        parts.append(m["content"])
    if not parts or not "".join(parts).strip():
        raise EntrySkip("empty question")
    return "\n\n".join(parts)


def _task(builder: SuiteBuilder, cat: str, entry: BfclEntry, answer: BfclAnswer) -> dict:
    prompt = _prompt(entry.question)
    names: dict[str, str] = {}
    specs: dict[str, dict] = {}
    for f in entry.function:
        fname = f.get("name")
        if not isinstance(fname, str) or not isinstance(f.get("parameters"), dict):
            raise EntrySkip("function without a name or parameters")
        schema = bfcl_schema(f["parameters"])
        default = {"status": "success", "result": f"res-{digest(fname, 'default')}"}
        names[fname] = builder.tool(fname, str(f.get("description", "")), schema, default=default)
        specs[fname] = f["parameters"]
    calls = []
    for i, expected in enumerate(answer.ground_truth, start=1):
        if not isinstance(expected, dict) or len(expected) != 1:
            raise EntrySkip(f"possible_answer call #{i} is not a single {{function: args}} mapping")
        fname, params = next(iter(expected.items()))
        if fname not in names:
            raise EntrySkip(f"possible_answer calls {fname!r}, which the entry does not define")
        node, args = _node(f"c{i}", names[fname], specs[fname], params)
        calls.append(node)
        builder.row(node["tool"], args, {"status": "success", "result": f"res-{digest(node['tool'], args)}"})
    # Most specific node first: the scorer gives each call to the first unsatisfied node it matches,
    # so when one node's acceptable calls include another's, this order finds the one-to-one
    # assignment that BFCL's answer-order first fit can miss. Ids keep BFCL's answer order.
    order = sorted(range(len(calls)), key=lambda i: (_breadth(calls[i]), i))
    calls = [calls[i] for i in order]
    return {
        "id": entry.id,
        "pattern": cat,
        "prompt": prompt,
        "tools": list(dict.fromkeys(names.values())),
        "calls": calls,
        # No answer check: BFCL judges the calls alone, so success here means every call made.
        "tags": ["bfcl", cat],
        "source": {"dataset": "bfcl", "category": cat, "id": entry.id},
    }


def _node(nid: str, tool: str, parameters: dict, expected: Any) -> tuple[dict, dict]:
    """The node mapping (values escaped for the fixture loader) and its plain expected arguments.

    `""` among a parameter's answers means "may be omitted" to BFCL's checker, except for a
    parameter its schema requires: the checker rejects a call without it before looking at the
    answers. Such a parameter is not omissible here either, so the matcher and the table tool (which
    also rejects a call missing a required argument) agree; the empty literal stays accepted where
    BFCL's checker accepts it."""
    if not isinstance(expected, dict):
        raise EntrySkip(f"arguments of call {nid} are not a mapping")
    types = bfcl_param_types(parameters)
    required = parameters.get("required", []) if isinstance(parameters.get("required"), list) else []
    args: dict[str, Any] = {}
    accept: dict[str, list] = {}
    omissible: list[str] = []
    dropped: list[str] = []
    for param, alts in expected.items():
        if not isinstance(alts, list):
            raise EntrySkip(f"possible_answer argument {param!r} is not a list of alternatives")
        if param not in types:
            if "" in alts:
                # BFCL rejects an argument outside the schema, so the only passing choice is to omit it.
                dropped.append(param)
                continue
            raise EntrySkip(f"possible_answer argument {param!r} is not in the schema of {tool}")
        given = [a for a in alts if a != ""]
        optional = "" in alts
        values = _alternatives(types[param], given, param, optional)
        literals = _empty_literals(types[param], given) if optional else []
        if values:
            args[param] = values[0]
            rest = values[1:] + [x for x in literals if x not in values]
            if rest:
                accept[param] = rest
            if optional and param not in required:
                omissible.append(param)
        elif param in required:
            if not literals:
                raise EntrySkip(
                    f'required parameter {param!r} of {tool} has only "" (may be omitted) as its answer, '
                    "and BFCL's checker accepts neither leaving it out nor any value for it"
                )
            args[param] = literals[0]  # it must be given; the empty literal is the one BFCL accepts
            if literals[1:]:
                accept[param] = literals[1:]
        elif literals:
            accept[param] = literals  # may be left out, or given as the empty literal
    missing = [p for p in required if p not in args]
    if missing:
        raise EntrySkip(f"required parameter(s) {missing} of {tool} have no expected value")
    node: dict[str, Any] = {"id": nid, "tool": tool, "args": literal(args)}
    if dropped:
        node["note"] = (
            f"answer lists {dropped} outside the schema as optional; BFCL lets them only be omitted"
        )
    if accept:
        node["accept"] = literal(accept)
    if omissible:
        node["omissible"] = omissible
    return node, args


def _empty_literals(spec: dict, given: list) -> list:
    """What BFCL's checker accepts for a `""` alternative when the model does give the parameter.

    Its type check compares the value with the schema type, or, for a "variable" answer (a string
    given for a non-string parameter, e.g. `y: ["DATA['FUTURE_SALES']"]`), with the answers' type,
    and then looks the value up among the answers: so `""` passes for a string parameter and for
    any parameter whose answers are strings (a boolean answered `["", "True"]` accepts `""`), and
    `[]` for a list parameter (its list checker reads the `""` answer as an empty list)."""
    t = spec.get("type")
    answer_type = type(given[0]) if given else None
    if t in ("string", "any", None) or answer_type is str:
        return [""]
    if t in ("array", "tuple") and answer_type in (list, None):
        return [[]]
    return []


def _alternatives(spec: dict, alts: list, param: str, optional: bool = False) -> list:
    t = spec.get("type")
    item_t = (spec.get("items") or {}).get("type")
    out: list = []
    for a in alts:
        if t == "float":
            out.append(_floats(a))
        elif t == "dict" and isinstance(a, dict):
            out.extend(_expand_dict(a, param))
        elif t in ("array", "tuple") and isinstance(a, list):
            if item_t == "dict" and all(isinstance(x, dict) for x in a):
                out.extend(_expand_list_of_dicts(a, param))
            elif item_t in ("float", "integer") and a and all(_is_number(x) for x in a):
                out.extend(_number_lists(a, _item_types(item_t, alts, optional)))
            else:
                out.append(a)
                if item_t == "float":
                    out.append([_floats(x) for x in a])  # BFCL accepts floats for a float list given as ints
        else:
            out.append(a)
        if len(out) > MAX_ALTERNATIVES:
            raise EntrySkip(f"argument {param!r} expands to more than {MAX_ALTERNATIVES} alternatives")
    uniq: list = []
    keys: set[str] = set()
    for v in out:
        k = json.dumps(v, sort_keys=True)
        if k not in keys:
            keys.add(k)
            uniq.append(v)
    return uniq


def _is_number(v: Any) -> bool:
    return isinstance(v, int | float) and not isinstance(v, bool)


def _item_types(item_t: str, alts: list, optional: bool) -> set[type]:
    """The number types BFCL's nested type check passes as items of a float or integer list: the
    schema's item type, or the type of an answer's first item (its "variable" case, so a float list
    answered `[23, 45, 12]` takes ints); anything when `""` is among the answers (its check then
    passes without looking at the items)."""
    types: set[type] = {float if item_t == "float" else int}
    if optional:
        return {int, float}
    for a in alts:
        first = next((x for x in a if x != ""), None) if isinstance(a, list) else None
        if _is_number(first):
            types.add(type(first))
    return types


def _number_lists(a: list, types: set[type]) -> list[list]:
    """The forms of a number-list answer a call may take, for BFCL's `==` after its item type check,
    the answer's own first: all floats when floats pass, integral items as ints when ints pass
    (with both, the matcher takes any mix of the two whose two forms are both accepted)."""
    floats = [float(x) for x in a] if float in types else None
    ints = [int(x) if float(x).is_integer() else x for x in a] if int in types else None
    if ints is not None and floats is None and not all(type(x) is int for x in ints):
        ints = None  # a non-integral item, and no float passes
    forms = [ints, floats] if type(a[0]) is int else [floats, ints]  # the answer's own form first
    return [f for f in forms if f is not None]


def _floats(v: Any) -> Any:
    if isinstance(v, bool):
        return v
    if isinstance(v, int):
        return float(v)
    return v


_ABSENT = object()


def _expand_dict(alt: dict, param: str) -> list[dict]:
    """BFCL writes a dict answer as {key: [alternatives]}; `""` = the key may be absent, or given as
    `""`: its `dict_checker` skips a missing key whose answers hold `""`, and looks a given value up
    among the (standardised) answers, where `""` is one (dict values have no type check)."""
    keys = list(alt)
    choices = []
    for k in keys:
        vs = alt[k] if isinstance(alt[k], list) else [alt[k]]
        choices.append([x for v in vs for x in ((_ABSENT, "") if v == "" else (v,))])
    n = 1
    for c in choices:
        n *= max(1, len(c))
    if n > MAX_ALTERNATIVES:
        raise EntrySkip(f"dict argument {param!r} expands to {n} alternatives (> {MAX_ALTERNATIVES})")
    out = []
    for combo in itertools.product(*choices):
        out.append({k: v for k, v in zip(keys, combo, strict=True) if v is not _ABSENT})
    return out


def _expand_list_of_dicts(alt: list[dict], param: str) -> list[list[dict]]:
    per_item = [_expand_dict(d, param) for d in alt]
    n = 1
    for c in per_item:
        n *= len(c)
    if n > MAX_ALTERNATIVES:
        raise EntrySkip(f"list argument {param!r} expands to {n} alternatives (> {MAX_ALTERNATIVES})")
    return [list(combo) for combo in itertools.product(*per_item)]


def _breadth(node: dict) -> int:
    """How many argument combinations a node accepts (omission counts as one more choice)."""
    n = 1
    for k in set(node["args"]) | set(node.get("accept", {})):
        n *= 1 + len(node.get("accept", {}).get(k, [])) + (k in node.get("omissible", []))
    return n
