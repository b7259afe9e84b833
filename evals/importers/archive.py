"""Reading data files from a wheel, an sdist or a folder, without installing or unpacking anything.

BFCL ships its data inside the `bfcl-eval` distribution; installing it would pin old numpy and heavy
packages, so the importer reads the member files straight from the archive.
"""

from __future__ import annotations

import tarfile
import zipfile
import zlib
from pathlib import Path

from .common import SourceError, decode_source


class SourceFiles:
    """Relative file names of a source and their text, whatever the container."""

    def __init__(self, path: Path):
        self.path = path
        if not path.exists():
            raise SourceError(f"source {path} does not exist")
        self._zip: zipfile.ZipFile | None = None
        self._tar: tarfile.TarFile | None = None
        if path.is_dir():
            self.names = sorted(str(p.relative_to(path)) for p in path.rglob("*") if p.is_file())
        elif zipfile.is_zipfile(path):
            self._zip = zipfile.ZipFile(path)
            self.names = sorted(n for n in self._zip.namelist() if not n.endswith("/"))
        elif _is_tar(path):
            self._tar = tarfile.open(path)
            self.names = sorted(m.name for m in self._tar.getmembers() if m.isfile())
        else:
            raise SourceError(f"source {path} is neither a folder, a wheel/zip nor a tar archive (sdist)")

    def read_text(self, name: str) -> str:
        try:
            if self._zip is not None:
                data = self._zip.read(name)
            elif self._tar is not None:
                f = self._tar.extractfile(name)
                if f is None:
                    raise SourceError(f"{self.path}: {name} is not a regular file")
                data = f.read()
            else:
                data = (self.path / name).read_bytes()
        except (OSError, EOFError, zipfile.BadZipFile, tarfile.TarError, zlib.error) as exc:
            # a corrupt or truncated archive member (bad CRC, bad deflate stream)
            raise SourceError(f"{self.path}: cannot read {name}: {exc}") from None
        return decode_source(data, f"{self.path}: {name}")

    def close(self) -> None:
        if self._zip is not None:
            self._zip.close()
        if self._tar is not None:
            self._tar.close()

    def __enter__(self) -> SourceFiles:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def _is_tar(path: Path) -> bool:
    try:
        return tarfile.is_tarfile(path)
    except OSError:
        return False
