"""SQLite response cache: hits keep recorded latency and usage, errors are never stored."""

from __future__ import annotations

import asyncio
import sqlite3
import threading

import pytest
from conftest import TOOLS, conversation
from wire_server import Reply, WireServer, ok

from evals.cache import ResponseCache, default_cache_path
from evals.models.base import ModelError, ModelRequest
from evals.models.openai import OpenAIChatModel


def model(url, path, **opts):
    return OpenAIChatModel(
        "gpt-4.1", {"base_url": url + "/v1", "cache_path": str(path), "retry_base_s": 0.01, **opts}
    )


def run(m, requests):
    async def go():
        try:
            return [await m.generate(r) for r in requests]
        finally:
            await m.aclose()

    return asyncio.run(go())


def test_hit_makes_no_request_and_keeps_recorded_latency_and_usage(tmp_path):
    req = ModelRequest(conversation()[:2], TOOLS)
    with WireServer([ok("openai_chat_parallel.json")]) as srv:
        (live,) = run(model(srv.url, tmp_path / "c.sqlite"), [req])
        (hit,) = run(model(srv.url, tmp_path / "c.sqlite"), [req])
    assert len(srv.seen) == 1
    assert live.cached is False and hit.cached is True
    assert hit.latency_s == live.latency_s
    assert vars(hit.usage) == vars(live.usage)
    assert [(c.id, c.name, c.arguments) for c in hit.tool_calls] == [
        (c.id, c.name, c.arguments) for c in live.tool_calls
    ]


def test_epochs_and_settings_get_distinct_keys(tmp_path):
    reqs = [
        ModelRequest(conversation()[:2], TOOLS, epoch=0),
        ModelRequest(conversation()[:2], TOOLS, epoch=1),
        ModelRequest(conversation()[:2], TOOLS, {"temperature": 0.5}, epoch=0),
        ModelRequest(conversation()[:2], TOOLS, epoch=1),  # a repeat: served from the cache
    ]
    with WireServer([ok("openai_chat_parallel.json")] * 3) as srv:
        out = run(model(srv.url, tmp_path / "c.sqlite"), reqs)
    assert len(srv.seen) == 3
    assert [r.cached for r in out] == [False, False, False, True]
    assert len(ResponseCache(tmp_path / "c.sqlite")) == 3


def test_errors_are_never_cached(tmp_path):
    req = ModelRequest(conversation()[:2], TOOLS)
    with WireServer([Reply(400, b'{"error": "no"}'), ok("openai_chat_parallel.json")]) as srv:
        with pytest.raises(ModelError):
            run(model(srv.url, tmp_path / "c.sqlite"), [req])
        assert len(ResponseCache(tmp_path / "c.sqlite")) == 0
        (again,) = run(model(srv.url, tmp_path / "c.sqlite"), [req])
    assert again.cached is False and len(srv.seen) == 2


def test_no_cache_option_writes_nothing(tmp_path):
    req = ModelRequest(conversation()[:2], TOOLS)
    with WireServer([ok("openai_chat_parallel.json")] * 2) as srv:
        run(model(srv.url, tmp_path / "c.sqlite", cache=False), [req])
        run(model(srv.url, tmp_path / "c.sqlite", cache=False), [req])
    assert len(srv.seen) == 2 and not (tmp_path / "c.sqlite").exists()


def test_wal_mode_and_concurrent_writers(tmp_path):
    path = tmp_path / "c.sqlite"
    caches = [ResponseCache(path) for _ in range(4)]

    def write(i: int) -> None:
        for j in range(50):
            caches[i].put(f"k{i}-{j}", "openai", "m", "http://x", 0, {"text": f"{i}-{j}"})

    threads = [threading.Thread(target=write, args=(i,)) for i in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(caches[0]) == 200
    assert caches[3].get("k0-49") == {"text": "0-49"}
    assert sqlite3.connect(path).execute("PRAGMA journal_mode").fetchone()[0] == "wal"


def test_default_path_honours_fanout_cache_dir(monkeypatch, tmp_path):
    monkeypatch.setenv("FANOUT_CACHE_DIR", str(tmp_path / "cc"))
    assert default_cache_path() == tmp_path / "cc" / "responses.sqlite"
    monkeypatch.delenv("FANOUT_CACHE_DIR")
    assert default_cache_path().parts[-3:] == (".cache", "fanout", "responses.sqlite")


def test_unopenable_cache_is_a_clear_error(tmp_path):
    (tmp_path / "file").write_text("x")
    with pytest.raises(ValueError, match="cannot open the response cache"):
        ResponseCache(tmp_path / "file" / "c.sqlite")
