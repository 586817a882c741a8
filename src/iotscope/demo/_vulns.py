"""Demo step: vulnerable firmware. Import the bundled NVD/KEV sample, match the survey's
findings, verify with the safe checks inside the lab's network, and score against the lab's
ground truth (the manifest's ``cves[]``).

Call after the survey step: ``vulns_step(store, manifest, survey.id)``.
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

from iotscope._output import console, table
from iotscope.records import LabManifest
from iotscope.store import Store
from iotscope.vulns import (
    DeviceVuln,
    default_checks,
    device_vulns,
    enrich,
    firmware_status,
    import_file,
)


@dataclass(frozen=True)
class VulnsScore:
    knowledge: int  # CVEs in the store
    truth: int  # (device, CVE) pairs the lab planted, for CVEs in the knowledge
    inferred: int  # pairs found by version match only
    verified: int  # pairs a safe check proved
    true_found: int  # found pairs that the lab planted
    outdated: int  # devices whose firmware is not the latest release
    outdated_truth: int


def _sample(name: str) -> Path:
    return Path(str(resources.files("iotscope.vulns") / name))


def vulns_step(store: Store, manifest: LabManifest, survey_id: str) -> VulnsScore:
    """Import the sample knowledge, enrich the survey's findings, show and score them."""
    console.rule("[bold]3. vulnerable firmware: NVD and KEV knowledge, inferred and verified CVEs")
    reports = [import_file(store, _sample(n)) for n in ("nvd-sample.json", "kev-sample.json")]
    console.print(table("knowledge imported", ["file", "kind", "new", "updated", "unchanged"],
                        [(Path(r.path).name, r.kind, r.new, r.updated, r.unchanged)
                         for r in reports]))  # fmt: skip
    net = ipaddress.ip_network(manifest.network)
    counts = enrich(store, checks=default_checks(),
                    allowed=lambda ip: ipaddress.ip_address(ip) in net)  # fmt: skip
    found = [v for v in device_vulns(store) if v.survey_id == survey_id]
    score = _score(manifest, store, found, survey_id)
    rows = [(str(v.ip), v.vendor, v.model, v.version, v.cve, v.evidence, v.kev, v.cvss)
            for v in found[:20]]  # fmt: skip
    console.print(table(f"device CVEs ({len(found)}; first 20)",
                        ["ip", "vendor", "model", "version", "cve", "evidence", "kev", "cvss"],
                        rows))  # fmt: skip
    console.print(
        f"checks run {counts['checks_run']}, verified {score.verified}; of {score.truth} "
        f"planted (device, CVE) pairs for the {score.knowledge} CVEs known, found "
        f"{score.true_found} ({score.inferred} inferred, {score.verified} verified); "
        f"firmware not latest: {score.outdated} devices (lab truth {score.outdated_truth})"
    )
    return score


def _score(
    manifest: LabManifest, store: Store, found: list[DeviceVuln], survey_id: str
) -> VulnsScore:
    from iotscope.vulns import default_releases, load_db
    from iotscope.vulns._match import device_cpe

    known = set(load_db(store).records)
    truth = {(str(d.ip), c) for d in manifest.devices for c in d.cves if c in known}
    pairs = {(str(v.ip), v.cve) for v in found}
    releases = default_releases()
    outdated_truth = 0
    for d in manifest.devices:
        if d.cpe and d.version:
            c = device_cpe(d.cpe)
            outdated_truth += bool(releases.outdated(c.vendor.text, c.product.text, d.version))
    fw = [s for s in firmware_status(store) if s.survey_id == survey_id]
    return VulnsScore(
        knowledge=len(known), truth=len(truth),
        inferred=sum(v.evidence == "inferred" for v in found),
        verified=sum(v.evidence == "verified" for v in found),
        true_found=len(pairs & truth), outdated=sum(bool(s.outdated) for s in fw),
        outdated_truth=outdated_truth,
    )  # fmt: skip
