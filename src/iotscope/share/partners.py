"""Partners' feeds read into the hub as read-only sources: MISP events, STIX 2.1 bundles and
abuse.ch-style C2 blocklists (Feodo Tracker's CSV and JSON).

Each reader takes the partner's bytes and returns an :class:`ImportResult`: the STIX objects
to add to the partner's collection, how many items were read and skipped, and the first
problems, each naming where (file, event, attribute or line) and why. A bad item never stops
the batch and nothing here raises on content: these bytes come from outside.

What becomes of a partner's C2: an ``indicator`` of the partner's own (its ``identity`` is the
creator; id UUIDv5 from source and endpoint, so not the community id: versions of one object
must have one creator), with the community pattern where a port is known (so agreement counts
it as method ``partner``), else ``[ipv4-addr:value = '...']``; a family found in the feed
becomes an ``indicates`` relationship to the centre's ``malware`` object of that family. A
STIX bundle's objects are kept as the partner wrote them once their id is ``<type>--<uuid>``
of a STIX 2.1 type and stix2 parses them (custom properties allowed: OpenCTI and others add
``x_`` ones; custom object types are not taken in, since stix2 leaves those unchecked).
"""

from __future__ import annotations

import csv
import hashlib
import ipaddress
import json
import re
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from iotscope.errors import ConfigError
from iotscope.share import stix
from iotscope.share.stix import StixObject

KINDS = ("misp", "stix", "feodo-csv", "feodo-json")
MAX_BYTES = 64 * 1024 * 1024
MAX_PROBLEMS = 20
#: Confidence of a partner's C2 where the feed gives none (Feodo: online / offline).
CONFIDENCE = {"misp": 50, "online": 80, "offline": 50}
MISP_TYPES = ("ip-dst|port", "ip-dst", "ip-src|port", "ip-src")
#: The family objects are the centre's (one creator per id); partners' indicators point at them.
CENTRE = "iotscope centre"


@dataclass
class ImportResult:
    """What one partner file gave: objects to add, items read and skipped, named problems."""

    source: str
    kind: str
    digest: str
    objects: list[StixObject] = field(default_factory=list)
    items: int = 0
    skipped: int = 0
    problems: list[tuple[str, str]] = field(default_factory=list)  # (where, why)

    def bad(self, where: str, why: str) -> None:
        self.skipped += 1
        if len(self.problems) < MAX_PROBLEMS:
            self.problems.append((where, why[:200]))

    def row(self, now: datetime) -> dict[str, Any]:
        """The import's log row (``share_partner_imports``)."""
        return {
            "id": self.digest,
            "source": self.source,
            "kind": self.kind,
            "imported": now,
            "objects": len(self.objects),
            "skipped": self.skipped,
            "errors": [{"where": w, "why": y} for w, y in self.problems],
        }


def partner_identity(source: str) -> StixObject:
    ident = stix.identity(source)
    ident.pop("sectors", None)
    ident["description"] = "Partner feed, imported read-only."
    return ident


def _family(name: str) -> stix.Family | None:
    """Our family for a feed's malware name, or an ad-hoc one (malware type unknown)."""
    text = name.strip()
    if not text or len(text) > 100:
        return None
    return stix.family(text) or stix.Family(text, ("unknown",), text)


def _time(text: Any) -> datetime | None:
    """A feed's time ('2024-01-02 03:04:05', ISO 8601, a date, epoch seconds) in UTC."""
    if text is None or text == "":
        return None
    try:
        if isinstance(text, int | float) or str(text).isdigit():
            return datetime.fromtimestamp(int(text), UTC)
        t = datetime.fromisoformat(str(text).strip().replace("Z", "+00:00").replace(" ", "T"))
    except (ValueError, OverflowError, OSError):
        return None
    t = t if t.tzinfo else t.replace(tzinfo=UTC)
    return t if 1970 <= t.year <= 2100 else None  # a feed's year 702 is a typo, not a time


@dataclass(frozen=True)
class PartnerC2:
    """One C2 entry of a partner feed, checked."""

    ip: str
    port: int | None
    first_seen: datetime | None
    last_seen: datetime | None
    family: str | None
    confidence: int
    tlp: str


def c2_objects(source: str, c2: PartnerC2, now: datetime, ttl: timedelta) -> list[StixObject]:
    """The partner's indicator (and family relationship) for one C2 entry."""
    creator = stix.identity_id(source)
    proto = "tcp"
    if c2.port is not None:
        pat = stix.pattern(c2.ip, c2.port, proto)
        name = f"{source}: C2 {c2.ip}:{c2.port}/{proto}"
    else:
        kind = "ipv6-addr" if ipaddress.ip_address(c2.ip).version == 6 else "ipv4-addr"
        pat = f"[{kind}:value = '{c2.ip}']"
        name = f"{source}: C2 {c2.ip}"
    first = c2.first_seen or now
    ind: StixObject = {
        "type": "indicator",
        "spec_version": "2.1",
        "id": stix.stix_id("indicator", "partner", source, c2.ip, c2.port, proto),
        "created": stix.ts(now),
        "modified": stix.ts(now),
        "created_by_ref": creator,
        "name": name,
        "description": f"C2 listed by partner feed {source}, imported read-only.",
        "indicator_types": ["malicious-activity"],
        "pattern": pat,
        "pattern_type": "stix",
        "pattern_version": "2.1",
        "valid_from": stix.ts(first),
        "confidence": c2.confidence,
        "object_marking_refs": [stix.TLP2_IDS[c2.tlp]],
    }
    until = (c2.last_seen or first) + ttl
    if until > first:
        ind["valid_until"] = stix.ts(until)
    out = [ind]
    fam = _family(c2.family or "")
    if fam is not None:
        rel = stix.relationship(ind["id"], "indicates", stix.malware_id(fam), source, c2.tlp, now)
        out += [stix.malware(fam, CENTRE), rel]
    return out


def _ip(text: Any) -> str:
    return str(ipaddress.ip_address(str(text).strip()))


def _port(text: Any) -> int:
    port = int(str(text).strip())
    if not 0 < port < 65536:
        raise ValueError(f"port out of range: {port}")
    return port


# --- MISP --------------------------------------------------------------------------------

_ID = re.compile(
    r"[a-z0-9-]{1,250}--[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}"
)
_GALAXY = re.compile(r'^misp-galaxy:[a-z0-9-]+="([^"]{1,100})"$')


def _tags(obj: Mapping[str, Any]) -> list[str]:
    tags = obj.get("Tag")
    if not isinstance(tags, list):
        return []
    return [t["name"] for t in tags if isinstance(t, Mapping) and isinstance(t.get("name"), str)]


def _tlp(tags: Iterable[str], default: str) -> str:
    levels = {t.lower().removeprefix("tlp:") for t in tags if t.lower().startswith("tlp:")}
    levels = {"clear" if lvl == "white" else lvl for lvl in levels} & set(stix.TLP2_IDS)
    order = list(stix.TLP2_IDS)
    return max(levels, key=order.index) if levels else default


def _galaxy_family(tags: Iterable[str]) -> str | None:
    for t in tags:
        m = _GALAXY.match(t)
        if m:
            return m.group(1)
    return None


def misp_events(data: Any) -> list[Any]:
    """The events of a MISP JSON document: one ``{"Event": ...}``, a list of them, or a REST
    search answer ``{"response": [...]}``."""
    if isinstance(data, Mapping) and "response" in data:
        data = data["response"]
    if isinstance(data, Mapping):
        return [data]
    return list(data) if isinstance(data, list) else [data]


def _misp_attribute(a: Any, ev_tags: list[str]) -> PartnerC2 | str | None:
    """One attribute as a partner C2, None to ignore (not a C2 type, not for IDS), or the
    reason it is bad."""
    if not isinstance(a, Mapping):
        return "attribute is not an object"
    if a.get("type") not in MISP_TYPES or a.get("deleted") in (True, 1, "1"):
        return None
    if a.get("to_ids") in (False, 0, "0"):
        return None
    value = a.get("value")
    if not isinstance(value, str):
        return "attribute has no value"
    tags = ev_tags + _tags(a)
    try:
        if "|" in a["type"]:
            ip_text, port_text = value.split("|", 1)
            ip, port = _ip(ip_text), _port(port_text)
        else:
            ip, port = _ip(value), None
    except ValueError as exc:
        return f"bad {a['type']} value: {exc}"
    return PartnerC2(
        ip=ip,
        port=port,
        first_seen=_time(a.get("first_seen")) or _time(a.get("timestamp")),
        last_seen=_time(a.get("last_seen")),
        family=_galaxy_family(_tags(a)) or _galaxy_family(ev_tags),  # the attribute's first
        confidence=CONFIDENCE["misp"],
        tlp=_tlp(tags, "amber"),
    )


def _misp_event(res: ImportResult, where: str, item: Any) -> Iterator[PartnerC2]:
    ev = item.get("Event") if isinstance(item, Mapping) else None
    if ev is None and isinstance(item, Mapping) and ("Attribute" in item or "info" in item):
        ev = item  # a bare event, as PyMISP's ``MISPEvent.to_json()`` writes it
    if not isinstance(ev, Mapping):
        res.items += 1  # a bad event is one bad item
        res.bad(where, "not a MISP event (no Event object)")
        return
    attrs = ev.get("Attribute", [])
    objects = ev.get("Object")
    for obj in objects if isinstance(objects, list) else []:
        if isinstance(obj, Mapping) and isinstance(obj.get("Attribute"), list):
            attrs = [*attrs, *obj["Attribute"]]
    if not isinstance(attrs, list):
        res.items += 1
        res.bad(where, "Attribute is not a list")
        return
    ev_tags = _tags(ev)
    for i, a in enumerate(attrs):
        got = _misp_attribute(a, ev_tags)
        res.items += 1
        if isinstance(got, str):
            res.bad(f"{where} attribute {i}", got)
        elif got is not None:
            yield got


# --- Feodo Tracker style blocklists ------------------------------------------------------


def _feodo_row(row: Mapping[str, Any], ip_key: str, port_key: str) -> PartnerC2:
    status = str(row.get("c2_status") or row.get("status") or "online").strip().lower()
    return PartnerC2(
        ip=_ip(row[ip_key]),
        port=_port(row[port_key]),
        first_seen=_time(row.get("first_seen_utc") or row.get("first_seen")),
        last_seen=_time(row.get("last_online")),
        family=str(row.get("malware") or "") or None,
        confidence=CONFIDENCE.get(status, CONFIDENCE["offline"]),
        tlp="clear",
    )


def _feodo_csv(res: ImportResult, text: str) -> Iterator[PartnerC2]:
    """Feodo Tracker's ipblocklist.csv: ``#`` comments, a (possibly commented) header with
    first_seen_utc, dst_ip, dst_port, c2_status, last_online, malware."""
    lines = text.splitlines()
    header = next((i for i, line in enumerate(lines) if "dst_ip" in line), None)
    if header is None:
        res.bad("file", "no header with dst_ip")
        return
    names = next(csv.reader([lines[header].lstrip("# ")]))
    for no in range(header + 1, len(lines)):
        line = lines[no]
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        res.items += 1
        row = dict(zip(names, next(csv.reader([line])), strict=False))
        try:
            yield _feodo_row(row, "dst_ip", "dst_port")
        except (ValueError, KeyError, TypeError) as exc:
            res.bad(f"line {no + 1}", f"{type(exc).__name__}: {exc}")


def _feodo_json(res: ImportResult, data: Any) -> Iterator[PartnerC2]:
    """Feodo Tracker's ipblocklist.json: a list of {ip_address, port, status, first_seen,
    last_online, malware, ...}."""
    if not isinstance(data, list):
        res.bad("file", "not a JSON list")
        return
    for i, row in enumerate(data):
        res.items += 1
        try:
            if not isinstance(row, Mapping):
                raise TypeError("entry is not an object")
            yield _feodo_row(row, "ip_address", "port")
        except (ValueError, KeyError, TypeError) as exc:
            res.bad(f"entry {i}", f"{type(exc).__name__}: {exc}")


# --- STIX bundles ------------------------------------------------------------------------


def _stix_objects(res: ImportResult, data: Any) -> None:
    import stix2
    import stix2.exceptions
    import stix2.registry

    maps = stix2.registry.STIX2_OBJ_MAPS["2.1"]
    known = set(maps["objects"]) | set(maps["observables"])  # custom types are not taken in
    if not isinstance(data, Mapping) or data.get("type") != "bundle":
        res.bad("file", "not a STIX bundle")
        return
    objs = data.get("objects", [])
    if not isinstance(objs, list):
        res.bad("file", "bundle objects is not a list")
        return
    for i, o in enumerate(objs):
        res.items += 1
        where = f"object {i}" + (f" ({o.get('id')})" if isinstance(o, Mapping) else "")
        if not isinstance(o, Mapping) or o.get("spec_version") != "2.1":
            res.bad(where, "not a STIX 2.1 object")
            continue
        if o.get("type") not in known:
            res.bad(where, f"not a STIX 2.1 object type: {str(o.get('type'))[:40]!r}")
            continue
        if (
            not isinstance(o.get("id"), str)
            or not _ID.fullmatch(o["id"])
            or (o["id"].split("--")[0] != o["type"])
        ):
            res.bad(where, "id is not <type>--<uuid>")
            continue
        try:
            stix2.parse(dict(o), allow_custom=True, version="2.1")
        except (stix2.exceptions.STIXError, ValueError, TypeError, KeyError) as exc:
            res.bad(where, f"{type(exc).__name__}: {exc}")
            continue
        except Exception as exc:  # stix2 raises many kinds on hostile input; none may stop us
            res.bad(where, f"{type(exc).__name__}: {exc}")
            continue
        res.objects.append(dict(o))


# --- entry points ------------------------------------------------------------------------


def parse(
    data: bytes,
    source: str,
    kind: str,
    now: datetime,
    *,
    ttl: timedelta = stix.DEFAULT_TTL,
    name: str = "file",
) -> ImportResult:
    """Read one partner file's bytes (``kind`` one of :data:`KINDS`) into STIX objects."""
    if kind not in KINDS:
        raise ConfigError("unknown partner feed kind", kind=kind, known=list(KINDS))
    digest = hashlib.sha256(f"{source}\0{kind}\0".encode() + data).hexdigest()
    res = ImportResult(source, kind, digest)
    if len(data) > MAX_BYTES:
        res.bad(name, f"larger than {MAX_BYTES} bytes")
        return res
    text = data.decode("utf-8", errors="replace")
    if kind == "feodo-csv":
        c2s: Iterable[PartnerC2] = list(_feodo_csv(res, text))
    else:
        try:
            doc = json.loads(text)
        except (ValueError, RecursionError) as exc:
            res.bad(name, f"not JSON: {exc}")
            return res
        if kind == "stix":
            _stix_objects(res, doc)
            return res
        if kind == "feodo-json":
            c2s = list(_feodo_json(res, doc))
        else:
            c2s = [
                c
                for i, ev in enumerate(misp_events(doc))
                for c in _misp_event(res, f"{name} event {i}", ev)
            ]
    res.objects = _objects(source, c2s, now, ttl)
    return res


def _objects(
    source: str, c2s: Iterable[PartnerC2], now: datetime, ttl: timedelta
) -> list[StixObject]:
    """The partner identity, the TLP markings used, and each C2's objects (one per id)."""
    out: dict[str, StixObject] = {}
    levels: set[str] = set()
    for c in c2s:
        levels.add(c.tlp)
        for o in c2_objects(source, c, now, ttl):
            out.setdefault(o["id"], o)
    if not out:
        return []
    static = [partner_identity(source), stix.identity(CENTRE, centre=True)]
    static += [stix.tlp_marking(lvl) for lvl in sorted(levels)]
    return static + list(out.values())


def read_path(path: Path, source: str, kind: str, now: datetime) -> ImportResult:
    """A partner file, or for ``misp`` a MISP feed directory (manifest.json + events)."""
    if kind == "misp" and path.is_dir():
        return _read_feed_dir(path, source, now)
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise ConfigError("cannot read partner file", path=str(path), reason=str(exc)) from exc
    return parse(data, source, kind, now, name=path.name)


def _read_feed_dir(root: Path, source: str, now: datetime) -> ImportResult:
    """A MISP feed: every event the manifest lists (a missing or bad one counted, named)."""
    try:
        manifest = json.loads((root / "manifest.json").read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise ConfigError("not a MISP feed directory", path=str(root), reason=str(exc)) from exc
    events: list[Any] = []
    digest = hashlib.sha256()
    res = ImportResult(source, "misp", "")
    for uid in sorted(manifest) if isinstance(manifest, dict) else []:
        if not re.fullmatch(r"[0-9a-fA-F-]{36}", str(uid)):
            res.bad(f"manifest {uid!r}", "not an event uuid")
            continue
        try:
            raw = (root / f"{uid}.json").read_bytes()
            events.append(json.loads(raw))
            digest.update(raw)
        except (OSError, ValueError) as exc:
            res.bad(f"{uid}.json", f"{type(exc).__name__}: {exc}")
    joined = parse(json.dumps(events).encode(), source, "misp", now, name=root.name)
    joined.skipped += res.skipped
    joined.problems = (res.problems + joined.problems)[:MAX_PROBLEMS]
    joined.digest = hashlib.sha256(f"{source}\0misp-feed\0".encode() + digest.digest()).hexdigest()
    return joined
