"""Survey findings scored against a hand-made manifest."""

from __future__ import annotations

from iotscope.lab import score_survey
from iotscope.records import (
    Credential,
    Device,
    Finding,
    Identity,
    LabManifest,
    Login,
    ServiceSpec,
)
from tests.conftest import FIXED_NOW


def _device(ip: str, service: str, auth: str, weak: bool, isp: str = "a") -> Device:
    proto = "http" if service == "https" else service
    return Device(
        ip=ip, profile="p", vendor="Hikvision", product="DS-2CD", version="V5.4.5",
        device_type="IP Camera", isp=isp,
        services=(ServiceSpec(port=80 if "http" in service else 23, service=service, auth=auth),),
        credentials=(Credential(protocol=proto, username="admin", password="12345", weak=weak),),
    )  # fmt: skip


def _finding(ip: str, outcome: str, version: str = "V5.4.5") -> Finding:
    return Finding(
        ip=ip, port=23, service="telnet", time=FIXED_NOW,
        identity=Identity(vendor="hikvision", product="DS-2CD ", version=version),
        login=Login(protocol="telnet", outcome=outcome),  # type: ignore[arg-type]
        cves=("CVE-2017-7921",) if outcome == "accepted" else (),
    )  # fmt: skip


def _manifest(*devices: Device) -> LabManifest:
    return LabManifest(seed=1, network="127.90.0.0/24", created=FIXED_NOW, devices=devices,
                       isps=())  # fmt: skip


def test_identification_ignores_case_and_spacing_but_not_version() -> None:
    m = _manifest(_device("127.90.0.1", "telnet", "password", False),
                  _device("127.90.0.2", "telnet", "password", False),
                  _device("127.90.0.3", "telnet", "password", False))  # fmt: skip
    score = score_survey(m, [_finding("127.90.0.1", "rejected"),
                             _finding("127.90.0.2", "rejected", version="V5.5.0")])  # fmt: skip
    assert (score.identified, score.devices) == (1, 3)


def test_weak_truth_counts_only_logins_notice_checks() -> None:
    m = _manifest(_device("127.90.0.1", "telnet", "password", True, isp="a"),
                  _device("127.90.0.2", "http", "form", True),
                  _device("127.90.0.3", "https", "digest", True, isp="b"),
                  _device("127.90.0.4", "telnet", "password", False))  # fmt: skip
    found = [_finding("127.90.0.1", "accepted"), _finding("127.90.0.4", "no_auth")]
    score = score_survey(m, found)
    assert score.weak_truth == 2  # the form login is not a NOTICE check
    assert (score.weak_found, score.weak_reported, score.weak_true) == (1, 2, 1)
    assert score.recall == 0.5 and score.precision == 0.5
    assert score.per_isp == {"a": 2} and score.vulnerable == 1


def test_hostile_hosts_are_not_devices() -> None:
    hostile = _device("127.90.0.9", "telnet", "password", True).model_copy(
        update={"hostile": "tarpit"})  # fmt: skip
    score = score_survey(_manifest(hostile), [])
    assert (score.devices, score.weak_truth, score.recall) == (0, 0, 0.0)
