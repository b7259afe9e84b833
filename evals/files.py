"""Whole-file writes that a crash or a full disk cannot leave half done.

run.json, summary.json and the report's files are read by other programs (a CI step, a web
server, `fanout report` itself), so each is written to a temporary file beside it, flushed to
disk and renamed over the old one: a reader sees the old file or the new one, never a torn mix.
A failure (disk full, read-only file system) removes the temporary file and raises
`LocalIOError`, one line naming the file, instead of an OSError traceback.
"""

from __future__ import annotations

import codecs
import json
import os
import secrets
from pathlib import Path
from typing import Any

from .errors import LocalIOError, UsageError


def _replace_surrogates(exc: UnicodeError) -> tuple[bytes, int]:
    """Codec error handler: each code point UTF-8 cannot encode (a lone surrogate) -> U+FFFD."""
    if not isinstance(exc, UnicodeEncodeError):
        raise exc
    return "\ufffd".encode() * (exc.end - exc.start), exc.end


codecs.register_error("replace_surrogates", _replace_surrogates)


def encode_utf8(text: str) -> bytes:
    """UTF-8 bytes of any str: a lone surrogate (a model may send `"\\ud800"`; UTF-8 cannot hold
    it, and JSON readers refuse it even escaped) becomes U+FFFD. The common case costs one encode."""
    return text.encode("utf-8", "replace_surrogates")


def clean_text(text: str) -> str:
    """`text` with each lone surrogate as U+FFFD (`encode_utf8`, as a str); free for ASCII."""
    if text.isascii():
        return text
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return encode_utf8(text).decode("utf-8")
    return text


def io_error(path: Path | str, exc: OSError, doing: str = "write") -> LocalIOError:
    """An OSError as the one-line error that stops a run: the file and the system's words."""
    return LocalIOError(f"cannot {doing} {path}: {exc.strerror or exc}")


def claim_new_folder(parent: Path, name: str) -> Path:
    """Make a new folder `parent/name` and return it; one that exists already (another run or
    report started in the same second, in this process or another) gives the next free `-2`,
    `-3`...: mkdir is atomic, so two callers never get the same folder. `parent` must exist. A
    folder that cannot be made is a usage error naming it."""
    n = 1
    while True:
        folder = parent / (name if n == 1 else f"{name}-{n}")
        try:
            folder.mkdir()
        except FileExistsError:
            n += 1
            continue
        except OSError as exc:
            raise UsageError(f"cannot create {folder}: {exc.strerror or exc}") from None
        return folder


def write_bytes_atomic(path: Path, data: bytes) -> None:
    path = Path(path)
    # A unique name: two writers of one file never share a temporary; mode 0666 minus the umask,
    # as a plain open() would give.
    tmp = path.with_name(f".{path.name}.{os.getpid()}.{secrets.token_hex(4)}.tmp")
    try:
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666)
        try:
            view = memoryview(data)
            while view:
                view = view[os.write(fd, view) :]
            os.fsync(fd)
        finally:
            os.close(fd)
        os.replace(tmp, path)
    except BaseException as exc:  # a Ctrl-C or SIGTERM mid-write must not leave the temporary either
        try:
            os.unlink(tmp)
        except OSError:
            pass
        if isinstance(exc, OSError):
            raise io_error(path, exc) from None
        raise


def write_text_atomic(path: Path, text: str) -> None:
    write_bytes_atomic(path, encode_utf8(text))


def write_json_atomic(path: Path, data: Any) -> None:
    """`data` as indented JSON with sorted keys and a final newline."""
    write_text_atomic(path, json.dumps(data, indent=2, sort_keys=True, ensure_ascii=False) + "\n")
