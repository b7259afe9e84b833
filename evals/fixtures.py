"""Loading task fixtures and suites from YAML, with errors that name file, task and field."""

from __future__ import annotations

import dataclasses
import difflib
import fnmatch
import hashlib
import json
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError

from mock_tools import Tool, ToolRegistry, default_registry, table_tool
from mock_tools.table import TableTool

from .answers import Expected, all_of, render
from .errors import UsageError
from .graph import CallGraph, CycleError
from .schema import AnswerItem, AnswerValue, NodeSpec, SuiteSpec, TaskDefaults, TaskSpec
from .templating import Compiled, TemplateError, compile_value, refs_in

_MERGE = "tag:yaml.org,2002:merge"


class _UniqueKeys:
    """A mapping that says one key twice is refused: YAML and JSON readers keep the last value
    silently, so a reviewer reading the first would approve data that says something else."""

    def construct_mapping(self, node: yaml.MappingNode, deep: bool = False) -> dict:
        own = [k for k, _ in node.value if k.tag != _MERGE] if isinstance(node, yaml.MappingNode) else []
        mapping: dict = super().construct_mapping(node, deep=deep)  # type: ignore[misc]
        if len(own) > len(mapping):
            seen: set = set()
            for k in own:
                key = self.construct_object(k, deep=deep)  # type: ignore[attr-defined]
                if key in seen:
                    raise yaml.constructor.ConstructorError(
                        "while reading a mapping", node.start_mark, f"duplicate key {key!r}", k.start_mark
                    )
                seen.add(key)
        return mapping


class _CLoader(_UniqueKeys, getattr(yaml, "CSafeLoader", yaml.SafeLoader)):  # type: ignore[misc]
    pass


class _PyLoader(_UniqueKeys, yaml.SafeLoader):
    pass


# libyaml's loader when PyYAML was built with it (its wheels are): loading a suite is 5-10x faster.
_YAML_LOADER: type = _CLoader


class FixtureError(UsageError, ValueError):
    """A problem in a fixture file. `str()` reads `file: task 'id': field: message`."""

    def __init__(self, file: str, task: str | None, field: str | None, message: str):
        self.file, self.task, self.field, self.message = file, task, field, message
        where = file
        if task:
            where += f": task {task!r}"
        if field:
            where += f": {field}"
        super().__init__(f"{where}: {message}")


class FixtureErrors(UsageError, ValueError):
    def __init__(self, errors: list[FixtureError]):
        self.errors = errors
        super().__init__("\n".join(str(e) for e in errors))


@dataclass
class Node:
    spec: NodeSpec
    args_fn: Compiled
    accept_fns: dict[str, list[Compiled]]
    when_fn: Compiled | None
    deps: tuple[str, ...]  # data references, `when` references and `after`, declaration order
    # Every route to the node's arguments (DESIGN 4.2): `deps` first, then one per alternative.
    routes: tuple[frozenset[str], ...] = ()
    alt_fns: list[dict[str, Compiled]] = field(default_factory=list)  # per alternative: argument -> value

    @property
    def id(self) -> str:
        return self.spec.id

    @property
    def tool(self) -> str:
        return self.spec.tool

    @property
    def required(self) -> bool:
        return not self.spec.optional


@dataclass
class Task:
    spec: TaskSpec
    file: str
    suite: str
    nodes: list[Node]
    graph: CallGraph
    tools: list[Tool]
    matching: str
    answer_fns: list[Compiled] = field(default_factory=list)
    answer_any_fns: list[list[Compiled]] = field(default_factory=list)
    not_contains_fns: list[Compiled] = field(default_factory=list)
    answer_refs: frozenset[str] = frozenset()  # the calls the answer check reads: its first route
    answer_routes: tuple[frozenset[str], ...] = ()  # declared alternatives to `answer_refs`

    def __post_init__(self) -> None:
        self.node_by_id = {n.id: n for n in self.nodes}
        self.tool_by_name = {t.name: t for t in self.tools}
        self.tool_specs = [t.spec() for t in self.tools]

    @property
    def id(self) -> str:
        return self.spec.id

    @property
    def pattern(self) -> str:
        return self.spec.pattern

    @property
    def prompt(self) -> str:
        return self.spec.prompt

    @property
    def has_routes(self) -> bool:
        """Whether any node or the answer has an alternative route: scoring then resolves routes
        per episode; without any, everything is decided once per task, as before routes existed."""
        return bool(self.answer_routes) or any(len(n.routes) > 1 for n in self.nodes)


@dataclass
class Suite:
    name: str
    path: Path
    spec: SuiteSpec
    tasks: list[Task]
    registry: ToolRegistry
    errors: list[FixtureError] = field(default_factory=list)  # collected when loaded with collect=True

    def __post_init__(self) -> None:
        self.by_id = {t.id: t for t in self.tasks}

    @property
    def hash(self) -> str:
        """Content hash of the suite (task specs and table tools): pins what a run was scored on.
        Fields left at their defaults are not hashed, so a new optional fixture field does not
        change the hash of suites that do not use it."""
        h = hashlib.sha256()
        h.update(self.spec.model_dump_json(exclude_defaults=True).encode())
        for t in sorted(self.tasks, key=lambda t: t.id):
            h.update(t.spec.model_dump_json(exclude_defaults=True).encode())
        return h.hexdigest()[:16]

    def select(self, patterns: list[str] | None) -> list[Task]:
        if not patterns:
            return list(self.tasks)
        return [t for t in self.tasks if any(fnmatch.fnmatchcase(t.id, p) for p in patterns)]


# ---------------------------------------------------------------------------------------
_UNION_MEMBERS = {"AnswerValue", "str", "int", "float"}


def _loc(loc: tuple) -> str:
    out = ""
    for part in loc:
        if isinstance(part, str) and ("[" in part or part in _UNION_MEMBERS):
            continue  # pydantic's name for a union member, not a field
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out


def build_task(spec: TaskSpec, file: str, suite: str, registry: ToolRegistry, matching: str) -> Task:
    """Compile and check one task. Raises FixtureError naming the field."""
    tid = spec.id

    def err(fld: str | None, msg: str) -> FixtureError:
        return FixtureError(file, tid, fld, msg)

    tools: list[Tool] = []
    for i, name in enumerate(spec.tools):
        t = registry.get(name)
        if t is None:
            raise err(f"tools[{i}]", f"unknown tool {name!r}")
        if name in {x.name for x in tools}:
            raise err(f"tools[{i}]", f"tool {name!r} listed twice")
        tools.append(t)
    exposed = {t.name for t in tools}

    ids: dict[str, int] = {}
    for i, n in enumerate(spec.calls):
        if n.id in ids:
            raise err(f"calls[{i}].id", f"duplicate node id {n.id!r} (first at calls[{ids[n.id]}])")
        ids[n.id] = i

    nodes: list[Node] = []
    for i, n in enumerate(spec.calls):
        base = f"calls[{i}]"
        t = registry.get(n.tool)
        if t is None:
            raise err(f"{base}.tool", f"unknown tool {n.tool!r}")
        if n.tool not in exposed:
            raise err(f"{base}.tool", f"tool {n.tool!r} is not in the task's exposed tools")
        props = t.property_names()
        for a in list(n.args) + list(n.accept) + list(n.omissible):
            if a not in props:
                raise err(f"{base}.args.{a}", f"argument {a!r} is not in the schema of tool {n.tool!r}")
        refs: set[str] = set()
        try:
            for a, v in n.args.items():
                for r in refs_in(v):
                    if r not in ids:
                        raise err(f"{base}.args.{a}", f"reference to unknown node {r!r}")
                    refs.add(r)
            for a, alts in n.accept.items():
                for r in refs_in(alts):
                    if r not in ids:
                        raise err(f"{base}.accept.{a}", f"reference to unknown node {r!r}")
                    refs.add(r)
            when_src = None
            if n.when:
                # `when` may be a bare expression or a `{{ ... }}` template; references count either way.
                when_src = n.when if "{{" in n.when else "{{ " + n.when + " }}"
                for r in refs_in(when_src):
                    if r not in ids:
                        raise err(f"{base}.when", f"reference to unknown node {r!r}")
                    refs.add(r)
            args_fn = compile_value(n.args)
            accept_fns = {a: [compile_value(x) for x in alts] for a, alts in n.accept.items()}
            when_fn = compile_value(when_src) if when_src else None
        except TemplateError as exc:
            raise err(base, str(exc)) from exc
        for j, a in enumerate(n.after):
            if a not in ids:
                raise err(f"{base}.after[{j}]", f"unknown node {a!r}")
        if n.id in refs or n.id in n.after:
            raise err(base, f"node {n.id!r} depends on itself")
        deps = tuple(sorted(refs | set(n.after), key=ids.__getitem__))
        routes, alt_fns = _routes(n, base, refs, ids, err)
        nodes.append(Node(n, args_fn, accept_fns, when_fn, deps, routes, alt_fns))

    try:
        graph = CallGraph([n.id for n in nodes], {n.id: n.deps for n in nodes})
        if any(len(n.routes) > 1 for n in nodes):  # an alternative must not close a cycle either
            CallGraph([n.id for n in nodes], {n.id: frozenset().union(*n.routes) for n in nodes})
    except CycleError as exc:
        raise err(f"calls[{ids[exc.nodes[0]]}]", f"dependency cycle: {' -> '.join(exc.nodes)}") from exc

    by_id = {node.id: node for node in nodes}
    for node in nodes:
        if node.required:
            for u in sorted(frozenset().union(*node.routes), key=ids.__getitem__):
                if not by_id[u].required:
                    raise err(
                        f"calls[{ids[node.id]}]", f"required node {node.id!r} depends on optional node {u!r}"
                    )

    answer_fns: list[Compiled] = []
    any_fns: list[list[Compiled]] = []
    not_fns: list[Compiled] = []
    if spec.answer:
        try:
            for fld, values, sink in (
                ("contains", spec.answer.contains, answer_fns),
                ("not_contains", spec.answer.not_contains, not_fns),
            ):
                for j, v in enumerate(values):
                    sink.append(_compile_answer_item(v, f"answer.{fld}[{j}]", ids, err))
            for j, group in enumerate(spec.answer.contains_any):
                any_fns.append(
                    [
                        _compile_answer_item(v, f"answer.contains_any[{j}][{k}]", ids, err)
                        for k, v in enumerate(group)
                    ]
                )
        except TemplateError as exc:
            raise err("answer", str(exc)) from exc
    answer_refs: frozenset[str] = frozenset()
    answer_routes: list[frozenset[str]] = []
    if spec.answer:
        answer_refs = frozenset(refs_in(spec.answer.model_dump(exclude={"routes"})))
        for j, route in enumerate(spec.answer.routes):
            for k, r in enumerate(route):
                if r not in ids:
                    raise err(f"answer.routes[{j}][{k}]", f"unknown node {r!r}")
            answer_routes.append(frozenset(route))
    for name in spec.latency:
        if name not in exposed:
            raise err(f"latency.{name}", f"latency override for a tool the task does not expose: {name!r}")
    tools, nodes = _shown_names(tools, nodes, err)
    return Task(
        spec,
        file,
        suite,
        nodes,
        graph,
        tools,
        spec.matching or matching,
        answer_fns,
        any_fns,
        not_fns,
        answer_refs,
        tuple(answer_routes),
    )


def _routes(
    n: NodeSpec,
    base: str,
    refs: set[str],
    ids: dict[str, int],
    err: Callable[[str | None, str], FixtureError],
) -> tuple[tuple[frozenset[str], ...], list[dict[str, Compiled]]]:
    """The node's routes: its references (first), then one per alternative, where the alternative's
    arguments read their own sources instead. `when`, `accept` and `after` belong to every route."""
    arg_refs = {a: refs_in(v) for a, v in n.args.items()}
    shared = set(n.after) | refs_in(list(n.accept.values()))
    if n.when:
        shared |= refs_in(n.when if "{{" in n.when else "{{ " + n.when + " }}")
    routes = [frozenset(refs | set(n.after))]
    alt_fns: list[dict[str, Compiled]] = []
    for j, alt in enumerate(n.alternatives):
        where = f"{base}.alternatives[{j}]"
        if not alt:
            raise err(where, "an alternative must give at least one argument")
        route = set(shared)
        for a, a_refs in arg_refs.items():
            if a not in alt:
                route |= a_refs
        fns: dict[str, Compiled] = {}
        for a, v in alt.items():
            if a not in n.args:
                raise err(
                    f"{where}.{a}",
                    f"{a!r} is not an argument of the node; alternatives give other sources for its arguments",
                )
            try:
                alt_refs = refs_in(v)
                fns[a] = compile_value(v)
            except TemplateError as exc:
                raise err(f"{where}.{a}", str(exc)) from exc
            for r in alt_refs:
                if r not in ids:
                    raise err(f"{where}.{a}", f"reference to unknown node {r!r}")
                if r == n.id:
                    raise err(f"{where}.{a}", f"node {n.id!r} depends on itself")
            route |= alt_refs
        routes.append(frozenset(route))
        alt_fns.append(fns)
    for a in n.not_routes:
        if a not in n.args:
            raise err(f"{base}.not_routes.{a}", f"{a!r} is not an argument of the node")
    return tuple(routes), alt_fns


NOT_JSON = object()
# YAML 1.1's float (PyYAML's resolver): JSON's `1e5` and `1.5e5` are strings to YAML.
_YAML_FLOAT = re.compile(r"[-+]?(?:[0-9][0-9_]*)\.[0-9_]*(?:[eE][-+][0-9]+)?")
# Text YAML reads otherwise than JSON: a tab, line breaks YAML folds (NEL, LS, PS), characters
# YAML refuses, `\/` and surrogate escapes.
_NOT_AS_JSON = re.compile("[\t\x7f-\x9f\u2028\u2029\ufeff\ufffe\uffff]|\\\\/|\\\\u[dD][89a-fA-F]")


class _Differs(Exception):
    pass


def _yaml_float(text: str) -> float:
    if not _YAML_FLOAT.fullmatch(text):
        raise _Differs
    return float(text)


def _no_constant(text: str) -> Any:
    raise _Differs


def _unique(pairs: list[tuple[str, Any]]) -> dict:
    out = dict(pairs)
    if len(out) != len(pairs):
        raise _Differs  # YAML reads it again and names the duplicate key and its line
    return out


def json_as_yaml(text: str) -> Any:
    """The data of a fixture file that is a JSON document (generated suites, importers' output),
    read by the json module, many times faster than libyaml, or NOT_JSON when it is not JSON or
    YAML could read it otherwise (a float YAML 1.1 keeps as a string, a character or escape YAML
    treats apart): then YAML reads it, as always."""
    head = text.lstrip(" \n\r")
    if not head.startswith(("[", "{")) or _NOT_AS_JSON.search(text):
        return NOT_JSON
    try:
        return json.loads(
            text, parse_float=_yaml_float, parse_constant=_no_constant, object_pairs_hook=_unique
        )
    except (ValueError, _Differs):
        return NOT_JSON
    # RecursionError: nested past what the json module reads, far past MAX_YAML_DEPTH: not handed
    # to YAML (whose parser would recurse as deep), but refused by `read_yaml`.


MAX_YAML_VALUES = 1_000_000  # values a fixture file may expand to, aliases counted each time used
MAX_YAML_DEPTH = 100


def read_yaml(path: Path, display: str | None = None) -> Any:
    """A fixture file's data, or a FixtureError naming the file: not UTF-8, YAML syntax, and
    aliases that would make the data recursive or expand it past MAX_YAML_VALUES (an alias bomb
    is a few lines of YAML that every later step would walk billions of times)."""
    disp = display or str(path)
    if path.exists() and not path.is_file():
        # a FIFO or a device (a symlink to /dev/zero) would block or never end
        raise FixtureError(disp, None, None, "not a regular file")
    try:
        text = path.read_text(encoding="utf-8")
        data = json_as_yaml(text)
        if data is NOT_JSON:
            data = yaml.load(text, Loader=_YAML_LOADER)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" (line {mark.line + 1}, column {mark.column + 1})" if mark else ""
        kind = "YAML error" if isinstance(exc, yaml.constructor.ConstructorError) else "YAML syntax error"
        raise FixtureError(disp, None, None, f"{kind}{where}: {getattr(exc, 'problem', exc)}") from exc
    except UnicodeDecodeError as exc:
        raise FixtureError(
            disp, None, None, f"not UTF-8 text (byte {exc.object[exc.start]:#04x} at offset {exc.start})"
        ) from None
    except RecursionError:
        # Nesting deeper than the parser can follow (libyaml stops at 1,000 levels itself; the
        # pure-Python loader, used where libyaml is missing, recurses).
        raise FixtureError(
            disp, None, None, f"the data is nested over {MAX_YAML_DEPTH} levels deep"
        ) from None
    except (ValueError, OverflowError) as exc:
        # A scalar YAML's constructors cannot build: an integer past Python's 4,300-digit limit,
        # a timestamp that is no date (2026-13-45).
        raise FixtureError(disp, None, None, f"a value YAML cannot read: {str(exc).split(';')[0]}") from None
    except OSError as exc:
        raise FixtureError(disp, None, None, f"cannot read: {exc.strerror or exc}") from exc
    problem = _structure_problem(data)
    if problem:
        raise FixtureError(disp, None, None, problem)
    return data


def _structure_problem(data: Any) -> str | None:
    count = 0
    stack: list[tuple[Any, int, tuple[int, ...]]] = [(data, 0, ())]
    while stack:
        v, depth, path = stack.pop()
        count += 1
        if count > MAX_YAML_VALUES:
            return f"the data expands to over {MAX_YAML_VALUES:,} values (an alias bomb?)"
        if depth > MAX_YAML_DEPTH:
            return f"the data is nested over {MAX_YAML_DEPTH} levels deep"
        if isinstance(v, dict | list):
            if id(v) in path:
                return "a YAML alias refers to a value that contains it (recursive data)"
            inner = (*path, id(v))
            for x in v.values() if isinstance(v, dict) else v:
                if isinstance(x, dict | list):
                    stack.append((x, depth + 1, inner))
                else:
                    count += 1
    return None


def _compile_answer_item(item: AnswerItem, where: str, ids: dict[str, int], err: Any) -> Compiled:
    """An answer item as a function of the outputs returning one `Expected` (several values, as
    from a list, come back as one all-of value). Plain strings and numbers get their kind inferred
    when rendered; a declared kind, its aliases and templated options render with the value."""
    raw = item.model_dump(exclude_defaults=True) if isinstance(item, AnswerValue) else item
    for r in refs_in(raw):
        if r not in ids:
            raise err(where, f"reference to unknown node {r!r}")
    if not isinstance(item, AnswerValue):
        plain_fn = compile_value(item)

        def inferred(ns: dict, _f: Compiled = plain_fn) -> Expected:
            return all_of(render(_f(ns)))

        return inferred
    kind = item.kind
    value_fn = compile_value(item.value)
    aliases_fn = compile_value(item.aliases)
    options_fn = compile_value(item.options())

    def rendered(
        ns: dict,
        _v: Compiled = value_fn,
        _a: Compiled = aliases_fn,
        _o: Compiled = options_fn,
        _k: str = kind,
    ) -> Expected:
        return all_of(render(_v(ns), _k, _a(ns), _o(ns)))

    return rendered


def parse_task_file(path: Path, display: str | None = None) -> list[tuple[dict, int]]:
    """Raw task mappings of a YAML file (one task or a list), with their index in the file."""
    disp = display or str(path)
    data = read_yaml(path, disp)
    if data is None:
        return []
    if isinstance(data, dict):
        data = [data]
    if not isinstance(data, list):
        raise FixtureError(disp, None, None, "expected a task mapping or a list of tasks")
    return [(d, i) for i, d in enumerate(data)]


def _shown_names(
    tools: list[Tool], nodes: list[Node], err: Callable[[str | None, str], FixtureError]
) -> tuple[list[Tool], list[Node]]:
    """A table tool with `expose_as` is shown to the model (and scored) under that name within the
    task: imported benchmarks reuse a name for different specs across entries, and each task must
    see its source's own name. Two tools of one task may not show the same name."""
    shown = {t.name: t.expose_as for t in tools if isinstance(t, TableTool) and t.expose_as}
    if not shown:
        return tools, nodes
    seen: dict[str, str] = {}
    for t in tools:
        name = shown.get(t.name, t.name)
        if name in seen:
            raise err("tools", f"tools {seen[name]!r} and {t.name!r} are both shown to the model as {name!r}")
        seen[name] = t.name
    tools = [dataclasses.replace(t, name=shown[t.name]) if t.name in shown else t for t in tools]
    for n in nodes:
        if n.spec.tool in shown:
            n.spec = n.spec.model_copy(update={"tool": shown[n.spec.tool]})
    return tools, nodes


def task_from_mapping(
    raw: Any,
    disp: str,
    index: int,
    suite: str,
    registry: ToolRegistry,
    matching: str,
    defaults: TaskDefaults | None = None,
) -> Task:
    tid = raw.get("id") if isinstance(raw, dict) else None
    label = str(tid) if tid else f"#{index}"
    if not isinstance(raw, dict):
        raise FixtureError(disp, label, None, "a task must be a mapping")
    if defaults is not None and defaults.tools is not None and "tools" not in raw:
        raw = {**raw, "tools": list(defaults.tools)}  # the suite's tools, unless the task names its own
    try:
        spec = TaskSpec.model_validate(raw)
    except ValidationError as exc:
        loc, msg = first_problem(exc)
        raise FixtureError(disp, label, _loc(loc), msg) from exc
    return build_task(spec, disp, suite, registry, matching)


def first_problem(exc: ValidationError) -> tuple[tuple[int | str, ...], str]:
    """The error to report: an unknown key before anything else (a typo such as `patern:` also
    makes `pattern` missing; the typo is the cause), with the missing key it most resembles."""
    errors = exc.errors()
    unknown = [e for e in errors if e["type"] == "extra_forbidden"]
    if not unknown:
        return errors[0]["loc"], errors[0]["msg"]
    e = unknown[0]
    missing = [str(m["loc"][-1]) for m in errors if m["type"] == "missing" and m["loc"][:-1] == e["loc"][:-1]]
    close = difflib.get_close_matches(str(e["loc"][-1]), missing, n=1)
    return e["loc"], "unknown key" + (f" (did you mean {close[0]!r}?)" if close else "")


def resolve_suite_path(name_or_path: str | Path) -> Path:
    """A path as given; else `./tasks/<name>`; else the suite shipped in the package."""
    p = Path(name_or_path)
    if p.exists():
        return p
    local = Path("tasks") / str(name_or_path)
    if local.is_dir():
        return local
    shipped = resources.files("fanout_tasks") / str(name_or_path)
    if shipped.is_dir():
        return Path(str(shipped))
    raise FileNotFoundError(
        f"no suite {name_or_path!r}: not a path, not ./tasks/{name_or_path}, not a shipped suite"
    )


def _inside(folder: Path, f: Path, display: str) -> None:
    """A suite is its folder: a file that is a symlink out of it (to a home directory's files, to
    /dev/zero) is refused, as the importer of a shared suite would not expect it to be read."""
    if f.is_symlink() and not f.resolve().is_relative_to(folder.resolve()):
        raise FixtureError(display, None, None, "a symlink to a file outside the suite folder")


def load_suite_spec(folder: Path) -> SuiteSpec:
    f = folder / "suite.yaml"
    if not f.exists() and not f.is_symlink():
        return SuiteSpec(name=folder.name)
    try:
        _inside(folder, f, str(f))
        raw = read_yaml(f) or {}
        spec = SuiteSpec.model_validate(raw)
    except ValidationError as exc:
        loc, msg = first_problem(exc)
        raise FixtureError(str(f), None, _loc(loc), msg) from exc
    if not spec.name:
        spec.name = folder.name
    return spec


def load_suite(
    name_or_path: str | Path, registry: ToolRegistry | None = None, collect: bool = False
) -> Suite:
    """Load every task of a suite folder (or a single YAML file).

    All files are read; problems are collected and raised together as FixtureErrors, so one
    bad file does not hide the others.
    """
    path = resolve_suite_path(name_or_path)
    folder = path if path.is_dir() else path.parent
    errors: list[FixtureError] = []
    try:
        sspec = load_suite_spec(folder) if path.is_dir() else SuiteSpec(name=path.stem)
    except FixtureError as exc:
        raise FixtureErrors([exc]) from exc
    base = registry or default_registry()
    try:
        reg = base.extended(table_tool(t) for t in sspec.tools)
    except ValueError as exc:
        raise FixtureErrors([FixtureError(str(folder / "suite.yaml"), None, "tools", str(exc))]) from exc
    files = sorted(p for p in folder.rglob("*.y*ml") if p.name != "suite.yaml") if path.is_dir() else [path]
    tasks: list[Task] = []
    seen: dict[str, str] = {}
    prompts: dict[str, str] = {}
    for f in files:
        try:
            rel = str(f.relative_to(folder.parent)) if path.is_dir() else str(f)
        except ValueError:
            rel = str(f)
        try:
            _inside(folder, f, rel)
            raws = parse_task_file(f, rel)
        except FixtureError as exc:
            errors.append(exc)
            continue
        for raw, i in raws:
            try:
                t = task_from_mapping(
                    raw, rel, i, sspec.name or folder.name, reg, sspec.matching, sspec.defaults
                )
            except FixtureError as exc:
                errors.append(exc)
                continue
            if t.id in seen:
                errors.append(FixtureError(rel, t.id, "id", f"duplicate task id (also in {seen[t.id]})"))
                continue
            key = " ".join(t.prompt.split())
            if key in prompts:
                errors.append(FixtureError(rel, t.id, "prompt", f"same prompt as task {prompts[key]!r}"))
                continue
            seen[t.id] = rel
            prompts[key] = t.id
            tasks.append(t)
    if errors and not collect:
        raise FixtureErrors(errors)
    return Suite(sspec.name or folder.name, folder, sspec, sorted(tasks, key=lambda t: t.id), reg, errors)


def require_tasks(suite: Suite, given: str | Path) -> Suite:
    """`suite` (loaded from `given`), or a usage error naming the folder or file when it holds no
    task and no problem: an empty folder, one without task files, or task files that define none.
    A suite that has problems keeps them as its report."""
    if suite.tasks or suite.errors:
        return suite
    path = resolve_suite_path(given)
    if not path.is_dir():
        why = f"{path} defines none"
    elif any(p.name != "suite.yaml" for p in path.rglob("*.y*ml")):
        why = f"the task files of {path} define none"
    else:
        why = f"{path} has no task file (*.yaml, *.yml)"
    raise UsageError(f"suite {suite.name!r} holds no tasks: {why}")


def canonical_task_dict(task: Task) -> dict:
    return json.loads(task.spec.model_dump_json(exclude_defaults=True))
