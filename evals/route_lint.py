"""Route lint (DESIGN 4.2): an argument whose value a model could have taken from somewhere else.

When a node's argument comes from a reference and its resolved value also appears in the prompt,
or in the ground-truth output of another call, a capable model may take it from there: a shorter
route the fixture does not know, which the scorer would call premature. The lint reports each such
coincidence unless the fixture declares the source as an alternative (`alternatives:`) or records
why it is not a route (`not_routes: {arg: why}`).

Not reported:
- a source that is a descendant of the node (it cannot feed it) or of one of the argument's
  declared sources (it completes after that source, so the declared route is never later and the
  scorer never penalises the longer route);
- short, common values, which coincide by chance: booleans and null; numbers of at most two
  digits (`3`, `12`, `0.5`); strings under four characters; a single lowercase word (`open`,
  `high`, `celsius`: enumerations and common words).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from mock_tools.canonical import normalized_key

from .fixtures import Task
from .graph import CallGraph
from .groundtruth import GroundTruth
from .templating import refs_in

_WORD = re.compile(r"[a-z]+")


@dataclass(frozen=True)
class Finding:
    node: str
    arg: str
    value: Any
    where: str  # "the prompt" or "the output of node 'u' at <path>"

    def message(self, task: Task) -> str:
        i = next(k for k, n in enumerate(task.nodes) if n.id == self.node)
        return (
            f"{task.file}: task {task.id!r}: calls[{i}].args.{self.arg}: route lint: its value "
            f"{self.value!r} also appears in {self.where}; declare that source in `alternatives:` "
            f"or say why it is not a route in `not_routes: {{{self.arg}: ...}}`"
        )


def exempt(value: Any) -> bool:
    """Short, common values that coincide by chance (the documented rule above)."""
    if value is None or isinstance(value, bool):
        return True
    if isinstance(value, int | float):
        digits = re.sub(r"\D", "", repr(abs(value)).split("e")[0]).lstrip("0")
        return len(digits) <= 2
    if isinstance(value, str):
        v = value.strip()
        return len(v) < 4 or bool(_WORD.fullmatch(v))
    return True  # lists and objects: the lint looks at scalar arguments only


def _leaves(value: Any, path: str, out: dict[str, str]) -> None:
    if isinstance(value, dict):
        for k, v in value.items():
            _leaves(v, f"{path}.{k}", out)
    elif isinstance(value, list):
        for i, v in enumerate(value):
            _leaves(v, f"{path}[{i}]", out)
    elif not exempt(value):
        out.setdefault(normalized_key(value), path)


def _in_prompt(value: Any, prompt: str) -> bool:
    text = str(int(value) if isinstance(value, float) and value.is_integer() else value).strip().casefold()
    pattern = (
        (r"(?<!\w)" if text[:1].isalnum() else "")
        + re.escape(text)
        + (r"(?!\w)" if text[-1:].isalnum() else "")
    )
    return re.search(pattern, prompt) is not None


def lint_routes(gt: GroundTruth) -> list[Finding]:
    task = gt.task
    graph = gt.route_graph if gt.has_routes else gt.graph
    prompt = " ".join(task.prompt.casefold().split())
    outputs: dict[str, dict[str, str]] = {}
    for u, n in gt.nodes.items():
        outputs[u] = {}
        _leaves(n.output, u, outputs[u])
    found: list[Finding] = []
    for v, rn in gt.nodes.items():
        spec = task.node_by_id[v].spec
        for a, raw in spec.args.items():
            sources = refs_in(raw)
            if not sources or a in spec.not_routes:
                continue
            value = rn.args.get(a)
            if exempt(value):
                continue
            from_prompt = False
            for alt in spec.alternatives:
                if a in alt:
                    alt_refs = refs_in(alt[a])
                    sources |= alt_refs
                    from_prompt |= not alt_refs
            if not from_prompt and _in_prompt(value, prompt):
                found.append(Finding(v, a, value, "the prompt"))
            key = normalized_key(value)
            later = _descendants(graph, [v, *(s for s in sources if s in gt.nodes)])
            for u in gt.nodes:
                if u == v or u in sources or u in later:
                    continue
                path = outputs[u].get(key)
                if path is not None:
                    found.append(Finding(v, a, value, f"the output of node {u!r} at {path}"))
    return found


def _descendants(graph: CallGraph, roots: list[str]) -> set[str]:
    out: set[str] = set()
    stack = list(roots)
    while stack:
        for w in graph.children.get(stack.pop(), ()):
            if w not in out:
                out.add(w)
                stack.append(w)
    return out
