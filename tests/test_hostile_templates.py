"""Task files and imported data are untrusted: their templates never run code, exhaust memory or hang.

Each file of tests/hostile/fixtures is one attack; validating it must end within seconds with one
problem line naming the file and the task, and leave no side effect (the attacks try to create a
marker file).
"""

from __future__ import annotations

import json
import zipfile
from pathlib import Path

import pytest
from helpers import deadline
from hypothesis import given
from hypothesis import strategies as st

from evals.cli import main
from evals.fixtures import load_suite
from evals.importers.base import import_suite
from evals.templating import TemplateError, compile_value, literal, refs_in

HOSTILE = Path(__file__).parent / "hostile" / "fixtures"
FILES = sorted(HOSTILE.glob("*.yaml"))
FILE_LEVEL = {
    "not_utf8",
    "recursive_alias",
    "alias_bomb",
    "huge_integer",
    "impossible_date",
    "deep_json",
    "deep_block_yaml",
    "duplicate_keys",
    "duplicate_keys_json",
}  # refused before any task is read


@pytest.mark.parametrize("name", ["deep_json", "deep_block_yaml"])
def test_deep_nesting_is_refused_by_the_pure_python_loader_too(name, monkeypatch, tmp_path):
    """Where libyaml is missing, PyYAML's own parser recurses: past Python's limit that is one
    error naming the file, not a RecursionError."""
    import yaml

    from evals import fixtures
    from evals.fixtures import FixtureError, read_yaml

    monkeypatch.setattr(fixtures, "_YAML_LOADER", yaml.SafeLoader)
    with pytest.raises(FixtureError, match="nested over"):
        read_yaml(HOSTILE / f"{name}.yaml")


def test_corpus_is_there():
    assert len(FILES) >= 15


def test_a_ten_thousand_node_chain_validates_quickly(tmp_path, capsys):
    """Ancestor sets grew quadratically: a MemoryError after half a minute."""
    lines = [
        "id: long_chain",
        "pattern: chain",
        "prompt: A long chain.",
        "tools: [convert_currency]",
        "calls:",
    ]
    for i in range(10_000):
        after = f", after: [n{i - 1}]" if i else ""
        lines.append(
            f"  - {{id: n{i}, tool: convert_currency, args: {{amount: {i + 1}, from_currency: USD,"
            f" to_currency: EUR}}{after}}}"
        )
    f = tmp_path / "chain.yaml"
    f.write_text("\n".join(lines) + "\n")
    with deadline(60):
        code = main(["tasks", "validate", str(f)])
    out = capsys.readouterr()
    assert code != 0 and "oracle does not succeed" in out.out + out.err


@pytest.mark.parametrize("path", FILES, ids=lambda p: p.stem)
def test_hostile_fixture_is_refused_without_side_effects(path, tmp_path, capsys):
    marker = tmp_path / "pwned"
    task_file = tmp_path / path.name
    task_file.write_bytes(path.read_bytes().replace(b"MARKER", str(marker).encode()))
    with deadline(20):
        code = main(["tasks", "validate", str(task_file)])
    out = capsys.readouterr()
    problems = [line for line in (out.out + out.err).splitlines() if line.startswith("  - ")]
    assert code != 0
    assert len(problems) == 1, out
    assert path.name in problems[0]
    if path.stem not in FILE_LEVEL:  # the file reads as YAML: the problem names the task too
        assert "task 'hostile_" in problems[0]
    assert not marker.exists()
    for leak in ("<function", "<module", "<built-in", "__builtins__': {", "Traceback"):
        assert leak not in out.out + out.err


@pytest.mark.parametrize(
    "template",
    [
        "{{ ().__class__.__base__.__subclasses__() }}",
        "{{ x.__class__ }}",
        "{{ x.upper.__self__ }}",
        "{{ x.format }}",
        "{{ '{:>999999999}'.format(1) }}",
        "{{ '{0:>9999999}'.format_map({}) }}",
        "{{ range(10) | list }}",
        "{{ lipsum() }}",
        "{{ namespace() }}",
        "{{ 'a' * 10**10 }}",
        "{{ [1] * 10**9 }}",
        "{{ 10 ** (10 ** 10) }}",
        "{{ '%0999999d' % 1 }}",
        "{{ '%.9999f' % 1 }}",
        "{{ 'x' | center(10**9) }}",
        "{{ 'x' | indent(10**9) }}",
        "{{ 'x' | format(1) }}",
        "{{ 'a'.zfill(10**9) }}",
        "{{ (['a' * 100000] * 100000) | join }}",
        "{{ ('a' * 100000) | list | join('x' * 100000) }}",
        "{{ ('a' * 100000) | list | string | list | string | list | string }}",
        "{{ ([[0]] * 50000) | sum(start=[]) }}",
        "{{ [10**1000] * 1000 }}",
        "{{ " + " ~ ".join(["('a' * 99999)"] * 2000) + " }}",
        "{{ (" + ", ".join(["'a' * 99999"] * 2000) + ") | length }}",
        "x" + "{{ 'a' * 99999 }}" * 2000,
        "{{ x | attr('__class__') }}",
        "{% set y = 1 %}{{ y }}",
        "{% macro m() %}{% endmacro %}",
        "{% include 'x' %}",
    ],
)
def test_sandbox_refuses(template):
    with deadline(10), pytest.raises(TemplateError):
        refs_in(template)
        compile_value(template)({"x": "s"})


@pytest.mark.parametrize(
    ("template", "expected"),
    [
        ("{{ a.b[0].c }}", 7),
        ("{{ a['b'][-1].c }}", 7),
        ("{{ a.items }}", [1]),
        ("{{ (a.b | map(attribute='c') | list)[0] + 1 }}", 8),
        ("{{ '%02d' % 5 }}", "05"),
        ("{{ s.split('-')[0] | int }}", 12),
        ("{{ {'rain': 'rainy'}.get(w, w) }}", "rainy"),
        ("{{ s | replace('-', ' ') }}", "12 30"),
        ("at {{ a.b[0].c }}!", "at 7!"),
        ("{{ ([0] * 100000) | length }}", 100000),
        ("{{ ('ab' * 50000) | length }}", 100000),
        ("{{ s ~ '/' ~ w ~ (a.b | length) }}", "12-30/rain1"),
        ("{{ [a.b[0].c] + [1] }}", [7, 1]),
        ("{{ ([[1], [2]]) | sum(start=[]) }}", [1, 2]),
    ],
)
def test_sandbox_keeps_what_fixtures_use(template, expected):
    ns = {"a": {"b": [{"c": 7}], "items": [1]}, "s": "12-30", "w": "rain"}
    assert compile_value(template)(ns) == expected


@given(st.text(alphabet=st.sampled_from("{}%#-ab '\"\\\n"), max_size=40))
def test_literal_renders_back_to_itself_and_refers_to_nothing(text):
    lit = literal(text)
    assert refs_in(lit) == set()
    assert compile_value(lit)({}) == text
    # An importer appends references after literal text: the text must not complete a marker.
    joined = "<" + lit + "{{ n.x }}" + literal(text) + ">"
    assert compile_value(joined)({"n": {"x": 1}}) == "<" + text + "1" + text + ">"


def _bfcl_wheel(path: Path, city: str) -> Path:
    fn = {
        "name": "get_weather",
        "description": "Weather.",
        "parameters": {"type": "dict", "properties": {"city": {"type": "string"}}, "required": ["city"]},
    }
    question = {"id": "parallel_0", "question": [[{"role": "user", "content": "Weather?"}]], "function": [fn]}
    answer = {"id": "parallel_0", "ground_truth": [{"get_weather": {"city": [city]}}]}
    with zipfile.ZipFile(path, "w") as z:
        z.writestr("bfcl_eval/data/BFCL_v4_parallel.json", json.dumps(question))
        z.writestr("bfcl_eval/data/possible_answer/BFCL_v4_parallel.json", json.dumps(answer))
        z.writestr("bfcl_eval/__init__.py", "")
    return path


def test_imported_data_cannot_break_out_of_its_quoting(tmp_path):
    """A BFCL value that closed the importer's old `{% raw %}` block ran code at the next validate."""
    marker = tmp_path / "pwned"
    payload = (
        "Paris{% endraw %}{% for c in ().__class__.__base__.__subclasses__() %}"
        "{% if c.__name__ == 'catch_warnings' %}{{ c()._module.__builtins__['__import__']('os')"
        f".system('touch {marker}') }}}}{{% endif %}}{{% endfor %}}{{% raw %}}"
    )
    wheel = _bfcl_wheel(tmp_path / "bfcl_eval-0.0.0-py3-none-any.whl", payload)
    out = tmp_path / "bfcl"
    import_suite("bfcl", out, source=str(wheel), categories=("parallel",))
    with deadline(20):
        suite = load_suite(out)
        assert main(["tasks", "validate", str(out)]) == 0
    node = suite.tasks[0].nodes[0]
    assert node.args_fn({})["city"] == payload  # the value is data, exactly as BFCL wrote it
    assert not marker.exists()


@pytest.mark.parametrize("target", ["/dev/zero", "/etc/hostname", "fifo"])
def test_a_suite_file_that_is_a_device_a_fifo_or_a_symlink_out_is_refused(tmp_path, capsys, target):
    """A symlink to /dev/zero or a FIFO named *.yaml hung validation; a symlink out of the suite
    read files the suite's author chose on the reader's machine."""
    import os

    suite = tmp_path / "suite"
    suite.mkdir()
    if target == "fifo":
        os.mkfifo(suite / "t.yaml")
        expected = "t.yaml: not a regular file"
    else:
        (suite / "t.yaml").symlink_to(target)
        expected = "t.yaml: a symlink to a file outside the suite folder"
    with deadline(20):
        code = main(["tasks", "validate", str(suite)])
    out = capsys.readouterr()
    assert code == 1 and expected in out.out + out.err


def test_a_symlink_inside_the_suite_folder_is_read(tmp_path):
    suite = tmp_path / "suite"
    (suite / "shared").mkdir(parents=True)
    (suite / "shared" / "t.yml.txt").write_text(
        "id: linked\npattern: single\nprompt: What is the weather in Paris?\ntools: [get_weather]\n"
        "calls:\n  - {id: w, tool: get_weather, args: {city: Paris}}\n"
    )
    (suite / "t.yaml").symlink_to(suite / "shared" / "t.yml.txt")
    assert [t.id for t in load_suite(suite).tasks] == ["linked"]


def test_yaml_merge_keys_may_override_what_they_merge(tmp_path):
    f = tmp_path / "t.yaml"
    f.write_text(
        "- &base {id: a, pattern: single, prompt: What is the weather in Paris?, tools: [get_weather],"
        " calls: [{id: w, tool: get_weather, args: {city: Paris}}]}\n"
        "- {<<: *base, id: b, prompt: What is the weather in Rome?, calls: [{id: w, tool: get_weather, args: {city: Rome}}]}\n"
    )
    assert [t.id for t in load_suite(f).tasks] == ["a", "b"]
