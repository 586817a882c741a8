"""CPE 2.3 formatted strings (NISTIR 7695 s6.2) and attribute comparison (NISTIR 7696)."""

from __future__ import annotations

import pytest

from iotscope.vulns import CpeError, name_match, parse_cpe
from iotscope.vulns._cpe import ANY, NA, Rel, Value, compare


def test_escapes_are_unquoted_and_requoted() -> None:
    c = parse_cpe(r"cpe:2.3:o:hikvision:ds-7604ni-q1\/4p_firmware:v4\.0\:1:*:*:*:*:*:*:*")
    assert c.product.text == "ds-7604ni-q1/4p_firmware"
    assert c.version.text == "v4.0:1"
    assert c.to_fs() == r"cpe:2.3:o:hikvision:ds-7604ni-q1\/4p_firmware:v4.0\:1:*:*:*:*:*:*:*"


def test_any_na_and_literal_dash() -> None:
    c = parse_cpe(r"cpe:2.3:h:zyxel:pk5001z:-:*:\-:*:*:*:*:*")
    assert c.version is NA and c.values[4] is ANY
    assert c.values[5] == Value("value", "-")
    assert c.to_fs() == r"cpe:2.3:h:zyxel:pk5001z:-:*:\-:*:*:*:*:*"


def test_wildcards_only_at_the_ends() -> None:
    c = parse_cpe("cpe:2.3:a:micro*:??office:*:*:*:*:*:*:*:*")
    assert (c.vendor.text, c.vendor.tail) == ("micro", "*")
    assert (c.product.head, c.product.text) == ("??", "office")
    with pytest.raises(CpeError, match="wildcard inside"):
        parse_cpe("cpe:2.3:a:mi*cro:office:*:*:*:*:*:*:*:*")
    with pytest.raises(CpeError, match="wildcards"):
        parse_cpe("cpe:2.3:a:vendor:**x:*:*:*:*:*:*:*:*")
    quoted = parse_cpe(r"cpe:2.3:a:vendor:x\*:*:*:*:*:*:*:*:*")
    assert not quoted.product.wild and quoted.product.text == "x*"


@pytest.mark.parametrize(
    "bad",
    [
        "cpe:/o:huawei:hg532_firmware",  # CPE 2.2 URI
        "cpe:2.3:o:huawei:hg532_firmware:1.0:*:*:*:*:*:*",  # ten attributes
        "cpe:2.3:o:huawei:hg532_firmware:1.0:*:*:*:*:*:*:*:*",  # twelve
        "cpe:2.3:x:huawei:hg532_firmware:1.0:*:*:*:*:*:*:*",  # part
        "cpe:2.3:o:huawei:hg532 firmware:1.0:*:*:*:*:*:*:*",  # unquoted space
        "cpe:2.3:o:huawei:hg532(x):1.0:*:*:*:*:*:*:*",  # unquoted parenthesis
        "cpe:2.3:o:huawei::1.0:*:*:*:*:*:*:*",  # empty attribute
        "cpe:2.3:o:huawei:hg532:1.0:*:*:*:*:*:*:*\\",  # lone backslash
        "",
    ],
)
def test_rejects(bad: str) -> None:
    with pytest.raises(CpeError):
        parse_cpe(bad)


def test_lenient_reads_banner_versions() -> None:
    c = parse_cpe("cpe:2.3:o:zyxel:p-660hn_firmware:V1.02(VH.0)T1:*:*:*:*:*:*:*", lenient=True)
    assert c.version.text == "v1.02(vh.0)t1" and not c.version.wild
    assert parse_cpe(c.to_fs()) == c


# NISTIR 7696 Table 6-2, source (criterion) against target (name)
V = Value("value", "1.0")
W = Value("value", "1.", tail="*")


@pytest.mark.parametrize(
    ("source", "target", "rel"),
    [
        (ANY, ANY, Rel.EQUAL),
        (ANY, NA, Rel.SUPERSET),
        (ANY, V, Rel.SUPERSET),
        (NA, ANY, Rel.SUBSET),
        (NA, NA, Rel.EQUAL),
        (NA, V, Rel.DISJOINT),
        (V, ANY, Rel.SUBSET),
        (V, NA, Rel.DISJOINT),
        (V, V, Rel.EQUAL),
        (V, Value("value", "1.1"), Rel.DISJOINT),
        (W, V, Rel.SUPERSET),
        (W, Value("value", "2.0"), Rel.DISJOINT),
        (V, W, Rel.UNDEFINED),
        (W, W, Rel.UNDEFINED),
        (ANY, W, Rel.UNDEFINED),
        (NA, W, Rel.UNDEFINED),
        (Value("value", "1.", tail="?"), V, Rel.SUPERSET),
        (Value("value", "1.", tail="?"), Value("value", "1.10"), Rel.DISJOINT),
        (Value("value", "1.", tail="??"), Value("value", "1."), Rel.SUPERSET),  # up to n
        (Value("value", "0", head="??"), Value("value", "1.0"), Rel.SUPERSET),
    ],
)
def test_table_6_2(source: Value, target: Value, rel: Rel) -> None:
    assert compare(source, target) is rel


def test_name_match_needs_superset_or_equal_everywhere() -> None:
    crit = parse_cpe("cpe:2.3:o:dlink:dir-8*:1.05:*:*:*:*:*:*:*")
    assert name_match(crit, parse_cpe("cpe:2.3:o:dlink:dir-859:1.05:*:*:*:*:*:*:*"))
    assert not name_match(crit, parse_cpe("cpe:2.3:o:dlink:dir-645:1.05:*:*:*:*:*:*:*"))
    assert not name_match(crit, parse_cpe("cpe:2.3:o:dlink:dir-859:*:*:*:*:*:*:*:*"))
