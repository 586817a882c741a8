"""NVD applicability on hand-checked real IoT records: every range form, escapes, AND.

Each case: a device (its set of CPE names) and whether the CVE applies, worked out by hand
from NISTIR 7696 (criteria = source, device name = target; SUPERSET or EQUAL on every
attribute) and the record's ranges, at the edges of each range."""

from __future__ import annotations

import pytest

from iotscope.vulns import VulnDb, match

HG532_FW = "cpe:2.3:o:huawei:hg532_firmware:-:*:*:*:*:*:*:*"
HG532_HW = "cpe:2.3:h:huawei:hg532:-:*:*:*:*:*:*:*"
DIR645_HW = "cpe:2.3:h:dlink:dir-645:-:*:*:*:*:*:*:*"
DIR859_HW = "cpe:2.3:h:dlink:dir-859:-:*:*:*:*:*:*:*"
HIK_HW = r"cpe:2.3:h:hikvision:ds-2cd2026g2-iu\/sl:-:*:*:*:*:*:*:*"


def fw(vendor_product: str, version: str, update: str = "*") -> str:
    return f"cpe:2.3:o:{vendor_product}:{version}:{update}:*:*:*:*:*:*"


CASES = [
    # CVE-2017-17215: firmware "-" (NA) running on hardware "-": an AND of two nodes
    ("CVE-2017-17215", [HG532_FW, HG532_HW], True),
    ("CVE-2017-17215", [HG532_FW], False),  # hardware node fails: AND does not hold
    ("CVE-2017-17215", [HG532_HW], False),  # no vulnerable entry matched
    ("CVE-2017-17215", [fw("huawei:hg532_firmware", "V100R001C01B016"), HG532_HW], False),
    ("CVE-2017-17215", [fw("huawei:hg532_firmware", "*"), HG532_HW], False),  # ANY < NA
    (
        "CVE-2017-17215",
        [
            "cpe:2.3:o:huawei:hg532_firmware:-:*:*:*:*:*:*:*",
            "cpe:2.3:h:huawei:hg532e:-:*:*:*:*:*:*:*",
        ],
        False,
    ),  # other model
    (
        "CVE-2017-17215",
        [
            "CPE:2.3:O:HUAWEI:HG532_FIRMWARE:-:*:*:*:*:*:*:*",
            "cpe:2.3:h:Huawei:HG532:-:*:*:*:*:*:*:*",
        ],
        True,
    ),  # case-insensitive
    # CVE-2016-10401 and CVE-2018-10561: the same firmware-on-hardware form
    (
        "CVE-2016-10401",
        [
            "cpe:2.3:o:zyxel:pk5001z_firmware:-:*:*:*:*:*:*:*",
            "cpe:2.3:h:zyxel:pk5001z:-:*:*:*:*:*:*:*",
        ],
        True,
    ),
    (
        "CVE-2016-10401",
        [
            "cpe:2.3:o:zyxel:pk5001z_firmware:-:*:*:*:*:*:*:*",
            "cpe:2.3:h:zyxel:pk5000z:-:*:*:*:*:*:*:*",
        ],
        False,
    ),
    (
        "CVE-2018-10561",
        [
            "cpe:2.3:o:dasannetworks:gpon_router_firmware:-:*:*:*:*:*:*:*",
            "cpe:2.3:h:dasannetworks:gpon_router:-:*:*:*:*:*:*:*",
        ],
        True,
    ),
    (
        "CVE-2018-10561",
        [
            "cpe:2.3:h:dasannetworks:gpon_router:-:*:*:*:*:*:*:*",
            "cpe:2.3:o:dasannetworks:gpon_router_firmware:-:*:*:*:*:*:*:*",
        ],
        True,
    ),
    # CVE-2015-2051: versionEndIncluding 1.04b12, on hardware dir-645
    ("CVE-2015-2051", [fw("dlink:dir-645_firmware", "1.04b12"), DIR645_HW], True),  # edge
    ("CVE-2015-2051", [fw("dlink:dir-645_firmware", "1.04B12"), DIR645_HW], True),
    ("CVE-2015-2051", [fw("dlink:dir-645_firmware", "1.04b13"), DIR645_HW], False),
    ("CVE-2015-2051", [fw("dlink:dir-645_firmware", "1.04b11"), DIR645_HW], True),
    ("CVE-2015-2051", [fw("dlink:dir-645_firmware", "1.04"), DIR645_HW], True),  # prefix
    ("CVE-2015-2051", [fw("dlink:dir-645_firmware", "1.03"), DIR645_HW], True),
    ("CVE-2015-2051", [fw("dlink:dir-645_firmware", "1.05b01"), DIR645_HW], False),
    ("CVE-2015-2051", [fw("dlink:dir-645_firmware", "1.10"), DIR645_HW], False),  # 10 > 4
    ("CVE-2015-2051", [fw("dlink:dir-645_firmware", "-"), DIR645_HW], False),  # NA: no range
    ("CVE-2015-2051", [fw("dlink:dir-645_firmware", "*"), DIR645_HW], False),  # ANY: no range
    ("CVE-2015-2051", [fw("dlink:dir-645_firmware", "1.03")], False),  # no hardware
    (
        "CVE-2015-2051",
        [fw("dlink:dir-645_firmware", "1.03"), "cpe:2.3:h:dlink:dir-645:a1:*:*:*:*:*:*:*"],
        False,
    ),  # "-" != a1
    # CVE-2019-17621: exact versions, one with update beta01
    ("CVE-2019-17621", [fw("dlink:dir-859_firmware", "1.05"), DIR859_HW], True),
    ("CVE-2019-17621", [fw("dlink:dir-859_firmware", "1.05.0"), DIR859_HW], False),  # exact
    ("CVE-2019-17621", [fw("dlink:dir-859_firmware", "1.06b01", "beta01"), DIR859_HW], True),
    ("CVE-2019-17621", [fw("dlink:dir-859_firmware", "1.06b01"), DIR859_HW], False),  # ANY upd.
    ("CVE-2019-17621", [fw("dlink:dir-859_firmware", "1.06b01", "-"), DIR859_HW], False),
    ("CVE-2019-17621", [fw("dlink:dir-645_firmware", "1.05"), DIR859_HW], False),
    # CVE-2023-1389: versionEndExcluding 1.1.4, on hardware version 3.0
    (
        "CVE-2023-1389",
        [
            fw("tp-link:archer_ax21_firmware", "1.1.3"),
            "cpe:2.3:h:tp-link:archer_ax21:3.0:*:*:*:*:*:*:*",
        ],
        True,
    ),
    (
        "CVE-2023-1389",
        [
            fw("tp-link:archer_ax21_firmware", "1.1.4"),
            "cpe:2.3:h:tp-link:archer_ax21:3.0:*:*:*:*:*:*:*",
        ],
        False,
    ),  # excluded
    (
        "CVE-2023-1389",
        [
            fw("tp-link:archer_ax21_firmware", r"1.1.2\ build\ 20220112"),
            "cpe:2.3:h:tp-link:archer_ax21:3.0:*:*:*:*:*:*:*",
        ],
        True,
    ),
    (
        "CVE-2023-1389",
        [
            fw("tp-link:archer_ax21_firmware", r"1.1.4\ build\ 20230219"),
            "cpe:2.3:h:tp-link:archer_ax21:3.0:*:*:*:*:*:*:*",
        ],
        False,
    ),
    (
        "CVE-2023-1389",
        [
            fw("tp-link:archer_ax21_firmware", "1.1.3"),
            "cpe:2.3:h:tp-link:archer_ax21:-:*:*:*:*:*:*:*",
        ],
        False,
    ),  # 3.0 vs NA
    (
        "CVE-2023-1389",
        [
            fw("tp-link:archer_ax21_firmware", "1.1.3"),
            "cpe:2.3:h:tp-link:archer_ax21:*:*:*:*:*:*:*:*",
        ],
        False,
    ),  # 3.0 vs ANY
    # CVE-2018-14847: one node, versionEndIncluding 6.42, no hardware
    ("CVE-2018-14847", [fw("mikrotik:routeros", "6.42")], True),
    ("CVE-2018-14847", [fw("mikrotik:routeros", "6.42.1")], False),
    ("CVE-2018-14847", [fw("mikrotik:routeros", "6.41.4")], True),
    ("CVE-2018-14847", [fw("mikrotik:routeros", "6.38.5")], True),
    ("CVE-2018-14847", [fw("mikrotik:routeros", "6.43")], False),
    ("CVE-2018-14847", [fw("mikrotik:routeros", "6.100")], False),
    ("CVE-2018-14847", [fw("mikrotik:routeros", "5.26")], True),
    ("CVE-2018-14847", ["cpe:2.3:a:mikrotik:routeros:6.40:*:*:*:*:*:*:*"], False),  # part a
    (
        "CVE-2018-14847",
        [fw("mikrotik:routeros", "6.40").replace(":*:*:*:*:*:*", ":*:*:*:*:arm:*")],
        True,
    ),  # target_hw given by the device, ANY in the criteria: SUPERSET
    # CVE-2021-36260: escaped "/" in product names; start/end ranges
    (
        "CVE-2021-36260",
        [fw(r"hikvision:ds-2cd2026g2-iu\/sl_firmware", "5.5.800_build210627"), HIK_HW],
        True,
    ),
    (
        "CVE-2021-36260",
        [fw(r"hikvision:ds-2cd2026g2-iu\/sl_firmware", "5.5.800_build210628"), HIK_HW],
        False,
    ),  # excluded end
    ("CVE-2021-36260", [fw(r"hikvision:ds-2cd2026g2-iu\/sl_firmware", "V5.5.0"), HIK_HW], True),
    ("CVE-2021-36260", [fw(r"hikvision:ds-2cd2026g2-iu\/sl_firmware", "5.6.0"), HIK_HW], False),
    ("CVE-2021-36260", [fw("hikvision:ds-2cd2026g2-iu_firmware", "5.5.0"), HIK_HW], False),
    (
        "CVE-2021-36260",
        [
            fw("hikvision:ds-2cd2146g2-isu_firmware", "5.5.0"),
            "cpe:2.3:h:hikvision:ds-2cd2146g2-isu:-:*:*:*:*:*:*:*",
        ],
        True,
    ),  # start
    (
        "CVE-2021-36260",
        [
            fw("hikvision:ds-2cd2146g2-isu_firmware", "5.4.9"),
            "cpe:2.3:h:hikvision:ds-2cd2146g2-isu:-:*:*:*:*:*:*:*",
        ],
        False,
    ),
    (
        "CVE-2021-36260",
        [
            fw(r"hikvision:ds-7604ni-q1\/4p_firmware", "4.30.219"),
            r"cpe:2.3:h:hikvision:ds-7604ni-q1\/4p:-:*:*:*:*:*:*:*",
        ],
        True,
    ),
    (
        "CVE-2021-36260",
        [fw(r"hikvision:ds-7604ni-q1\/4p_firmware", "4.30.219"), HIK_HW],
        False,
    ),  # firmware of one model on another's hardware
]


@pytest.mark.parametrize(("cve", "cpes", "applies"), CASES)
def test_applicability(real_db: VulnDb, cve: str, cpes: list[str], applies: bool) -> None:
    found = {m.cve for m in match(cpes, real_db)}
    assert (cve in found) is applies, (cpes, found)


def test_only_the_right_cves(real_db: VulnDb) -> None:
    got = match([fw("dlink:dir-645_firmware", "1.03"), DIR645_HW], real_db)
    assert [m.cve for m in got] == ["CVE-2015-2051"]
    m = got[0]
    assert m.kev is True and m.cvss == 9.8 and m.cvss_version == "3.1"
    assert m.severity == "CRITICAL"
    assert m.vuln_cpe == "cpe:2.3:o:dlink:dir-645_firmware:1.03:*:*:*:*:*:*:*"
    assert m.criteria == "cpe:2.3:o:dlink:dir-645_firmware:*:*:*:*:*:*:*:*"


def test_primary_metric_preferred_over_secondary(real_db: VulnDb) -> None:
    rec = real_db.records["CVE-2023-1389"]
    assert rec.cvss is not None and rec.cvss.primary and "PR:L" in (rec.cvss.vector or "")


def test_v30_used_when_no_v31(real_db: VulnDb) -> None:
    c = real_db.records["CVE-2017-17215"].cvss
    assert c is not None and (c.version, c.score, c.severity) == ("3.0", 8.8, "HIGH")


def test_device_with_unquoted_banner_version(real_db: VulnDb) -> None:
    """A fingerprint-built CPE with an unquoted space still matches (read leniently)."""
    got = match(
        [
            "cpe:2.3:o:tp-link:archer_ax21_firmware:1.1.2 Build 20220112 rel.50498(5553)"
            ":*:*:*:*:*:*:*",
            "cpe:2.3:h:tp-link:archer_ax21:3.0:*:*:*:*:*:*:*",
        ],
        real_db,
    )
    assert [m.cve for m in got] == ["CVE-2023-1389"]
