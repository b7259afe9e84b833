"""Fixture loading: every load-time error names the file, the task and the field."""

from __future__ import annotations

import textwrap

import pytest

from evals.fixtures import FixtureErrors, load_suite


def write_suite(tmp_path, body: str, name: str = "bad.yaml"):
    d = tmp_path / "suite"
    d.mkdir(exist_ok=True)
    (d / name).write_text(textwrap.dedent(body))
    return d


def load_error(tmp_path, body: str) -> str:
    d = write_suite(tmp_path, body)
    with pytest.raises(FixtureErrors) as ei:
        load_suite(d)
    assert len(ei.value.errors) == 1
    return str(ei.value.errors[0])


GOOD = """
- id: ok_task
  pattern: chain
  prompt: "Where does ana@example.com live, and what's the weather there?"
  tools: [find_user, get_weather]
  calls:
    - {id: user, tool: find_user, args: {email: ana@example.com}}
    - {id: w, tool: get_weather, args: {city: "{{ user.city }}"}}
  answer: {contains: ["{{ w.condition }}"]}
"""


def test_good_fixture_loads_with_dependencies(tmp_path):
    s = load_suite(write_suite(tmp_path, GOOD))
    t = s.by_id["ok_task"]
    assert t.node_by_id["w"].deps == ("user",)
    assert t.graph.topo == ["user", "w"]


def test_yaml_syntax_error_names_file_and_line(tmp_path):
    msg = load_error(tmp_path, "- id: x\n  prompt: [unclosed\n")
    assert "bad.yaml" in msg and "YAML syntax error" in msg and "line" in msg


def test_unknown_tool(tmp_path):
    msg = load_error(
        tmp_path, GOOD.replace("tools: [find_user, get_weather]", "tools: [find_user, get_wether]")
    )
    assert (
        "bad.yaml" in msg and "'ok_task'" in msg and "tools[1]" in msg and "unknown tool 'get_wether'" in msg
    )


def test_node_tool_not_exposed(tmp_path):
    msg = load_error(tmp_path, GOOD.replace("tools: [find_user, get_weather]", "tools: [find_user]"))
    assert "calls[1].tool" in msg and "not in the task's exposed tools" in msg


def test_unknown_node_in_reference(tmp_path):
    msg = load_error(tmp_path, GOOD.replace("{{ user.city }}", "{{ usr.city }}"))
    assert "'ok_task'" in msg and "calls[1].args.city" in msg and "unknown node 'usr'" in msg


def test_cycle(tmp_path):
    body = """
    - id: cyc
      pattern: chain
      prompt: "cycle"
      tools: [find_user, get_user]
      calls:
        - {id: a, tool: find_user, args: {email: "{{ b.email }}"}}
        - {id: b, tool: get_user, args: {user_id: "{{ a.id }}"}}
    """
    msg = load_error(tmp_path, body)
    assert "'cyc'" in msg and "dependency cycle" in msg and "a -> b -> a" in msg or "b -> a -> b" in msg


def test_argument_not_in_tool_schema(tmp_path):
    msg = load_error(
        tmp_path, GOOD.replace("args: {email: ana@example.com}", "args: {mail: ana@example.com}")
    )
    assert "calls[0].args.mail" in msg and "not in the schema of tool 'find_user'" in msg


def test_duplicate_node_ids(tmp_path):
    msg = load_error(tmp_path, GOOD.replace("- {id: w,", "- {id: user,").replace("{{ user.city }}", "Paris"))
    assert "calls[1].id" in msg and "duplicate node id 'user'" in msg


def test_duplicate_task_ids_across_files(tmp_path):
    write_suite(tmp_path, GOOD, "one.yaml")
    d = write_suite(tmp_path, GOOD.replace("Where does", "Where exactly does"), "two.yaml")
    with pytest.raises(FixtureErrors) as ei:
        load_suite(d)
    assert "duplicate task id" in str(ei.value) and "two.yaml" in str(ei.value)


def test_schema_field_error_names_field(tmp_path):
    msg = load_error(tmp_path, GOOD.replace("pattern: chain", "pattern: chain\n  colour: blue"))
    assert "'ok_task'" in msg and "colour" in msg


def test_after_unknown_node(tmp_path):
    msg = load_error(
        tmp_path, GOOD.replace('args: {city: "{{ user.city }}"}', "args: {city: Paris}, after: [nobody]")
    )
    assert "calls[1].after[0]" in msg and "unknown node 'nobody'" in msg


def test_required_node_cannot_depend_on_optional(tmp_path):
    msg = load_error(
        tmp_path,
        GOOD.replace("args: {email: ana@example.com}}", "args: {email: ana@example.com}, optional: true}"),
    )
    assert "depends on optional node 'user'" in msg


def test_all_errors_are_collected_across_files(tmp_path):
    write_suite(tmp_path, "- id: x\n  prompt: [unclosed\n", "a.yaml")
    d = write_suite(tmp_path, GOOD.replace("get_weather]", "nope]"), "b.yaml")
    with pytest.raises(FixtureErrors) as ei:
        load_suite(d)
    assert len(ei.value.errors) == 2


def test_suite_yaml_table_tools_are_usable(tmp_path):
    d = write_suite(
        tmp_path,
        """
    - id: t1
      pattern: single
      prompt: "What is the capital of Wakanda?"
      tools: [capital]
      calls: [{id: c, tool: capital, args: {country: Wakanda}}]
      answer: {contains: ["{{ c.capital }}"]}
    """,
    )
    (d / "suite.yaml").write_text(
        textwrap.dedent("""
    name: fiction
    tools:
      - name: capital
        description: Capital city of a country.
        parameters: {type: object, properties: {country: {type: string}}, required: [country]}
        rows:
          - {match: {country: wakanda}, response: {capital: Birnin Zana}}
    """)
    )
    s = load_suite(d)
    assert s.name == "fiction" and s.by_id["t1"].tool_by_name["capital"].domain == "table"


def test_shipped_suite_resolves_from_any_directory(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    s = load_suite("core")
    assert len(s.tasks) >= 2 and s.path.name == "core"


def test_control_characters_in_names_and_prompts_are_refused_but_data_keeps_them(tmp_path):
    """Terminal escapes in a pattern, prompt, node id or table tool name reached the terminal
    through `fanout tasks list` and `show`; tabs and newlines are text, and arguments are data."""
    suite = tmp_path / "s"
    suite.mkdir()
    (suite / "suite.yaml").write_text('tools:\n  - {name: "look\\u009bup", description: x}\n')
    (suite / "t.yaml").write_text(
        'id: t\npattern: single\nprompt: "What is the weather\\tin Paris?\\r\\n"\ntools: [get_weather]\n'
        'calls:\n  - {id: "w\\e[1A", tool: get_weather, args: {city: "Paris\\e[2J"}}\n'
    )
    with pytest.raises(FixtureErrors) as exc:
        load_suite(suite)
    assert "tools[0].name: control character '\\x9b' at position 4" in str(exc.value)
    (suite / "suite.yaml").unlink()
    with pytest.raises(FixtureErrors) as exc:
        load_suite(suite)
    assert "task 't': calls[0].id: Value error, control character '\\x1b' at position 1" in str(exc.value)
    (suite / "t.yaml").write_text((suite / "t.yaml").read_text().replace('"w\\e[1A"', "w"))
    (task,) = load_suite(suite).tasks
    assert task.prompt == "What is the weather\tin Paris?\r\n"
