"""Model output that used to crash a run (issue 11, item 4): arguments nested 10,000 deep and lone
surrogates, through the runtime, the episode writer, the response cache and replay; then a
hypothesis fuzz of the whole response path over JSON shapes, depths, sizes and code points."""

from __future__ import annotations

import asyncio
import json
import os
import tempfile
from pathlib import Path
from typing import Any

import pytest
from helpers import deadline
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from wire_server import Reply, WireServer

from evals.cache import ResponseCache
from evals.episodes import EpisodeRecord, parse_line
from evals.fixtures import Task, load_suite
from evals.groundtruth import resolve
from evals.models.base import Model, ModelRequest, ModelResponse, ToolCall
from evals.models.http import response_from_json, response_to_json
from evals.models.replay import ReplayModel
from evals.runs import RunWriter, build_model, execute, load_records, start_run, unlock_run
from evals.runtime import MAX_ARGUMENT_DEPTH, run_episode
from evals.scoring import score
from evals.settings import RuntimeSettings

DEEP = 10_000
TOO_DEEP = f"arguments nested deeper than {MAX_ARGUMENT_DEPTH} levels"


@pytest.fixture(scope="module")
def core():
    return load_suite("core")


@pytest.fixture(scope="module")
def task(core) -> Task:
    return core.by_id[sorted(t.id for t in core.select(["orders*"]))[0]]


def deep_text(depth: int, kind: str = "dict") -> str:
    return "[" * depth + "]" * depth if kind == "list" else '{"a":' * depth + "1" + "}" * depth


def deep_object(depth: int, kind: str = "dict") -> Any:
    """Containers nested `depth` levels, built without recursion."""
    root: Any = [] if kind == "list" else {}
    node = root
    for _ in range(depth - 1):
        child: Any = [] if kind == "list" else {}
        if kind == "list":
            node.append(child)
        else:
            node["a"] = child
        node = child
    return root


Script = list[tuple[str | None, list[tuple[Any, Any]]]]  # per turn: text, [(tool name, arguments)]


class Scripted(Model):
    """Answers turn t with the script's t-th response (built fresh each time, so nothing the
    runtime records can leak back into the script), then a final answer."""

    name = "scripted"

    def __init__(self, script: Script, responses: list[ModelResponse] | None = None):
        self.script = script
        self.responses = responses

    def response(self, i: int) -> ModelResponse:
        if self.responses is not None:
            return self.responses[i]
        text, calls = self.script[i]
        return ModelResponse(text, [ToolCall(f"c{i}_{j}", n, a) for j, (n, a) in enumerate(calls)])

    async def generate(self, request: ModelRequest) -> ModelResponse:
        turn = sum(1 for m in request.messages if m.role == "assistant")
        return self.response(turn) if turn < len(self.script) else ModelResponse("done")


def first_arg(task: Task) -> str:
    """An argument name of the tool of the task's first node."""
    return next(iter(task.tool_by_name[task.nodes[0].tool].parameters.get("properties") or {"x": 0}))


def hostile_script(task: Task) -> Script:
    node = task.nodes[0]
    key = first_arg(task)
    return [
        (
            "thinking \ud800",
            [
                (node.tool, deep_text(DEEP, "list")),
                (node.tool, deep_text(DEEP)),
                (node.tool, deep_object(DEEP)),
                (node.tool, {key: "x\ud800"}),
                ("\ud800tool", '{"k": "\\udc00"}'),
            ],
        ),
        ("answer \ud800", []),
    ]


def check_hostile_trace(rec: EpisodeRecord, task: Task) -> None:
    calls = rec.trace.calls
    assert [c.parse_error for c in calls[:3]] == [TOO_DEEP] * 3
    assert [c.cls for c in calls[:3]] == ["extraneous"] * 3
    key = first_arg(task)
    assert calls[3].arguments == {key: "x\ufffd"}
    assert (calls[4].name, calls[4].arguments, calls[4].cls) == ("\ufffdtool", {"k": "\ufffd"}, "extraneous")
    assert rec.trace.turns[0].text == "thinking \ufffd" and rec.trace.final_text == "answer \ufffd"
    assert rec.trace.stop == "answer"


def test_deep_arguments_and_lone_surrogates_are_scored_written_and_read_back(tmp_path, core, task):
    d, cfg = start_run("scripted", core, tmp_path, task_patterns=[task.id])
    summary = asyncio.run(execute(d, cfg, Scripted(hostile_script(task)), core, progress=False))
    assert summary["episodes"] == 1 and summary["errors"] == 0
    (d / "episodes.jsonl").read_bytes().decode("utf-8")  # valid UTF-8, strictly
    cfg, (rec,) = load_records(d)
    assert cfg.status == "complete"
    check_hostile_trace(rec, task)


def chat(message: dict, deep: str | None = None) -> Reply:
    body = {
        "id": "chatcmpl-1",
        "object": "chat.completion",
        "created": 0,
        "model": "gpt-4.1",
        "choices": [{"index": 0, "message": message, "finish_reason": "stop"}],
        "usage": {"prompt_tokens": 100, "completion_tokens": 20, "total_tokens": 120},
    }
    text = json.dumps(body)  # ensure_ascii: a lone surrogate travels as the escape "\ud800"
    if deep is not None:  # an object too deep for json.dumps, spliced in as text
        text = text.replace('"@DEEP@"', deep)
    return Reply(body=text.encode())


def run_over_http(core: Any, task_id: str, server: WireServer, out: Path, cache: Path) -> Path:
    """One openai/ run of one task against `server`, through the response cache at `cache`."""
    opts = {"base_url": server.url + "/v1", "cache_path": str(cache), "max_retries": 0}
    d, cfg = start_run("openai/gpt-4.1", core, out, task_patterns=[task_id], model_options=opts)
    model = build_model(cfg, [core])

    async def go() -> None:
        try:
            await execute(d, cfg, model, core, progress=False)
        finally:
            await model.aclose()

    asyncio.run(go())
    return d


def test_the_http_path_the_cache_and_replay_survive_hostile_responses(tmp_path, core, task, monkeypatch):
    monkeypatch.setenv("OPENAI_API_KEY", "sk-test")
    node = task.nodes[0]
    key = first_arg(task)

    def call(i: int, args: Any) -> dict:
        return {"id": f"c{i}", "type": "function", "function": {"name": node.tool, "arguments": args}}

    first = {
        "role": "assistant",
        "content": "I will look \ud800",
        "tool_calls": [
            call(1, deep_text(DEEP)),  # arguments as JSON text, 10,000 deep
            call(2, "@DEEP@"),  # arguments as an object, 10,000 deep
            call(3, json.dumps({key: "x\ud800"})),
        ],
    }
    replies = [chat(first, deep_text(DEEP)), chat({"role": "assistant", "content": "answer \ud800"})]
    cache = tmp_path / "cache.sqlite"

    with WireServer(replies) as server:  # the cache key holds the endpoint: one server for both
        d1 = run_over_http(core, task.id, server, tmp_path / "live", cache)
        assert len(server.seen) == 2
        d2 = run_over_http(core, task.id, server, tmp_path / "cached", cache)  # no reply is left now
        assert len(server.seen) == 2
    (_, (live_rec,)), (_, (cached_rec,)) = load_records(d1), load_records(d2)
    assert [c.parse_error for c in live_rec.trace.calls] == [TOO_DEEP, TOO_DEEP, None]
    assert live_rec.trace.calls[2].arguments == {key: "x\ufffd"}
    assert live_rec.trace.final_text == "answer \ufffd" and live_rec.trace.stop == "answer"
    assert all(t.cached for t in cached_rec.trace.turns)
    assert cached_rec.scores == live_rec.scores
    assert cached_rec.trace.calls == live_rec.trace.calls
    d3, cfg3 = start_run(f"replay/{d1}", core, tmp_path / "replay", task_patterns=[task.id])
    asyncio.run(execute(d3, cfg3, ReplayModel(str(d1), [core]), core, progress=False))
    (_, (replayed,)) = load_records(d3)
    assert replayed.scores == live_rec.scores and replayed.trace.calls == live_rec.trace.calls


# -- the fuzz -------------------------------------------------------------------------------------

CHARS = st.characters(exclude_categories=())  # every code point, lone surrogates included
TEXTS = st.text(CHARS, max_size=40)
SCALARS = st.none() | st.booleans() | st.integers() | st.floats() | TEXTS
VALUES = st.recursive(
    SCALARS, lambda kids: st.lists(kids, max_size=4) | st.dictionaries(TEXTS, kids, max_size=4), max_leaves=24
)


@st.composite
def deep_arguments(draw: st.DrawFn) -> Any:
    depth = draw(st.integers(MAX_ARGUMENT_DEPTH - 2, 3 * DEEP // 2))
    kind = draw(st.sampled_from(["dict", "list"]))
    return deep_text(depth, kind) if draw(st.booleans()) else deep_object(depth, kind)


def arguments(tool_args: list[str]) -> st.SearchStrategy[Any]:
    keys = st.sampled_from(tool_args) | TEXTS if tool_args else TEXTS
    objects = st.dictionaries(keys, VALUES, max_size=5)
    return st.one_of(
        objects,  # an object, as some servers send
        st.tuples(objects, st.booleans()).map(lambda t: json.dumps(t[0], ensure_ascii=t[1])),
        st.tuples(VALUES, st.booleans()).map(lambda t: json.dumps(t[0], ensure_ascii=t[1])),
        VALUES,  # not an object at all
        TEXTS,  # not JSON
        st.integers(0, 300_000).map(lambda n: json.dumps({"blob": "x" * n})),  # large
        deep_arguments(),
    )


def scripts(task: Task) -> st.SearchStrategy[Script]:
    names = st.sampled_from(sorted(task.tool_by_name)) | TEXTS
    tool_args = sorted({k for t in task.tools for k in t.parameters.get("properties") or {}})
    calls = st.lists(st.tuples(names, arguments(tool_args)), max_size=6)
    turn = st.tuples(st.none() | TEXTS, calls)
    return st.lists(turn, min_size=1, max_size=3)


def _cacheable(script: Script) -> bool:
    """What a provider can send: the HTTP decoders keep objects deeper than their limit as text,
    so only shallow objects (and any text) reach the cache."""
    try:
        json.dumps([c for _, calls in script for c in calls], default=str)
    except (RecursionError, ValueError):
        return False
    return True


def episode(task: Task, model: Model) -> tuple[EpisodeRecord, bytes]:
    trace = asyncio.run(run_episode(model, task, RuntimeSettings()))
    assert trace.stop != "error", trace.error
    rec = EpisodeRecord(
        task_id=task.id, pattern=task.pattern, scores=score(resolve(task, 0), trace), trace=trace
    )
    return rec, rec.line_bytes()


def test_fuzz_any_model_output_is_scored_written_cached_and_replayed(core, task, tmp_path_factory):
    cache = ResponseCache(tmp_path_factory.mktemp("fuzz") / "cache.sqlite")
    runs_dir = Path(tempfile.mkdtemp(dir=tmp_path_factory.getbasetemp()))
    n = {"example": 0}

    @settings(
        max_examples=int(os.environ.get("FUZZ_EXAMPLES", "60")),
        deadline=None,  # the deadline bounds each example instead (timings are noisy on CI)
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
    )
    @given(script=scripts(task))
    def check(script: Script) -> None:
        n["example"] += 1
        with deadline(60):
            rec, line = episode(task, Scripted(script))
            line.decode("utf-8")  # strictly valid UTF-8
            back = parse_line(line)
            assert back.scores == rec.scores
            assert back.line_bytes() == line  # what is read back is what was written
            if _cacheable(script):  # through the response cache, as a cached re-run reads it
                model = Scripted(script)
                served = []
                for i in range(len(script)):
                    k = f"{n['example']}-{i}"
                    cache.put(k, "fuzz", "scripted", "-", 0, response_to_json(model.response(i)))
                    served.append(response_from_json(cache.get(k) or {}, cached=False))
                assert episode(task, Scripted(script, served))[1] == line
            # replay of the written run gives the same scores
            d, _ = start_run("scripted", core, runs_dir, task_patterns=[task.id])
            writer = RunWriter(d)
            writer.write(rec)
            writer.close()
            unlock_run(d)
            replayed, _ = episode(task, ReplayModel(str(d), [core]))
            assert replayed.scores == rec.scores

    check()


# -- the hostile response corpus ------------------------------------------------------------------

RESPONSES = Path(__file__).parent / "hostile" / "responses"
FINAL = chat({"role": "assistant", "content": "I could not find it."})


@pytest.mark.parametrize("name", sorted(p.stem for p in RESPONSES.glob("*.json")))
def test_hostile_responses_over_http_are_scored_and_written(tmp_path, core, monkeypatch, name):
    """Each file of tests/hostile/responses is one hostile Chat Completions answer (to
    orders_chain_01, whose first call is find_user), served over real HTTP: it must be scored and
    written like any answer, never crash the run or end the episode in an error."""
    monkeypatch.setenv("OPENAI_API_KEY", "sk-test")
    reply = Reply(body=(RESPONSES / f"{name}.json").read_bytes())
    with WireServer([reply, FINAL]) as server:
        with deadline(60):
            d = run_over_http(core, "orders_chain_01", server, tmp_path, tmp_path / "c.sqlite")
    (d / "episodes.jsonl").read_bytes().decode("utf-8")
    cfg, (rec,) = load_records(d)
    assert cfg.status == "complete"
    assert rec.trace.stop == "answer", rec.trace.error
    assert all(c.cls is not None for c in rec.trace.calls)
    assert not rec.scores.success
    assert not Path("/tmp/pwned").exists()


def test_arguments_sent_as_an_object_are_what_their_recorded_text_says(core, task):
    """An in-process model may send a Python object: it is recorded as JSON text, and the
    arguments scored are that text read back (a tuple is a list, a key 1 is "1"), as a provider's
    would be, so a call's arguments are always a function of its text."""
    node = task.nodes[0]
    key = first_arg(task)
    script: Script = [(None, [(node.tool, {key: ("a", 1), 1: True})])]
    trace = asyncio.run(run_episode(Scripted(script), task, RuntimeSettings()))
    c = trace.calls[0]
    assert c.raw_arguments == f'{{"{key}":["a",1],"1":true}}'
    assert c.arguments == json.loads(c.raw_arguments) == {key: ["a", 1], "1": True}


@pytest.mark.parametrize(
    "usage",
    [
        {"prompt_tokens": -5, "completion_tokens": 3},
        {"prompt_tokens": 10**30, "completion_tokens": 3},
        {"prompt_tokens": 10, "completion_tokens": 1e300},
        {"prompt_tokens": 10, "completion_tokens": 2.5},
        {"prompt_tokens": "lots", "completion_tokens": 3},
        {"prompt_tokens": True, "completion_tokens": 3},
        {"prompt_tokens": 10, "completion_tokens": 3, "cached": [1]},
        {"prompt_tokens": 10, "completion_tokens": 3, "cached": 11},
    ],
)
def test_garbage_usage_is_no_usage_in_every_wire_format(usage):
    """A negative count made a negative cost, 10**30 an astronomical one, and a string lost the
    model's whole answer to an episode error; each is now no usage: tokens are estimated."""
    from evals.models import anthropic, google, openai, responses

    p, c, cached = usage["prompt_tokens"], usage["completion_tokens"], usage.get("cached", 0)
    assert (
        openai.usage_of(
            {"prompt_tokens": p, "completion_tokens": c, "prompt_tokens_details": {"cached_tokens": cached}}
        )
        is None
    )
    assert (
        responses.usage_of(
            {"input_tokens": p, "output_tokens": c, "input_tokens_details": {"cached_tokens": cached}}
        )
        is None
    )
    assert (
        google.usage_of({"promptTokenCount": p, "candidatesTokenCount": c, "cachedContentTokenCount": cached})
        is None
    )
    if cached != 11:  # Anthropic counts cache reads apart from input tokens: 11 is no garbage there
        read = {"cache_read_input_tokens": cached} if cached else {}
        assert anthropic.usage_of({"input_tokens": p, "output_tokens": c, **read}) is None


def test_usable_usage_is_kept_as_sent():
    from evals.models import anthropic, google, openai, responses

    u = openai.usage_of(
        {"prompt_tokens": "12", "completion_tokens": 5.0, "prompt_tokens_details": {"cached_tokens": 4}}
    )
    assert (u.prompt_tokens, u.completion_tokens, u.cached_tokens, u.reasoning_tokens) == (12, 5, 4, None)
    u = responses.usage_of(
        {"input_tokens": 12, "output_tokens": 5, "output_tokens_details": {"reasoning_tokens": 2}}
    )
    assert (u.prompt_tokens, u.completion_tokens, u.reasoning_tokens) == (12, 5, 2)
    u = google.usage_of({"promptTokenCount": 12, "candidatesTokenCount": 5, "thoughtsTokenCount": 3})
    assert (u.prompt_tokens, u.completion_tokens, u.reasoning_tokens) == (12, 8, 3)
    u = anthropic.usage_of({"input_tokens": 2, "output_tokens": 5, "cache_read_input_tokens": 10})
    assert (u.prompt_tokens, u.completion_tokens, u.cached_tokens) == (12, 5, 10)


@pytest.mark.parametrize(
    "name", ["usage_negative", "usage_astronomical", "usage_not_numbers", "usage_cached_over_prompt"]
)
def test_garbage_usage_over_http_is_estimated(tmp_path, core, monkeypatch, name):
    monkeypatch.setenv("OPENAI_API_KEY", "sk-test")
    with WireServer([Reply(body=(RESPONSES / f"{name}.json").read_bytes()), FINAL]) as server:
        d = run_over_http(core, "orders_chain_01", server, tmp_path, tmp_path / "c.sqlite")
    _, (rec,) = load_records(d)
    assert rec.trace.stop == "answer" and rec.scores.usage_estimated
    assert 0 < rec.scores.prompt_tokens < 100_000 and 0 <= rec.scores.completion_tokens < 100_000
