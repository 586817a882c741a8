"""Credential lists as CSV: ``id,protocols,username,password,source[,vendors[,weight]]`` (RFC 4180).

``protocols`` is a ``|``-joined subset of telnet, ssh, http, mqtt, rtsp. ``password`` may be
empty (an empty password is a real factory default). ``vendors`` (optional) is a ``|``-joined,
lower-case list of the vendors whose documented factory default this pair is: the survey tries
an identified vendor's defaults first, which matters on devices that lock out after a few
failures. ``weight`` (optional) is how often the pair is known to work, as a public source
gives it (Mirai's ``add_auth_entry`` weights for its 2016 list; the ``source`` column says so);
empty means unknown. The survey tries higher weights first. Lines starting with ``#`` are
comments.
A bad line raises ``ConfigError`` naming the file and the line: a credential list is
configuration, and a survey must not run with half of it silently dropped.
"""

from __future__ import annotations

import csv
import io
import math
from functools import lru_cache
from importlib import resources
from pathlib import Path

from pydantic import BaseModel, ConfigDict, ValidationError, field_validator

from iotscope.errors import ConfigError

PROTOCOLS = ("telnet", "ssh", "http", "mqtt", "rtsp")
COLUMNS = ("id", "protocols", "username", "password", "source", "vendors", "weight")
REQUIRED = 5  # the first five columns; vendors and weight may be left off
_HEADERS = {COLUMNS[:n] for n in range(REQUIRED, len(COLUMNS) + 1)}


class CredentialEntry(BaseModel):
    """One ID/password pair of a list, with where the fact comes from."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    id: str
    protocols: tuple[str, ...]
    username: str
    password: str
    source: str
    vendors: tuple[str, ...] = ()
    weight: float | None = None  # how often it works (its source says whose figure); None: unknown

    @field_validator("weight")
    @classmethod
    def _weight_not_negative(cls, value: float | None) -> float | None:
        if value is not None and not (math.isfinite(value) and value >= 0):
            raise ValueError("weight must be a finite number >= 0")
        return value

    @field_validator("protocols")
    @classmethod
    def _known_protocols(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        unknown = [p for p in value if p not in PROTOCOLS]
        if not value or unknown:
            raise ValueError(f"protocols must be a non-empty subset of {PROTOCOLS}")
        return value

    @field_validator("id", "username", "source")
    @classmethod
    def _not_blank(cls, value: str) -> str:
        if not value.strip():
            raise ValueError("must not be empty")
        return value


def _split(text: str) -> tuple[str, ...]:
    return tuple(p.strip() for p in text.split("|") if p.strip())


def _weight(text: str) -> float | None:
    text = text.strip()
    if not text:
        return None
    try:
        return float(text)
    except ValueError:
        raise ValueError(f"weight {text!r} is not a number") from None


def _entry(row: list[str]) -> CredentialEntry:
    if not REQUIRED <= len(row) <= len(COLUMNS):
        raise ValueError(f"expected {REQUIRED} to {len(COLUMNS)} columns {COLUMNS}")
    ident, protocols, username, password, source, *optional = row
    vendors, weight = [*optional, "", ""][:2]
    return CredentialEntry(
        id=ident,
        protocols=_split(protocols) or ("",),
        username=username,
        password=password,
        source=source,
        vendors=tuple(v.lower() for v in _split(vendors)),
        weight=_weight(weight),
    )


def _parse(text: str, name: str) -> tuple[CredentialEntry, ...]:
    entries: list[CredentialEntry] = []
    seen: set[str] = set()
    reader = csv.reader(io.StringIO(text))
    for row in reader:
        line = reader.line_num
        if not row or row[0].startswith("#") or tuple(row) in _HEADERS:
            continue
        try:
            entry = _entry(row)
        except (ValueError, ValidationError) as exc:
            raise ConfigError("bad credential line", file=name, line=line, reason=str(exc)) from exc
        if entry.id in seen:
            raise ConfigError("duplicate credential id", file=name, line=line, id=entry.id)
        seen.add(entry.id)
        entries.append(entry)
    return tuple(entries)


def load_credentials_file(path: Path) -> tuple[CredentialEntry, ...]:
    """Entries of a credential CSV file, in file order."""
    try:
        text = Path(path).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError("cannot read credential file", file=str(path), reason=str(exc)) from exc
    return _parse(text, str(path))


@lru_cache(maxsize=1)
def load_default_credentials() -> tuple[CredentialEntry, ...]:
    """The shipped list (``default_credentials.csv``): Mirai's pairs by weight, then vendor
    defaults of unknown weight."""
    data = resources.files("iotscope.knowledge") / "default_credentials.csv"
    return _parse(data.read_text(encoding="utf-8"), "default_credentials.csv")
