"""The ISP registry: who the ISPs are, which ASNs and prefixes are theirs, how to reach them.

A registry file is TOML (one ``[[isp]]`` table per ISP; ``registry.example.toml`` beside this
module shows every field) or CSV (one row per ISP, list fields
separated by spaces); a lab manifest's ``isps[]`` is read as a registry too. Fields:

==============  ======================================================================
name            the ISP's name; also its tenant name (``isp:NAME`` tokens)
asns            the ASNs it originates (routing data maps prefixes to these)
prefixes        prefixes it declares as its own (win over routing data of equal length)
abuse_email     where its reports are mailed (its abuse/security desk)
language        ``ja`` or ``en``: the language of what is written for it
report_format   ``shadowserver-csv`` (the one format so far)
interval        ``daily`` or ``weekly``: one report set per day or per ISO week
domain          the ISP's own domain, for links in subscriber notices
token           true: mint an API token for the ISP on import (printed once)
==============  ======================================================================
"""

from __future__ import annotations

import csv
import io
import ipaddress
import re
import tomllib
from collections.abc import Iterable
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from iotscope.attribution._rows import BadRow, check_rows
from iotscope.errors import ConfigError

_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
_DOMAIN = re.compile(r"^(?=.{1,253}$)([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$")


class IspEntry(BaseModel):
    """One ISP of the registry (validated, immutable)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    name: str = Field(min_length=1, max_length=128, pattern=r"^[^\s/:][^/:]*$")
    asns: tuple[int, ...] = ()
    prefixes: tuple[str, ...] = ()
    abuse_email: str | None = None
    language: Literal["ja", "en"] = "ja"
    report_format: Literal["shadowserver-csv"] = "shadowserver-csv"
    interval: Literal["daily", "weekly"] = "daily"
    domain: str | None = None
    token: bool = False

    @field_validator("asns")
    @classmethod
    def _asns(cls, v: tuple[int, ...]) -> tuple[int, ...]:
        for asn in v:
            if not 0 < asn <= 0xFFFFFFFF:
                raise ValueError(f"ASN {asn} out of range")
        return v

    @field_validator("prefixes")
    @classmethod
    def _prefixes(cls, v: tuple[str, ...]) -> tuple[str, ...]:
        return tuple(str(ipaddress.ip_network(p.strip(), strict=True)) for p in v)

    @field_validator("abuse_email")
    @classmethod
    def _email(cls, v: str | None) -> str | None:
        if v is not None and not _EMAIL.match(v):
            raise ValueError(f"not an e-mail address: {v!r}")
        return v

    @field_validator("domain")
    @classmethod
    def _domain(cls, v: str | None) -> str | None:
        if v is not None and not _DOMAIN.match(v.lower()):
            raise ValueError(f"not a domain name: {v!r}")
        return v.lower() if v else v


def read_registry(path: Path, skip_bad: bool = False) -> tuple[list[IspEntry], list[BadRow]]:
    """ISPs from a TOML or CSV registry or a lab manifest (JSON), by the file's suffix."""
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError("cannot read registry", path=str(path), reason=str(exc)) from exc
    suffix = path.suffix.lower()
    if suffix == ".toml":
        items = _toml_items(text, str(path))
    elif suffix == ".csv":
        items = _csv_items(text)
    elif suffix == ".json":
        items = _manifest_items(text, str(path))
    else:
        raise ConfigError("registry must be .toml, .csv or a lab manifest .json", path=str(path))
    entries, bad = _validate(items, str(path))
    check_rows(str(path), bad, skip_bad)
    return entries, bad


Item = tuple[int, Any, dict[str, int]]
"""(line of the entry, its fields, the line of each field where the format keeps it)."""


def _validate(items: Iterable[Item], path: str) -> tuple[list[IspEntry], list[BadRow]]:
    entries: list[IspEntry] = []
    bad: list[BadRow] = []
    seen: set[str] = set()
    for line, item, field_lines in items:
        try:
            entry = IspEntry.model_validate(item)
        except ValidationError as exc:
            err = exc.errors()[0]
            field = str(err["loc"][0]) if err["loc"] else ""
            bad.append(BadRow(path, field_lines.get(field, line), _first_error(exc)))
            continue
        if entry.name in seen:
            bad.append(BadRow(path, line, f"ISP {entry.name!r} given twice"))
            continue
        seen.add(entry.name)
        entries.append(entry)
    return entries, bad


def _first_error(exc: ValidationError) -> str:
    err = exc.errors()[0]
    where = ".".join(str(p) for p in err["loc"])
    return f"{where}: {err['msg']}" if where else str(err["msg"])


def _toml_items(text: str, path: str) -> list[Item]:
    try:
        doc = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"bad TOML in {path}: {exc}", path=path) from exc
    isps = doc.get("isp", [])
    if not isinstance(isps, list):
        raise ConfigError(f"{path}: 'isp' must be an array of tables ([[isp]])", path=path)
    # tomllib keeps no positions: the n-th [[isp]] header's line stands for the n-th entry,
    # and a key's line within that block for the key.
    text_lines = text.splitlines()
    heads = [n for n, ln in enumerate(text_lines, 1) if ln.strip().startswith("[[isp]]")]
    heads += [0] * (len(isps) - len(heads))
    out: list[Item] = []
    for i, (head, item) in enumerate(zip(heads, isps, strict=False)):
        stop = heads[i + 1] if i + 1 < len(heads) and heads[i + 1] else len(text_lines) + 1
        keys: dict[str, int] = {}
        for n in range(head + 1, stop) if head else ():
            key = text_lines[n - 1].split("=", 1)[0].strip()
            if key and "=" in text_lines[n - 1]:
                keys.setdefault(key, n)
        out.append((head, item, keys))
    return out


_LIST_FIELDS = ("asns", "prefixes")


def _csv_items(text: str) -> list[Item]:
    reader = csv.DictReader(io.StringIO(text))
    out: list[Item] = []
    for row in reader:
        item: dict[str, Any] = {}
        for key, value in row.items():
            if key is None or value is None:
                item.setdefault("_", "row has more fields than the header")
                continue
            value = value.strip()
            if value == "":
                continue
            item[key.strip()] = value.split() if key.strip() in _LIST_FIELDS else value
        if item.get("token") is not None:
            item["token"] = str(item["token"]).lower() in ("1", "true", "yes")
        out.append((reader.line_num, item, {}))
    return out


def _manifest_items(text: str, path: str) -> list[Item]:
    """A lab manifest's ``isps[]``: name, asn, prefixes (abuse desks on the lab's domain)."""
    from iotscope.records import LabManifest

    try:
        manifest = LabManifest.model_validate_json(text)
    except ValidationError as exc:
        raise ConfigError(f"bad lab manifest {path}", reason=str(exc)[:300]) from exc
    return [(0, lab_isp_item(i.name, i.asn, i.prefixes), {}) for i in manifest.isps]


def lab_isp_item(name: str, asn: int, prefixes: Iterable[str]) -> dict[str, Any]:
    """A lab ISP's registry entry: contacts on a made-up domain under ``.example`` (RFC 2606)."""
    slug = re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-")
    return {
        "name": name,
        "asns": [asn],
        "prefixes": list(prefixes),
        "abuse_email": f"abuse@{slug}.example",
        "language": "ja",
        "interval": "daily",
        "domain": f"{slug}.example",
    }
