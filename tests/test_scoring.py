"""DESIGN.md section 4: the worked examples with exact values, class rules, and edge cases."""

from __future__ import annotations

from fractions import Fraction

import pytest
from helpers import batches_of, graph_suite, make_trace, run_model, score_batches

from evals.groundtruth import resolve
from evals.models.policies import PolicyModel
from evals.scoring import classify, score

GRAPHS = {
    "join": {"a": [], "b": [], "c": [], "d": ["a", "b", "c"]},
    "chain": {"a": [], "b": ["a"], "c": ["b"]},
    "vee": {"a": [], "c": ["a"], "b": []},
}
SUITE = graph_suite(GRAPHS)


def frac(num, den):
    return None if den == 0 else Fraction(num, den)


# (graph, behaviour as batches, recall, incorrect, turns, premature calls) -- DESIGN.md's table
WORKED = [
    ("join", [["a", "b", "c"], ["d"]], (3, 3), (0, 1), 3, 0),
    ("join", [["a"], ["b"], ["c"], ["d"]], (1, 3), (0, 1), 5, 0),
    ("join", [["a", "b", "c", "d?"], ["d"]], (3, 3), (1, 1), 3, 1),
    ("chain", [["a", "b?", "c?"], ["b", "c?"], ["c"]], None, (2, 2), 4, 3),
    ("vee", [["a", "b"], ["c"]], (3, 3), (0, 1), 3, 0),
    ("vee", [["a"], ["b"], ["c"]], (1, 3), (0, 1), 4, 0),
    ("vee", [["a"], ["c"], ["b"]], (2, 3), (0, 1), 4, 0),
]


@pytest.mark.parametrize("graph,batches,recall,incorrect,turns,premature", WORKED)
def test_worked_examples_exact(graph, batches, recall, incorrect, turns, premature):
    s = score_batches(SUITE, graph, batches)
    if recall is None:
        assert s.fan_out_recall is None and s.parallelizable == 0
    else:
        assert (s.on_time, s.parallelizable) == recall
        assert s.fan_out_recall == recall[0] / recall[1]
    assert (s.premature_nodes, s.nodes_with_deps) == incorrect
    assert s.incorrect_fan_out_rate == incorrect[0] / incorrect[1]
    assert s.turns == turns
    assert s.classes["premature"] == premature
    assert s.success


WORKED_POLICIES = [
    ("join", "oracle", [["a", "b", "c"], ["d"]]),
    ("join", "sequential", [["a"], ["b"], ["c"], ["d"]]),
    # `after` dependencies carry no data, so greedy's early calls have the right arguments: still premature.
    ("join", "greedy", [["a", "b", "c", "d"], ["d"]]),
    ("chain", "greedy", [["a", "b", "c"], ["b", "c"], ["c"]]),
    ("vee", "oracle", [["a", "b"], ["c"]]),
    ("vee", "sequential", [["a"], ["c"], ["b"]]),
]


@pytest.mark.parametrize("graph,policy,expected", WORKED_POLICIES)
def test_reference_policies_behave_as_the_worked_examples(graph, policy, expected):
    trace, s = run_model(PolicyModel(policy, [SUITE]), SUITE, graph)
    assert batches_of(trace) == expected
    row = next(w for w in WORKED if w[0] == graph and _same(w[1], expected))
    assert s.turns == row[4]
    assert (s.premature_nodes, s.nodes_with_deps) == row[3]


def _same(batches, observed):
    return [[x.rstrip("?") for x in b] for b in batches] == observed


def test_ideal_turns_is_longest_path_plus_one():
    for tid, want in (("join", 3), ("chain", 4), ("vee", 3)):
        assert resolve(SUITE.by_id[tid]).ideal_turns == want


def test_parallelizable_set():
    assert resolve(SUITE.by_id["join"]).parallelizable == {"a", "b", "c"}
    assert resolve(SUITE.by_id["chain"]).parallelizable == set()
    assert resolve(SUITE.by_id["vee"]).parallelizable == {"a", "b", "c"}


def test_duplicate_wrong_args_and_extraneous():
    gt = resolve(SUITE.by_id["vee"])
    tr = make_trace(gt, [["a", "b"], ["c", "a"]])
    # a wrong-args call: c's tool while c is ready, with other args
    tr.calls[2].arguments = {"key": "zzz"}
    tr.calls[2].raw_arguments = '{"key": "zzz"}'  # the arguments are a function of their text
    cl = classify(gt, tr)
    assert cl.classes == ["correct", "correct", "wrong_args", "duplicate"]
    tr2 = make_trace(gt, [["a", "b"], ["c"]])
    tr2.calls.append(tr2.calls[0].model_copy(update={"index": 3, "turn": 2, "name": "get_weather"}))
    tr2.calls.append(
        tr2.calls[0].model_copy(
            update={"index": 4, "turn": 2, "arguments": None, "raw_arguments": "{bad", "parse_error": "x"}
        )
    )
    assert classify(gt, tr2).classes == ["correct", "correct", "correct", "extraneous", "extraneous"]


def test_extra_call_to_satisfied_node_with_other_args_is_extraneous():
    gt = resolve(SUITE.by_id["vee"])
    tr = make_trace(gt, [["a", "b"], ["c", "a"]])
    tr.calls[3].arguments = {"key": "other"}
    assert classify(gt, tr).classes[3] == "extraneous"


def test_error_result_does_not_satisfy_and_retry_is_correct():
    gt = resolve(SUITE.by_id["vee"])
    tr = make_trace(gt, [["a", "b"], ["a", "c?"], ["c"]])
    tr.calls[0].error = "timeout"
    cl = classify(gt, tr)
    # a failed at turn 1, retried at 2 (correct); c at turn 2 is premature (a satisfied only at 2)
    assert cl.classes == ["correct", "correct", "correct", "premature", "correct"]
    assert cl.sat == {"b": 1, "a": 2, "c": 3}


@pytest.mark.parametrize(
    ("batches", "failed", "timed_out", "on_time"),
    [
        # a fanned out at turn 1, timed out, retried at turn 2: on time (the timeout is the tool's)
        ([["a", "b"], ["a"], ["c"]], 0, True, 3),
        # the same with an error that is no timeout: the retry at turn 2 is late
        ([["a", "b"], ["a"], ["c"]], 0, False, 2),
        # a first issued at turn 2 (it was ready at 1), timed out, retried: late either way
        ([["b"], ["a"], ["a"], ["c"]], 1, True, 2),
    ],
)
def test_a_timed_out_call_issued_on_time_keeps_its_node_on_time(batches, failed, timed_out, on_time):
    """Fan-out recall counts the turn a node was first issued, when that call timed out and a
    retry completed it: a tool timeout is not the model's (docs/scoring.md, parallel success)."""
    gt = resolve(SUITE.by_id["vee"])
    tr = make_trace(gt, batches)
    tr.calls[failed].error = "timeout" if timed_out else "not_found"
    tr.calls[failed].timed_out = timed_out
    sc = score(gt, tr)
    assert (sc.on_time, sc.parallelizable) == (on_time, 3)
    assert sc.success and sc.classes["correct"] == sc.n_calls


def test_premature_attribution_prefers_the_node_whose_args_match():
    suite = graph_suite({"shared": {"a": [], "b": ["a"], "c": ["b"]}}, shared_tool=True)
    gt = resolve(suite.by_id["shared"])
    tr = make_trace(gt, [["a", "b", "c"], ["b"], ["c"]])
    s = score(gt, tr)
    assert [c.node for c in tr.calls] == ["a", "b", "c", "b", "c"]
    assert (s.premature_nodes, s.nodes_with_deps) == (2, 2)


def test_all_call_classes_partition_calls_and_are_written_to_trace():
    gt = resolve(SUITE.by_id["join"])
    tr = make_trace(gt, [["a", "a", "b", "c", "d?"], ["d", "d"]])
    s = score(gt, tr)
    assert sum(s.classes.values()) == s.n_calls == len(tr.calls) == 7
    assert all(c.cls for c in tr.calls)
    assert s.redundant_calls == s.classes["duplicate"] + s.classes["extraneous"] == 2
    assert s.redundant_rate == 2 / 7


def test_unsatisfied_required_node_means_failure():
    s = score_batches(SUITE, "join", [["a", "b", "c"]])
    assert not s.success and s.required_satisfied == 3 and s.required_total == 4


def test_classification_is_memoised_per_call_sequence_and_each_caller_gets_its_own_copy():
    gt = resolve(SUITE.by_id["vee"])
    tr = make_trace(gt, [["a", "b"], ["c", "a"]])
    first = classify(gt, tr)
    first.classes[0], first.sat["a"] = "mutated", 99
    again = classify(gt, make_trace(gt, [["a", "b"], ["c", "a"]]))
    assert again.classes == ["correct", "correct", "correct", "duplicate"]
    assert again.sat == {"a": 1, "b": 1, "c": 2}
    # The key is what classification reads: the same calls with one failing classify anew.
    failed = make_trace(gt, [["a", "b"], ["c", "a"]])
    failed.calls[0].error = "boom"
    assert classify(gt, failed).classes[0] == "correct"
    assert classify(gt, failed).sat == {"b": 1, "a": 2}
