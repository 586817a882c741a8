"""Which credential a service accepts, and when it counts as weak."""

from __future__ import annotations

import random

from iotscope.lab._catalog import DefaultCredential, Profile, ServiceProfile, Version
from iotscope.lab._creds import (
    choose_pair,
    credential_protocol,
    is_open,
    needs_login,
    public_pairs,
    strong_password,
)


def profile(defaults: list[DefaultCredential]) -> Profile:
    return Profile(id="p", vendor="V", product="P", model="M", device_type="Router",
                   versions=[Version(version="1")], defaults=defaults,
                   services=[ServiceProfile(service="telnet", port=23)])  # fmt: skip


def test_needs_login_by_service() -> None:
    assert needs_login(ServiceProfile(service="ssh", port=22))
    assert needs_login(ServiceProfile(service="telnet", port=23))
    assert not needs_login(ServiceProfile(service="telnet", port=23, no_auth=True))
    assert not needs_login(ServiceProfile(service="http", port=80))
    assert needs_login(ServiceProfile(service="https", port=443, auth="form"))
    assert not needs_login(ServiceProfile(service="mqtt", port=1883, anonymous=True))
    assert not needs_login(ServiceProfile(service="ssdp", port=1900, transport="udp"))
    assert is_open(ServiceProfile(service="mqtt", port=1883, anonymous=True))
    assert credential_protocol("https") == "http"


def test_weak_device_keeps_the_vendor_default_or_a_listed_pair() -> None:
    prof = profile([DefaultCredential(protocol="telnet", username="root", password="vizxv")])
    listed = set(public_pairs().get("telnet", ()))
    rng = random.Random(1)
    for _ in range(200):
        pair = choose_pair(prof, "telnet", True, rng)
        assert pair.weak
        assert (pair.username, pair.password) == ("root", "vizxv") or (
            (pair.username, pair.password) in listed
        )


def test_vendor_default_with_no_login_means_open() -> None:
    prof = profile([DefaultCredential(protocol="telnet")])
    pairs = {choose_pair(prof, "telnet", True, random.Random(i)).open for i in range(50)}
    assert True in pairs


def test_strong_device_keeps_the_user_with_a_random_password() -> None:
    prof = profile([DefaultCredential(protocol="telnet", username="admin", password="admin")])
    pair = choose_pair(prof, "telnet", False, random.Random(2))
    assert pair.username == "admin" and not pair.weak and len(pair.password or "") == 16
    assert strong_password(random.Random(5)) == strong_password(random.Random(5))
