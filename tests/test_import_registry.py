"""The importer protocol: one registered class per format, its CLI flags from its options model."""

from __future__ import annotations

import pytest
from pydantic import Field

from evals.cli import main
from evals.fixtures import load_suite
from evals.importers import base
from evals.importers.base import (
    Conversion,
    Importer,
    ImportOptions,
    convert,
    import_suite,
    importer,
    registered,
)
from evals.importers.common import ImportReport, SourceError, SuiteBuilder
from evals.schema import SuiteSpec
from evals.validate import validate_suite


def test_builtin_importers_are_registered():
    imps = registered()
    assert list(imps) == ["bfcl", "nestful", "taskbench"]
    for cls in imps.values():
        assert cls.summary and cls.skip_reasons and issubclass(cls.options, ImportOptions)
        assert cls.options.model_fields["source"].is_required()


class QaOptions(ImportOptions):
    source: str = Field(description="comma-separated questions")
    unit: str = Field("m", description="unit of the answers")
    strict: bool = Field(False, description="an option that is a flag")


@pytest.fixture
def qa(monkeypatch):
    """A format registered for one test: question list -> one lookup task each."""
    monkeypatch.setattr(base, "IMPORTERS", dict(base.IMPORTERS))

    @importer
    class Qa(Importer[QaOptions]):
        name = "qa"
        summary = "questions, one lookup each"
        options = QaOptions
        skip_reasons = ("an empty question",)

        def convert(self, opts: QaOptions) -> Conversion:
            report = ImportReport(opts.source)
            builder = SuiteBuilder(report)
            tool = builder.tool("height_of", "Height of a building.", {"type": "object", "properties": {}})
            for i, q in enumerate(opts.source.split(",")):
                report.records["qa"] += 1
                if not q.strip():
                    report.skip("qa", str(i), "an empty question")
                    continue
                builder.row(tool, {}, {"height": f"{100 + i} {opts.unit}"})
                task = {"id": f"qa_{i}", "pattern": "single", "prompt": q, "tools": [tool]}
                task["calls"] = [{"id": "h", "tool": tool, "args": {}}]
                builder.add("qa", "qa", str(i), task)
            return Conversion.of(builder, SuiteSpec(description="test"))

    return Qa


def test_a_registered_importer_gets_a_command(qa, tmp_path, capsys):
    with pytest.raises(SystemExit):
        main(["tasks", "import", "--help"])
    assert "qa questions, one lookup each" in " ".join(capsys.readouterr().out.split())
    with pytest.raises(SystemExit):
        main(["tasks", "import", "qa", "--help"])
    text = " ".join(capsys.readouterr().out.split())
    assert "--source SOURCE comma-separated questions" in text
    assert "--unit UNIT unit of the answers (default m)" in text and "--strict" in text
    assert "Entries are skipped (each with its reason in the report) when: an empty question." in text

    out = tmp_path / "qa"
    assert (
        main(
            [
                "tasks",
                "import",
                "qa",
                "--source",
                "How tall is it?,,Taller?",
                "--unit",
                "ft",
                "--out",
                str(out),
            ]
        )
        == 0
    )
    printed = capsys.readouterr().out
    assert "qa                               3 records     2 tasks     1 skipped" in printed
    assert "skipped qa/1: an empty question" in printed
    suite = load_suite(out)
    assert validate_suite(suite) == [] and sorted(suite.by_id) == ["qa_0", "qa_2"]


def test_options_are_validated(qa, tmp_path, capsys):
    with pytest.raises(Exception, match="Extra inputs"):
        convert("qa", source="x", colour="red")
    with pytest.raises(
        SourceError, match="unknown import format 'nope'; known: bfcl, nestful, qa, taskbench"
    ):
        convert("nope", source="x")
    with pytest.raises(SourceError, match="already holds a suite"):
        out = tmp_path / "o"
        import_suite("qa", out, source="a")
        import_suite("qa", out, source="a")
    assert import_suite("qa", out, force=True, source="b").total == 1


def test_a_name_registers_once(qa):
    class Other(Importer[QaOptions]):
        name = "qa"
        summary = "clash"
        options = QaOptions

        def convert(self, opts: QaOptions) -> Conversion:
            raise NotImplementedError

    with pytest.raises(ValueError, match="importer 'qa' is registered twice"):
        importer(Other)
