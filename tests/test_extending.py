"""docs/extending.md's provider and importer recipes, followed as written (registered at run time
here instead of in their modules), so the documented extension points keep working."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

import pytest

from evals.fixtures import load_suite
from evals.groundtruth import resolve
from evals.importers import base as importer_base
from evals.importers.base import Conversion, Importer, ImportOptions, importer, registered
from evals.importers.common import ImportReport, SuiteBuilder
from evals.models import ModelContext, kinds, make_model, modelapi, registry
from evals.models.base import Model, ModelRequest, ModelResponse
from evals.models.policies import PolicyModel
from evals.runtime import run_episode
from evals.schema import SuiteSpec
from evals.scoring import score
from evals.templating import literal


@pytest.fixture(autouse=True)
def registries():
    """What a recipe registers is gone after its test: other tests list the built-in kinds."""
    kinds(), registered()  # the built-in kinds and importers first, so the snapshot holds them
    saved_kinds, saved_imps = dict(registry._KINDS), dict(importer_base.IMPORTERS)
    yield
    registry._KINDS.clear()
    registry._KINDS.update(saved_kinds)
    importer_base.IMPORTERS.clear()
    importer_base.IMPORTERS.update(saved_imps)


class SilentModel(Model):
    remote = False

    def __init__(self, name: str):
        self.name = f"silent/{name}"

    async def generate(self, request: ModelRequest) -> ModelResponse:
        return ModelResponse(text="I cannot help with that.")


def test_a_provider_is_one_decorated_factory(core_suite):
    @modelapi("silent")
    def silent(name: str, ctx: ModelContext) -> Model:
        return SilentModel(name)

    assert "silent" in kinds()
    model = make_model("silent/x", [core_suite])
    task = core_suite.tasks[0]
    trace = asyncio.run(run_episode(model, task))
    assert trace.final_text == "I cannot help with that." and not score(resolve(task, 0), trace).success


class CallsOptions(ImportOptions):
    pass


class Calls(Importer[CallsOptions]):
    name = "calls"
    summary = "a JSON list of {id, prompt, calls: [{tool, args, output}]}"
    options = CallsOptions
    skip_reasons = ()

    def convert(self, opts: CallsOptions) -> Conversion:
        report = ImportReport(opts.source)
        b = SuiteBuilder(report)
        for entry in json.loads(Path(opts.source).read_text()):
            calls = []
            for i, c in enumerate(entry["calls"]):
                params = {"type": "object", "properties": {k: {"type": "string"} for k in c["args"]}}
                name = b.tool(c["tool"], f"the {c['tool']} tool", params)
                b.row(name, c["args"], c["output"])
                calls.append({"id": f"c{i}", "tool": name, "args": literal(c["args"])})
            answer = {"contains": [f"{{{{ c{i}.value }}}}" for i in range(len(calls))]}
            task = {
                "id": entry["id"],
                "pattern": "independent",
                "prompt": entry["prompt"],
                "tools": sorted({c["tool"] for c in calls}),
                "calls": calls,
                "answer": answer,
            }
            b.add("calls", "calls", entry["id"], task)
        return Conversion.of(b, SuiteSpec())


def test_an_importer_is_one_registered_class(tmp_path):
    source = tmp_path / "calls.json"
    entry = {
        "id": "weather_twice",
        "prompt": "What is the code for Oslo and for {{ Bergen }}?",
        "calls": [
            {"tool": "city_code", "args": {"city": "Oslo"}, "output": {"value": "OSL-9"}},
            {"tool": "city_code", "args": {"city": "{{ Bergen }}"}, "output": {"value": "BGO-4"}},
        ],
    }
    source.write_text(json.dumps([entry]))
    importer(Calls)
    assert registered()["calls"] is Calls
    conv = Calls().convert(CallsOptions(source=str(source)))
    conv.write(tmp_path / "calls")
    suite = load_suite(tmp_path / "calls")
    task = suite.tasks[0]
    trace = asyncio.run(run_episode(PolicyModel("oracle", [suite]), task))
    s = score(resolve(task, 0), trace)
    assert s.success and s.fan_out_recall == 1.0
    assert trace.calls[1].arguments == {"city": "{{ Bergen }}"}  # data, not a template
