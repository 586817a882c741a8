"""The canonical records every part of iotscope exchanges.

Each record is immutable and validated when it is built (pydantic v2, ``frozen=True``,
``extra="forbid"``): a part never hands another part a dict of unknown shape. To change a
record, build a new one with ``record.model_copy(update=...)``.

Times are timezone-aware datetimes in UTC; addresses are ``ipaddress`` objects inside the
process and strings on the wire (JSON Lines, the store). The JSON field names here are the
command-line contract of ARCHITECTURE.md: keep them.
"""

from __future__ import annotations

import ipaddress
from datetime import UTC, datetime
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, PlainSerializer

__all__ = [
    "C2Candidate",
    "C2Run",
    "Classification",
    "Credential",
    "Device",
    "Finding",
    "Flow",
    "IPAddr",
    "Identity",
    "Isp",
    "LabManifest",
    "Login",
    "LoginOutcome",
    "Proto",
    "Record",
    "ServiceSpec",
    "Sighting",
    "Survey",
    "UtcTime",
    "utc",
]


def utc(value: datetime) -> datetime:
    """Return ``value`` as an aware UTC datetime (naive values are taken to be UTC)."""
    if value.tzinfo is None:
        return value.replace(tzinfo=UTC)
    return value.astimezone(UTC)


def _iso(value: datetime) -> str:
    return utc(value).isoformat().replace("+00:00", "Z")


def _ip(value: Any) -> ipaddress.IPv4Address | ipaddress.IPv6Address:
    return ipaddress.ip_address(value)


UtcTime = Annotated[datetime, AfterValidator(utc), PlainSerializer(_iso, when_used="json")]
IPAddr = Annotated[
    ipaddress.IPv4Address | ipaddress.IPv6Address,
    PlainSerializer(str, when_used="always"),
]
Proto = Literal["tcp", "udp", "icmp", "other"]
LoginOutcome = Literal["accepted", "no_auth", "rejected", "not_tried", "error"]
Classification = Literal["mirai", "iot", "research", "backscatter", "other"]


class Record(BaseModel):
    """Base of every record: immutable, no unknown fields."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    def to_json(self) -> str:
        """One JSON Lines line (no trailing newline)."""
        return self.model_dump_json()


# --- identification -------------------------------------------------------------------------


class Identity(Record):
    """What a banner says a device is. Every field may be unknown (None)."""

    vendor: str | None = None
    product: str | None = None
    model: str | None = None
    version: str | None = None
    device_type: str | None = None
    cpe: str | None = None

    def is_empty(self) -> bool:
        return not any(self.model_dump().values())


# --- survey ---------------------------------------------------------------------------------


class Login(Record):
    """The result of a login check under NOTICE's rules.

    ``credential`` names the credential-list entry that worked (for example
    ``"mirai-2016#3"``), never a password typed by hand; ``username`` is that entry's user.
    """

    protocol: str
    outcome: LoginOutcome
    username: str | None = None
    credential: str | None = None
    attempts: int = 0
    detail: str | None = None


class Finding(Record):
    """One open service on one address, as the survey saw it."""

    ip: IPAddr
    port: int = Field(ge=0, le=65535)
    transport: Literal["tcp", "udp"] = "tcp"
    service: str
    time: UtcTime
    banner: str | None = None
    identity: Identity | None = None
    login: Login = Login(protocol="none", outcome="not_tried")
    details: dict[str, str] = Field(default_factory=dict)
    cves: tuple[str, ...] = ()
    survey_id: str | None = None


class Survey(Record):
    """One survey run: its scope, time span and counts."""

    id: str
    started: UtcTime
    finished: UtcTime | None = None
    scope: tuple[str, ...]
    exclude: tuple[str, ...] = ()
    ports: tuple[str, ...] = ()
    shard: str | None = None
    counts: dict[str, int] = Field(default_factory=dict)


# --- darknet --------------------------------------------------------------------------------


class Sighting(Record):
    """One source seen by the telescope over one capture."""

    src: IPAddr
    first_seen: UtcTime
    last_seen: UtcTime
    packets: int = Field(ge=0)
    targets: int = Field(ge=0)
    ports: dict[int, int] = Field(default_factory=dict)
    mirai_fingerprint: float = Field(ge=0.0, le=1.0)
    classification: Classification
    sensor: str = "telescope"


# --- flows and C2 ---------------------------------------------------------------------------


class Flow(Record):
    """One unidirectional (NetFlow/IPFIX) or bidirectional (Zeek) flow.

    The hot paths keep flows columnar (see ``iotscope.flows``); this record is the contract of
    one JSON Lines row and of small hand-made inputs in tests.
    """

    start: UtcTime
    end: UtcTime
    src: IPAddr
    dst: IPAddr
    sport: int = Field(ge=0, le=65535)
    dport: int = Field(ge=0, le=65535)
    proto: Proto
    packets: int = Field(ge=0)
    bytes: int = Field(ge=0)
    tcp_flags: int = Field(default=0, ge=0, le=0xFFFF)
    exporter: str = ""
    site: str = ""


class C2Candidate(Record):
    """A remote endpoint scored as a likely botnet C2 server. Only these leave a site."""

    ip: IPAddr
    port: int = Field(ge=0, le=65535)
    proto: Proto
    score: float
    clients: int = Field(ge=0)
    infected_clients: int = Field(ge=0)
    first_seen: UtcTime
    last_seen: UtcTime
    reasons: tuple[str, ...] = ()
    site: str = ""


class C2Run(Record):
    """One C2 detection run as it read one site's flows: the flow-time window [since, until)
    (None: unbounded), the engine and scoring parameters, when it ran, and its counts. A run
    over several sites is one record per site (same ``id``), so every row carries its site."""

    id: str = Field(min_length=1, max_length=64)
    site: str
    since: UtcTime | None = None
    until: UtcTime | None = None
    engine: str = "duckdb"
    params: dict[str, Any] = Field(default_factory=dict)
    started: UtcTime
    finished: UtcTime | None = None
    counts: dict[str, int] = Field(default_factory=dict)


# --- lab ground truth -----------------------------------------------------------------------


class ServiceSpec(Record):
    """One service of a lab device. ``auth`` is how its login works, where it has one:
    ``basic``/``digest``/``form``/``none`` for HTTP(S) and RTSP, ``password`` or ``none`` for
    telnet, SSH and MQTT (NOTICE checks HTTP Basic and Digest, not form logins)."""

    port: int = Field(ge=0, le=65535)
    transport: Literal["tcp", "udp"] = "tcp"
    service: str
    auth: str | None = None


class Credential(Record):
    """A credential a lab device accepts. ``weak`` is true when it is on a public list.

    A service that needs no login at all has ``username`` and ``password`` None and ``weak``
    True.
    """

    protocol: str
    username: str | None
    password: str | None
    weak: bool


class Device(Record):
    ip: IPAddr
    profile: str
    vendor: str
    product: str
    model: str | None = None
    version: str | None = None
    device_type: str
    cpe: str | None = None
    services: tuple[ServiceSpec, ...] = ()
    credentials: tuple[Credential, ...] = ()
    cves: tuple[str, ...] = ()
    isp: str | None = None
    hostile: str | None = None


class Isp(Record):
    name: str
    asn: int
    prefixes: tuple[str, ...]
    prefecture: str | None = None


class LabManifest(Record):
    """The lab's ground truth: written once every device listens."""

    seed: int
    network: str
    created: UtcTime
    devices: tuple[Device, ...]
    isps: tuple[Isp, ...]

    def by_ip(self) -> dict[str, Device]:
        return {str(d.ip): d for d in self.devices}

    @classmethod
    def now(cls, **fields: Any) -> LabManifest:
        return cls(created=datetime.now(UTC), **fields)
