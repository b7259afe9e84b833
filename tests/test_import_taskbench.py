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
from evals.importers.base import import_suite
from evals.importers.common import SourceError
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


def import_taskbench(source: str, out: Path, **options):
    return import_suite("taskbench", out, source=source, **options)


def test_resource_domain(tmp_path):
    src = write_domain(tmp_path / "data_huggingface", HF_TOOLS, HF_DATA)
    report = import_taskbench(str(src), tmp_path / "tb")
    assert dict(report.records) == {"data_huggingface": 5}
    assert dict(report.counts) == {"data_huggingface": 2}
    reasons = {s.entry: s.reason for s in report.skipped}
    assert reasons == {
        "3": "tool(s) ['Translation'] used twice; task_links name tools, so their links are ambiguous",
        "4": "tool 'Dance' is not in tool_desc.json",
        "5": "same prompt as 1 (a suite holds each prompt once; the first is kept)",
    }
    assert [(n.entry, n.reason) for n in report.notes] == [
        ("2", "<node-j> counted from 1 in this record (the links agree)")
    ]
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
    with pytest.raises(SourceError, match="temporal order, not data flow"):
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


# -- regression tests, each from a minimal record in TaskBench's shape ------------------------------
MM_TOOLS = {
    "nodes": [
        {"id": "Video Search", "desc": "Find a video.", "input-type": ["text"], "output-type": ["video"]},
        {"id": "Video-to-Audio", "desc": "Audio track.", "input-type": ["video"], "output-type": ["audio"]},
        {"id": "Video-to-Text", "desc": "Transcribe.", "input-type": ["video"], "output-type": ["text"]},
        {
            "id": "Video Synchronization",
            "desc": "Sync audio to video.",
            "input-type": ["video", "audio"],
            "output-type": ["video"],
        },
        {
            "id": "Video Speed Changer",
            "desc": "Change speed.",
            "input-type": ["video", "text"],
            "output-type": ["video"],
        },
        {"id": "Image Segmentation", "desc": "Segment.", "input-type": ["image"], "output-type": ["image"]},
        {"id": "Image Colorizer", "desc": "Colorize.", "input-type": ["image"], "output-type": ["Image"]},
        {"id": "Text Search", "desc": "Search text.", "input-type": ["text"], "output-type": ["text"]},
        {"id": "Text-to-Speech", "desc": "Speak.", "input-type": ["text"], "output-type": ["audio"]},
    ]
}


def rec(
    rid: str, text: str, nodes: list[tuple[str, list]], links: list[tuple[str, str]], kind="chain"
) -> dict:
    return {
        "id": rid,
        "type": kind,
        "instruction": text,
        "task_nodes": [{"task": t, "arguments": a} for t, a in nodes],
        "task_links": [{"source": s, "target": t} for s, t in links],
    }


def one(tmp_path: Path, record: dict, tools: dict = MM_TOOLS):
    src = write_domain(tmp_path / "data_multimedia", tools, [record])
    report = import_taskbench(str(src), tmp_path / "out")
    suite = load_suite(tmp_path / "out") if report.total else None
    return report, suite


def notes(report) -> list[str]:
    return [n.reason for n in report.notes]


def test_output_of_placeholder_is_a_reference(tmp_path):
    """huggingface 13708813's shape: `<output_of_Image_Segmentation>` was kept as a literal string
    (with an `after` edge); it is the output of that step."""
    r = rec(
        "13708813",
        "Segment photo.jpg and colorize the result.",
        [("Image Segmentation", ["photo.jpg"]), ("Image Colorizer", ["<output_of_Image_Segmentation>"])],
        [("Image Segmentation", "Image Colorizer")],
    )
    report, suite = one(tmp_path, r)
    t = suite.by_id["data_multimedia_13708813"]
    n1 = t.node_by_id["n1"].spec
    assert n1.args == {"image": '{{ n0["image"] }}'} and n1.after == []
    gt = resolve(t, 0)
    assert gt.nodes["n1"].args == {"image": gt.outputs["n0"]["image"]}
    assert validate_suite(suite) == []


def test_placeholder_inside_text_is_substituted(tmp_path):
    """93261718's shape: "...you're feeling <node-0>..." stayed literal; it is the step's output."""
    r = rec(
        "93261718",
        "Transcribe clip.mp4 and search for songs matching the mood.",
        [("Video-to-Text", ["clip.mp4"]), ("Text Search", ["songs for when you're feeling <node-0> today"])],
        [("Video-to-Text", "Text Search")],
    )
    _, suite = one(tmp_path, r)
    gt = resolve(suite.by_id["data_multimedia_93261718"], 0)
    mood = gt.outputs["n0"]["text"]
    assert gt.nodes["n1"].args == {"text": f"songs for when you're feeling {mood} today"}
    assert suite.by_id["data_multimedia_93261718"].node_by_id["n1"].deps == ("n0",)


def test_reference_the_links_omit_is_kept_with_a_note(tmp_path):
    """multimedia 12219157's shape: `["<node-2>", "<node-0>"]` where the record only lacks the link
    from step 0. The old fallback rewired both arguments to the single linked step, silently."""
    r = rec(
        "12219157",
        "Find a cooking video, extract its audio, and sync the audio onto the found video.",
        [
            ("Video Search", ["cooking"]),
            ("Video-to-Audio", ["<node-0>"]),
            ("Video Synchronization", ["<node-0>", "<node-1>"]),
        ],
        [("Video Search", "Video-to-Audio"), ("Video-to-Audio", "Video Synchronization")],
        kind="dag",
    )
    report, suite = one(tmp_path, r)
    t = suite.by_id["data_multimedia_12219157"]
    assert t.node_by_id["n2"].spec.args == {"video": '{{ n0["video"] }}', "audio": '{{ n1["audio"] }}'}
    assert t.node_by_id["n2"].deps == ("n0", "n1")
    assert notes(report) == [
        "step 2 (Video Synchronization) reads <node-0> (Video Search) but task_links omit that link: "
        "the reference is kept"
    ]
    assert validate_suite(suite) == []


def test_zero_based_record_missing_one_link_is_kept(tmp_path):
    """15614475's shape was skipped: every 0-based reference valid, one link missing."""
    r = rec(
        "15614475",
        "Find a video about bees, transcribe it, and read the transcript aloud.",
        [("Video Search", ["bees"]), ("Video-to-Text", ["<node-0>"]), ("Text-to-Speech", ["<node-1>"])],
        [("Video Search", "Video-to-Text")],
    )
    report, suite = one(tmp_path, r)
    assert report.total == 1 and len(report.notes) == 1
    assert "task_links omit that link" in report.notes[0].reason
    assert suite.by_id["data_multimedia_15614475"].node_by_id["n2"].deps == ("n1",)


def test_arguments_are_placed_by_type(tmp_path):
    """multimedia 31869730's shape: `["<node-1>", "example.mp4"]` for inputs (video, audio) became
    `{video: <the audio>, audio: "example.mp4"}`. The step's output type and the file extension
    place them; a note says so."""
    r = rec(
        "31869730",
        "Take the audio of talk.mp4 and sync it onto example.mp4.",
        [("Video-to-Audio", ["talk.mp4"]), ("Video Synchronization", ["<node-0>", "example.mp4"])],
        [("Video-to-Audio", "Video Synchronization")],
    )
    report, suite = one(tmp_path, r)
    n1 = suite.by_id["data_multimedia_31869730"].node_by_id["n1"].spec
    assert n1.args == {"video": "example.mp4", "audio": '{{ n0["audio"] }}'}
    assert notes(report) == [
        "placed the arguments of step 1 (Video Synchronization) by type: "
        "'<node-0>' -> audio, 'example.mp4' -> video"
    ]


def test_arguments_that_fit_no_input_are_skipped(tmp_path):
    r = rec("1", "Sync song.mp3 with voice.wav.", [("Video Synchronization", ["song.mp3", "voice.wav"])], [])
    report, suite = one(tmp_path, r)
    assert suite is None
    assert report.skipped[0].reason == (
        "arguments 'song.mp3' (audio), 'voice.wav' (audio) fit the inputs of Video Synchronization "
        "(video, audio) in no order"
    )


def test_numbers_are_given_in_the_schema_type(tmp_path):
    """multimedia 24732754's shape: `text: 2` cannot match the schema-correct "2"."""
    r = rec("24732754", "Play clip.mp4 at double speed.", [("Video Speed Changer", ["clip.mp4", 2])], [])
    _, suite = one(tmp_path, r)
    node = suite.by_id["data_multimedia_24732754"].nodes[0].spec
    assert node.args == {"video": "clip.mp4", "text": "2"}


def test_pattern_is_derived_from_the_graph(tmp_path):
    """huggingface 22776371's shape: labelled "dag", a 3-step chain."""
    r = rec(
        "22776371",
        "Find a video about owls, extract the audio, and sync it back.",
        [("Video Search", ["owls"]), ("Video-to-Audio", ["<node-0>"]), ("Text-to-Speech", ["x"])],
        [("Video Search", "Video-to-Audio"), ("Video-to-Audio", "Text-to-Speech")],
        kind="dag",
    )
    report, suite = one(tmp_path, r)
    assert suite.by_id["data_multimedia_22776371"].pattern == "chain"
    assert "TaskBench labels it 'dag'; the imported graph is 'chain'" in notes(report)


def test_instruction_and_user_request(tmp_path):
    a = rec("1", "Find owls.", [("Video Search", ["owls"])], [], kind="single")
    b = {k: v for k, v in rec("2", "Find bats.", [("Video Search", ["bats"])], [], kind="single").items()}
    b["user_request"] = b.pop("instruction")
    src = write_domain(tmp_path / "d", MM_TOOLS, [a, b])
    report = import_taskbench(str(src), tmp_path / "out")
    assert report.total == 2
    assert {t.prompt for t in load_suite(tmp_path / "out").tasks} == {"Find owls.", "Find bats."}


def test_hub_rows_with_json_text_columns(tmp_path):
    r = rec("7", "Find owls.", [("Video Search", ["owls"])], [], kind="single")
    r["tool_nodes"] = json.dumps(r.pop("task_nodes"))
    r["tool_links"] = json.dumps(r.pop("task_links"))
    report, suite = one(tmp_path, r)
    assert report.total == 1 and suite.by_id["data_multimedia_7"].nodes[0].spec.args == {"text": "owls"}


def test_dailylife_is_calls_only_with_typed_arguments(tmp_path):
    """DailyLife's answer check was contains_any [status, result] with status always "success":
    any answer saying "success" passed. TaskBench scores DailyLife on the graph alone: calls-only."""
    data = [dict(DAILY_DATA[0])]
    data[0]["task_nodes"] = [
        {
            "task": "get_weather",
            "arguments": [{"name": "location", "value": 7}, {"name": "date", "value": "2024-05-01"}],
        }
    ]
    data[0]["task_links"] = []
    src = write_domain(tmp_path / "data_dailylifeapis", DAILY_TOOLS, data)
    report = import_taskbench(str(src), tmp_path / "daily")
    t = load_suite(tmp_path / "daily").by_id["data_dailylifeapis_d1"]
    assert t.spec.answer is None and "calls_only" in t.spec.tags
    assert t.nodes[0].spec.args == {"location": "7", "date": "2024-05-01"}
    assert "get_weather.location: 7 given as the string '7'" in notes(report)


def test_a_data_file_that_is_not_utf8_is_one_line(tmp_path, capsys):
    (tmp_path / "src").mkdir()
    (tmp_path / "src" / "data.json").write_bytes(b"\xff\xfe{}")
    (tmp_path / "src" / "tool_desc.json").write_text('{"nodes": []}')
    assert (
        main(
            ["tasks", "import", "taskbench", "--source", str(tmp_path / "src"), "--out", str(tmp_path / "o")]
        )
        == 2
    )
    err = capsys.readouterr().err
    assert "data.json: not UTF-8 text (byte 0xff at offset 0)" in err and "Traceback" not in err
