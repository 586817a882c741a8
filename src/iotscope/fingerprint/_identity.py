"""From Recog's param names to iotscope's ``Identity``; CPE 2.2 URIs to CPE 2.3 strings.

Precedence per field (the hardware says most about an IoT device, then its OS, then the
service): vendor <- hw.vendor > os.vendor; product <- hw.product > os.product >
service.product > service.family; model <- hw.model; version <- hw.version > os.version >
service.version; device_type <- hw.device > os.device; cpe <- hw.cpe23 > os.cpe23 >
service.cpe23, where the service.* product and version count only for a match that names
no hw.* or os.* field (a software-only match). ``vendor`` is the device's (or its OS's)
maker: a software vendor (``service.vendor``, nmap's ``cpe:/a`` vendor) is not taken for
the device's, so a bare ``SSH-2.0-dropbear_2022.83`` is the product Dropbear, version
2022.83, of no known vendor.
Empty values count as absent. A match that yields no field at all has identity None.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from urllib.parse import unquote

from iotscope.records import Identity

IDENTITY_SOURCES: dict[str, tuple[str, ...]] = {
    "vendor": ("hw.vendor", "os.vendor"),
    "product": ("hw.product", "os.product", "service.product", "service.family"),
    "model": ("hw.model",),
    "version": ("hw.version", "os.version", "service.version"),
    "device_type": ("hw.device", "os.device"),
    "cpe": ("hw.cpe23", "os.cpe23", "service.cpe23"),
}
_FIELDS = tuple(IDENTITY_SOURCES)
SOFTWARE_ONLY = frozenset({"service.product", "service.family", "service.version"})
DEVICE_SOURCES = tuple(
    s for sources in IDENTITY_SOURCES.values() for s in sources if s.startswith(("hw.", "os."))
)


def identity_from_params(params: Mapping[str, str | None]) -> Identity | None:
    """The Identity the params assert, or None when they assert nothing.

    The service's own product and version (``SOFTWARE_ONLY``) count only when the params say
    nothing of the device or its OS: a rule naming a Dahua recorder and its RTSP server's
    version gives the recorder, not "Dahua RTSP 3.0".
    """
    device = any(params.get(s) for s in DEVICE_SOURCES)
    values: dict[str, str] = {}
    for name, sources in IDENTITY_SOURCES.items():
        for source in sources:
            value = params.get(source)
            if value and not (device and source in SOFTWARE_ONLY):
                values[name] = value
                break
    return Identity(**values) if values else None


def merge_identities(identities: Iterable[Identity | None]) -> Identity | None:
    """One identity from several sources, ordered by how much the caller trusts each.

    The base is the first identity that names a vendor (else the first at all); each later
    identity fills the base's empty fields only when it agrees with what is known so far: the
    same vendor (or both none; letters and digits compared, one spelling may extend the other,
    "Hikvision" and "Hikvision Digital") and, where both name one, the same product (case
    ignored). So a page title's "Synology DSM" is never given lighttpd's version, nor a camera
    the product of the web server inside it.
    """
    found = [i for i in identities if i is not None and not i.is_empty()]
    if not found:
        return None
    base = next((i for i in found if i.vendor), found[0])
    merged = base.model_dump()
    for identity in found:
        if identity is not base and _agrees(merged, identity):
            for name in _FIELDS:
                value = getattr(identity, name)
                if value and not merged.get(name):
                    merged[name] = value
    return Identity(**merged)


def _agrees(merged: dict[str, str | None], other: Identity) -> bool:
    mine_v, theirs_v = _key(merged.get("vendor")), _key(other.vendor)
    if (mine_v is None) != (theirs_v is None):
        return False
    if mine_v and theirs_v and not (mine_v.startswith(theirs_v) or theirs_v.startswith(mine_v)):
        return False
    mine, theirs = _fold(merged.get("product")), _fold(other.product)
    return mine is None or theirs is None or mine == theirs


def _fold(value: str | None) -> str | None:
    return value.casefold() if value else None


def _key(vendor: str | None) -> str | None:
    """``"Hikvision Digital"`` -> ``"hikvisiondigital"``: one spelling starting another agrees."""
    return re.sub(r"[^0-9a-z]", "", vendor.casefold()) if vendor else None


# --- CPE (NISTIR 7695, section 6.1 URI binding and 6.2 formatted string binding) ----------

_FS_PLAIN = re.compile(r"[A-Za-z0-9_.\-]")


def cpe22_to_23(uri: str) -> str | None:
    """``cpe:/a:vendor:product:1.0`` -> ``cpe:2.3:a:vendor:product:1.0:*:*:*:*:*:*:*``.

    Empty URI components are ANY (``*``), ``-`` is NA; ``%xx`` is decoded and the result
    quoted per the formatted string binding; a packed ``~`` edition (6.1.3.5) is unpacked.
    None when ``uri`` is not a CPE 2.2 URI.
    """
    if not uri.lower().startswith("cpe:/"):
        return None
    parts = uri[5:].split(":")
    if not parts or parts[0].lower() not in ("a", "h", "o"):
        return None
    comps = [parts[0].lower(), *parts[1:7]]
    comps += [""] * (7 - len(comps))
    extended = ["", "", "", ""]
    if comps[5].startswith("~"):
        packed = (comps[5][1:].split("~") + [""] * 5)[:5]
        comps[5], extended = packed[0], packed[1:]
    return "cpe:2.3:" + ":".join(_fs_value(c) for c in comps + extended)


def _fs_value(component: str) -> str:
    if component == "":
        return "*"
    if component == "-":
        return "-"
    text = unquote(component)
    return "".join(ch if _FS_PLAIN.fullmatch(ch) else "\\" + ch for ch in text)
