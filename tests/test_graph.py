from __future__ import annotations

import pytest

from evals.graph import CallGraph, CycleError


def test_topological_order_breaks_ties_by_declaration():
    g = CallGraph(["c", "a", "b", "d"], {"d": ["a", "c"], "b": ["a"]})
    assert g.topo == ["c", "a", "b", "d"]
    assert g.level == {"c": 0, "a": 0, "b": 1, "d": 1}
    assert g.levels() == [["c", "a"], ["b", "d"]]
    assert g.longest_path() == 2
    assert g.width() == 2


def test_ancestors_and_parallelizable_set():
    g = CallGraph(["a", "b", "c", "d"], {"b": ["a"], "c": ["b"], "d": ["a"]})
    assert g.ancestors_of("c") == {"a", "b"}
    assert g.comparable("a", "c") and not g.comparable("b", "d")
    assert g.parallelizable() == {"b", "c", "d"}
    assert CallGraph(["a", "b"], {"b": ["a"]}).parallelizable() == set()


def test_cycle_is_reported_with_its_nodes():
    with pytest.raises(CycleError) as ei:
        CallGraph(["a", "b", "c"], {"a": ["c"], "b": ["a"], "c": ["b"]})
    assert set(ei.value.nodes) == {"a", "b", "c"}
    assert ei.value.nodes[0] == ei.value.nodes[-1]


def test_subgraph_keeps_transitive_dependencies():
    g = CallGraph(["a", "b", "c"], {"b": ["a"], "c": ["b"]})
    s = g.subgraph(["a", "c"])
    assert s.deps["c"] == ("a",)
    assert s.longest_path() == 2


def test_empty_graph():
    g = CallGraph([], {})
    assert g.longest_path() == 0 and g.levels() == [] and g.width() == 0
