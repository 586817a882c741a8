"""STIX 2.1 content for C2 candidates: the objects an ISP publishes and the hub shares.

What one C2 endpoint (ip, port, proto) becomes (STIX 2.1 OS, sections 4, 5, 7, 8):

- ``indicator`` (4.7): the pattern ``[network-traffic:dst_ref.type = 'ipv4-addr' AND
  network-traffic:dst_ref.value = 'a.b.c.d' AND network-traffic:dst_port = N AND
  network-traffic:protocols[*] = 'tcp']``. One observation expression: it matches one
  network-traffic object whose destination is the C2 on that port. The two-observation form
  ``[ipv4-addr:value = 'a.b.c.d'] AND [network-traffic:dst_port = N]`` is valid STIX too, but
  it matches *any* address observation together with *any* traffic to port N (two unrelated
  observations), which is not what the detector found. ``valid_from`` is the first flow seen,
  ``valid_until`` the last flow seen plus a TTL: a C2 decays unless seen again (IoT C2
  addresses live days, DOMAIN.md "How long a C2 lives"). ``confidence`` is :func:`confidence`.
- ``infrastructure`` (4.8) of type ``command-and-control`` that ``consists-of`` the address
  (an ``ipv4-addr``/``ipv6-addr`` SCO with the spec's deterministic id, 2.9).
- ``malware`` (4.11), ``is_family: true``, when the family is known (lab truth, a partner feed).
- ``relationship`` (5.1) ``indicator indicates infrastructure``, ``indicator indicates malware``
  and ``infrastructure controls malware`` (all in the spec's relationship tables).
- ``sighting`` (5.2) per ISP: ``sighting_of_ref`` the indicator, ``where_sighted_refs`` the ISP's
  identity, first/last seen and a count (detection runs that reported it). Never a client.
- ``identity`` (4.5) of each ISP and of the centre. The community objects (indicator,
  infrastructure, malware and their relationships) are the centre's (``created_by_ref``):
  every ISP derives the same ids from the endpoint, so their versions line up; a sighting is
  its ISP's own.
- TLP 2.0 ``marking-definition`` objects as the OASIS TLP 2.0 extension publishes them (fixed
  ids, extension ``extension-definition--60a3c5c5-...``), referenced by ``object_marking_refs``.

Ids are UUIDv5 under :data:`NAMESPACE` (not the SCO namespace, which 2.9 reserves) from the
endpoint, so re-running detection or another ISP finding the same C2 yields the same ids. A
new version keeps ``id`` and ``created`` and has a later ``modified`` (3.6); an unchanged
object is not re-versioned (:func:`versioned`), so a repeated run publishes nothing new.
Revocation (:func:`revoke`) is a new version with ``revoked: true``.
"""

from __future__ import annotations

import functools
import ipaddress
import json
import re
import uuid
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from iotscope.errors import ConfigError
from iotscope.records import C2Candidate

StixObject = dict[str, Any]

#: The namespace of iotscope's UUIDv5 ids (fixed: changing it would break every version chain).
NAMESPACE = uuid.UUID("6f1c0e2a-4b8d-5c3e-9a7f-1d2e3f405a6b")
#: STIX 2.1 section 2.9: the namespace of deterministic SCO ids.
SCO_NAMESPACE = uuid.UUID("00abedb4-aa42-466c-9c01-fed23315a9b7")
#: When the static objects (identities, malware families) were first written.
STATIC_CREATED = "2026-01-01T00:00:00.000Z"
#: How long an indicator stays valid after the last flow that showed it.
DEFAULT_TTL = timedelta(days=3)

# --- TLP 2.0 (OASIS cti-stix-common-objects, extension-definition--60a3c5c5-...) -------------

TLP2_EXTENSION = "extension-definition--60a3c5c5-0d10-413e-aab3-9e08dde9e88d"
#: The published TLP 2.0 marking-definition ids (facts of the extension, not ours to choose).
TLP2_IDS: dict[str, str] = {
    "clear": "marking-definition--94868c89-83c2-464b-929b-a1a8aa3c8487",
    "green": "marking-definition--bab4a63c-aed9-4cf5-a766-dfca5abac2bb",
    "amber": "marking-definition--55d920b0-5e8b-4f79-9ee9-91f868d9b421",
    "amber+strict": "marking-definition--939a9414-2ddd-4d32-a0cd-375ea402b003",
    "red": "marking-definition--e828b379-4e03-4974-9ac4-e53a884c97c1",
}
TLP2_CREATED = "2022-10-01T00:00:00.000Z"


def tlp_marking(level: str) -> StixObject:
    """The official TLP 2.0 marking-definition object for ``level`` (clear, green, amber,
    amber+strict, red)."""
    if level not in TLP2_IDS:
        raise ConfigError("unknown TLP 2.0 level", level=level, known=sorted(TLP2_IDS))
    return {
        "type": "marking-definition",
        "spec_version": "2.1",
        "id": TLP2_IDS[level],
        "created": TLP2_CREATED,
        "name": f"TLP:{level.upper()}",
        "extensions": {
            TLP2_EXTENSION: {"extension_type": "property-extension", "tlp_2_0": level},
        },
    }


def tlp_of(obj: Mapping[str, Any]) -> str | None:
    """The TLP 2.0 level an object is marked with (the strictest if several), else None."""
    order = list(TLP2_IDS)
    levels = [lvl for lvl, mid in TLP2_IDS.items() if mid in obj.get("object_marking_refs", ())]
    return max(levels, key=order.index) if levels else None


# --- malware families --------------------------------------------------------------------


@dataclass(frozen=True)
class Family:
    """A malware family as STIX (name, malware_types from malware-type-ov) and MISP (the
    Malpedia galaxy's value) name it."""

    name: str
    malware_types: tuple[str, ...]
    malpedia: str
    aliases: tuple[str, ...] = ()


#: Families by the lowercase names the lab, the detector's truth files and partner feeds use.
FAMILIES: dict[str, Family] = {
    "mirai": Family("Mirai", ("bot", "worm"), "Mirai"),
    "gafgyt": Family("Gafgyt", ("bot",), "Bashlite", ("Bashlite", "Qbot")),
    "tsunami": Family("Tsunami", ("bot", "backdoor"), "Tsunami", ("Kaiten",)),
    "emotet": Family("Emotet", ("trojan", "downloader", "bot"), "Emotet", ("Geodo", "Heodo")),
}
_FAMILY_ALIASES = {
    "gafgyt-irc": "gafgyt",
    "bashlite": "gafgyt",
    "kaiten": "tsunami",
    "http-bot": "tsunami",
    "heodo": "emotet",
    "geodo": "emotet",
}


def family(name: str | None) -> Family | None:
    """The :class:`Family` for a family or lineage name (``mirai-okiru`` -> Mirai), or None."""
    if not name:
        return None
    key = name.strip().lower()
    key = _FAMILY_ALIASES.get(key, key)
    if key in FAMILIES:
        return FAMILIES[key]
    head = key.split("-", 1)[0]
    head = _FAMILY_ALIASES.get(head, head)
    return FAMILIES.get(head)


# --- ids and times -----------------------------------------------------------------------


def stix_id(kind: str, *parts: object) -> str:
    """``kind--uuid5(NAMESPACE, "kind|part|part...")``: the same parts, the same id."""
    name = "|".join([kind, *(str(p) for p in parts)])
    return f"{kind}--{uuid.uuid5(NAMESPACE, name)}"


def sco_id(kind: str, contributing: Mapping[str, Any]) -> str:
    """A deterministic SCO id (2.9): UUIDv5 under the SCO namespace over the canonical JSON
    (sorted keys, no whitespace; RFC 8785 for these simple values) of its contributing
    properties (``value`` for ipv4-addr and ipv6-addr)."""
    text = json.dumps(contributing, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return f"{kind}--{uuid.uuid5(SCO_NAMESPACE, text)}"


@functools.lru_cache(maxsize=65536)
def ts(when: datetime) -> str:
    """A STIX timestamp (3.2): UTC, ``Z``, millisecond precision."""
    if when.tzinfo is None:
        raise ConfigError("STIX times must be timezone-aware", value=str(when))
    w = when.astimezone(UTC)
    return (
        f"{w.year:04d}-{w.month:02d}-{w.day:02d}T{w.hour:02d}:{w.minute:02d}:{w.second:02d}."
        f"{w.microsecond // 1000:03d}Z"
    )


def parse_ts(text: str) -> datetime:
    """A STIX timestamp back to an aware datetime."""
    return datetime.fromisoformat(text.replace("Z", "+00:00")).astimezone(UTC)


Endpoint = tuple[str, int, str]


def endpoint_of(c: C2Candidate) -> Endpoint:
    return (str(c.ip), c.port, c.proto)


def indicator_id(ip: str, port: int, proto: str) -> str:
    return stix_id("indicator", ip, port, proto)


def infrastructure_id(ip: str, port: int, proto: str) -> str:
    return stix_id("infrastructure", ip, port, proto)


def sighting_id(isp: str, ip: str, port: int, proto: str) -> str:
    return stix_id("sighting", isp, ip, port, proto)


@functools.lru_cache(maxsize=4096)
def identity_id(name: str) -> str:
    return stix_id("identity", name)


def malware_id(fam: Family) -> str:
    return stix_id("malware", fam.name)


def relationship_id(source: str, rel: str, target: str) -> str:
    return stix_id("relationship", source, rel, target)


# --- confidence --------------------------------------------------------------------------


@functools.cache
def score_max() -> float:
    """The highest score :mod:`iotscope.c2` can give: the sum of its positive weights."""
    from iotscope.c2 import EVIDENCE, Params

    p = Params()
    return sum(float(getattr(p, e.weight)) for e in EVIDENCE if e.sign > 0)


def confidence(score: float, top: float | None = None) -> int:
    """STIX ``confidence`` (0-100) from a detector score, anchored at the detector's threshold:
    the threshold (0.5) is 60 ("Medium" on the spec's Appendix A Low/Med/High scale, 30-69),
    the highest score the detector can give (``top``, :func:`score_max`) is 100, linear on
    each side. Anchored at the threshold, a just-detected C2 means the same to receivers when
    a new kind of evidence raises the top score."""
    from iotscope.c2 import DEFAULT_THRESHOLD as threshold

    top = top if top is not None else score_max()
    if score <= threshold:
        value = 60.0 * score / threshold
    else:
        value = 60.0 + 40.0 * (score - threshold) / max(top - threshold, 1e-9)
    return max(0, min(100, round(value)))


def combined_confidence(values: Iterable[int]) -> int:
    """The confidence of independent sources together (noisy-OR): ``1 - prod(1 - c/100)``.
    Two ISPs at 60 give 84; it never falls below the best single source."""
    miss = 1.0
    for c in values:
        miss *= 1.0 - max(0, min(100, c)) / 100.0
    return max(0, min(100, round(100 * (1.0 - miss))))


# --- the objects -------------------------------------------------------------------------


def identity(name: str, *, centre: bool = False) -> StixObject:
    """An ISP's (or the centre's) identity; static, so every party derives the same object."""
    obj: StixObject = {
        "type": "identity",
        "spec_version": "2.1",
        "id": identity_id(name),
        "created": STATIC_CREATED,
        "modified": STATIC_CREATED,
        "name": name,
        "identity_class": "organization",
    }
    obj["sectors"] = ["government"] if centre else ["telecommunications"]
    if centre:
        obj["description"] = "Analysis centre: curates the shared C2 feed."
    return obj


def malware(fam: Family, centre: str) -> StixObject:
    obj: StixObject = {
        "type": "malware",
        "spec_version": "2.1",
        "id": malware_id(fam),
        "created": STATIC_CREATED,
        "modified": STATIC_CREATED,
        "created_by_ref": identity_id(centre),
        "name": fam.name,
        "is_family": True,
        "malware_types": list(fam.malware_types),
    }
    if fam.aliases:
        obj["aliases"] = list(fam.aliases)
    return obj


def pattern(ip: str, port: int, proto: str) -> str:
    """One observation: network traffic to the C2 address on its port and protocol."""
    kind = "ipv6-addr" if ipaddress.ip_address(ip).version == 6 else "ipv4-addr"
    return (
        f"[network-traffic:dst_ref.type = '{kind}' AND network-traffic:dst_ref.value = '{ip}'"
        f" AND network-traffic:dst_port = {port} AND network-traffic:protocols[*] = '{proto}']"
    )


_PATTERN = re.compile(
    r"^\[network-traffic:dst_ref\.type = '(?P<kind>ipv[46]-addr)' AND "
    r"network-traffic:dst_ref\.value = '(?P<ip>[0-9a-fA-F.:]+)' AND "
    r"network-traffic:dst_port = (?P<port>\d{1,5}) AND "
    r"network-traffic:protocols\[\*\] = '(?P<proto>[a-z0-9]+)'\]$"
)


@functools.lru_cache(maxsize=65536)
def pattern_endpoint(text: str) -> Endpoint | None:
    """The (ip, port, proto) of a pattern :func:`pattern` wrote, else None (a partner's
    pattern of another shape is not guessed at)."""
    m = _PATTERN.match(text)
    if m is None:
        return None
    try:
        ip = str(ipaddress.ip_address(m["ip"]))
    except ValueError:
        return None
    port = int(m["port"])
    return (ip, port, m["proto"]) if port <= 65535 else None


@dataclass(frozen=True)
class Evidence:
    """What is known of one endpoint across every source: when it was seen, its detector score
    (best), the family, which ISPs and which methods (flows, darknet, survey, partner)
    reported it. One ISP's view has one ISP and method ``flows``."""

    ip: str
    port: int
    proto: str
    first_seen: datetime
    last_seen: datetime
    score: float
    family: str | None = None
    isps: frozenset[str] = frozenset()
    methods: frozenset[str] = frozenset({"flows"})
    confidences: tuple[int, ...] = ()

    @property
    def confirmed(self) -> bool:
        """Seen by two or more ISPs, or by two or more independent methods (issue 9, item 6)."""
        return len(self.isps) >= 2 or len(self.methods) >= 2


def indicator(ev: Evidence, centre: str, tlp: str, created: datetime, ttl: timedelta) -> StixObject:
    """The community indicator of one endpoint (not yet versioned: ``modified`` = created)."""
    ip, port, proto = ev.ip, ev.port, ev.proto
    fam = family(ev.family)
    conf = confidence(ev.score)
    if ev.confirmed:
        conf = max(conf, combined_confidence(ev.confidences or (conf, conf)))
    valid_until = max(ev.last_seen + ttl, ev.first_seen + timedelta(seconds=1))
    what = f"{fam.name} C2" if fam else "Botnet C2"
    obj: StixObject = {
        "type": "indicator",
        "spec_version": "2.1",
        "id": indicator_id(ip, port, proto),
        "created": ts(created),
        "modified": ts(created),
        "created_by_ref": identity_id(centre),
        "name": f"{what} {ip}:{port}/{proto}",
        "description": _describe(ev),
        "indicator_types": ["malicious-activity"],
        "pattern": pattern(ip, port, proto),
        "pattern_type": "stix",
        "pattern_version": "2.1",
        "valid_from": ts(ev.first_seen),
        "valid_until": ts(valid_until),
        "confidence": conf,
        "object_marking_refs": [TLP2_IDS[tlp]],
    }
    if ev.confirmed:
        obj["labels"] = ["confirmed"]
    return obj


def _describe(ev: Evidence) -> str:
    """Counts only: how many ISPs and which methods saw it, never who its clients are."""
    parts = [f"reported by {len(ev.isps) or 1} ISP(s)", "methods: " + ", ".join(sorted(ev.methods))]
    if ev.confirmed:
        parts.append("confirmed (2+ ISPs or 2+ independent methods)")
    return "C2 endpoint found in ISP flow data; " + "; ".join(parts) + "."


def infrastructure(ev: Evidence, centre: str, tlp: str, created: datetime) -> StixObject:
    return {
        "type": "infrastructure",
        "spec_version": "2.1",
        "id": infrastructure_id(ev.ip, ev.port, ev.proto),
        "created": ts(created),
        "modified": ts(created),
        "created_by_ref": identity_id(centre),
        "name": f"C2 server {ev.ip}:{ev.port}/{ev.proto}",
        "infrastructure_types": ["command-and-control"],
        "first_seen": ts(ev.first_seen),
        "last_seen": ts(max(ev.last_seen, ev.first_seen)),
        "object_marking_refs": [TLP2_IDS[tlp]],
    }


def address(ip: str) -> StixObject:
    """The C2's address as an SCO with the spec's deterministic id."""
    kind = "ipv6-addr" if ipaddress.ip_address(ip).version == 6 else "ipv4-addr"
    return {"type": kind, "spec_version": "2.1", "id": sco_id(kind, {"value": ip}), "value": ip}


def relationship(
    source: str, rel: str, target: str, centre: str, tlp: str, created: datetime
) -> StixObject:
    return {
        "type": "relationship",
        "spec_version": "2.1",
        "id": relationship_id(source, rel, target),
        "created": ts(created),
        "modified": ts(created),
        "created_by_ref": identity_id(centre),
        "relationship_type": rel,
        "source_ref": source,
        "target_ref": target,
        "object_marking_refs": [TLP2_IDS[tlp]],
    }


def sighting(c: C2Candidate, isp: str, tlp: str, created: datetime, count: int = 1) -> StixObject:
    """ISP ``isp``'s sighting of the endpoint's indicator: when its flows showed it, how many
    detection runs reported it (STIX 5.2 ``count``, 0-999999999) and the ISP's own confidence
    (its detector's score, :func:`confidence`), which agreement combines across ISPs."""
    ip, port, proto = endpoint_of(c)
    return {
        "type": "sighting",
        "spec_version": "2.1",
        "id": sighting_id(isp, ip, port, proto),
        "created": ts(created),
        "modified": ts(created),
        "created_by_ref": identity_id(isp),
        "sighting_of_ref": indicator_id(ip, port, proto),
        "where_sighted_refs": [identity_id(isp)],
        "first_seen": ts(c.first_seen),
        "last_seen": ts(max(c.last_seen, c.first_seen)),
        "count": max(0, min(999_999_999, count)),
        "confidence": confidence(c.score),
        "object_marking_refs": [TLP2_IDS[tlp]],
    }


def endpoint_objects(
    ev: Evidence, centre: str, tlp: str, created: datetime, ttl: timedelta
) -> list[StixObject]:
    """The community objects of one endpoint: indicator, infrastructure, address, the malware
    family where known, and their relationships."""
    ind = indicator(ev, centre, tlp, created, ttl)
    infra = infrastructure(ev, centre, tlp, created)
    addr = address(ev.ip)
    out = [ind, infra, addr]
    out.append(relationship(ind["id"], "indicates", infra["id"], centre, tlp, created))
    out.append(relationship(infra["id"], "consists-of", addr["id"], centre, tlp, created))
    fam = family(ev.family)
    if fam is not None:
        mal_id = malware_id(fam)
        out.append(relationship(ind["id"], "indicates", mal_id, centre, tlp, created))
        out.append(relationship(infra["id"], "controls", mal_id, centre, tlp, created))
    return out


# --- versions ----------------------------------------------------------------------------

#: Properties that do not make a new version by themselves.
_VERSION_KEYS = ("created", "modified")


def _content(obj: Mapping[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in obj.items() if k not in _VERSION_KEYS}


def versioned(
    obj: StixObject, previous: Mapping[str, Any] | None, now: datetime
) -> StixObject | None:
    """``obj`` as the next version of ``previous`` (same id; STIX 3.6): ``created`` kept,
    ``modified`` = ``now`` (at least 1 ms after the previous ``modified``). None when nothing
    but the times changed (no new version), or when ``previous`` is revoked (a revoked object
    must not get new versions, 3.6)."""
    if previous is None:
        return obj
    if previous.get("revoked"):
        return None
    if _content(obj) == _content(previous):
        return None
    if "modified" not in previous:  # SCOs and static objects have no versions
        return obj
    modified = max(now, parse_ts(previous["modified"]) + timedelta(milliseconds=1))
    return {**obj, "created": previous["created"], "modified": ts(modified)}


def revoke(previous: Mapping[str, Any], now: datetime, reason: str | None = None) -> StixObject:
    """A new version of ``previous`` with ``revoked: true`` (a false positive withdrawn).
    ``reason`` goes into the description (never data of a subscriber)."""
    if "modified" not in previous:
        raise ConfigError("only versioned objects can be revoked", id=previous.get("id"))
    modified = max(now, parse_ts(previous["modified"]) + timedelta(milliseconds=1))
    obj = {**previous, "modified": ts(modified), "revoked": True}
    if reason:
        obj["description"] = f"Revoked: {reason}"
    return obj


# --- the entry point ---------------------------------------------------------------------


def evidence_of(c: C2Candidate, isp: str, families: Mapping[Endpoint, str]) -> Evidence:
    ep = endpoint_of(c)
    return Evidence(
        ip=ep[0],
        port=ep[1],
        proto=ep[2],
        first_seen=c.first_seen,
        last_seen=max(c.last_seen, c.first_seen),
        score=c.score,
        family=families.get(ep),
        isps=frozenset({isp}),
        confidences=(confidence(c.score),),
    )


def static_objects(
    isps: Iterable[str], centre: str, tlp: str, fams: Iterable[Family]
) -> list[StixObject]:
    """The objects every bundle refers to: the marking, the identities, the families."""
    out = [tlp_marking(tlp), identity(centre, centre=True)]
    out += [identity(name) for name in sorted(set(isps)) if name != centre]
    out += [malware(f, centre) for f in sorted(set(fams), key=lambda f: f.name)]
    return out


def c2_bundle_objects(
    candidates: Sequence[C2Candidate],
    isp: str,
    now: datetime,
    *,
    centre: str = "iotscope centre",
    tlp: str = "amber",
    ttl: timedelta = DEFAULT_TTL,
    families: Mapping[Endpoint, str] | None = None,
    counts: Mapping[Endpoint, int] | None = None,
    evidence: Mapping[Endpoint, Evidence] | None = None,
    previous: Mapping[str, Mapping[str, Any]] | None = None,
) -> list[StixObject]:
    """The STIX 2.1 objects ISP ``isp`` shares for its C2 ``candidates`` at ``now``.

    ``families`` names an endpoint's family (``mirai``, ``emotet``, a lineage like
    ``mirai-okiru``); ``counts`` how many detection runs reported it (the sighting's count,
    default 1); ``evidence`` overrides an endpoint's :class:`Evidence` (the centre's view across
    ISPs and methods, which may mark it confirmed); ``previous`` maps object id -> the last
    version published, so that unchanged objects are left out and changed ones become new
    versions (:func:`versioned`); an id revoked before stays revoked (left out).

    Returns the static objects (TLP marking, identities, malware) and, per candidate, the
    indicator, infrastructure, address, relationships and this ISP's sighting. Deterministic:
    the same arguments give the same list. No client address is in any object.
    """
    if tlp not in TLP2_IDS:
        raise ConfigError("unknown TLP 2.0 level", level=tlp, known=sorted(TLP2_IDS))
    families = families or {}
    counts = counts or {}
    evidence = evidence or {}
    previous = previous or {}
    best: dict[Endpoint, C2Candidate] = {}
    for c in candidates:
        ep = endpoint_of(c)
        if ep not in best or c.score > best[ep].score:
            best[ep] = c
    objs: list[StixObject] = []
    fams: set[Family] = set()
    for ep in sorted(best, key=lambda e: (e[0], e[1], e[2])):
        c = best[ep]
        if previous.get(indicator_id(*ep), {}).get("revoked"):
            continue  # a withdrawn false positive stays withdrawn
        ev = evidence.get(ep) or evidence_of(c, isp, families)
        fam = family(ev.family)
        if fam is not None:
            fams.add(fam)
        objs += endpoint_objects(ev, centre, tlp, now, ttl)
        objs.append(sighting(c, isp, tlp, now, counts.get(ep, 1)))
    out: list[StixObject] = []
    for obj in static_objects([isp], centre, tlp, fams) + objs:
        nxt = versioned(obj, previous.get(obj["id"]), now)
        if nxt is not None:
            out.append(nxt)
    return out


def bundle(objects: Sequence[Mapping[str, Any]]) -> StixObject:
    """A STIX bundle (8) of ``objects``; its id is derived from their ids and versions."""
    key = ",".join(sorted(f"{o['id']}@{o.get('modified', '')}" for o in objects))
    return {
        "type": "bundle",
        "id": f"bundle--{uuid.uuid5(NAMESPACE, 'bundle|' + key)}",
        "objects": [dict(o) for o in objects],
    }
