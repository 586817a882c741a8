"""NVD applicability: which CVEs apply to a device, given the device's set of CPE names.

A ``cpeMatch`` entry matches a device CPE when CPE_NAME_MATCH (NISTIR 7696 s6.2) holds with
the entry's criteria as source and the device's name as target and, for an entry with a
version range, the device's version lies in it (:func:`_version.in_range`; a device version
of ANY or NA lies in no range). A node holds when any (OR) or every (AND) entry matches some
device CPE, inverted by ``negate``; a configuration holds when any (OR) or every (AND) node
holds. A CVE applies when one of its configurations holds and a ``vulnerable: true`` entry of
a holding, non-negated node is among what matched: "firmware o: running on hardware h:" (an
AND of a vulnerable firmware node and a non-vulnerable hardware node) applies only to a
device that shows both.

:class:`VulnDb` indexes vulnerable entries by (vendor, product), so a device is checked only
against the configurations that could apply to it.
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field

from iotscope.vulns._cpe import Cpe, CpeError, name_match, parse_cpe
from iotscope.vulns._nvd import Configuration, CpeMatch, CveRecord, Cvss, Node
from iotscope.vulns._version import in_range

_CPE_WORD = re.compile(r"(?:\\.|\S)+")  # a space quoted as "\\ " stays inside its CPE


@dataclass(frozen=True, slots=True)
class CveMatch:
    """One CVE that applies to one device: what matched (``vuln_cpe``: the device's CPE that
    a vulnerable entry matched; ``criteria``: that entry)."""

    cve: str
    kev: bool
    cvss: float | None
    cvss_version: str | None
    severity: str | None
    vuln_cpe: str
    criteria: str


def device_cpe(text: str) -> Cpe:
    """A device's CPE: a proper formatted string, else read leniently (banner-built)."""
    try:
        return parse_cpe(text)
    except CpeError:
        return parse_cpe(text, lenient=True)


def entry_matches(entry: CpeMatch, target: Cpe) -> bool:
    """Does one cpeMatch entry match one device CPE (name match plus version range)?"""
    if not entry.ranged:
        return name_match(entry.cpe, target)
    version = target.version
    if version.kind != "value" or version.wild:
        return False
    if not name_match(entry.cpe, target, skip_version=True):
        return False
    return in_range(
        version.text, entry.start_incl, entry.start_excl, entry.end_incl, entry.end_excl
    )


def _node(node: Node, targets: Sequence[Cpe], hits: list[tuple[CpeMatch, Cpe]]) -> bool:
    found: list[tuple[CpeMatch, Cpe]] = []
    results = []
    for entry in node.matches:
        hit = next((t for t in targets if entry_matches(entry, t)), None)
        results.append(hit is not None)
        if hit is not None:
            found.append((entry, hit))
    held = (all(results) if node.operator == "AND" else any(results)) if results else False
    if node.negate:
        return not held
    if held:
        hits.extend(found)
    return held


def applies(config: Configuration, targets: Sequence[Cpe]) -> tuple[CpeMatch, Cpe] | None:
    """The vulnerable entry (and device CPE) that makes ``config`` apply, or None."""
    hits: list[tuple[CpeMatch, Cpe]] = []
    results = [_node(n, targets, hits) for n in config.nodes]
    if not results:
        return None
    held = all(results) if config.operator == "AND" else any(results)
    if config.negate:
        held = not held
    if not held:
        return None
    return next(((e, t) for e, t in hits if e.vulnerable), None)


@dataclass
class VulnDb:
    """CVE records, KEV ids and an index of vulnerable entries by (vendor, product)."""

    records: dict[str, CveRecord] = field(default_factory=dict)
    kev: set[str] = field(default_factory=set)
    _index: dict[tuple[str, str], set[tuple[str, int]]] = field(
        default_factory=lambda: defaultdict(set)
    )
    _wild: set[tuple[str, int]] = field(default_factory=set)

    @classmethod
    def build(cls, records: Iterable[CveRecord], kev: Iterable[str] = ()) -> VulnDb:
        db = cls(kev=set(kev))
        for rec in records:
            db.add(rec)
        return db

    def add(self, rec: CveRecord) -> None:
        self.records[rec.id] = rec
        if rec.status == "Rejected":
            return
        for ci, config in enumerate(rec.configurations):
            for node in config.nodes:
                for e in node.matches:
                    if not e.vulnerable:
                        continue
                    v, p = e.cpe.vendor, e.cpe.product
                    if v.kind == "value" and p.kind == "value" and not (v.wild or p.wild):
                        self._index[(v.text, p.text)].add((rec.id, ci))
                    else:
                        self._wild.add((rec.id, ci))

    def candidates(self, targets: Sequence[Cpe]) -> set[tuple[str, int]]:
        out = set(self._wild)
        for t in targets:
            hit = self._index.get((t.vendor.text, t.product.text))
            if hit:
                out |= hit
        return out

    def cvss(self, cve: str) -> Cvss | None:
        rec = self.records.get(cve)
        return rec.cvss if rec else None


def match(cpes: Iterable[str], db: VulnDb) -> list[CveMatch]:
    """The CVEs that apply to one device with these CPE names (sorted by CVE id)."""
    targets = [device_cpe(c) for c in cpes]
    best: dict[str, CveMatch] = {}
    for cve, ci in sorted(db.candidates(targets)):
        if cve in best:
            continue
        rec = db.records[cve]
        hit = applies(rec.configurations[ci], targets)
        if hit is None:
            continue
        entry, target = hit
        c = rec.cvss
        best[cve] = CveMatch(
            cve,
            cve in db.kev,
            c.score if c else None,
            c.version if c else None,
            c.severity if c else None,
            target.to_fs(),
            entry.criteria,
        )
    return [best[k] for k in sorted(best)]


def match_line(line: str, db: VulnDb) -> tuple[str, list[CveMatch]]:
    """One stdin line of ``vulns match``: CPEs separated by spaces -> (device, matches)."""
    cpes = _CPE_WORD.findall(line)
    return " ".join(cpes), match(cpes, db)


def as_json(device: str, m: CveMatch, evidence: str = "inferred") -> Mapping[str, object]:
    """The ``vulns match`` JSON Lines record (ARCHITECTURE.md) plus the extra fields."""
    return {
        "device": device,
        "cve": m.cve,
        "evidence": evidence,
        "kev": m.kev,
        "cvss": m.cvss,
        "severity": m.severity,
        "cvss_version": m.cvss_version,
        "vuln_cpe": m.vuln_cpe,
        "criteria": m.criteria,
    }
