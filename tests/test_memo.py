"""evals/memo.py: no memo keeps an entry holding more than TEXT_MAX characters of model output."""

from __future__ import annotations

import asyncio
import json

from helpers import graph_suite, make_trace

from evals.groundtruth import resolve
from evals.matching import NodeMatcher
from evals.memo import TEXT_MAX
from evals.models.base import Model, ModelRequest, ModelResponse, ToolCall
from evals.runtime import run_episode
from evals.scoring import classify
from evals.settings import RuntimeSettings

LONG = "x" * (TEXT_MAX + 1)


def test_a_matcher_keeps_short_texts_only():
    m = NodeMatcher({"key": "a"})
    long_text = json.dumps({"key": LONG})
    assert not m.matches_text(long_text, {"key": LONG})
    assert m.matches_text('{"key": "a"}', {"key": "a"})
    assert list(m._by_text) == ['{"key": "a"}']


def test_classifications_and_answer_checks_keep_short_model_output_only():
    gt = resolve(graph_suite({"one": {"a": []}}).tasks[0])
    tr = make_trace(gt, [["a"]])
    tr.calls[0].arguments, tr.calls[0].raw_arguments = {"key": LONG}, json.dumps({"key": LONG})
    classify(gt, tr)
    assert gt.classified == {}
    classify(gt, make_trace(gt, [["a"]]))
    assert len(gt.classified) == 1
    gt.answer_ok(LONG)
    gt.answer_ok("short")
    assert list(gt._answer_checks) == ["short"]


class _Sends(Model):
    name = "sends"

    def __init__(self, arguments: str):
        self.arguments = arguments

    async def generate(self, request: ModelRequest) -> ModelResponse:
        if any(m.role == "assistant" for m in request.messages):
            return ModelResponse("done")
        return ModelResponse(None, [ToolCall("c0", "t_a", self.arguments)])


def test_the_runtime_keeps_arguments_and_reads_of_short_texts_only():
    task = graph_suite({"one": {"a": []}}).tasks[0]
    for text in ('{"key": "a"}', json.dumps({"key": LONG})):
        asyncio.run(run_episode(_Sends(text), task, RuntimeSettings()))
    assert list(vars(task)["_arguments"]) == ['{"key": "a"}']
    reads = vars(task)["_read_results"][0]
    assert [k[1] for k in reads] == ['{"key": "a"}']


def test_argument_value_keys_and_latency_samples_keep_short_texts_only():
    from evals import matching

    m = NodeMatcher({"key": "a"})
    m.matches({"key": LONG})
    assert (str, LONG) not in matching._SCALAR_KEYS["default"]
    task = graph_suite({"one": {"a": []}}).tasks[0]
    asyncio.run(run_episode(_Sends(json.dumps({"key": LONG})), task, RuntimeSettings()))
    (times,) = vars(task)["_call_times"].values()
    assert times == {}
