"""Table tools: rows, defaults, computed responses in the fixture sandbox, and the name shown."""

from __future__ import annotations

import time

import pytest

from evals.templating import TemplateError
from mock_tools import EpisodeState, ToolContext, World
from mock_tools.table import TableRow, TableToolSpec, table_tool

CTX = ToolContext(World(0), EpisodeState())
PARAMS = {
    "type": "object",
    "properties": {"meters": {"type": "number"}, "unit": {"type": "string", "default": "ft"}},
    "required": ["meters"],
}


def call(spec: TableToolSpec, **args):
    return table_tool(spec).invoke(args, CTX)


def test_rows_match_normalised_and_default():
    spec = TableToolSpec(
        name="height_of",
        parameters={"type": "object", "properties": {"name": {"type": "string"}}},
        rows=[TableRow(match={"name": "Eiffel Tower"}, response={"height_m": 330})],
    )
    assert call(spec, name="  eiffel TOWER ") == {"height_m": 330}
    assert call(spec, name="Big Ben")["error"]["code"] == "not_found"
    assert call(spec.model_copy(update={"default": 0}), name="Big Ben") == {"result": 0}
    # without compute, a response is data, whatever it contains
    data = spec.model_copy(update={"rows": [TableRow(match={}, response={"note": "{{ 1 + 1 }}"})]})
    assert call(data, name="x") == {"note": "{{ 1 + 1 }}"}


def test_computed_responses():
    spec = TableToolSpec(
        name="to_feet",
        parameters=PARAMS,
        compute=True,
        rows=[TableRow(match={"meters": 0}, response={"feet": 0, "note": "{{ 'zero ' ~ unit }}"})],
        default={"feet": "{{ (meters * 3.28084) | round(1) }}", "unit": "{{ unit }}"},
    )
    assert call(spec, meters=330) == {"feet": 1082.7, "unit": "ft"}  # the schema default fills `unit`
    assert call(spec, meters=330.0, unit="feet") == {"feet": 1082.7, "unit": "feet"}
    assert call(spec, meters=0) == {"feet": 0, "note": "zero ft"}
    scalar = spec.model_copy(update={"default": "{{ args['meters'] * 2 }}", "rows": []})
    assert call(scalar, meters=4) == {"result": 8}


@pytest.mark.parametrize(
    "template, args",
    [
        ("{{ meters / 0 }}", {"meters": 1}),
        ("{{ meters * 'x' * 10**6 }}", {"meters": 10**6}),
        ("{{ meters ** (10**9) }}", {"meters": 7}),
        ("{{ height }}", {"meters": 1}),
        ("{{ ''.__class__.__mro__ }}", {"meters": 1}),
        ("{{ meters.__class__ }}", {"meters": 1}),
    ],
)
def test_a_failing_template_is_an_error_result(template, args):
    spec = TableToolSpec(name="t", parameters=PARAMS, compute=True, default={"v": template})
    start = time.perf_counter()
    out = call(spec, **args)
    assert out["error"]["code"] == "invalid_arguments" and out["error"]["message"].startswith("t: ")
    assert time.perf_counter() - start < 1


def test_statements_are_refused_when_the_suite_loads():
    spec = TableToolSpec(name="t", parameters=PARAMS, compute=True, default="{% for x in y %}{% endfor %}")
    with pytest.raises(TemplateError, match="expressions only"):
        table_tool(spec)


def test_the_name_the_model_sees():
    tool = table_tool(TableToolSpec(name="calculate_bmi_v2", expose_as="calculate_bmi"))
    assert (tool.name, tool.shown_name) == ("calculate_bmi_v2", "calculate_bmi")
    plain = table_tool(TableToolSpec(name="calculate_bmi", expose_as="calculate_bmi"))
    assert plain.expose_as is None and plain.shown_name == "calculate_bmi"
