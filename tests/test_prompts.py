"""Prompt templates (rendering, errors, hash), the prompt-sensitive demo model, and the cache key."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

import pytest
from helpers import batches_of, deadline, graph_suite, run_model

from evals.cli import main
from evals.models import make_model
from evals.models.prompt_sensitive import PromptSensitiveModel, policy_for
from evals.prompts import PromptTemplateError, PromptTemplates, default_system_source, shipped_system_source
from evals.runtime import run_episode

EXAMPLES = Path(__file__).parent.parent / "examples"
SUITE = graph_suite({"g": {"a": [], "b": [], "c": [], "d": ["a", "b", "c"]}})
TASK = SUITE.by_id["g"]


def test_default_template_ships_with_the_package():
    p = PromptTemplates.load()
    system, user = p.render(TASK)
    assert system == default_system_source().strip()
    assert system.startswith("You are a helpful assistant")
    assert user == "synthetic task g"


def test_variables_available_to_templates():
    p = PromptTemplates(
        "{{ task_id }}/{{ pattern }}: {{ tool_names | join(',') }} ({{ tools | length }})",
        "Please: {{ prompt }}",
    )
    assert p.render(TASK) == ("g/synthetic: t_a,t_b,t_c,t_d (4)", "Please: synthetic task g")


def test_undefined_variable_names_file_line_and_variable(tmp_path):
    f = tmp_path / "sys.j2"
    f.write_text("Hello.\n{{ prompt }}\nTools: {{ toolz }}\n")
    p = PromptTemplates.load(f)
    with pytest.raises(PromptTemplateError) as exc:
        p.render(TASK)
    assert str(exc.value) == (
        f"{f}, line 3: 'toolz' is undefined while rendering task 'g' "
        "(variables available: pattern, prompt, task_id, tool_names, tools)"
    )


@pytest.mark.parametrize(
    ("source", "message"),
    [
        # no output, 10**10 iterations: a hang
        ("{% for i in range(100000) %}{% for j in range(100000) %}{% endfor %}{% endfor %}", "steps"),
        # no loop, 2**60 macro calls: a hang
        (
            "{% macro f(n) %}{% if n < 60 %}{{ f(n+1) }}{{ f(n+1) }}{% endif %}{% endmacro %}{{ f(0) }}",
            "steps",
        ),
        # a macro without a base case: a RecursionError traceback
        ("{% macro f(n) %}{{ f(n + 1) }}{% endmacro %}{{ f(0) }}", "recursion too deep"),
        ("{% for i in range(100000) %}{{ 'a' * 99999 }}{% endfor %}", "renders over 1,000,000"),
        ("{{ 'x' | center(10**9) }}", "'center' filter"),
        ("{{ 'x' | indent(10**9, true) }}", "'indent' filter"),
        ("{{ (range(10)|list) | batch(10**9, 'x') | list }}", "'batch' filter"),
        ("{{ 'x'.zfill(10**9) }}", "zfill"),
        ("{{ (range(100000)|list) | join('x' * 99999) }}", "'join' filter"),
    ],
)
def test_hostile_prompt_template_is_one_error_not_a_hang_or_traceback(tmp_path, source, message):
    """A candidate prompt arrives in a pull request that `fanout gate` runs in CI."""
    f = tmp_path / "sys.j2"
    f.write_text(source)
    with deadline(20), pytest.raises(PromptTemplateError, match=message) as exc:
        PromptTemplates.load(f).render(TASK)
    assert str(exc.value).startswith(f"{f}: ") and "\n" not in str(exc.value)


def test_prompt_templates_keep_loops_filters_and_tool_schemas():
    source = (
        "{% for t in tools %}{{ loop.index }}. {{ t.name }} {{ t.parameters | tojson }}\n{% endfor %}"
        "{{ tool_names | join(', ') | upper }} {{ pattern ~ '/' ~ task_id }}"
    )
    system, _ = PromptTemplates(source).render(TASK)
    assert system.startswith("1. ") and system.endswith(f"{TASK.pattern}/g")


def test_undefined_attribute_in_user_template(tmp_path):
    f = tmp_path / "user.j2"
    f.write_text("{{ prompt.nothing }}")
    with pytest.raises(PromptTemplateError, match=rf"^{f}, line 1: 'str object' has no attribute 'nothing'"):
        PromptTemplates.load(None, f).render(TASK)


def test_syntax_error_and_unreadable_files(tmp_path):
    f = tmp_path / "bad.j2"
    f.write_text("ok\n{% if %}\n")
    with pytest.raises(
        PromptTemplateError, match=rf"^{f}, line 2: template syntax error: Expected an expression"
    ):
        PromptTemplates.load(f)
    with pytest.raises(
        PromptTemplateError, match=rf"^system prompt template {tmp_path}/nope.j2 does not exist$"
    ):
        PromptTemplates.load(tmp_path / "nope.j2")
    with pytest.raises(PromptTemplateError, match=r"is a folder, not a file"):
        PromptTemplates.load(None, tmp_path)
    (tmp_path / "latin1.j2").write_bytes(b"caf\xe9")
    with pytest.raises(PromptTemplateError, match=r"is not UTF-8 text"):
        PromptTemplates.load(tmp_path / "latin1.j2")


def _hash(system: str) -> str:
    p = PromptTemplates(system)
    p.render(TASK)
    return p.hash


def test_hash_follows_the_rendered_prompt():
    base = _hash("Be brief. {{ pattern }}")
    assert base == _hash("Be brief. {{ pattern }}")
    assert base == _hash("{# reworded note #}Be brief. {{ pattern }}")  # same rendered text
    assert base != _hash("Be very brief. {{ pattern }}")
    assert PromptTemplates("a").source_hash != PromptTemplates("{# x #}a").source_hash
    assert len(base) == 16


def test_cli_run_records_prompt_hash_and_rejects_bad_templates(tmp_path, capsys):
    suite = tmp_path / "suite"
    suite.mkdir()
    (suite / "suite.yaml").write_text("name: mini\n")
    (suite / "tasks.yaml").write_text(
        """
- id: w1
  pattern: independent
  prompt: "What's the weather right now in Lisbon, Paris and Tokyo?"
  tools: [get_weather]
  calls:
    - {id: a, tool: get_weather, args: {city: Lisbon}}
    - {id: b, tool: get_weather, args: {city: Paris}}
    - {id: c, tool: get_weather, args: {city: Tokyo}}
"""
    )
    hashes = {}
    for name in ("baseline", "candidate"):
        argv = ["run", "--model", "policy/prompt-sensitive", "--suite", str(suite), "--no-progress"]
        argv += ["--out", str(tmp_path / name), "--system-prompt", str(EXAMPLES / f"prompt_{name}.j2")]
        assert main(argv) == 0
        [run] = (tmp_path / name).iterdir()
        cfg = json.loads((run / "run.json").read_text())
        assert cfg["system_prompt"] == str(EXAMPLES / f"prompt_{name}.j2")
        hashes[name] = cfg["prompt_hash"]
        ep = json.loads((run / "episodes.jsonl").read_text().splitlines()[0])
        hashes[name + "_turns"] = ep["scores"]["turns"]
    assert hashes["baseline"] != hashes["candidate"]
    assert (hashes["baseline_turns"], hashes["candidate_turns"]) == (2, 4)  # oracle vs sequential
    capsys.readouterr()
    bad = tmp_path / "bad.j2"
    bad.write_text("{{ nope }}")
    argv = ["run", "--model", "policy/oracle", "--suite", str(suite), "--out", str(tmp_path / "x")]
    assert main([*argv, "--system-prompt", str(bad), "--no-progress"]) == 2
    assert capsys.readouterr().err == (
        f"fanout run: {bad}, line 1: 'nope' is undefined while rendering task 'w1' "
        "(variables available: pattern, prompt, task_id, tool_names, tools)\n"
    )


# --------------------------------------------------------------------------------------------
# the prompt-sensitive demo model


@pytest.mark.parametrize(
    "system, policy",
    [
        (None, "oracle"),
        ("You may call several tools in one response.", "oracle"),
        ("Please make ONE tool call\n at a time.", "sequential"),
        ("Always verify by re-fetching what you read.", "redundant"),
        ("Verify by re-fetching; and one call at a time.", "sequential"),
    ],
)
def test_policy_for(system, policy):
    assert policy_for(system) == policy


def test_example_prompts_drive_the_demo():
    assert policy_for(PromptTemplates.load(EXAMPLES / "prompt_baseline.j2").render(TASK)[0]) == "oracle"
    assert policy_for(PromptTemplates.load(EXAMPLES / "prompt_candidate.j2").render(TASK)[0]) == "sequential"


def test_make_model_registers_prompt_sensitive():
    m = make_model("policy/prompt-sensitive", [SUITE])
    assert isinstance(m, PromptSensitiveModel)
    assert m.name == "policy/prompt-sensitive"


@pytest.mark.parametrize(
    "system, batches",
    [
        ("Plain prompt.", [["a", "b", "c"], ["d"]]),
        ("Make one tool call at a time.", [["a"], ["b"], ["c"], ["d"]]),
        ("Verify by re-fetching.", [["a", "b", "c", "a"], ["d", "d"]]),  # no distractor tool here
    ],
)
def test_prompt_changes_behaviour(system, batches):
    model = PromptSensitiveModel([SUITE])
    trace, sc = run_model(model, SUITE, "g", prompts=PromptTemplates(system))
    assert batches_of(trace) == batches
    assert sc.success


# --------------------------------------------------------------------------------------------
# the response cache keys on the rendered prompt


def test_template_change_misses_the_cache_and_unchanged_template_hits(tmp_path, monkeypatch):
    from evals.emulator import EmulatorServer
    from evals.models.openai import OpenAIChatModel

    monkeypatch.setenv("OPENAI_API_KEY", "test-key")
    cache = tmp_path / "responses.sqlite"

    def episode(url: str, system: str):
        model = OpenAIChatModel("oracle", {"base_url": url + "/v1", "cache_path": str(cache)})
        prompts = PromptTemplates(system)

        async def go():
            try:
                return await run_episode(model, TASK, prompts=prompts)
            finally:
                await model.aclose()

        return asyncio.run(go())

    with EmulatorServer([SUITE]) as srv:
        first = episode(srv.base_url, "Prompt A for {{ pattern }}.")
        served = srv.requests_served
        again = episode(srv.base_url, "Prompt A for {{ pattern }}.")
        assert srv.requests_served == served  # every turn came from the cache
        changed = episode(srv.base_url, "Prompt B for {{ pattern }}.")
        assert srv.requests_served == 2 * served  # every turn missed
    assert served == len(first.turns) == 3
    assert [t.cached for t in first.turns] == [False] * 3
    assert [t.cached for t in again.turns] == [True] * 3
    assert [t.cached for t in changed.turns] == [False] * 3
    assert again.wall_s == first.wall_s


# --------------------------------------------------------------------------------------------
# shipped prompts by name: default and neutral


PARALLEL_HINT = (
    "You may call several tools in one response when their inputs do not depend on each other's "
    "results; when a call needs another call's result, wait for that result first."
)


def test_named_prompts_resolve_and_hash_apart():
    default = PromptTemplates.load("default")
    neutral = PromptTemplates.load("neutral")
    none = PromptTemplates.load()
    for p in (default, neutral, none):
        p.render(TASK)
    assert default.render(TASK) == none.render(TASK)
    assert default.hash == none.hash  # the same prompt, whether named or implied
    assert neutral.hash != default.hash
    assert default.system_name == "<default system.j2>"
    assert neutral.system_name == "<neutral.j2>"
    assert shipped_system_source("default") == default_system_source()


def test_neutral_is_the_default_minus_the_parallel_hint_only():
    default = PromptTemplates.load("default").render(TASK)[0]
    neutral = PromptTemplates.load("neutral").render(TASK)[0]
    assert PARALLEL_HINT in default
    assert neutral == default.replace(" " + PARALLEL_HINT, "")
    for word in ("parallel", "several", "at once", "concurrent", "one at a time", "wait"):
        assert word not in neutral.casefold()


def test_a_file_named_like_a_shipped_prompt_is_reached_with_a_path(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "neutral").write_text("My own prompt.")
    assert PromptTemplates.load("./neutral").render(TASK)[0] == "My own prompt."
    assert PromptTemplates.load("neutral").render(TASK)[0].startswith("You are a helpful assistant")
    with pytest.raises(PromptTemplateError) as exc:
        PromptTemplates.load("nuetral")
    assert str(exc.value) == (
        "system prompt template nuetral does not exist (shipped system prompts by name: default, neutral)"
    )


def test_cli_run_with_the_neutral_prompt_records_it_and_resumes(tmp_path, capsys):
    suite = tmp_path / "suite"
    suite.mkdir()
    (suite / "suite.yaml").write_text("name: mini\n")
    (suite / "tasks.yaml").write_text(
        """
- id: w1
  pattern: independent
  prompt: "What's the weather right now in Lisbon and Paris?"
  tools: [get_weather]
  calls:
    - {id: a, tool: get_weather, args: {city: Lisbon}}
    - {id: b, tool: get_weather, args: {city: Paris}}
"""
    )
    cfgs = {}
    for name in ("default", "neutral"):
        argv = ["run", "--model", "policy/prompt-sensitive", "--suite", str(suite), "--no-progress"]
        assert main([*argv, "--out", str(tmp_path / name), "--system-prompt", name]) == 0
        [run] = (tmp_path / name).iterdir()
        cfgs[name] = json.loads((run / "run.json").read_text())
        ep = json.loads((run / "episodes.jsonl").read_text().splitlines()[0])
        # The demo model reacts to "one call at a time" and "re-fetch", not to the parallel hint:
        # it plays the oracle under both prompts (docs/prompts.md says so).
        assert ep["scores"]["turns"] == 2
        assert main(["run", "--resume", str(run), "--no-progress"]) == 0
    assert cfgs["neutral"]["system_prompt"] == "neutral"
    assert cfgs["default"]["prompt_hash"] != cfgs["neutral"]["prompt_hash"]
    assert policy_for(PromptTemplates.load("neutral").render(TASK)[0]) == "oracle"
