"""Survey findings scored against the lab's manifest (the ground truth).

A device counts as identified when the vendor, product and firmware version the survey merged
for its address equal the manifest's (case and spacing aside). A device counts as weak when a
login the survey is meant to check (NOTICE's rules: telnet, SSH, MQTT, HTTP(S) Basic/Digest)
accepts a pair from a public list or needs none; it counts as found when any of its findings
has the outcome ``accepted`` or ``no_auth``.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from dataclasses import dataclass, field

from iotscope.records import Device, Finding, LabManifest

WEAK_OUTCOMES = ("accepted", "no_auth")
# The logins NOTICE checks: telnet, SSH, MQTT, and HTTP(S) Basic/Digest (not form logins).
CHECKED_AUTH = {
    "telnet": ("password", "none"),
    "ssh": ("password", "none"),
    "mqtt": ("password", "none"),
    "http": ("basic", "digest", "none"),
    "https": ("basic", "digest", "none"),
}


def _norm(text: str | None) -> str:
    return " ".join((text or "").lower().split())


@dataclass(frozen=True)
class SurveyScore:
    devices: int
    identified: int
    weak_truth: int
    weak_found: int
    weak_reported: int
    weak_true: int
    vulnerable: int
    per_isp: dict[str, int] = field(default_factory=dict)

    @property
    def identified_share(self) -> float:
        return self.identified / max(1, self.devices)

    @property
    def recall(self) -> float:
        return self.weak_found / max(1, self.weak_truth)

    @property
    def precision(self) -> float:
        return self.weak_true / max(1, self.weak_reported)


def _identified(device: Device, findings: list[Finding]) -> bool:
    ident = next((f.identity for f in findings if f.identity is not None), None)
    if ident is None:
        return False
    return all(_norm(a) == _norm(b) for a, b in (
        (device.vendor, ident.vendor), (device.product, ident.product),
        (device.version, ident.version)))  # fmt: skip


def _weak(device: Device) -> bool:
    """Whether a login the survey checks accepts a public pair (or needs none)."""
    checked = {"http" if s.service == "https" else s.service
               for s in device.services if s.auth in CHECKED_AUTH.get(s.service, ())}  # fmt: skip
    return any(c.weak and c.protocol in checked for c in device.credentials)


def score_survey(manifest: LabManifest, findings: list[Finding]) -> SurveyScore:
    """Device-level identification share and weak-login recall/precision."""
    by_host: dict[str, list[Finding]] = defaultdict(list)
    for f in findings:
        by_host[str(f.ip)].append(f)
    devices = [d for d in manifest.devices if not d.hostile]
    reported = {ip for ip, fs in by_host.items()
                if any(f.login.outcome in WEAK_OUTCOMES for f in fs)}  # fmt: skip
    truth = {str(d.ip) for d in devices if _weak(d)}
    isp_of = {str(d.ip): d.isp or "-" for d in manifest.devices}
    return SurveyScore(
        devices=len(devices),
        identified=sum(_identified(d, by_host.get(str(d.ip), [])) for d in devices),
        weak_truth=len(truth), weak_found=len(truth & reported),
        weak_reported=len(reported), weak_true=len(reported & truth),
        vulnerable=sum(1 for fs in by_host.values() if any(f.cves for f in fs)),
        per_isp=dict(Counter(isp_of.get(ip, "-") for ip in reported)),
    )  # fmt: skip
