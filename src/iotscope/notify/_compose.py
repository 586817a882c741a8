"""What a notice says, as data for its templates: the pure part of every channel.

Device strings come from banners, which an attacker controls: only a vendor found in our own
table is named, and a model or version is shown only when it looks like one (no markup, no
host names, no control characters). Technical ids (CVEs, ports, protocols) never reach the
subscriber; they go to the support staff's appendix, which the reference number points to.
"""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from functools import cache, cached_property
from importlib import resources
from typing import Any

from iotscope.notify._create import variants
from iotscope.notify._model import Contact, Notice, NoticeProfile

JST = timezone(timedelta(hours=9), "JST")  # Japan keeps no daylight saving time
_SHOWABLE = re.compile(r"[A-Za-z0-9][A-Za-z0-9 ._()+\-/]{0,39}")
_HOSTLIKE = re.compile(r"[A-Za-z0-9-]+\.[A-Za-z]{2,}(?![A-Za-z0-9])|//|www", re.IGNORECASE)
CPE_TYPES = ("Router", "ONU")  # the devices an ISP may manage itself (its CPE)


@cache
def device_table() -> dict[str, Any]:
    """``data/devices.toml``: plain names per device kind, and per vendor its support site and
    where its password and firmware settings are."""
    text = resources.files("iotscope.notify").joinpath("data/devices.toml").read_text("utf-8")
    return tomllib.loads(text)


def showable(value: str | None) -> str | None:
    """``value`` if it is safe and plain enough to print in a notice, else None."""
    if not value:
        return None
    text = value.strip()
    if not _SHOWABLE.fullmatch(text) or _HOSTLIKE.search(text):
        return None
    return text


def vendor_entry(vendor: str | None) -> tuple[str | None, dict[str, Any]]:
    """The canonical vendor name and its table row (case-insensitive), or (None, {})."""
    if not vendor:
        return None, {}
    table: dict[str, dict[str, Any]] = device_table()["vendor"]
    for name, row in table.items():
        if name.casefold() == vendor.strip().casefold():
            return name, row
    return None, {}


def support_domains() -> frozenset[str]:
    """Every vendor support host the table lists (the only links besides the ISP's)."""
    from urllib.parse import urlsplit

    rows = device_table()["vendor"].values()
    return frozenset(urlsplit(r["support_url"]).hostname or "" for r in rows if "support_url" in r)


def steps_for(notice: Notice, vendor_row: dict[str, Any], managed: bool) -> list[str]:
    """The step ids a notice asks for, most effective first (kinds decide, data refines)."""
    kinds = set(notice.kinds)
    steps: list[str] = []
    if "infected" in kinds:
        steps.append("restart")
    if kinds & {"infected", "weak_login"}:
        steps += ["password", "remote_off"]
    if managed:
        steps.append("isp_update")
    elif kinds & {"infected", "vulnerable"}:
        steps.append("firmware")
        if vendor_row.get("auto_update"):
            steps.append("auto_update")
        if "vulnerable" in kinds:
            steps.append("replace_if_unsupported")
    if "infected" in kinds:
        steps.append("still_wrong")
    steps.append("report")
    return steps


@dataclass(frozen=True)
class Content:
    """Everything the templates of every channel need for one notice."""

    notice: Notice
    language: str
    isp_name: str
    device_name: str
    device_name_short: str
    vendor: str | None
    model: str | None
    version: str | None
    subject: str
    opening: str
    steps: list[str]
    landing_url: str
    reference: str
    found_on: str
    support_phone: str
    support_hours: str
    support_url: str | None
    password_menu: str | None
    firmware_menu: str | None
    managed: bool
    addressee: str | None
    postal: str | None
    extra: dict[str, Any] = field(default_factory=dict)

    @cached_property
    def _context(self) -> dict[str, Any]:
        return {k: getattr(self, k) for k in self.__dataclass_fields__} | {"c": self}

    def context(self) -> dict[str, Any]:
        """The template variables (built once per content: a notice renders two or three
        templates)."""
        return dict(self._context)


def reference(notice: Notice) -> str:
    """A short number a subscriber reads out on the phone: support staff look it up."""
    raw = f"{int(notice.id[:16], 16) % 10**12:012d}"  # digits: easy to read out
    return f"{raw[:4]}-{raw[4:8]}-{raw[8:12]}"


def compose(notice: Notice, profile: NoticeProfile, contact: Contact | None, token: str) -> Content:
    """The content of ``notice`` for its language (``ja`` or ``en``; others fall back to en)."""
    lang = "ja" if notice.language == "ja" else "en"
    table = device_table()
    vendor, row = vendor_entry(notice.device.vendor)
    device_type = _device_type(notice)
    device_name = table["kinds"][lang].get(device_type, table["kinds"][lang][""])
    managed = profile.manages_cpe and device_type in CPE_TYPES
    isp_name = profile.display_name(lang)
    v = variants().get(notice.variant) or variants()["A"]
    subject = v["subject"][lang].format(isp=isp_name, device=device_name)
    opening = v["opening"][lang].format(isp=isp_name, device=device_name)
    return Content(
        notice=notice,
        language=lang,
        isp_name=isp_name,
        device_name=device_name,
        device_name_short=table["short"][lang].get(device_type, table["short"][lang][""]),
        vendor=vendor,
        model=showable(notice.device.model),
        version=showable(notice.device.version),
        subject=subject,
        opening=opening,
        steps=steps_for(notice, row, managed),
        landing_url=profile.landing_prefix + token,
        reference=reference(notice),
        found_on=_date(notice.finding_time, lang),
        support_phone=profile.support_phone,
        support_hours=profile.support_hours_ja if lang == "ja" else profile.support_hours_en,
        support_url=row.get("support_url"),
        password_menu=row.get("password_menu"),
        firmware_menu=row.get("firmware_menu"),
        managed=managed,
        addressee=_plain(contact.name) if contact else None,
        postal=_plain(contact.postal) if contact else None,
    )


def _device_type(notice: Notice) -> str:
    return notice.device.device_type or ""


def _plain(value: str | None) -> str | None:
    """Contact data is the ISP's own, but still printed: no control characters."""
    if not value:
        return None
    return "".join(ch for ch in value if ch.isprintable() or ch == "\n")[:200]


def _date(when: datetime, lang: str) -> str:
    local = when.astimezone(JST)
    if lang == "ja":
        return f"{local.year}年{local.month}月{local.day}日"
    return local.strftime("%d %B %Y")
