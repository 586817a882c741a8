"""The manifest file: the lab's ground truth as JSON (``LabManifest``, ARCHITECTURE.md)."""

from __future__ import annotations

import os
from pathlib import Path

from pydantic import ValidationError

from iotscope.errors import ConfigError
from iotscope.records import LabManifest


def write_manifest(manifest: LabManifest, path: Path) -> None:
    """Write ``manifest`` to ``path`` atomically (temporary file, then rename).

    A reader polling for ``path`` sees either nothing or the whole manifest.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    tmp.write_text(manifest.model_dump_json(indent=1), encoding="utf-8")
    os.replace(tmp, path)


def read_manifest(path: Path) -> LabManifest:
    """Read a manifest written by ``write_manifest``; a bad file raises ``ConfigError``."""
    try:
        return LabManifest.model_validate_json(path.read_bytes())
    except OSError as exc:
        raise ConfigError("cannot read lab manifest", path=str(path), reason=str(exc)) from exc
    except ValidationError as exc:
        raise ConfigError("bad lab manifest", path=str(path), reason=str(exc)[:500]) from exc
