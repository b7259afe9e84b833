"""evals/trace.py: the records' hot-path assignment."""

from __future__ import annotations

from evals.trace import CallRecord, fill


def _call() -> CallRecord:
    return CallRecord(index=0, turn=1, position=0, name="t", raw_arguments="{}", arguments={})


def test_fill_gives_the_record_pydantic_assignment_gives():
    a, b = _call(), _call()
    a.result, a.error, a.start_s = {"error": {"code": "x"}}, "x", 1.5
    fill(b, result={"error": {"code": "x"}}, error="x", start_s=1.5)
    assert a.model_dump() == b.model_dump()
    assert a.model_fields_set == b.model_fields_set
    assert a.model_dump_json(exclude_unset=True) == b.model_dump_json(exclude_unset=True)
