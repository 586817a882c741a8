"""Firmware version -> CVEs lookup."""

from __future__ import annotations

import pytest

from iotscope.errors import ConfigError
from iotscope.knowledge import _vulns, cves_for


def test_known_version_gives_sorted_cves() -> None:
    got = cves_for("Hikvision", "DS-2CD Network Camera", "V5.4.0 build 160530")
    assert got == ("CVE-2017-7921", "CVE-2021-36260")


def test_lookup_is_case_insensitive_and_exact() -> None:
    assert cves_for("huawei", "hg532 home gateway", "v100r001c01b016") == ("CVE-2017-17215",)
    assert cves_for("Huawei", "HG532 Home Gateway", "V100R001C01B01") == ()


@pytest.mark.parametrize(
    "args",
    [(None, "RouterOS", "6.38.5"), ("MikroTik", None, "6.38.5"), ("MikroTik", "RouterOS", None)],
)
def test_unknown_parts_give_nothing(args: tuple[str | None, str | None, str | None]) -> None:
    assert cves_for(*args) == ()


def test_patched_version_has_no_cves() -> None:
    assert cves_for("MikroTik", "RouterOS", "6.48.6") == ()
    assert cves_for("MikroTik", "RouterOS", "6.38.5") == (
        "CVE-2018-14847",
        "CVE-2018-7445",
        "CVE-2019-3943",
    )


def test_entries_for_the_same_version_are_unioned() -> None:
    doc = {
        "vuln": [
            {"vendor": "V", "product": "P", "versions": ["1"], "cves": ["CVE-2020-0001"]},
            {"vendor": "v", "product": "p", "versions": ["1", "2"], "cves": ["CVE-2019-0002"]},
        ]
    }
    table = _vulns._index(doc)
    assert table[("v", "p", "1")] == {"CVE-2020-0001", "CVE-2019-0002"}
    assert table[("v", "p", "2")] == {"CVE-2019-0002"}


@pytest.mark.parametrize(
    "doc",
    [
        {"vuln": [{"vendor": "V", "product": "P", "versions": ["1"], "cves": ["CVE-20-1"]}]},
        {"vuln": [{"vendor": "V", "versions": ["1"], "cves": []}]},
        {"vuln": "nope"},
    ],
)
def test_bad_vulns_data_is_a_config_error(doc: dict[str, object]) -> None:
    with pytest.raises(ConfigError):
        _vulns._index(doc)
