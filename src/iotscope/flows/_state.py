"""Exporter state kept beside the flows: ``<root>/_state/<site>.json``.

It holds the sequence state (:mod:`iotscope.flows._sequence`) of the site's collector, so a
restarted collector continues where the killed one stopped, the figures of the collector's
receive path (``ReceiveStats``: socket buffer granted, datagrams dropped by the ring and by the
kernel) as of its last batch, and the sequence report of each ingested export capture by source
key (re-ingesting a file replaces its entry). Written through
a temporary file and a rename; an unreadable file reads as empty (and is replaced on save).
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

from iotscope.flows._parquet import check_site
from iotscope.flows._sequence import DomainSequence, SequenceTracker

__all__ = [
    "collector_tracker",
    "load_state",
    "merged_sequences",
    "save_collector",
    "save_ingest",
    "save_state",
    "state_path",
]


def state_path(root: Path, site: str) -> Path:
    return root / "_state" / f"{check_site(site)}.json"


def load_state(root: Path, site: str) -> dict[str, Any]:
    """``{"collector": [domain rows], "ingest": {source key: [domain rows]}}``."""
    try:
        data = json.loads(state_path(root, site).read_text())
    except (OSError, ValueError):
        return {"collector": [], "ingest": {}}
    if not isinstance(data, dict):
        return {"collector": [], "ingest": {}}
    data.setdefault("collector", [])
    data.setdefault("ingest", {})
    return data


def save_state(root: Path, site: str, state: dict[str, Any]) -> None:
    path = state_path(root, site)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    tmp.write_text(json.dumps(state, indent=1, sort_keys=True))
    os.replace(tmp, path)


def collector_tracker(root: Path, site: str) -> SequenceTracker:
    return SequenceTracker.from_json(load_state(root, site)["collector"])


def save_collector(
    root: Path, site: str, tracker: SequenceTracker, receiver: dict[str, Any] | None = None
) -> None:
    """Save the collector's sequence state and, when given, its receive path's figures."""
    state = load_state(root, site)
    state["collector"] = tracker.to_json()
    if receiver is not None:
        state["receiver"] = receiver
    save_state(root, site, state)


def save_ingest(root: Path, site: str, keys: list[str], tracker: SequenceTracker) -> None:
    """Record ``tracker`` as the sequence report of the files ``keys`` ingested together."""
    if not tracker.domains:
        return
    state = load_state(root, site)
    for key in keys:
        state["ingest"].pop(key, None)
    state["ingest"]["+".join(keys)] = tracker.to_json()
    save_state(root, site, state)


def merged_sequences(root: Path, site: str) -> list[tuple[str, DomainSequence]]:
    """The site's sequence states as ``(source, state)``: source ``collector`` or
    ``ingest:<source keys>``."""
    state = load_state(root, site)
    out = [("collector", d) for d in SequenceTracker.from_json(state["collector"]).domains.values()]
    for key, rows in sorted(state["ingest"].items()):
        out += [(f"ingest:{key}", d) for d in SequenceTracker.from_json(rows).domains.values()]
    return out
