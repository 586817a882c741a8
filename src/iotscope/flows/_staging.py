"""Parts written under hidden names while a source streams in, renamed into place at the end.

``StagedParts`` keeps one open Parquet writer per (site, day) of one source (an ingested file):
each chunk of flows is appended as row groups, so memory holds one chunk, not the file. On
``commit(key)`` every part is closed and renamed ``part-<key>-<n>.parquet`` (n counts the
source's parts of that day), then older parts of the same key that the new set does not hold are
removed: ingesting the same content again replaces its parts. A killed ingest leaves only hidden
``.stage-<pid>-*.tmp`` files, which ``sweep_stale`` removes once their process is gone.
"""

from __future__ import annotations

import contextlib
import os
import re
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

from iotscope.flows._parquet import COMPRESSION, day_dir, partitions
from iotscope.flows._schema import FLOW_SCHEMA

__all__ = ["StagedParts", "sweep_stale"]

MAX_OPEN = 32
_STAGE = re.compile(r"^\.(?:stage|compact)-(\d+)-.*\.tmp$|^\..*\.(\d+)\.tmp$")


class StagedParts:
    """Open per-(site, day) writers for one source; nothing is visible before ``commit``."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self._open: dict[Path, tuple[pq.ParquetWriter, Path]] = {}
        self._done: list[tuple[Path, Path]] = []  # (temporary file, its day directory)
        self._n = 0

    def write(self, table: pa.Table) -> None:
        for site, day, rows in partitions(table):
            folder = day_dir(self.root, site, day)
            entry = self._open.get(folder)
            if entry is None:
                if len(self._open) >= MAX_OPEN:
                    self._close(next(iter(self._open)))
                folder.mkdir(parents=True, exist_ok=True)
                self._n += 1
                tmp = folder / f".stage-{os.getpid()}-{id(self)}-{self._n}.tmp"
                entry = (pq.ParquetWriter(tmp, FLOW_SCHEMA, compression=COMPRESSION), tmp)
                self._open[folder] = entry
            entry[0].write_table(rows)

    def _close(self, folder: Path) -> None:
        writer, tmp = self._open.pop(folder)
        writer.close()
        self._done.append((tmp, folder))

    def commit(self, key: str) -> list[Path]:
        """Rename every part into place as ``part-<key>-<n>.parquet``; return the paths."""
        for folder in list(self._open):
            self._close(folder)
        final: list[Path] = []
        per_folder: dict[Path, int] = {}
        for tmp, folder in self._done:
            n = per_folder[folder] = per_folder.get(folder, 0) + 1
            path = folder / f"part-{key}-{n:05d}.parquet"
            os.replace(tmp, path)
            final.append(path)
        keep = set(final)
        for folder in per_folder:
            for old in folder.glob(f"part-{key}*.parquet"):
                if old not in keep and _same_key(old.name, key):
                    old.unlink(missing_ok=True)
        self._done.clear()
        return final

    def abort(self) -> None:
        """Drop everything written so far (an error ended the source)."""
        for folder in list(self._open):
            self._close(folder)
        for tmp, _ in self._done:
            tmp.unlink(missing_ok=True)
        self._done.clear()


def _same_key(name: str, key: str) -> bool:
    rest = name[len(f"part-{key}") : -len(".parquet")]
    return rest == "" or (rest.startswith("-") and rest[1:].isdigit())


def _alive(pid: int) -> bool:
    if pid == os.getpid():
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def sweep_stale(root: Path, site: str | None = None) -> int:
    """Remove hidden temporary files left by killed writers (their process is gone)."""
    removed = 0
    part = f"site={site}" if site else "site=*"
    for tmp in root.glob(f"{part}/day=*/.*.tmp"):
        m = _STAGE.match(tmp.name)
        pid = next((int(g) for g in (m.groups() if m else ()) if g), None)
        if pid is not None and not _alive(pid):
            with contextlib.suppress(OSError):
                tmp.unlink()
                removed += 1
    return removed
