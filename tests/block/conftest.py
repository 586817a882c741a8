"""STIX 2.1 indicators as partners send them, built by hand (the input boundary of block/)."""

from __future__ import annotations

import json
import uuid
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

TLP = {
    "clear": "marking-definition--94868c89-83c2-464b-929b-a1a8aa3c8487",
    "green": "marking-definition--bab4a63c-aed9-4cf5-a766-dfca5abac2bb",
    "amber": "marking-definition--55d920b0-5e8b-4f79-9ee9-91f868d9b421",
    "amber+strict": "marking-definition--939a9414-2ddd-4d32-a0cd-375ea402b003",
    "red": "marking-definition--e828b379-4e03-4974-9ac4-e53a884c97c1",
}
NS = uuid.UUID("6ba7b811-9dad-11d1-80b4-00c04fd430c8")


def stamp(t: datetime) -> str:
    return t.strftime("%Y-%m-%dT%H:%M:%S.000Z")


def indicator(
    value: str,
    now: datetime,
    *,
    port: int | None = None,
    valid_for: timedelta | None = timedelta(days=2),
    since: timedelta = timedelta(hours=1),
    confidence: int | None = 80,
    tlp: str | None = "green",
    revoked: bool = False,
    modified: datetime | None = None,
    pattern: str | None = None,
) -> dict[str, Any]:
    """An indicator for an address (or a domain name when ``value`` has letters)."""
    if pattern is None:
        kind = "domain-name" if any(c.isalpha() for c in value) else "ipv4-addr"
        pattern = f"[{kind}:value = '{value}']"
        if port is not None:
            pattern = (
                f"[network-traffic:dst_ref.type = 'ipv4-addr' AND "
                f"network-traffic:dst_ref.value = '{value}' AND "
                f"network-traffic:dst_port = {port}]"
            )
    start = now - since
    obj: dict[str, Any] = {
        "type": "indicator",
        "spec_version": "2.1",
        "id": f"indicator--{uuid.uuid5(NS, f'{value}:{port}')}",
        "created": stamp(start),
        "modified": stamp(modified or start),
        "pattern": pattern,
        "pattern_type": "stix",
        "indicator_types": ["malicious-activity"],
        "valid_from": stamp(start),
    }
    if valid_for is not None:
        obj["valid_until"] = stamp(now + valid_for)
    if confidence is not None:
        obj["confidence"] = confidence
    if tlp is not None:
        obj["object_marking_refs"] = [TLP[tlp]]
    if revoked:
        obj["revoked"] = True
    return obj


def write_bundle(path: Path, objects: list[dict[str, Any]]) -> Path:
    bundle = {"type": "bundle", "id": f"bundle--{uuid.uuid4()}", "objects": objects}
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps(bundle, indent=1))
    tmp.replace(path)
    return path
