"""Params -> Identity precedence, merging, and CPE 2.2 -> 2.3."""

from __future__ import annotations

import pytest

from iotscope.fingerprint import cpe22_to_23, identity_from_params, merge_identities
from iotscope.records import Identity


def test_hardware_beats_os_beats_service() -> None:
    identity = identity_from_params(
        {
            "service.vendor": "BusyBox",
            "os.vendor": "Linux",
            "hw.vendor": "Hikvision",
            "service.product": "telnetd",
            "os.product": "Linux",
            "hw.model": "DS-2CD2032",
            "os.version": "3.0.8",
            "os.device": "General",
            "hw.device": "IP Camera",
            "service.cpe23": "cpe:2.3:a:busybox:busybox:*:*:*:*:*:*:*:*",
        }
    )
    assert identity == Identity(
        vendor="Hikvision",
        product="Linux",
        model="DS-2CD2032",
        version="3.0.8",
        device_type="IP Camera",
        cpe="cpe:2.3:a:busybox:busybox:*:*:*:*:*:*:*:*",
    )


def test_empty_values_and_certainty_only_assert_nothing() -> None:
    assert identity_from_params({"hw.vendor": "", "hw.certainty": "0.0"}) is None
    assert identity_from_params({"hw.vendor": "", "os.vendor": "Cisco"}) == Identity(vendor="Cisco")


def test_merge_fills_fields_only_from_identities_that_agree() -> None:
    merged = merge_identities(
        [None, Identity(vendor="A", version="1"), Identity(vendor="B", model="M", version="2"),
         Identity(vendor="a", model="M1", device_type="DVR")]
    )  # fmt: skip
    assert merged == Identity(vendor="A", model="M1", version="1", device_type="DVR")
    assert merge_identities([None, None]) is None
    assert merge_identities([]) is None


def test_merge_never_gives_a_device_its_web_server_version() -> None:
    title = Identity(vendor="Synology", product="DSM")
    server = Identity(product="lighttpd", version="1.4.69")
    assert merge_identities([title, server]) == title
    assert merge_identities([server, title]) == title  # the base is the one naming a vendor
    camera = Identity(vendor="Hikvision")
    assert merge_identities([camera, server]) == camera
    assert merge_identities([server]) == server
    same = Identity(vendor="Synology", product="dsm", version="7.1")
    expected = Identity(vendor="Synology", product="DSM", version="7.1")
    assert merge_identities([title, same]) == expected


def test_software_identity_has_product_and_version_but_no_device_vendor() -> None:
    params = {"service.vendor": "Matt Johnston", "service.family": "Dropbear"}
    identity = identity_from_params({**params, "service.version": "2022.83"})
    assert identity == Identity(product="Dropbear", version="2022.83")


@pytest.mark.parametrize(
    ("uri", "fs"),
    [
        ("cpe:/a:cisco:telnet", "cpe:2.3:a:cisco:telnet:*:*:*:*:*:*:*:*"),
        ("cpe:/o:linux:linux_kernel:2.6", "cpe:2.3:o:linux:linux_kernel:2.6:*:*:*:*:*:*:*"),
        ("cpe:/h:d-link:dir-600:-", "cpe:2.3:h:d-link:dir-600:-:*:*:*:*:*:*:*"),
        ("cpe:/a:foo%21:bar+baz", "cpe:2.3:a:foo\\!:bar\\+baz:*:*:*:*:*:*:*:*"),
        ("cpe:/a:hp:ov:1.0:sp1:~~pro~win~x64~:en", "cpe:2.3:a:hp:ov:1.0:sp1:*:en:pro:win:x64:*"),
    ],
)
def test_cpe22_to_23(uri: str, fs: str) -> None:
    assert cpe22_to_23(uri) == fs


def test_cpe22_to_23_rejects_non_uris() -> None:
    assert cpe22_to_23("cpe:2.3:a:x:y:*:*:*:*:*:*:*:*") is None
    assert cpe22_to_23("cpe:/z:x") is None


def test_service_version_never_becomes_the_device_version() -> None:
    params = {"hw.vendor": "Dahua", "service.family": "Dahua RTSP", "service.version": "3.0"}
    assert identity_from_params(params) == Identity(vendor="Dahua")
