"""The STIX boundary of an ISP's publications: what objects a C2 candidate becomes.

Three functions, and nothing else of :mod:`iotscope.isp` knows STIX content:

- :func:`c2_objects` the objects of some candidates at ``now``, given the last versions sent
  (``previous``: object id -> object); an object whose content did not change is left out, a
  changed one is a new version (same ``id`` and ``created``, later ``modified``: STIX 2.1 3.6);
- :func:`indicator_id` the deterministic id of an endpoint's indicator;
- :func:`expire` a new version of an indicator whose ``valid_until`` is ``now``: the C2 left the
  detection window, so consumers stop acting on it (4.7: an indicator is no longer valid after
  ``valid_until``). Revocation stays for false positives.

This minimal builder makes the indicator only; it is replaced by the share part's full content
(indicator, infrastructure, malware, sighting, TLP) when that lands.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

from iotscope.records import C2Candidate

StixObject = dict[str, Any]

NAMESPACE = uuid.UUID("6f1c0e2a-4b8d-5c3e-9a7f-1d2e3f405a6b")
TTL = timedelta(days=3)
_VERSION_KEYS = ("created", "modified")


def ts(when: datetime) -> str:
    """A STIX timestamp (3.2): UTC, ``Z``, millisecond precision."""
    when = when.astimezone(UTC)
    return when.strftime("%Y-%m-%dT%H:%M:%S.") + f"{when.microsecond // 1000:03d}Z"


def parse_ts(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00")).astimezone(UTC)


def indicator_id(ip: str, port: int, proto: str) -> str:
    return f"indicator--{uuid.uuid5(NAMESPACE, f'indicator|{ip}|{port}|{proto}')}"


def _indicator(c: C2Candidate, now: datetime) -> StixObject:
    ip, port, proto = str(c.ip), c.port, c.proto
    kind = "ipv6-addr" if ":" in ip else "ipv4-addr"
    return {
        "type": "indicator",
        "spec_version": "2.1",
        "id": indicator_id(ip, port, proto),
        "created": ts(now),
        "modified": ts(now),
        "name": f"Botnet C2 {ip}:{port}/{proto}",
        "indicator_types": ["malicious-activity"],
        "pattern": (
            f"[network-traffic:dst_ref.type = '{kind}' AND network-traffic:dst_ref.value = "
            f"'{ip}' AND network-traffic:dst_port = {port} AND "
            f"network-traffic:protocols[*] = '{proto}']"
        ),
        "pattern_type": "stix",
        "pattern_version": "2.1",
        "valid_from": ts(c.first_seen),
        "valid_until": ts(max(c.last_seen + TTL, c.first_seen + timedelta(seconds=1))),
        "confidence": max(0, min(100, round(100 * c.score))),
    }


def _next_version(
    obj: StixObject, previous: Mapping[str, Any] | None, now: datetime
) -> StixObject | None:
    if previous is None:
        return obj
    if previous.get("revoked"):
        return None
    strip = {k: v for k, v in obj.items() if k not in _VERSION_KEYS}
    if strip == {k: v for k, v in previous.items() if k not in _VERSION_KEYS}:
        return None
    modified = max(now, parse_ts(previous["modified"]) + timedelta(milliseconds=1))
    return {**obj, "created": previous["created"], "modified": ts(modified)}


def c2_objects(
    candidates: Sequence[C2Candidate],
    isp: str,
    now: datetime,
    previous: Mapping[str, Mapping[str, Any]],
) -> list[StixObject]:
    """The objects ISP ``isp`` publishes for ``candidates`` at ``now`` (new or new versions)."""
    out = []
    for c in candidates:
        obj = _indicator(c, now)
        nxt = _next_version(obj, previous.get(obj["id"]), now)
        if nxt is not None:
            out.append(nxt)
    return out


def expire(previous: Mapping[str, Any], now: datetime) -> StixObject:
    """The next version of indicator ``previous`` with ``valid_until`` = ``now`` (kept after
    ``valid_from``, as 4.7 requires)."""
    modified = max(now, parse_ts(previous["modified"]) + timedelta(milliseconds=1))
    until = max(now, parse_ts(previous["valid_from"]) + timedelta(milliseconds=1))
    return {**previous, "modified": ts(modified), "valid_until": ts(until)}
