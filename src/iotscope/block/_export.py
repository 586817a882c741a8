"""The edge of blocklist export: gather indicators, select, render, write the file atomically,
and record what entered and left the list."""

from __future__ import annotations

import os
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from iotscope.block._formats import RENDERERS
from iotscope.block._policy import Policy
from iotscope.block._select import Entry, Selection, select
from iotscope.store import Store

Objects = Callable[[], list[dict[str, Any]]]


@dataclass(frozen=True, slots=True)
class ExportResult:
    selection: Selection
    path: Path
    added: list[str]
    removed: list[str]


def held_of(entries: list[Entry]) -> dict[str, Any]:
    """What a channel holds, keyed by target text (an IPv4 or IPv6 network or a DNS name)."""
    from iotscope.store._block import Held

    return {e.target.value: Held(e.indicator_id, e.expires) for e in entries}


def blocklist(objects: Objects, policy: Policy, now: Callable[[], datetime]) -> Selection:
    """Fetch the indicators and select what ``policy`` blocks at this moment."""
    return select(objects(), policy, now())


def _write_atomic(path: Path, text: str) -> None:
    """Readers (a resolver reloading its zone, nft) never see half a file."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(text)
        os.chmod(tmp, 0o644)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def export(selection: Selection, fmt: str, out: Path, store: Store | None = None) -> ExportResult:
    """Write ``selection`` as ``fmt`` to ``out``; with a store, log the list's changes."""
    _write_atomic(out, RENDERERS[fmt](selection))
    entries = selection.names() + selection.addresses() if fmt == "rpz" else selection.addresses()
    added: list[str] = []
    removed: list[str] = []
    if store is not None:
        from iotscope.store._block import record_channel

        added, removed = record_channel(
            store, selection.isp, fmt, held_of(entries), selection.now, reasons=selection.reasons
        )
    return ExportResult(selection, out, added, removed)


def bgp_recorder(store: Store, isp: str, channel: str) -> Any:
    """A speaker callback that logs announcements and withdrawals as they happen."""
    from iotscope.block._bgp_session import Output
    from iotscope.block._bgp_speaker import routes_of
    from iotscope.store._block import Held, record_channel

    def changed(announced: frozenset[Any], out: Output, selection: Selection, at: datetime) -> None:
        entries = routes_of(selection)
        held = {
            str(net): Held(
                entries[net].indicator_id if net in entries else None,
                entries[net].expires if net in entries else None,
            )
            for net in announced
        }
        record_channel(store, isp, channel, held, at, kind="bgp",
                       reason=out.closed, reasons=selection.reasons)  # fmt: skip

    return changed
