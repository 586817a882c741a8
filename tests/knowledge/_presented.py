"""What a lab device of a catalog profile shows a scanner that does not log in.

Test helper shared by the catalog and rule-coverage tests: renders a profile's service fields
for one firmware version (overrides applied, placeholders filled with fixed values) and pairs
each string with the Recog service kind it is matched under.
"""

from __future__ import annotations

from iotscope.lab._catalog import Profile, ServiceProfile, Version

FIXED = {"mac": "00:1A:2B:3C:4D:5E", "serial": "DS0123456789", "hostname": "nas-4d5e"}


def fill(text: str, profile: Profile, version: Version, model: str) -> str:
    """Replace only the known placeholders (bodies may hold JavaScript braces)."""
    values = {
        "vendor": profile.vendor,
        "product": profile.product,
        "model": model,
        "version": version.version,
        **FIXED,
    }
    for key, value in values.items():
        text = text.replace("{" + key + "}", value)
    return text


def _service(svc: ServiceProfile, version: Version) -> ServiceProfile:
    override = version.overrides.get(svc.service, {})
    return svc.model_copy(update=override) if override else svc


def _realm_header(svc: ServiceProfile, realm: str) -> str:
    if svc.auth == "digest":
        return f'Digest realm="{realm}", qop="auth", nonce="4e6f6e6365", opaque="0a1b2c"'
    return f'Basic realm="{realm}"'


def _strings(svc: ServiceProfile, model: str, prompt: bool) -> list[tuple[str, str | None]]:
    if svc.service == "telnet":
        shown = (svc.shell_prompt if svc.no_auth else svc.login_prompt) if prompt else ""
        return [("telnet", ((svc.banner or "") + shown).strip())]
    if svc.service == "ssh":
        return [("ssh", svc.version_string)]
    if svc.service in ("ssdp", "rtsp"):
        return [(svc.service, svc.server)]
    if svc.service not in ("http", "https"):
        return []
    cert = ("x509_subject", svc.cert_subject)
    if svc.auth in ("basic", "digest"):  # before login only the 401 answer is visible
        return [("http", svc.server), ("http_realm", _realm_header(svc, svc.realm or model)), cert]
    return [("http", svc.server), ("http_title", svc.title), ("http_body", svc.body), cert]


def presented(
    profile: Profile, version: Version, model: str, telnet_prompt: bool = True
) -> list[tuple[str, str]]:
    """``(recog service kind, string)`` for every identifying string the device presents.

    A telnet banner is shown with its login prompt (Recog's convention) or, with
    ``telnet_prompt=False``, without it (what a survey that cuts the prompt off reports).
    """
    out: list[tuple[str, str]] = []
    for svc in profile.services:
        for kind, text in _strings(_service(svc, version), model, telnet_prompt):
            if text:
                out.append((kind, fill(text, profile, version, model)))
    return out
