"""The shipped device catalog: loads, is big and varied enough, and agrees with the knowledge
package (credentials, CVEs) so a perfect survey would find every weak or vulnerable device."""

from __future__ import annotations

import re
from collections import Counter
from pathlib import Path

import pytest

from iotscope.errors import ConfigError
from iotscope.knowledge import cves_for, load_default_credentials
from iotscope.lab._catalog import Catalog, load_catalog, load_catalog_files
from tests.knowledge._presented import presented

CVE = re.compile(r"\ACVE-(?:199\d|20[0-2]\d)-\d{4,7}\Z")


@pytest.fixture(scope="module")
def catalog() -> Catalog:
    return load_catalog()


def test_catalog_is_large_and_ids_unique(catalog: Catalog) -> None:
    ids = [p.id for p in catalog.profiles]
    assert len(ids) >= 40
    assert len(set(ids)) == len(ids)
    assert all(re.fullmatch(r"[a-z0-9]+(?:-[a-z0-9]+)*", i) for i in ids)


def test_every_service_kind_is_modelled(catalog: Catalog) -> None:
    services = [s for p in catalog.profiles for s in p.services]
    kinds = {s.service for s in services}
    assert kinds == {"telnet", "ssh", "http", "https", "rtsp", "ssdp", "mqtt"}
    assert any(s.service == "telnet" and s.no_auth for s in services)
    assert any(s.service == "telnet" and s.lockout_after > 0 for s in services)
    assert {s.auth for s in services if s.service == "http"} >= {"basic", "digest", "form"}
    assert any(s.service == "https" and s.cert_subject for s in services)
    assert any(s.service == "ssdp" and s.transport == "udp" and s.port == 1900 for s in services)
    assert {s.anonymous for s in services if s.service == "mqtt"} == {True, False}


def test_device_types_cover_the_iot_population(catalog: Catalog) -> None:
    types = Counter(p.device_type for p in catalog.profiles)
    for kind in ("IP Camera", "DVR", "Router", "NAS", "Printer"):
        assert types[kind] >= 2, kind


def test_every_version_is_presented_without_login(catalog: Catalog) -> None:
    for profile in catalog.profiles:
        for version in profile.versions:
            for model in profile.all_models():
                texts = [text for _, text in presented(profile, version, model)]
                assert any(version.version in t for t in texts), (profile.id, version.version)


def test_versions_per_profile(catalog: Catalog) -> None:
    for profile in catalog.profiles:
        names = [v.version for v in profile.versions]
        assert len(set(names)) == len(names) >= 2, profile.id


def test_every_default_credential_is_on_the_default_list(catalog: Catalog) -> None:
    listed = {
        (proto, e.username, e.password) for e in load_default_credentials() for proto in e.protocols
    }
    for profile in catalog.profiles:
        for cred in profile.defaults:
            if cred.username is None:
                assert cred.password is None, profile.id
                continue
            key = (cred.protocol, cred.username, cred.password or "")
            assert key in listed, (profile.id, key)


def test_lockout_devices_fall_to_the_list_before_locking(catalog: Catalog) -> None:
    """A device that locks after N failures must accept its default within the list's first N."""
    entries = load_default_credentials()
    for profile in catalog.profiles:
        for svc in profile.services:
            if svc.lockout_after == 0:
                continue
            order = [(e.username, e.password) for e in entries if svc.service in e.protocols]
            for cred in profile.defaults:
                if cred.protocol == svc.service and cred.username is not None:
                    pair = (cred.username, cred.password or "")
                    assert order.index(pair) < svc.lockout_after, (profile.id, pair)


def test_cves_well_formed_and_agree_with_knowledge(catalog: Catalog) -> None:
    for profile in catalog.profiles:
        for version in profile.versions:
            assert all(CVE.match(c) for c in version.cves), (profile.id, version.cves)
            expected = tuple(sorted(version.cves))
            got = cves_for(profile.vendor, profile.product, version.version)
            assert got == expected, (profile.id, version.version)


def test_cpe_templates_are_cpe23_with_version(catalog: Catalog) -> None:
    for profile in catalog.profiles:
        assert profile.cpe is not None, profile.id
        parts = profile.cpe.split(":")
        assert parts[:2] == ["cpe", "2.3"] and len(parts) == 13, profile.id
        assert parts[5] == "{version}", profile.id


def test_overrides_name_existing_services(catalog: Catalog) -> None:
    for profile in catalog.profiles:
        kinds = {s.service for s in profile.services}
        for version in profile.versions:
            assert set(version.overrides) <= kinds, (profile.id, version.version)


def test_bad_catalog_file_is_a_config_error(tmp_path: Path) -> None:
    bad = tmp_path / "bad.toml"
    bad.write_text('[[profile]]\nid = "x"\nvendor = "V"\n')
    with pytest.raises(ConfigError):
        load_catalog_files([bad])
