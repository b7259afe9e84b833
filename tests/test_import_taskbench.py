"""TaskBench import from records written here: resource domains (links as data flow, `<node-j>`
indexed from 0 or 1) and DailyLife (links as temporal order)."""

from __future__ import annotations

import json
import sys
import types
from pathlib import Path

import pytest

from evals.cli import main
from evals.fixtures import load_suite
from evals.groundtruth import resolve
from evals.importers.common import ImportError_
from evals.importers.taskbench import import_taskbench
from evals.validate import validate_suite

HF_TOOLS = {
    "nodes": [
        {
            "id": "Image-to-Text",
            "desc": "Caption an image.",
            "input-type": ["image"],
            "output-type": ["text"],
        },
        {"id": "Text-to-Speech", "desc": "Speak text.", "input-type": ["text"], "output-type": ["audio"]},
        {"id": "Translation", "desc": "Translate text.", "input-type": ["text"], "output-type": ["text"]},
        {
            "id": "Question Answering",
            "desc": "Answer from text.",
            "input-type": ["text", "text"],
            "output-type": ["text"],
        },
    ]
}
HF_DATA = [
    # <node-j> from 0
    {
        "id": "1",
        "type": "chain",
        "user_request": "Caption example.jpg and read the caption aloud.",
        "task_nodes": [
            {"task": "Image-to-Text", "arguments": ["example.jpg"]},
            {"task": "Text-to-Speech", "arguments": ["<node-0>"]},
        ],
        "task_links": [{"source": "Image-to-Text", "target": "Text-to-Speech"}],
    },
    # <node-j> from 1, a fan-out of two consumers
    {
        "id": "2",
        "type": "dag",
        "user_request": "Caption example.jpg, translate the caption and ask it what is shown.",
        "task_nodes": [
            {"task": "Image-to-Text", "arguments": ["example.jpg"]},
            {"task": "Translation", "arguments": ["<node-1>"]},
            {"task": "Question Answering", "arguments": ["<node-1>", "what is shown?"]},
        ],
        "task_links": [
            {"source": "Image-to-Text", "target": "Translation"},
            {"source": "Image-to-Text", "target": "Question Answering"},
        ],
    },
    {
        "id": "3",
        "type": "single",
        "user_request": "Translate hello and bye.",
        "task_nodes": [
            {"task": "Translation", "arguments": ["hello"]},
            {"task": "Translation", "arguments": ["bye"]},
        ],
        "task_links": [],
    },
    {
        "id": "4",
        "type": "chain",
        "user_request": "Dance.",
        "task_nodes": [{"task": "Dance", "arguments": []}],
        "task_links": [],
    },
    {
        "id": "5",
        "type": "single",
        "user_request": "Caption example.jpg and read the caption aloud.",
        "task_nodes": [{"task": "Image-to-Text", "arguments": ["other.jpg"]}],
        "task_links": [],
    },
]
DAILY_TOOLS = {
    "nodes": [
        {
            "id": "get_weather",
            "desc": "Weather.",
            "parameters": [
                {"name": "location", "type": "string", "desc": "where"},
                {"name": "date", "type": "date", "desc": "when"},
            ],
        },
        {
            "id": "book_flight",
            "desc": "Book.",
            "parameters": [
                {"name": "date", "type": "date", "desc": "d"},
                {"name": "from", "type": "string", "desc": "f"},
                {"name": "to", "type": "string", "desc": "t"},
            ],
        },
        {
            "id": "send_email",
            "desc": "Mail.",
            "parameters": [
                {"name": "email_address", "type": "string", "desc": "a"},
                {"name": "content", "type": "string", "desc": "c"},
            ],
        },
    ]
}
DAILY_DATA = [
    {
        "id": "d1",
        "type": "dag",
        "instruction": "Check Paris weather on 2024-05-01, book a Berlin-Paris flight that day, and email a@b.c.",
        "task_nodes": [
            {
                "task": "get_weather",
                "arguments": [
                    {"name": "location", "value": "Paris"},
                    {"name": "date", "value": "2024-05-01"},
                ],
            },
            {
                "task": "book_flight",
                "arguments": [
                    {"name": "date", "value": "2024-05-01"},
                    {"name": "from", "value": "Berlin"},
                    {"name": "to", "value": "Paris"},
                ],
            },
            {
                "task": "send_email",
                "arguments": [
                    {"name": "email_address", "value": "a@b.c"},
                    {"name": "content", "value": "Booked"},
                ],
            },
        ],
        "task_links": [
            {"source": "get_weather", "target": "send_email"},
            {"source": "book_flight", "target": "send_email"},
        ],
    },
]


def write_domain(folder: Path, tools: dict, data: list[dict]) -> Path:
    folder.mkdir(parents=True)
    (folder / "tool_desc.json").write_text(json.dumps(tools))
    (folder / "data.json").write_text("\n".join(json.dumps(r) for r in data))
    return folder


def test_resource_domain(tmp_path):
    src = write_domain(tmp_path / "data_huggingface", HF_TOOLS, HF_DATA)
    report = import_taskbench(str(src), tmp_path / "tb")
    assert dict(report.counts) == {"data_huggingface": 3}
    reasons = {s.entry: s.reason for s in report.skipped}
    assert reasons == {
        "3": "tool(s) ['Translation'] used twice; task_links name tools, so their links are ambiguous",
        "4": "tool 'Dance' is not in tool_desc.json",
    }
    assert [n.entry for n in report.notes] == ["5"]  # same instruction as record 1: tagged
    suite = load_suite(tmp_path / "tb")
    assert not suite.spec.ordering_only
    assert validate_suite(suite) == []
    t = suite.by_id["data_huggingface_2"]
    assert t.pattern == "dag"
    assert {n.id: n.deps for n in t.nodes} == {"n0": (), "n1": ("n0",), "n2": ("n0",)}
    gt = resolve(t, 0)
    caption = gt.outputs["n0"]["text"]
    assert gt.nodes["n2"].args == {"text_1": caption, "text_2": "what is shown?"}
    assert gt.oracle_levels() == [["n0"], ["n1", "n2"]]
    assert "Question_Answering" in suite.registry
    chain = resolve(suite.by_id["data_huggingface_1"], 0)
    assert chain.nodes["n1"].args == {"text": chain.outputs["n0"]["text"]}
    assert chain.answer_any == [[chain.outputs["n1"]["audio"]]]


def test_dailylife_links_are_ordering(tmp_path):
    src = write_domain(tmp_path / "data_dailylifeapis", DAILY_TOOLS, DAILY_DATA)
    report = import_taskbench(str(src), tmp_path / "daily")
    assert report.total == 1
    suite = load_suite(tmp_path / "daily")
    assert suite.spec.ordering_only
    assert validate_suite(suite) == []
    t = suite.by_id["data_dailylifeapis_d1"]
    assert {n.id: tuple(n.spec.after) for n in t.nodes} == {"n0": (), "n1": (), "n2": ("n0", "n1")}
    assert t.node_by_id["n1"].spec.args == {"date": "2024-05-01", "from": "Berlin", "to": "Paris"}
    with pytest.raises(ImportError_, match="temporal order, not data flow"):
        import_taskbench(str(src), tmp_path / "skipped", dailylife="skip")


def test_hub_failure_is_a_clear_message(tmp_path, monkeypatch, capsys):
    fake = types.ModuleType("datasets")

    def load_dataset(*a, **k):
        raise ConnectionError("Couldn't reach 'microsoft/Taskbench' on the Hub")

    fake.load_dataset = load_dataset
    monkeypatch.setitem(sys.modules, "datasets", fake)
    tools = tmp_path / "tool_desc.json"
    tools.write_text(json.dumps(HF_TOOLS))
    argv = ["tasks", "import", "taskbench", "--source", "microsoft/Taskbench", "--domain", "huggingface"]
    assert main(argv + ["--out", str(tmp_path / "o")]) == 2
    assert "a hub dataset also needs --tools" in capsys.readouterr().err
    assert main(argv + ["--tools", str(tools), "--out", str(tmp_path / "o")]) == 2
    err = capsys.readouterr().err
    assert "loading it from the hub failed (ConnectionError: Couldn't reach" in err
    assert "pass --source FOLDER" in err
