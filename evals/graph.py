"""The dependency graph of a task's ground-truth calls.

Topological order breaks ties by declaration order, so every derived quantity (attribution of
premature calls, levels, schedules) is deterministic for a given fixture.
"""

from __future__ import annotations

import heapq
from collections.abc import Iterable, Mapping


class CycleError(ValueError):
    def __init__(self, nodes: list[str]):
        super().__init__(f"dependency cycle through {', '.join(nodes)}")
        self.nodes = nodes


class CallGraph:
    def __init__(self, ids: list[str], deps: Mapping[str, Iterable[str]]):
        self.ids = list(ids)
        self.index = {v: i for i, v in enumerate(self.ids)}
        self.deps: dict[str, tuple[str, ...]] = {
            v: tuple(sorted(set(deps.get(v, ())), key=self.index.__getitem__)) for v in self.ids
        }
        for v, ds in self.deps.items():
            for u in ds:
                if u not in self.index:
                    raise KeyError(f"{v} depends on unknown node {u}")
        self.children: dict[str, list[str]] = {v: [] for v in self.ids}
        for v in self.ids:
            for u in self.deps[v]:
                self.children[u].append(v)
        self.topo = self._toposort()
        self.level: dict[str, int] = {}
        for v in self.topo:
            self.level[v] = 1 + max((self.level[u] for u in self.deps[v]), default=-1)
        # Ancestor sets as bitmasks over `index`: a 10,000-node chain needs 12 MB and milliseconds,
        # where sets of names grew quadratically (a MemoryError after half a minute).
        self._anc: dict[str, int] = {}
        for v in self.topo:
            acc = 0
            for u in self.deps[v]:
                acc |= self._anc[u] | (1 << self.index[u])
            self._anc[v] = acc
        self._desc: dict[str, int] | None = None
        self.topo_index = {v: i for i, v in enumerate(self.topo)}

    def _toposort(self) -> list[str]:
        indeg = {v: len(self.deps[v]) for v in self.ids}
        heap = [(self.index[v], v) for v in self.ids if indeg[v] == 0]
        heapq.heapify(heap)
        out: list[str] = []
        while heap:
            _, v = heapq.heappop(heap)
            out.append(v)
            for w in self.children[v]:
                indeg[w] -= 1
                if indeg[w] == 0:
                    heapq.heappush(heap, (self.index[w], w))
        if len(out) != len(self.ids):
            self._raise_cycle(set(self.ids) - set(out))
        return out

    def _raise_cycle(self, remaining: set[str]) -> None:
        # Walk dependencies inside the remainder until a node repeats: that loop is the cycle.
        start = min(remaining, key=self.index.__getitem__)
        path: list[str] = []
        seen: dict[str, int] = {}
        v = start
        while v not in seen:
            seen[v] = len(path)
            path.append(v)
            v = next(u for u in self.deps[v] if u in remaining)
        cyc = path[seen[v] :]
        raise CycleError([*reversed(cyc), cyc[-1]] if len(cyc) > 1 else [v, v])

    # -- derived quantities --------------------------------------------------------------
    def levels(self) -> list[list[str]]:
        """Nodes grouped by depth (0 = roots): the oracle's batches."""
        out: list[list[str]] = []
        for v in self.topo:
            lv = self.level[v]
            while len(out) <= lv:
                out.append([])
            out[lv].append(v)
        return out

    def longest_path(self) -> int:
        """Length of the longest dependency chain, in nodes (0 for an empty graph)."""
        return 1 + max(self.level.values()) if self.ids else 0

    def ancestors_of(self, v: str) -> frozenset[str]:
        mask = self._anc[v]
        return frozenset(u for u in self.ids if mask >> self.index[u] & 1)

    def comparable(self, u: str, v: str) -> bool:
        return bool(self._anc[v] >> self.index[u] & 1 or self._anc[u] >> self.index[v] & 1)

    def _descendants(self) -> dict[str, int]:
        if self._desc is None:
            desc = {v: 0 for v in self.ids}
            for v in reversed(self.topo):
                for w in self.children[v]:
                    desc[v] |= desc[w] | (1 << self.index[w])
            self._desc = desc
        return self._desc

    def parallelizable(self, subset: Iterable[str] | None = None) -> set[str]:
        """Nodes of `subset` incomparable with at least one other node of `subset` (the set P):
        those whose ancestors and descendants inside `subset` are fewer than the rest of it."""
        nodes = list(dict.fromkeys(self.ids if subset is None else subset))
        mask = 0
        for u in nodes:
            mask |= 1 << self.index[u]
        desc = self._descendants()
        return {u for u in nodes if ((self._anc[u] | desc[u]) & mask).bit_count() < len(nodes) - 1}

    def subgraph(self, keep: Iterable[str]) -> CallGraph:
        """The graph restricted to `keep`, with dependencies through dropped nodes kept transitively."""
        ks = set(keep)
        deps = {}
        for v in self.ids:
            if v not in ks:
                continue
            direct: set[str] = set()
            stack = list(self.deps[v])
            while stack:
                u = stack.pop()
                if u in ks:
                    direct.add(u)
                else:
                    stack.extend(self.deps[u])
            deps[v] = direct
        return CallGraph([v for v in self.ids if v in ks], deps)

    def width(self) -> int:
        """Widest level: the largest batch the oracle issues."""
        return max((len(lv) for lv in self.levels()), default=0)
