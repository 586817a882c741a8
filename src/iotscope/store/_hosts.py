"""Known hosts by kind of evidence, selected in SQL (no Python pass over sightings or findings).

* ``infected``: the telescope saw the address scan as an infected IoT device (a sighting
  classed ``mirai`` or ``iot``): evidence of a bot.
* ``weak_login``: the survey logged in with a default credential or needed none (a finding
  whose login outcome is ``accepted`` or ``no_auth``): a device that *can* be taken over,
  not evidence that it was. Callers treat it as infected only when they ask to.
"""

from __future__ import annotations

from collections.abc import Collection
from typing import Any

from sqlalchemy import Select, literal, select, union

from iotscope.errors import ConfigError
from iotscope.store import _schema as s

INFECTED_CLASSES = ("mirai", "iot")
WEAK_OUTCOMES = ("accepted", "no_auth")
KINDS = ("infected", "weak_login")


def _infected() -> Select[Any]:
    t = s.sightings
    return select(t.c.src.label("ip"), literal("infected").label("kind")).where(
        t.c.classification.in_(INFECTED_CLASSES)
    )


def _weak_login() -> Select[Any]:
    t = s.findings
    outcome = t.c.login["outcome"].as_string()
    return select(t.c.ip.label("ip"), literal("weak_login").label("kind")).where(
        outcome.in_(WEAK_OUTCOMES)
    )


def known_query(kinds: Collection[str]) -> Any:
    """``SELECT ip, kind`` for the asked kinds, distinct (UNION), ordered by ip then kind."""
    unknown = set(kinds) - set(KINDS)
    if unknown or not kinds:
        raise ConfigError("unknown kind of known host", kinds=sorted(unknown), known=KINDS)
    parts = {"infected": _infected, "weak_login": _weak_login}
    selects = [parts[k]() for k in KINDS if k in kinds]
    query = union(*selects) if len(selects) > 1 else selects[0].distinct()
    sub = query.subquery()
    return select(sub.c.ip, sub.c.kind).order_by(sub.c.ip, sub.c.kind)
