"""The known hosts a detection starts from, by kind, selected in the store's SQL.

``infected``: the telescope's mirai/iot scanners and the addresses of an ``--infected`` file
(a sinkhole's or partner's list of bots); ``weak_login``: survey findings where a default
login worked or none was needed. Only ``infected`` counts as evidence of a bot unless the
caller also asks for ``weak_login`` (a device that can be taken over is not proof it was).
"""

from __future__ import annotations

from collections.abc import Collection, Iterable
from pathlib import Path
from typing import Any

from iotscope.c2._views import INFECTED_KINDS, KINDS

INFECTED = INFECTED_KINDS
WITH_WEAK_LOGIN = KINDS


def known_hosts(store: Any, extra: Path | None = None) -> list[tuple[str, str]]:
    """``(ip, kind)`` of every kind: the store's (one SQL query) plus the file's."""
    from iotscope.c2._detect import infected_from_file  # lazy: _detect may come to use us

    rows = list(store.known_hosts(("infected", "weak_login")))
    if extra is not None:
        rows += [(ip, "infected") for ip in sorted(infected_from_file(extra))]
    return rows


def counted(known: Iterable[tuple[str, str]], kinds: Collection[str] = INFECTED) -> list[str]:
    """The distinct addresses whose kind is counted as infected, sorted."""
    return sorted({ip for ip, kind in known if kind in kinds})


def tally(known: Iterable[tuple[str, str]]) -> dict[str, int]:
    """Distinct addresses per kind (kept in a run's counts)."""
    out: dict[str, set[str]] = {}
    for ip, kind in known:
        out.setdefault(kind, set()).add(ip)
    return {f"known_{k}": len(v) for k, v in sorted(out.items())}
