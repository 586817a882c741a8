"""iotscope's shipped Recog rules identify every lab device from what it shows before login.

For each catalog profile, firmware version and model: render the strings the lab presents
(banner, SSH version, Server, title, realm, body, certificate subject, RTSP/SSDP server), run
``iotscope.fingerprint.identify`` on each, and check that (a) merged, first non-null per field,
they give the catalog's vendor, product and version, and (b) no single match that names a
vendor contradicts the catalog in any field, so the merge order a survey uses does not matter
(a match naming only server software, such as ``lighttpd/1.4.69``, names no device).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from iotscope.lab._catalog import Profile, Version, load_catalog
from tests.knowledge._presented import fill, presented


def _load_identify() -> Callable[..., Any] | None:
    """The engine's ``identify``, or None while the engine (built in parallel) is missing."""
    try:
        from iotscope.fingerprint import identify as found
    except ImportError:
        return None
    return found


identify = _load_identify()
pytestmark = pytest.mark.skipif(
    identify is None, reason="iotscope.fingerprint.identify not importable yet"
)

FIELDS = ("vendor", "product", "model", "version", "device_type", "cpe")
CATALOG = load_catalog()


def _expected(profile: Profile, version: Version, model: str) -> dict[str, str | None]:
    cpe = fill(profile.cpe, profile, version, model) if profile.cpe else None
    return {
        "vendor": profile.vendor,
        "product": profile.product,
        "model": model,
        "version": version.version,
        "device_type": profile.device_type,
        "cpe": cpe,
    }


def _cases() -> list[Any]:
    return [
        pytest.param(p, v, m, prompt, id=f"{p.id}-{v.version}-{m}-{'prompt' if prompt else 'cut'}")
        for p in CATALOG.profiles
        for v in p.versions
        for m in p.all_models()
        for prompt in (True, False)
    ]


@pytest.mark.parametrize(("profile", "version", "model", "prompt"), _cases())
def test_device_identified_without_login(
    profile: Profile, version: Version, model: str, prompt: bool
) -> None:
    assert identify is not None
    expected = _expected(profile, version, model)
    merged: dict[str, str] = {}
    for kind, text in presented(profile, version, model, telnet_prompt=prompt):
        match = identify(kind, text)
        if match is None or match.identity is None or not match.identity.vendor:
            continue  # no match, or one naming server software only (no device vendor)
        for field in FIELDS:
            value = getattr(match.identity, field)
            if value:
                assert value == expected[field], (kind, text, field, match.rule)
                merged.setdefault(field, value)
    for field in ("vendor", "product", "version"):
        assert merged.get(field) == expected[field], (field, merged)


def test_shipped_rule_files_verify() -> None:
    """Recog semantics: every example of every shipped rules file matches and yields its values."""
    from pathlib import Path

    import iotscope.fingerprint
    from iotscope.fingerprint import verify_file

    rules = Path(iotscope.fingerprint.__file__).parent / "rules"
    files = sorted(rules.glob("*.xml"))
    assert {f.name for f in files} >= {
        "telnet_banners.xml",
        "ssh_banners.xml",
        "http_servers.xml",
        "html_title.xml",
        "http_wwwauth.xml",
        "http_body.xml",
        "rtsp_servers.xml",
        "ssdp_servers.xml",
        "x509_subjects.xml",
    }
    for path in files:
        report = verify_file(path)
        assert report.ok, (path.name, report.failures[:3])
        assert report.checked >= report.fingerprints
