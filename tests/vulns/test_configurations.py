"""Configuration logic beyond the real records: negate, OR configurations, and the rule that
a vulnerable entry must be among what matched (synthetic records, marked so)."""

from __future__ import annotations

from typing import Any

from iotscope.vulns import VulnDb, match, parse_cve


def record(configs: list[dict[str, Any]], cve: str = "CVE-2099-0001") -> dict[str, Any]:
    return {"id": cve, "lastModified": "2026-01-01T00:00:00.000", "configurations": configs}


def entry(criteria: str, vulnerable: bool = True, **rng: str) -> dict[str, Any]:
    return {"vulnerable": vulnerable, "criteria": criteria, **rng}


APP = "cpe:2.3:a:acme:webd:*:*:*:*:*:*:*:*"
OS_LINUX = "cpe:2.3:o:linux:linux_kernel:-:*:*:*:*:*:*:*"


def db(*configs: dict[str, Any]) -> VulnDb:
    return VulnDb.build([parse_cve(record(list(configs)))])


def cves(d: VulnDb, *cpes: str) -> list[str]:
    return [m.cve for m in match(cpes, d)]


def test_negated_node_excludes_a_platform() -> None:
    d = db(
        {
            "operator": "AND",
            "nodes": [
                {"operator": "OR", "cpeMatch": [entry(APP, versionEndExcluding="2.0")]},
                {"operator": "OR", "negate": True, "cpeMatch": [entry(OS_LINUX, False)]},
            ],
        }
    )
    app = "cpe:2.3:a:acme:webd:1.5:*:*:*:*:*:*:*"
    assert cves(d, app) == ["CVE-2099-0001"]
    assert cves(d, app, "cpe:2.3:o:microsoft:windows:-:*:*:*:*:*:*:*") == ["CVE-2099-0001"]
    assert cves(d, app, OS_LINUX) == []


def test_and_node_needs_every_entry() -> None:
    d = db(
        {
            "nodes": [
                {
                    "operator": "AND",
                    "cpeMatch": [
                        entry(APP, versionStartIncluding="1.0"),
                        entry("cpe:2.3:a:acme:plugin:*:*:*:*:*:*:*:*", False),
                    ],
                }
            ]
        }
    )
    assert cves(d, "cpe:2.3:a:acme:webd:1.0:*:*:*:*:*:*:*") == []
    both = ("cpe:2.3:a:acme:webd:1.0:*:*:*:*:*:*:*", "cpe:2.3:a:acme:plugin:3:*:*:*:*:*:*:*")
    assert cves(d, *both) == ["CVE-2099-0001"]


def test_a_non_vulnerable_match_alone_is_not_enough() -> None:
    d = db(
        {
            "nodes": [
                {
                    "operator": "OR",
                    "cpeMatch": [
                        entry("cpe:2.3:h:acme:box:-:*:*:*:*:*:*:*", False),
                        entry("cpe:2.3:o:acme:box_firmware:1.0:*:*:*:*:*:*:*"),
                    ],
                }
            ]
        }
    )
    assert cves(d, "cpe:2.3:h:acme:box:-:*:*:*:*:*:*:*") == []
    assert cves(d, "cpe:2.3:o:acme:box_firmware:1.0:*:*:*:*:*:*:*") == ["CVE-2099-0001"]


def test_or_of_configurations_and_wildcard_criteria() -> None:
    d = db(
        {"nodes": [{"cpeMatch": [entry("cpe:2.3:o:acme:*:1.0:*:*:*:*:*:*:*")]}]},
        {"nodes": [{"cpeMatch": [entry("cpe:2.3:o:other:thing:*:*:*:*:*:*:*:*")]}]},
    )
    assert cves(d, "cpe:2.3:o:acme:anything:1.0:*:*:*:*:*:*:*") == ["CVE-2099-0001"]
    assert cves(d, "cpe:2.3:o:other:thing:9:*:*:*:*:*:*:*") == ["CVE-2099-0001"]
    assert cves(d, "cpe:2.3:o:acme:anything:1.1:*:*:*:*:*:*:*") == []


def test_rejected_records_never_match() -> None:
    raw = record([{"nodes": [{"cpeMatch": [entry(APP)]}]}])
    raw["vulnStatus"] = "Rejected"
    d = VulnDb.build([parse_cve(raw)])
    assert cves(d, "cpe:2.3:a:acme:webd:1:*:*:*:*:*:*:*") == []
