"""Agreement between ISPs (issue 9, item 6): confirmed C2s, each ISP's confirmed and lone
detections, and calibration on a shared reference window of flows.

*Confirmed* means seen by two or more ISPs (sightings from different ISPs of the same
community indicator) or by two or more independent methods: ``flows`` (an ISP's detector),
``darknet`` (the C2's address scanning the telescope), ``survey`` (the survey found a service
answering on the C2's address and port) and ``partner`` (a partner feed lists the endpoint).

How a confirmation is expressed, per STIX 2.1: a new version of the community indicator (same
id, later ``modified``, 3.6) whose ``confidence`` combines the independent sources (noisy-OR,
:func:`iotscope.share.stix.combined_confidence`) and whose ``labels`` hold ``confirmed``.
``confidence`` is the spec's property for "how sure the creator is" (Appendix A), the one
consumers filter on (blocklists cut at a confidence); an ``opinion`` object would instead
record a party's agreement with *another* creator's object, and the indicator is the
centre's own. The sightings that make it confirmed stay in the feed as the evidence.

Everything here works on STIX objects (what the hub holds), so the centre, an ISP holding a
copy of the shared feed, or a test can run it; the store adds the darknet and survey evidence.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

import pyarrow as pa

from iotscope.errors import ConfigError
from iotscope.share import stix
from iotscope.share.stix import Endpoint, StixObject

#: Confidence of one independent non-flow method, where the source gives none.
METHOD_CONFIDENCE = {"darknet": 50, "survey": 40, "partner": 50}


@dataclass
class EndpointView:
    """What the feed says of one C2 endpoint: the community indicator's newest version, each
    ISP's newest sighting, the family, and every method with its confidence."""

    endpoint: Endpoint
    indicator: StixObject | None = None
    sightings: dict[str, StixObject] = field(default_factory=dict)  # ISP name -> sighting
    family: str | None = None
    methods: dict[str, int] = field(default_factory=dict)  # method -> best confidence

    @property
    def isps(self) -> frozenset[str]:
        return frozenset(self.sightings)

    @property
    def confirmed(self) -> bool:
        return len(self.sightings) >= 2 or len(self.methods) >= 2

    def confidences(self) -> list[int]:
        """One value per independent source: each ISP's sighting, each non-flow method."""
        own = [int(s.get("confidence", 50)) for s in self.sightings.values()]
        return own + [c for m, c in self.methods.items() if m != "flows"]


def newest(objects: Iterable[Mapping[str, Any]]) -> dict[str, StixObject]:
    """The newest version of each object by id (``modified``; unversioned objects as given)."""
    out: dict[str, StixObject] = {}
    for o in objects:
        old = out.get(o["id"])
        if old is None or str(o.get("modified", "")) > str(old.get("modified", "")):
            out[o["id"]] = dict(o)
    return out


def views(
    objects: Iterable[Mapping[str, Any]],
    extra: Mapping[Endpoint, Mapping[str, int]] | None = None,
) -> dict[Endpoint, EndpointView]:
    """Per endpoint, what ``objects`` (a feed: any order, any versions) say of it.

    A revoked community indicator removes its endpoint (a withdrawn false positive confirms
    nothing). An indicator of another creator with our pattern counts as method ``partner``.
    ``extra`` adds methods seen outside the feed (darknet, survey) with their confidences.
    """
    objs = newest(objects)
    names = {i: o.get("name", i) for i, o in objs.items() if o["type"] == "identity"}
    out: dict[Endpoint, EndpointView] = {}
    by_indicator: dict[str, Endpoint] = {}
    revoked: set[Endpoint] = set()
    for o in objs.values():
        ep = stix.pattern_endpoint(o.get("pattern", "")) if o["type"] == "indicator" else None
        if ep is None:
            continue
        if o["id"] != stix.indicator_id(*ep):
            if not o.get("revoked"):
                v = out.setdefault(ep, EndpointView(ep))
                conf = int(o.get("confidence", METHOD_CONFIDENCE["partner"]))
                v.methods["partner"] = max(v.methods.get("partner", 0), conf)
            continue
        if o.get("revoked"):
            revoked.add(ep)
            continue
        out.setdefault(ep, EndpointView(ep)).indicator = o
        by_indicator[o["id"]] = ep
    malware = {i: o["name"] for i, o in objs.items() if o["type"] == "malware" and "name" in o}
    for o in objs.values():
        if o["type"] == "sighting" and o.get("sighting_of_ref") in by_indicator:
            v = out[by_indicator[o["sighting_of_ref"]]]
            where = (o.get("where_sighted_refs") or [o.get("created_by_ref", "?")])[0]
            v.sightings[names.get(where, where)] = o
            v.methods["flows"] = max(v.methods.get("flows", 0), int(o.get("confidence", 50)))
        elif o["type"] == "relationship" and o.get("relationship_type") == "indicates":
            ep = by_indicator.get(o.get("source_ref", ""))
            if ep is not None and o.get("target_ref") in malware:
                out[ep].family = malware[o["target_ref"]]
    for ep, methods in (extra or {}).items():
        if ep in out:
            for m, c in methods.items():
                out[ep].methods[m] = max(out[ep].methods.get(m, 0), int(c))
    return {ep: v for ep, v in out.items() if ep not in revoked}


def confirmation_objects(
    objects: Iterable[Mapping[str, Any]],
    now: datetime,
    extra: Mapping[Endpoint, Mapping[str, int]] | None = None,
) -> list[StixObject]:
    """New versions of the community indicators that ``objects`` (plus ``extra`` methods)
    confirm: combined confidence, label ``confirmed``. Already-confirmed versions with the
    same confidence give nothing (re-running publishes nothing new)."""
    out = []
    for v in views(objects, extra).values():
        if not v.confirmed or v.indicator is None:
            continue
        ind = v.indicator
        conf = max(int(ind.get("confidence", 0)), stix.combined_confidence(v.confidences()))
        labels = sorted({*ind.get("labels", ()), "confirmed"})
        isps, methods = len(v.isps), ", ".join(sorted(v.methods))
        text = f"C2 endpoint confirmed: sighted by {isps} ISP(s); methods: {methods}."
        new = {**ind, "confidence": conf, "labels": labels, "description": text}
        nxt = stix.versioned(new, ind, now)
        if nxt is not None:
            out.append(nxt)
    return out


# --- per ISP -----------------------------------------------------------------------------


@dataclass(frozen=True)
class Detection:
    """One of an ISP's C2s as the feed sees it (no client data: counts and names only)."""

    ip: str
    port: int
    proto: str
    family: str | None
    isps: tuple[str, ...]  # every ISP that sighted it
    methods: tuple[str, ...]
    confirmed: bool
    confidence: int | None


@dataclass(frozen=True)
class IspAgreement:
    """For one ISP: its detections others (or other methods) confirmed, those only it sees,
    and the families only it sees (the lineages its vantage point adds)."""

    isp: str
    confirmed: tuple[Detection, ...]
    alone: tuple[Detection, ...]
    families_alone: tuple[str, ...]
    families_shared: tuple[str, ...]


def _detection(v: EndpointView) -> Detection:
    ip, port, proto = v.endpoint
    conf = v.indicator.get("confidence") if v.indicator else None
    return Detection(
        ip=ip,
        port=port,
        proto=proto,
        family=v.family,
        isps=tuple(sorted(v.isps)),
        methods=tuple(sorted(v.methods)),
        confirmed=v.confirmed,
        confidence=conf,
    )


def isp_agreement(all_views: Mapping[Endpoint, EndpointView], isp: str) -> IspAgreement:
    """What of ``isp``'s detections the others confirmed and what only it sees."""
    mine = [v for v in all_views.values() if isp in v.isps]
    confirmed = [_detection(v) for v in mine if v.confirmed]
    alone = [_detection(v) for v in mine if not v.confirmed]
    fam_isps: dict[str, set[str]] = {}
    for v in all_views.values():
        if v.family:
            fam_isps.setdefault(v.family, set()).update(v.isps)
    own = {v.family for v in mine if v.family}
    key = lambda d: (d.ip, d.port, d.proto)  # noqa: E731
    return IspAgreement(
        isp=isp,
        confirmed=tuple(sorted(confirmed, key=key)),
        alone=tuple(sorted(alone, key=key)),
        families_alone=tuple(sorted(f for f in own if fam_isps[f] == {isp})),
        families_shared=tuple(sorted(f for f in own if fam_isps[f] != {isp})),
    )


def store_methods(store: Any, endpoints: Iterable[Endpoint]) -> dict[Endpoint, dict[str, int]]:
    """Darknet and survey evidence for ``endpoints`` from the store: the address seen
    scanning the telescope (classified mirai or iot), or a survey finding on its address
    and port."""
    wanted = set(endpoints)
    ips = {ep[0] for ep in wanted}
    scanners = {
        str(s.src) for s in store.sightings() if str(s.src) in ips and s.classification != "other"
    }
    answering = {(str(f.ip), f.port, f.transport) for f in store.findings() if str(f.ip) in ips}
    out: dict[Endpoint, dict[str, int]] = {}
    for ep in wanted:
        methods = {}
        if ep[0] in scanners:
            methods["darknet"] = METHOD_CONFIDENCE["darknet"]
        if ep in answering:
            methods["survey"] = METHOD_CONFIDENCE["survey"]
        if methods:
            out[ep] = methods
    return out


# --- calibration on a shared reference window ---------------------------------------------

REFERENCE_SITE = "reference"


def window_files(root: Path) -> list[Path]:
    """The flow files of a reference window: Parquet (the flow schema), Zeek ``conn.log``
    (TSV or JSON) and nfdump CSV, found under ``root`` in name order."""
    if not root.is_dir():
        raise ConfigError("reference window must be a directory", path=str(root))
    files = [
        p
        for p in sorted(root.rglob("*"))
        if p.is_file() and (p.suffix in (".parquet", ".csv") or p.name.endswith("conn.log"))
    ]
    if not files:
        raise ConfigError("no flow files (*.parquet, *conn.log, *.csv) in window", path=str(root))
    return files


def window_digest(root: Path, files: Sequence[Path]) -> str:
    """SHA-256 over each file's path (relative to ``root``) and bytes, plus the known-infected
    list: ISPs compare answers only over the same bytes."""
    h = hashlib.sha256()
    for p in [*files, root / "infected.txt"]:
        if p.is_file():
            h.update(str(p.relative_to(root)).encode() + b"\0")
            h.update(hashlib.sha256(p.read_bytes()).digest())
    return h.hexdigest()


def read_window(files: Sequence[Path]) -> pa.Table:
    """Every flow of the window as one table, its site set to :data:`REFERENCE_SITE`."""
    import pyarrow.parquet as pq

    from iotscope.flows import FLOW_SCHEMA, read_nfdump_csv, read_zeek_conn

    tables = []
    for p in files:
        if p.suffix == ".parquet":
            t = pq.read_table(p).select(FLOW_SCHEMA.names).cast(FLOW_SCHEMA)
        elif p.suffix == ".csv":
            t, _bad = read_nfdump_csv(p.read_bytes(), site=REFERENCE_SITE)
        else:
            t, _bad = read_zeek_conn(p.read_bytes(), site=REFERENCE_SITE)
        col = pa.array([REFERENCE_SITE] * t.num_rows, FLOW_SCHEMA.field("site").type)
        tables.append(t.set_column(t.schema.get_field_index("site"), "site", col))
    return pa.concat_tables(tables)


def calibrate(
    root: Path, isp: str, now: datetime, *, threshold: float | None = None
) -> dict[str, Any]:
    """Run this site's detector (:func:`iotscope.c2.detect`) over the reference window at
    ``root`` and return its answer: the window's digest, the detector's settings and the
    endpoints it reports with their scores (never a client)."""
    from iotscope import __version__
    from iotscope.c2 import DEFAULT_THRESHOLD, Params, detect, infected_from_file

    files = window_files(root)
    listed = root / "infected.txt"
    infected = infected_from_file(listed) if listed.is_file() else set()
    params = Params(threshold=DEFAULT_THRESHOLD if threshold is None else threshold)
    found = detect(read_window(files), infected=infected, params=params)
    return {
        "window": window_digest(root, files),
        "isp": isp,
        "created": stix.ts(now),
        "detector": {
            "engine": "duckdb",
            "threshold": params.threshold,
            "iotscope": __version__,
            "files": len(files),
        },
        "candidates": sorted(
            ({"ip": str(c.ip), "port": c.port, "proto": c.proto, "score": c.score} for c in found),
            key=lambda c: (c["ip"], c["port"], c["proto"]),
        ),
    }


@dataclass(frozen=True)
class Comparison:
    """ISPs' answers over one window, compared: per endpoint which ISPs reported it, pairwise
    Jaccard similarity, and each ISP's precision and recall against the majority answer
    (endpoints more than half the ISPs reported)."""

    window: str
    isps: tuple[str, ...]
    endpoints: dict[Endpoint, tuple[str, ...]]
    jaccard: dict[tuple[str, str], float]
    majority: frozenset[Endpoint]
    precision: dict[str, float | None]
    recall: dict[str, float | None]


def _jaccard(a: set[Endpoint], b: set[Endpoint]) -> float:
    return 1.0 if not a and not b else len(a & b) / len(a | b)


def compare(answers: Sequence[Mapping[str, Any]]) -> Comparison:
    """Compare answers of one window (a :class:`ConfigError` if they cover different ones)."""
    if not answers:
        raise ConfigError("no answers to compare")
    windows = {a["window"] for a in answers}
    if len(windows) != 1:
        raise ConfigError("answers are over different reference windows", windows=sorted(windows))
    sets: dict[str, set[Endpoint]] = {}
    for a in answers:
        sets[a["isp"]] = {(c["ip"], int(c["port"]), c["proto"]) for c in a["candidates"]}
    isps = tuple(sorted(sets))
    every = set().union(*sets.values())
    found = {ep: tuple(i for i in isps if ep in sets[i]) for ep in sorted(every)}
    majority = frozenset(ep for ep, who in found.items() if len(who) * 2 > len(isps))
    precision = {i: (len(sets[i] & majority) / len(sets[i]) if sets[i] else None) for i in isps}
    recall = {i: (len(sets[i] & majority) / len(majority) if majority else None) for i in isps}
    pairs = {(a, b): _jaccard(sets[a], sets[b]) for a in isps for b in isps if a < b}
    return Comparison(windows.pop(), isps, found, pairs, majority, precision, recall)


def load_answer(path: Path) -> dict[str, Any]:
    """One answer file, normalised to the fields :func:`compare` needs (a bad file is a
    :class:`ConfigError` naming it)."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        cands = [
            {"ip": str(c["ip"]), "port": int(c["port"]), "proto": str(c["proto"]),
             "score": float(c.get("score", 0.0))}
            for c in data["candidates"]
        ]  # fmt: skip
        return {**data, "window": str(data["window"]), "isp": str(data["isp"]), "candidates": cands}
    except (OSError, ValueError, KeyError, TypeError, AttributeError) as exc:
        raise ConfigError("not an answer file", path=str(path), reason=str(exc)[:200]) from exc
