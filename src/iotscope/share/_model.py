"""The hub's rules as pure functions: media types, who may read or write which collection,
TAXII timestamps, opaque paging cursors, and what makes a posted object acceptable.

TAXII 2.1 (OASIS Standard, 10 June 2021) is cited by section: 1.6.8 media types, 3.4 errors,
3.6 pagination, 5 collections and objects.
"""

from __future__ import annotations

import base64
import re
import time
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Literal

from iotscope.tenancy import Principal

TAXII_MEDIA = "application/taxii+json;version=2.1"
STIX_MEDIA = "application/stix+json;version=2.1"
MAX_PAGE = 10_000
"""The largest ``limit`` honoured (a client asking for more gets this many and ``more``)."""
DEFAULT_PAGE = 1_000
MAX_CONTENT_LENGTH = 50 * 1024 * 1024

SHARED_COLLECTION_ID = "1d9c3c7f-5a3b-4c0e-9d2f-6f1b8e7a4c21"
"""The shared C2 feed every ISP writes to and every role reads."""
_NAMESPACE = uuid.UUID("0b6c6f25-8d0c-4b1d-9a4e-2f3f7e1c5a90")

Kind = Literal["shared", "private", "source", "lineage"]
_STIX_ID = re.compile(r"^[a-z0-9][a-z0-9-]{0,62}--[0-9a-fA-F-]{36}$")


@dataclass(frozen=True, slots=True)
class Collection:
    """A collection as stored (``hub_collections``)."""

    id: str
    kind: Kind
    owner: str | None
    title: str
    description: str | None = None


def private_collection_id(isp: str) -> str:
    """The fixed id of ISP ``isp``'s private collection (the centre can compute it)."""
    return str(uuid.uuid5(_NAMESPACE, f"private:{isp}"))


def lineage_collection_id(lineage: str) -> str:
    """The fixed id of the collection of C2 lineage ``lineage`` (its ``family/ip:port`` id)."""
    return str(uuid.uuid5(_NAMESPACE, f"lineage:{lineage}"))


def source_collection_id(name: str) -> str:
    """The fixed id of the read-only partner-source collection ``name``."""
    return str(uuid.uuid5(_NAMESPACE, f"source:{name}"))


def access(principal: Principal, coll: Collection) -> tuple[bool, bool]:
    """``(can_read, can_write)`` of ``principal`` on ``coll`` (TAXII 2.1 section 5.2.1).

    centre: everything. isp: the shared feed and its own private collection read/write, partner
    sources read. manufacturer and partner: the shared feed, read only. Nobody but its ISP and
    the centre sees a private collection at all. A lineage collection (the centre's cut of the
    shared feed by C2 lineage) is read by every role and written by the centre alone.
    """
    if principal.is_centre:
        return True, True
    if coll.kind == "lineage":
        return True, False
    if coll.kind == "shared":
        return True, principal.role == "isp"
    if coll.kind == "private":
        mine = principal.role == "isp" and principal.tenant == coll.owner
        return mine, mine
    return principal.role == "isp", False


def visible(principal: Principal, coll: Collection) -> bool:
    """Whether ``principal`` may know ``coll`` exists (otherwise: 404, as if absent)."""
    return any(access(principal, coll))


# -- time -----------------------------------------------------------------------------------
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_TS = re.compile(r"^(\d{4}-\d{2}-\d{2})T(\d{2}:\d{2}:\d{2})(\.\d{1,9})?Z$")


def parse_ts(text: str) -> int:
    """A STIX/TAXII timestamp (RFC 3339, UTC, ``Z``) -> microseconds since the epoch.

    Digits past the microsecond are dropped. Raises ValueError for anything else.
    """
    m = _TS.match(text) if isinstance(text, str) else None
    if m is None:
        raise ValueError(f"not a UTC timestamp: {text!r}")
    whole = datetime.fromisoformat(f"{m[1]}T{m[2]}+00:00")
    frac = (m[3] or ".")[1:7].ljust(6, "0")
    return int((whole - _EPOCH).total_seconds()) * 1_000_000 + int(frac)


def format_us(us: int) -> str:
    """Microseconds since the epoch -> ``YYYY-MM-DDTHH:MM:SS.ffffffZ`` (TAXII's precision)."""
    secs, frac = divmod(us, 1_000_000)
    return datetime.fromtimestamp(secs, UTC).strftime("%Y-%m-%dT%H:%M:%S") + f".{frac:06d}Z"


def now_us() -> int:
    """The wall clock in microseconds since the epoch."""
    return time.time_ns() // 1000


# -- cursors ----------------------------------------------------------------------------------
def encode_cursor(added_us: int, rid: int) -> str:
    """An opaque ``next`` / SSE event id: the keyset position ``(added_us, rid)``."""
    return base64.urlsafe_b64encode(f"{added_us}.{rid}".encode()).decode().rstrip("=")


def decode_cursor(token: str) -> tuple[int, int]:
    """Inverse of :func:`encode_cursor`; ValueError for anything that is not one."""
    try:
        raw = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4)).decode()
        added, rid = raw.split(".")
        return int(added), int(rid)
    except Exception as exc:
        raise ValueError(f"not a cursor this server issued: {token[:40]!r}") from exc


# -- objects ---------------------------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class Entry:
    """One posted object, checked: its identity, version and stored text."""

    id: str
    type: str
    spec_version: str
    version: str | None  # None: an object without modified/created (an SCO)
    version_us: int | None
    body: str


def check_object(obj: object, dumps: Any) -> Entry:
    """A posted STIX 2.1 object -> :class:`Entry`, or ValueError saying what is wrong.

    TAXII 2.1 section 3.3 identifies a version by ``modified`` (else ``created``; objects with
    neither are versioned by date_added).
    """
    if not isinstance(obj, dict):
        raise ValueError("an object must be a JSON object")
    oid, otype = obj.get("id"), obj.get("type")
    if not isinstance(oid, str) or not _STIX_ID.match(oid):
        raise ValueError("id must be TYPE--UUID")
    if otype != oid.split("--", 1)[0]:
        raise ValueError("type must match the id's prefix")
    spec = obj.get("spec_version", "2.1")
    if spec != "2.1":
        raise ValueError("only spec_version 2.1 is accepted")
    stamp = obj.get("modified", obj.get("created"))
    version_us = None if stamp is None else parse_ts(stamp)
    return Entry(oid, otype, spec, stamp, version_us, dumps(obj))
