"""What a site's flow store holds, per exporter: flows, files, days, last flow, sequence state.

Counts come from the dataset itself (one DuckDB pass over the site's files, grouped by
exporter); sequence state and loss, and the collector's receive path (socket buffer granted,
datagrams dropped by its ring and by the kernel), from the site's state file
(:mod:`iotscope.flows._state`).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

import duckdb

from iotscope.flows._parquet import check_site, has_flows, register_flows
from iotscope.flows._sequence import DomainSequence
from iotscope.flows._state import load_state, merged_sequences

__all__ = ["ExporterStatus", "sites", "status"]


@dataclass
class ExporterStatus:
    """One exporter of one site; ``sequences`` are its (source, domain state) pairs."""

    site: str
    exporter: str
    flows: int = 0
    files: int = 0
    days: int = 0
    last_flow: datetime | None = None
    sequences: list[tuple[str, DomainSequence]] = field(default_factory=list)
    receiver: dict[str, Any] | None = None  # the site collector's receive path, if it ran

    def lost(self) -> dict[str, int]:
        """Lost units summed by unit (``packets`` for v9, ``flows`` for v5 and IPFIX)."""
        out: dict[str, int] = {}
        for _, seq in self.sequences:
            out[seq.unit] = out.get(seq.unit, 0) + seq.lost
        return out

    def as_dict(self) -> dict[str, Any]:
        return {
            "site": self.site,
            "exporter": self.exporter,
            "flows": self.flows,
            "files": self.files,
            "days": self.days,
            "last_flow": self.last_flow.isoformat().replace("+00:00", "Z")
            if self.last_flow
            else None,
            "lost": self.lost(),
            "sequences": [
                {"source": src, **{k: v for k, v in seq.as_dict().items() if k != "holes"}}
                for src, seq in self.sequences
            ],
            "receiver": self.receiver,
        }


def sites(root: Path) -> list[str]:
    """Sites that have a partition directory or a state file under ``root``."""
    names = {p.name.removeprefix("site=") for p in root.glob("site=*") if p.is_dir()}
    names |= {p.stem for p in (root / "_state").glob("*.json")}
    return sorted(names)


def _counts(root: Path, site: str) -> list[tuple[str, int, int, int, datetime | None]]:
    if not has_flows(root, site):
        return []
    with duckdb.connect() as con:
        view = register_flows(con, root, site=site, filename=True)
        return con.sql(
            "SELECT coalesce(exporter, ''), count(*), count(DISTINCT filename), "
            f'count(DISTINCT day), max("end") FROM {view} GROUP BY 1 ORDER BY 1'
        ).fetchall()


def status(root: Path, site: str | None = None) -> list[ExporterStatus]:
    """Per site and exporter (sorted): what is stored and the exporter's sequence state."""
    out: list[ExporterStatus] = []
    for name in [check_site(site)] if site else sites(root):
        rows = {
            exp: ExporterStatus(name, exp, flows, files, days, last)
            for exp, flows, files, days, last in _counts(root, name)
        }
        for source, seq in merged_sequences(root, name):
            rows.setdefault(seq.exporter, ExporterStatus(name, seq.exporter)).sequences.append(
                (source, seq)
            )
        receiver = load_state(root, name).get("receiver")
        for row in rows.values():
            row.receiver = receiver
        out += [rows[k] for k in sorted(rows)]
    return out
