"""NVD applicability on hand-checked real IoT records: every range form, escapes, AND.

Each case: a device (its set of CPE names) and whether the CVE applies, worked out by hand
from NISTIR 7696 (criteria = source, device name = target; SUPERSET or EQUAL on every
attribute) and the record's ranges, at the edges of each range."""

from __future__ import annotations

import pytest

from iotscope.vulns import VulnDb, match

HG532_FW = "cpe:2.3:o:huawei:hg532_firmware:-:*:*:*:*:*:*:*"
HG532_HW = "cpe:2.3:h:huawei:hg532:-:*:*:*:*:*:*:*"
DIR645_A1 = "cpe:2.3:h:dlink:dir-645:a1:*:*:*:*:*:*:*"
DIR859_HW = "cpe:2.3:h:dlink:dir-859:-:*:*:*:*:*:*:*"
DIR822_HW = "cpe:2.3:h:dlink:dir-822:-:*:*:*:*:*:*:*"
DIR823_HW = "cpe:2.3:h:dlink:dir-823:-:*:*:*:*:*:*:*"
AX21_HW = "cpe:2.3:h:tp-link:archer_ax21:-:*:*:*:*:*:*:*"
HIK_FW = r"cpe:2.3:o:hikvision:ds-2cd2026g2-iu\/sl_firmware:-:*:*:*:*:*:*:*"
HIK_HW = r"cpe:2.3:h:hikvision:ds-2cd2026g2-iu\/sl:-:*:*:*:*:*:*:*"
NAS326_HW = "cpe:2.3:h:zyxel:nas326:-:*:*:*:*:*:*:*"
ATP100_HW = "cpe:2.3:h:zyxel:atp100:-:*:*:*:*:*:*:*"
P660_V1_HW = "cpe:2.3:h:zyxel:p660hn-t1a_v1:-:*:*:*:*:*:*:*"


def fw(vendor_product: str, version: str, update: str = "*") -> str:
    return f"cpe:2.3:o:{vendor_product}:{version}:{update}:*:*:*:*:*:*"


def hw(vendor_product: str, version: str = "-") -> str:
    return f"cpe:2.3:h:{vendor_product}:{version}:*:*:*:*:*:*:*"


# Worked out by hand from the records in data/nvd (NVD's configurations, see data/README.md):
# criteria = source, device name = target; a criteria value against a device's NA or ANY is
# DISJOINT or SUBSET (no match); NA against a value is DISJOINT; the order of versions is
# _version's (runs of digits and letters; a prefix is earlier: 1.05 < 1.05b01).
CASES = [
    # CVE-2017-17215: firmware "-" (NA) running on hardware "-": an AND of two nodes
    ("CVE-2017-17215", [HG532_FW, HG532_HW], True),
    ("CVE-2017-17215", [HG532_FW], False),  # hardware node fails: AND does not hold
    ("CVE-2017-17215", [HG532_HW], False),  # no vulnerable entry matched
    ("CVE-2017-17215", [fw("huawei:hg532_firmware", "V100R001C01B016"), HG532_HW], False),
    ("CVE-2017-17215", [fw("huawei:hg532_firmware", "*"), HG532_HW], False),  # ANY < NA
    ("CVE-2017-17215", [HG532_FW, hw("huawei:hg532e")], False),  # other model
    (
        "CVE-2017-17215",
        ["CPE:2.3:O:HUAWEI:HG532_FIRMWARE:-:*:*:*:*:*:*:*", hw("Huawei:HG532")],
        True,
    ),  # case-insensitive
    # CVE-2016-10401 and CVE-2018-10561: the same firmware-on-hardware form
    ("CVE-2016-10401", [fw("zyxel:pk5001z_firmware", "-"), hw("zyxel:pk5001z")], True),
    ("CVE-2016-10401", [fw("zyxel:pk5001z_firmware", "-"), hw("zyxel:pk5000z")], False),
    (
        "CVE-2018-10561",
        [fw("dasannetworks:gpon_router_firmware", "-"), hw("dasannetworks:gpon_router")],
        True,
    ),
    (
        "CVE-2018-10561",
        [hw("dasannetworks:gpon_router"), fw("dasannetworks:gpon_router_firmware", "-")],
        True,
    ),  # order of the device's names does not matter
    # CVE-2015-2051: versionEndExcluding 1.05b01, on hardware dir-645 revision a1
    ("CVE-2015-2051", [fw("dlink:dir-645_firmware", "1.04b12"), DIR645_A1], True),
    ("CVE-2015-2051", [fw("dlink:dir-645_firmware", "1.04b13"), DIR645_A1], True),
    ("CVE-2015-2051", [fw("dlink:dir-645_firmware", "1.05b00"), DIR645_A1], True),
    ("CVE-2015-2051", [fw("dlink:dir-645_firmware", "1.05b01"), DIR645_A1], False),  # edge
    ("CVE-2015-2051", [fw("dlink:dir-645_firmware", "1.05B01"), DIR645_A1], False),
    ("CVE-2015-2051", [fw("dlink:dir-645_firmware", "1.05"), DIR645_A1], True),  # prefix
    ("CVE-2015-2051", [fw("dlink:dir-645_firmware", "1.05b02"), DIR645_A1], False),
    ("CVE-2015-2051", [fw("dlink:dir-645_firmware", "1.10"), DIR645_A1], False),  # 10 > 5
    ("CVE-2015-2051", [fw("dlink:dir-645_firmware", "-"), DIR645_A1], False),  # NA: no range
    ("CVE-2015-2051", [fw("dlink:dir-645_firmware", "*"), DIR645_A1], False),  # ANY: no range
    ("CVE-2015-2051", [fw("dlink:dir-645_firmware", "1.03")], False),  # no hardware
    ("CVE-2015-2051", [fw("dlink:dir-645_firmware", "1.03"), hw("dlink:dir-645", "A1")], True),
    ("CVE-2015-2051", [fw("dlink:dir-645_firmware", "1.03"), hw("dlink:dir-645")], False),
    ("CVE-2015-2051", [fw("dlink:dir-645_firmware", "1.03"), hw("dlink:dir-645", "*")], False),
    ("CVE-2015-2051", [fw("dlink:dir-645_firmware", "1.03"), hw("dlink:dir-645", "b1")], False),
    # CVE-2019-17621: several configurations; an OR of a range and an exact version + update
    ("CVE-2019-17621", [fw("dlink:dir-859_firmware", "1.05b03"), DIR859_HW], True),  # edge
    ("CVE-2019-17621", [fw("dlink:dir-859_firmware", "1.05"), DIR859_HW], True),  # prefix
    ("CVE-2019-17621", [fw("dlink:dir-859_firmware", "1.05b04"), DIR859_HW], False),
    ("CVE-2019-17621", [fw("dlink:dir-859_firmware", "1.06b01", "beta1"), DIR859_HW], True),
    ("CVE-2019-17621", [fw("dlink:dir-859_firmware", "1.06b01", "beta01"), DIR859_HW], False),
    ("CVE-2019-17621", [fw("dlink:dir-859_firmware", "1.06b01"), DIR859_HW], False),  # ANY upd.
    ("CVE-2019-17621", [fw("dlink:dir-859_firmware", "1.06b01", "-"), DIR859_HW], False),
    ("CVE-2019-17621", [fw("dlink:dir-859_firmware", "1.06"), DIR859_HW], False),
    ("CVE-2019-17621", [fw("dlink:dir-859_firmware", "1.05"), DIR822_HW], False),
    ("CVE-2019-17621", [fw("dlink:dir-822_firmware", "2.03b01"), DIR822_HW], True),
    ("CVE-2019-17621", [fw("dlink:dir-822_firmware", "3.12b04"), DIR822_HW], True),  # 2nd
    ("CVE-2019-17621", [fw("dlink:dir-822_firmware", "3.12b05"), DIR822_HW], False),
    ("CVE-2019-17621", [fw("dlink:dir-822_firmware", "3.13"), DIR822_HW], False),
    ("CVE-2019-17621", [fw("dlink:dir-823_firmware", "1.00b06", "beta"), DIR823_HW], True),
    ("CVE-2019-17621", [fw("dlink:dir-823_firmware", "1.00b06"), DIR823_HW], True),  # range
    ("CVE-2019-17621", [fw("dlink:dir-823_firmware", "1.00b07", "beta"), DIR823_HW], False),
    ("CVE-2019-17621", [fw("dlink:dir-823_firmware", "1.00b06"), DIR859_HW], False),
    # CVE-2023-1389: versionEndExcluding 1.1.4, on hardware "-" (NA)
    ("CVE-2023-1389", [fw("tp-link:archer_ax21_firmware", "1.1.3"), AX21_HW], True),
    ("CVE-2023-1389", [fw("tp-link:archer_ax21_firmware", "1.1.4"), AX21_HW], False),  # edge
    (
        "CVE-2023-1389",
        [fw("tp-link:archer_ax21_firmware", r"1.1.2\ build\ 20220112"), AX21_HW],
        True,
    ),
    (
        "CVE-2023-1389",
        [fw("tp-link:archer_ax21_firmware", r"1.1.4\ build\ 20230219"), AX21_HW],
        False,
    ),
    (
        "CVE-2023-1389",
        [fw("tp-link:archer_ax21_firmware", r"1.1.3\ build\ 20221209"), AX21_HW],
        True,
    ),
    (
        "CVE-2023-1389",
        [fw("tp-link:archer_ax21_firmware", "1.1.3"), hw("tp-link:archer_ax21", "3.0")],
        False,
    ),  # NA vs 3.0
    (
        "CVE-2023-1389",
        [fw("tp-link:archer_ax21_firmware", "1.1.3"), hw("tp-link:archer_ax21", "*")],
        False,
    ),  # NA vs ANY
    # CVE-2018-14847: one node (the configuration has no operator), versionEndIncluding 6.42
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
    # CVE-2021-36260: NVD lists each model's firmware as version "-" (NA), no ranges;
    # escaped "/" and "(" ")" in product names
    ("CVE-2021-36260", [HIK_FW, HIK_HW], True),
    ("CVE-2021-36260", [HIK_FW.replace(":-:", ":5.5.0:"), HIK_HW], False),  # NA vs value
    ("CVE-2021-36260", [HIK_FW.replace(":-:", ":*:"), HIK_HW], False),  # NA vs ANY
    ("CVE-2021-36260", [fw("hikvision:ds-2cd2026g2-iu_firmware", "-"), HIK_HW], False),
    (
        "CVE-2021-36260",
        [fw(r"hikvision:ds-2cd2066g2-i\(u\)_firmware", "-"), hw(r"hikvision:ds-2cd2066g2-i\(u\)")],
        True,
    ),
    (
        "CVE-2021-36260",
        [fw(r"hikvision:ds-2cd2066g2-i\(u\)_firmware", "-"), HIK_HW],
        False,
    ),  # firmware of one model on another's hardware
    (
        "CVE-2021-36260",
        [fw("hikvision:ds-2cd2186g2-isu_firmware", "-"), hw("hikvision:ds-2cd2186g2-isu")],
        True,
    ),
    # CVE-2020-9054: escaped "(" ")" in the range bounds; start and end on one entry (ATP100)
    ("CVE-2020-9054", [fw("zyxel:nas326_firmware", "V5.21(AAZF.6)C0"), NAS326_HW], True),
    ("CVE-2020-9054", [fw("zyxel:nas326_firmware", r"5.21\(aazf.6\)c0"), NAS326_HW], True),
    ("CVE-2020-9054", [fw("zyxel:nas326_firmware", "V5.21(AAZF.7)C0"), NAS326_HW], False),
    ("CVE-2020-9054", [fw("zyxel:nas326_firmware", r"5.21\(aazf.7\)c0"), NAS326_HW], False),
    ("CVE-2020-9054", [fw("zyxel:nas326_firmware", "V5.21(AAZF.14)C0"), NAS326_HW], False),
    ("CVE-2020-9054", [fw("zyxel:nas326_firmware", "5.21"), NAS326_HW], True),  # prefix
    ("CVE-2020-9054", [fw("zyxel:nas326_firmware", "5.11"), NAS326_HW], True),
    ("CVE-2020-9054", [fw("zyxel:nas326_firmware", "5.21(AAZF.6)C0"), hw("zyxel:nas520")], False),
    ("CVE-2020-9054", [fw("zyxel:nas520_firmware", "5.21(AASZ.2)C0"), hw("zyxel:nas520")], True),
    ("CVE-2020-9054", [fw("zyxel:atp100_firmware", "4.35"), ATP100_HW], True),  # start edge
    ("CVE-2020-9054", [fw("zyxel:atp100_firmware", "4.35(ABPS.2)C0"), ATP100_HW], True),
    ("CVE-2020-9054", [fw("zyxel:atp100_firmware", "4.35(ABPS.3)C0"), ATP100_HW], False),
    ("CVE-2020-9054", [fw("zyxel:atp100_firmware", "4.34(ABPS.9)C0"), ATP100_HW], False),
    ("CVE-2020-9054", [fw("zyxel:atp100_firmware", "4.36"), ATP100_HW], False),
    # CVE-2017-18368: three configurations, each an exact firmware version on its hardware
    ("CVE-2017-18368", [fw("zyxel:p660hn-t1a_v1_firmware", "7.3.15.0"), P660_V1_HW], True),
    ("CVE-2017-18368", [fw("zyxel:p660hn-t1a_v1_firmware", "7.3.15.1"), P660_V1_HW], False),
    ("CVE-2017-18368", [fw("zyxel:p660hn-t1a_v1_firmware", "7.3.15"), P660_V1_HW], False),
    ("CVE-2017-18368", [fw("zyxel:p660hn-t1a_v2_firmware", "7.3.15.0"), P660_V1_HW], False),
    (
        "CVE-2017-18368",
        [fw("zyxel:p660hn-t1a_v2_firmware", "7.3.15.0"), hw("zyxel:p660hn-t1a_v2")],
        True,
    ),
    ("CVE-2017-18368", [fw("billion:5200w-t_firmware", "7.3.8.0"), hw("billion:5200w-t")], True),
]


@pytest.mark.parametrize(("cve", "cpes", "applies"), CASES)
def test_applicability(real_db: VulnDb, cve: str, cpes: list[str], applies: bool) -> None:
    found = {m.cve for m in match(cpes, real_db)}
    assert (cve in found) is applies, (cpes, found)


def test_only_the_right_cves(real_db: VulnDb) -> None:
    got = match([fw("dlink:dir-645_firmware", "1.03"), DIR645_A1], real_db)
    assert [m.cve for m in got] == ["CVE-2015-2051"]
    m = got[0]
    assert m.kev is True and m.cvss == 9.8 and m.cvss_version == "3.1"
    assert m.severity == "CRITICAL"
    assert m.vuln_cpe == "cpe:2.3:o:dlink:dir-645_firmware:1.03:*:*:*:*:*:*:*"
    assert m.criteria == "cpe:2.3:o:dlink:dir-645_firmware:*:*:*:*:*:*:*:*"


def test_primary_metric_preferred_over_secondary(real_db: VulnDb) -> None:
    """CVE-2015-2051: NVD's Primary 9.8 (AV:N), not CISA-ADP's Secondary 8.8 (AV:A)."""
    rec = real_db.records["CVE-2015-2051"]
    assert rec.cvss is not None and rec.cvss.primary and rec.cvss.score == 9.8
    assert "AV:N" in (rec.cvss.vector or "")


def test_v30_used_when_no_v31(real_db: VulnDb) -> None:
    c = real_db.records["CVE-2017-17215"].cvss
    assert c is not None and (c.version, c.score, c.severity) == ("3.0", 8.8, "HIGH")


def test_device_with_unquoted_banner_version(real_db: VulnDb) -> None:
    """A fingerprint-built CPE with an unquoted space still matches (read leniently)."""
    got = match(
        [
            "cpe:2.3:o:tp-link:archer_ax21_firmware:1.1.2 Build 20220112 rel.50498(5553)"
            ":*:*:*:*:*:*:*",
            AX21_HW,
        ],
        real_db,
    )
    assert [m.cve for m in got] == ["CVE-2023-1389"]
