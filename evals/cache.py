"""SQLite response cache: a re-run of unchanged requests is free and gives identical traces.

Keyed by a hash of (provider, model, endpoint, canonical request body, epoch) computed by the
caller; the body never holds an API key (keys travel in headers). The stored value is the
normalised response with the latency and usage recorded when it was live, and the provider's
opaque parts (thinking blocks, signatures, reasoning items) that the next turn must send back, so
a cache hit keeps them and the trace marks it `cached`. Only successes are stored: an error is
never cached.

Any response is stored intact: values are written as ASCII JSON (`\\u` escapes), so text the
provider sent with a lone surrogate, which UTF-8 cannot hold, round-trips unchanged.

WAL mode and a busy timeout let concurrent episodes and concurrent runs share one file; every
write is its own short transaction. The file is created readable by its owner only (0600): it
holds prompts and responses. A write that fails (disk full, read-only file system, a corrupt
database) raises `LocalIOError`, which stops the run: a cache that silently stops caching, or an
episode scored as failed because the disk is full, would both mislead.
"""

from __future__ import annotations

import json
import os
import sqlite3
import threading
import time
from pathlib import Path
from typing import Any

from .errors import LocalIOError

SCHEMA = """
CREATE TABLE IF NOT EXISTS responses (
    key TEXT PRIMARY KEY,
    provider TEXT NOT NULL,
    model TEXT NOT NULL,
    endpoint TEXT NOT NULL,
    epoch INTEGER NOT NULL,
    response TEXT NOT NULL,
    created REAL NOT NULL
)
"""


def default_cache_path() -> Path:
    """`$FANOUT_CACHE_DIR/responses.sqlite`, else `~/.cache/fanout/responses.sqlite`."""
    base = os.environ.get("FANOUT_CACHE_DIR")
    root = Path(base).expanduser() if base else Path.home() / ".cache" / "fanout"
    return root / "responses.sqlite"


def _create_private(path: Path) -> None:
    """Create the file with mode 0600 before SQLite opens it (SQLite would use the umask)."""
    try:
        fd = os.open(path, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o600)
    except FileExistsError:
        return
    os.close(fd)


class ResponseCache:
    def __init__(self, path: str | Path):
        self.path = Path(path).expanduser()
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            _create_private(self.path)
            self.db = sqlite3.connect(self.path, timeout=30.0, check_same_thread=False, isolation_level=None)
            self.db.execute("PRAGMA journal_mode=WAL")
            self.db.execute("PRAGMA synchronous=NORMAL")
            self.db.execute("PRAGMA busy_timeout=30000")
            self.db.execute(SCHEMA)
        except (OSError, sqlite3.Error) as exc:
            raise ValueError(f"cannot open the response cache {self.path}: {exc}") from None
        self.lock = threading.Lock()
        self.hits = 0
        self.misses = 0

    def get(self, key: str) -> dict | None:
        try:
            with self.lock:
                row = self.db.execute("SELECT response FROM responses WHERE key = ?", (key,)).fetchone()
        except sqlite3.Error as exc:
            raise LocalIOError(f"the response cache {self.path} cannot be read: {exc}") from None
        if row is None:
            self.misses += 1
            return None
        self.hits += 1
        return json.loads(row[0])

    def put(
        self, key: str, provider: str, model: str, endpoint: str, epoch: int, response: dict[str, Any]
    ) -> None:
        text = json.dumps(response, separators=(",", ":"), ensure_ascii=True, default=str)
        try:
            with self.lock:
                self.db.execute(
                    "INSERT OR REPLACE INTO responses (key, provider, model, endpoint, epoch, response, created) "
                    "VALUES (?, ?, ?, ?, ?, ?, ?)",
                    (key, provider, model, endpoint, epoch, text, time.time()),
                )
        except (sqlite3.Error, OSError) as exc:
            raise LocalIOError(
                f"the response cache {self.path} cannot be written ({exc}); free disk space, "
                "pass --cache-path elsewhere, or --no-cache"
            ) from None

    def __len__(self) -> int:
        with self.lock:
            return self.db.execute("SELECT COUNT(*) FROM responses").fetchone()[0]

    def close(self) -> None:
        with self.lock:
            self.db.close()
