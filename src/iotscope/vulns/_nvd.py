"""NVD CVE API 2.0 records and CISA KEV entries, from JSON, one record at a time.

Shapes read (NVD "CVE API 2.0" response schema, cve_api_json_2.0):
- a page: ``{"resultsPerPage": ..., "vulnerabilities": [{"cve": {...}}, ...]}``;
- one CVE: the API's wrapper ``{"cve": {...}}`` or a bare cve object ``{"id": "CVE-...", ...}``;
- CISA KEV: ``{"catalogVersion": ..., "vulnerabilities": [{"cveID": ..., ...}]}``.

From a cve object: ``id``, ``published``, ``lastModified``, ``vulnStatus``, the English
description, the preferred CVSS base metric and ``configurations[]``: each with an optional
``operator`` (AND: every node must hold, e.g. firmware ``o:`` running on hardware ``h:``) and
``negate``, and ``nodes[]`` of ``operator`` AND/OR, ``negate`` and ``cpeMatch[]`` entries
(``vulnerable``, ``criteria``, ``versionStart/EndIncluding/Excluding``). NVD 2.0 nodes do not
nest. A bad record raises :class:`RecordError`; the reader counts it and goes on.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from iotscope.errors import ParseError
from iotscope.vulns._cpe import Cpe, CpeError, parse_cpe

CVE_ID = re.compile(r"CVE-\d{4}-\d{4,}")
RANGE_KEYS = (
    "versionStartIncluding",
    "versionStartExcluding",
    "versionEndIncluding",
    "versionEndExcluding",
)
# preference among CVSS metrics: NVD's own (Primary) first, then the newest version
METRIC_KEYS = (
    ("cvssMetricV40", "4.0"),
    ("cvssMetricV31", "3.1"),
    ("cvssMetricV30", "3.0"),
    ("cvssMetricV2", "2.0"),
)


class RecordError(ParseError):
    """One record that cannot be read; ``where`` says which (index, id)."""


@dataclass(frozen=True, slots=True)
class CpeMatch:
    vulnerable: bool
    criteria: str
    cpe: Cpe
    start_incl: str | None = None
    start_excl: str | None = None
    end_incl: str | None = None
    end_excl: str | None = None

    @property
    def ranged(self) -> bool:
        return any((self.start_incl, self.start_excl, self.end_incl, self.end_excl))


@dataclass(frozen=True, slots=True)
class Node:
    operator: str  # "AND" | "OR"
    negate: bool
    matches: tuple[CpeMatch, ...]


@dataclass(frozen=True, slots=True)
class Configuration:
    operator: str  # "AND" | "OR"
    negate: bool
    nodes: tuple[Node, ...]


@dataclass(frozen=True, slots=True)
class Cvss:
    score: float
    version: str
    vector: str | None
    severity: str | None
    source: str | None
    primary: bool


@dataclass(frozen=True, slots=True)
class CveRecord:
    id: str
    published: datetime | None
    last_modified: datetime
    status: str | None
    description: str | None
    cvss: Cvss | None
    configurations: tuple[Configuration, ...]
    raw_configurations: list[Any]


@dataclass(frozen=True, slots=True)
class KevEntry:
    cve: str
    vendor: str | None
    product: str | None
    name: str | None
    date_added: str | None
    due_date: str | None
    ransomware: str | None


# -- small readers -----------------------------------------------------------------------------


def _time(value: object, field: str) -> datetime:
    if not isinstance(value, str):
        raise RecordError(f"{field} missing or not a string")
    try:
        t = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError as exc:
        raise RecordError(f"{field} is not an ISO 8601 time", value=value[:40]) from exc
    return t.replace(tzinfo=UTC) if t.tzinfo is None else t.astimezone(UTC)


def _obj(value: object, what: str) -> Mapping[str, Any]:
    if not isinstance(value, Mapping):
        raise RecordError(f"{what} must be an object")
    return value


def _list(value: object, what: str) -> list[Any]:
    if value is None:
        return []
    if not isinstance(value, list):
        raise RecordError(f"{what} must be an array")
    return value


def _opt_str(value: object, what: str) -> str | None:
    if value is None:
        return None
    if not isinstance(value, str):
        raise RecordError(f"{what} must be a string")
    return value


def _operator(value: object, what: str) -> str:
    if value is None:
        return "OR"
    if value not in ("AND", "OR"):
        raise RecordError(f"{what}.operator must be AND or OR", value=str(value)[:20])
    return str(value)


def _bool(value: object, what: str, default: bool) -> bool:
    if value is None:
        return default
    if not isinstance(value, bool):
        raise RecordError(f"{what} must be true or false")
    return value


# -- cve object ------------------------------------------------------------------------------


def _cpe_match(raw: object, where: str) -> CpeMatch:
    m = _obj(raw, where)
    criteria = m.get("criteria")
    if not isinstance(criteria, str):
        raise RecordError(f"{where}.criteria missing")
    try:
        cpe = parse_cpe(criteria)
    except CpeError as exc:
        raise RecordError(f"{where}.criteria: {exc.message}", criteria=criteria[:120]) from exc
    bounds = [_opt_str(m.get(k), f"{where}.{k}") for k in RANGE_KEYS]
    if any(b is not None for b in bounds) and cpe.version.kind != "any":
        raise RecordError(f"{where}: a version range needs version * in its criteria")
    vulnerable = m.get("vulnerable")
    if not isinstance(vulnerable, bool):
        raise RecordError(f"{where}.vulnerable must be true or false")
    return CpeMatch(vulnerable, criteria, cpe, *bounds)


def _node(raw: object, where: str) -> Node:
    n = _obj(raw, where)
    matches = tuple(
        _cpe_match(m, f"{where}.cpeMatch[{i}]")
        for i, m in enumerate(_list(n.get("cpeMatch"), f"{where}.cpeMatch"))
    )
    return Node(_operator(n.get("operator"), where), _bool(n.get("negate"), where, False), matches)


def _configuration(raw: object, where: str) -> Configuration:
    c = _obj(raw, where)
    nodes = tuple(
        _node(n, f"{where}.nodes[{i}]")
        for i, n in enumerate(_list(c.get("nodes"), f"{where}.nodes"))
    )
    return Configuration(
        _operator(c.get("operator"), where), _bool(c.get("negate"), where, False), nodes
    )


def _metric(entry: object, version: str, where: str) -> Cvss:
    e = _obj(entry, where)
    data = _obj(e.get("cvssData"), f"{where}.cvssData")
    score = data.get("baseScore")
    if isinstance(score, bool) or not isinstance(score, int | float) or not 0 <= score <= 10:
        raise RecordError(f"{where}.cvssData.baseScore must be a number 0-10")
    severity = data.get("baseSeverity", e.get("baseSeverity"))  # v2 keeps it beside cvssData
    return Cvss(
        float(score),
        version,
        _opt_str(data.get("vectorString"), f"{where}.vector"),
        _opt_str(severity, f"{where}.baseSeverity"),
        _opt_str(e.get("source"), f"{where}.source"),
        e.get("type") == "Primary",
    )


def _cvss(metrics: object) -> Cvss | None:
    if metrics is None:
        return None
    m = _obj(metrics, "metrics")
    found = [
        _metric(entry, version, f"metrics.{key}[{i}]")
        for key, version in METRIC_KEYS
        for i, entry in enumerate(_list(m.get(key), f"metrics.{key}"))
    ]
    primary = [c for c in found if c.primary]
    chosen = primary or found
    return chosen[0] if chosen else None


def _description(raw: object) -> str | None:
    for d in _list(raw, "descriptions"):
        if isinstance(d, Mapping) and d.get("lang") == "en" and isinstance(d.get("value"), str):
            return str(d["value"])
    return None


def parse_cve(raw: object) -> CveRecord:
    """One NVD 2.0 cve object (or its ``{"cve": ...}`` wrapper) -> :class:`CveRecord`."""
    cve = _obj(raw, "record")
    if "cve" in cve and "id" not in cve:
        cve = _obj(cve["cve"], "cve")
    cve_id = cve.get("id")
    if not isinstance(cve_id, str) or not CVE_ID.fullmatch(cve_id):
        raise RecordError("id missing or not a CVE id", id=str(cve_id)[:40])
    try:
        configs = _list(cve.get("configurations"), "configurations")
        return CveRecord(
            id=cve_id,
            published=_time(cve["published"], "published") if "published" in cve else None,
            last_modified=_time(cve.get("lastModified"), "lastModified"),
            status=_opt_str(cve.get("vulnStatus"), "vulnStatus"),
            description=_description(cve.get("descriptions")),
            cvss=_cvss(cve.get("metrics")),
            configurations=tuple(
                _configuration(c, f"configurations[{i}]") for i, c in enumerate(configs)
            ),
            raw_configurations=configs,
        )
    except RecordError as exc:
        raise RecordError(exc.message, id=cve_id, **exc.data) from exc


def parse_kev(raw: object) -> KevEntry:
    """One entry of CISA's KEV catalog (schema known_exploited_vulnerabilities_schema.json)."""
    e = _obj(raw, "KEV entry")
    cve = e.get("cveID")
    if not isinstance(cve, str) or not CVE_ID.fullmatch(cve):
        raise RecordError("cveID missing or not a CVE id", id=str(cve)[:40])
    fields = (
        "vendorProject",
        "product",
        "vulnerabilityName",
        "dateAdded",
        "dueDate",
        "knownRansomwareCampaignUse",
    )
    return KevEntry(cve, *(_opt_str(e.get(f), f) for f in fields))


# -- documents -------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Item:
    """One element of a document: where it starts (1-based line) and its decoded value."""

    index: int
    line: int
    value: Any


def _array_items(text: str, key: str) -> Iterator[Item] | None:
    """The elements of the top-level array ``key`` with the line each starts on, or None.

    ``text`` is already known to be valid JSON; an unescaped ``"key"`` followed by ``:`` and
    ``[`` cannot occur inside a JSON string, so the first such spot is the member."""
    m = re.search(r'"' + re.escape(key) + r'"\s*:\s*\[', text)
    if m is None:
        return None
    return _walk(text, m.end())


def _walk(text: str, pos: int) -> Iterator[Item]:
    decoder = json.JSONDecoder()
    ws = re.compile(r"[\s,]*")
    i, line, counted = 0, 1, 0
    while True:
        pos = ws.match(text, pos).end()  # type: ignore[union-attr]
        if pos >= len(text) or text[pos] == "]":
            return
        value, end = decoder.raw_decode(text, pos)
        line += text.count("\n", counted, pos)  # lines counted once, front to back
        counted = pos
        yield Item(i, line, value)
        i, pos = i + 1, end


def document_kind(doc: object) -> str:
    """``nvd-page``, ``nvd-cve``, ``kev`` or ``unknown`` for a decoded JSON document."""
    if not isinstance(doc, Mapping):
        return "unknown"
    vulns = doc.get("vulnerabilities")
    if isinstance(vulns, list):
        if "catalogVersion" in doc or any(isinstance(v, Mapping) and "cveID" in v for v in vulns):
            return "kev"
        return "nvd-page"
    if "cve" in doc or "id" in doc:
        return "nvd-cve"
    return "unknown"


def items(text: str, doc: object) -> Iterator[Item]:
    """Each record of a decoded document, with its starting line in ``text``."""
    if document_kind(doc) in ("nvd-page", "kev"):
        found = _array_items(text, "vulnerabilities")
        if found is not None:
            yield from found
            return
    yield Item(0, 1, doc)
