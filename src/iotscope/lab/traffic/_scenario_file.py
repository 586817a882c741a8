"""A variant read from a TOML scenario file (``iotscope lab traffic --scenario FILE.toml``).

The file holds the fields of :class:`Variant`; each ``[[lineage]]`` names a family template
(the original ``mirai``, ``gafgyt-irc``, ``http-bot``, ``emotet``, or the variants' new kinds
``jitter-beacon``, ``static-443``, ``rotating-c2``, ``mirai-reconnect``, ``long-session``)
and overrides any :class:`Family` field; each ``[[benign]]`` is a ``kind = "poller"`` with the
fields of :class:`Poller` or a ``kind = "nat"`` with those of :class:`NatGateway`::

    name = "my-world"
    description = "one office poller and a reconnecting Mirai"
    held_out = true

    [[lineage]]
    name = "m1"
    family = "mirai-reconnect"
    period_s = 4.0

    [[benign]]
    kind = "poller"
    family = "day-poller"
    port = 443
    period_s = 300.0
    clients = 1
    hours = [8.0, 20.0]

Unknown keys and wrong types are a :class:`ConfigError` naming the entry.
"""

from __future__ import annotations

import tomllib
from dataclasses import fields, replace
from pathlib import Path
from typing import Any

from iotscope.errors import ConfigError
from iotscope.lab.traffic._families import FAMILIES, BenignFamily, Family, NatGateway, Poller
from iotscope.lab.traffic._variants import (
    Variant,
    jitter_beacon,
    long_session,
    mirai_reconnect,
    rotating_c2,
    static_443,
)

#: Family templates a lineage may start from (its other keys override their fields).
TEMPLATES: dict[str, Family] = {
    **FAMILIES,
    "jitter-beacon": jitter_beacon(443, 300.0, 0.4, "iot"),
    "static-443": static_443(150.0),
    "rotating-c2": rotating_c2(8443, (2.0, 4.0)),
    "mirai-reconnect": mirai_reconnect(23, 5.0, 0.5),
    "long-session": long_session(443, (2.0, 6.0), 0.5),
}


def _values(cls: type, entry: dict[str, Any], where: str) -> dict[str, Any]:
    """``entry``'s keys checked against ``cls``'s fields, TOML arrays made tuples."""
    known = {f.name for f in fields(cls)}
    unknown = set(entry) - known
    if unknown:
        raise ConfigError("unknown keys in scenario file", entry=where, keys=sorted(unknown))
    return {k: tuple(v) if isinstance(v, list) else v for k, v in entry.items()}


def _lineage(entry: dict[str, Any], i: int) -> tuple[str, Family]:
    entry = dict(entry)
    name, template = entry.pop("name", f"lineage-{i}"), entry.pop("family", None)
    if template not in TEMPLATES:
        raise ConfigError("lineage needs a known family", entry=name, known=sorted(TEMPLATES))
    return str(name), replace(TEMPLATES[template], **_values(Family, entry, str(name)))


def _benign(entry: dict[str, Any], i: int) -> BenignFamily:
    entry = dict(entry)
    kind = entry.pop("kind", "poller")
    where = f"benign[{i}]"
    if kind == "nat":
        return NatGateway(**_values(NatGateway, entry, where))
    if kind == "poller":
        return Poller(**_values(Poller, entry, where))
    raise ConfigError("benign kind must be poller or nat", entry=where, kind=kind)


def load_variant(path: Path) -> Variant:
    """The variant described by the TOML file at ``path``."""
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        raise ConfigError("cannot read scenario file", path=str(path), error=str(exc)) from exc
    extra = set(data) - {"name", "description", "held_out", "lineage", "benign"}
    if extra:
        raise ConfigError("unknown keys in scenario file", path=str(path), keys=sorted(extra))
    try:
        return Variant(
            str(data.get("name", path.stem)),
            str(data.get("description", f"scenario file {path.name}")),
            bool(data.get("held_out", False)),
            tuple(_lineage(e, i) for i, e in enumerate(data.get("lineage", []))),
            tuple(_benign(e, i) for i, e in enumerate(data.get("benign", []))),
        )
    except (TypeError, AttributeError) as exc:
        raise ConfigError("bad entry in scenario file", path=str(path), error=str(exc)) from exc
