"""One exception root; exit codes mapped in one place (cli.main) and documented (docs/errors.md)."""

from __future__ import annotations

import importlib
import inspect
import pkgutil
import re
from pathlib import Path

import pytest

import evals
from evals import errors
from evals.cli import main
from evals.errors import FanoutError, UsageError

# Exceptions that never leave their module (docs/errors.md, "not part of the tree"), and the
# importers' own, which the importer redesign owns.
INTERNAL = {
    "BadRequest",
    "WireError",
    "RetryableError",
    "EntrySkip",
    "ImportError_",
    "UnknownTaskError",
    "_Differs",
}
DOC = Path(__file__).parents[1] / "docs" / "errors.md"


def deliberate_exceptions() -> list[type[BaseException]]:
    found = {}
    for info in pkgutil.walk_packages(evals.__path__, "evals."):
        if info.name.endswith("__main__"):
            continue
        mod = importlib.import_module(info.name)
        for _, obj in inspect.getmembers(mod, inspect.isclass):
            if issubclass(obj, BaseException) and obj.__module__ == info.name:
                found[obj.__qualname__] = obj
    return [c for name, c in sorted(found.items()) if name not in INTERNAL]


def test_every_deliberate_exception_derives_from_fanout_error():
    classes = deliberate_exceptions()
    assert len(classes) >= 15
    assert [c.__qualname__ for c in classes if not issubclass(c, FanoutError)] == []


def test_the_documented_tree_names_every_class_and_code():
    doc = DOC.read_text()
    for c in deliberate_exceptions():
        assert c.__qualname__ in doc, c
    for name in dir(errors):
        if name.startswith("EXIT_"):
            assert re.search(rf"\| {getattr(errors, name)} \| `{name}` \|", doc), name


def test_library_callers_keep_their_builtin_bases():
    from evals.fixtures import FixtureErrors
    from evals.gate import GateError
    from evals.runs import NotARunFolder

    assert issubclass(FixtureErrors, ValueError) and issubclass(GateError, ValueError)
    assert issubclass(NotARunFolder, FileNotFoundError) and issubclass(NotARunFolder, UsageError)


@pytest.mark.parametrize(
    ("argv", "code", "message"),
    [
        (["run", "--suite", "no-such-suite"], 2, "fanout run: "),
        (["run", "--model", "nosuch/provider", "--task", "orders_chain_01"], 2, "fanout run: "),
        (["tasks", "show", "no_such_task"], 2, "fanout tasks show: no task 'no_such_task'"),
        (["tasks", "list", "core", "--pattern", "diamond"], 2, "fanout tasks list: no pattern 'diamond'"),
        (["tasks", "validate", "--seeds", "x"], 2, "fanout tasks validate: --seeds must be"),
        (["report", "{tmp}/none"], 2, "fanout report: {tmp}/none: no such folder"),
        (["whatif", "{tmp}"], 2, "fanout whatif: {tmp} is not a run folder"),
        (["compare", "{tmp}/a", "{tmp}/b"], 2, "fanout compare: baseline run folder {tmp}/a does not exist"),
    ],
)
def test_errors_become_one_line_and_their_exit_code(tmp_path, capsys, argv, code, message):
    out = tmp_path / "runs"
    argv = [a.replace("{tmp}", str(tmp_path)) for a in argv]
    if argv[0] == "run":
        argv += ["--out", str(out), "--no-progress"]
    assert main(argv) == code
    err = capsys.readouterr().err
    assert err.startswith(message.replace("{tmp}", str(tmp_path))) and err.count("\n") == 1, err
    assert not out.exists()  # nothing was started


def test_a_fanout_error_from_anywhere_maps_to_its_class_code(monkeypatch, capsys):
    from evals.cli import compare as cmd

    def boom(*_a, **_k):
        raise errors.LocalIOError("disk full")

    monkeypatch.setattr(cmd, "compare_runs", boom)
    assert main(["compare", "a", "b"]) == errors.EXIT_INFRASTRUCTURE
    assert capsys.readouterr().err == "fanout compare: disk full\n"
