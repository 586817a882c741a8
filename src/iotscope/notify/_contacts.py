"""Subscriber contact data from the ISP's CSV export (its tenancy only).

Header: ``subscriber_id,name,email,phone,postal,language,managed_cpe``; postal lines are
separated by `` / `` or newlines inside a quoted field. A bad row is a :class:`ConfigError`
naming the file and line, and nothing from that file is stored.
"""

from __future__ import annotations

import csv
import re
from collections.abc import Iterable
from pathlib import Path

from iotscope.errors import ConfigError
from iotscope.notify._model import Contact

HEADER = ("subscriber_id", "name", "email", "phone", "postal", "language", "managed_cpe")
_EMAIL = re.compile(r"[^@\s<>\"(),;:]+@[A-Za-z0-9.-]+\.[A-Za-z]{2,}")
_PHONE = re.compile(r"\+?[0-9][0-9-]{8,18}")
_TRUE = {"1", "true", "yes", "y"}
_FALSE = {"", "0", "false", "no", "n"}


def read_contacts(path: Path, isp: str) -> list[Contact]:
    try:
        with path.open(newline="", encoding="utf-8-sig") as fh:
            return parse_contacts(csv.reader(fh), path, isp)
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError("cannot read contacts", file=str(path), reason=str(exc)) from exc


def parse_contacts(rows: Iterable[list[str]], path: Path, isp: str) -> list[Contact]:
    it = iter(rows)
    if tuple(c.strip() for c in next(it, [])) != HEADER:
        raise ConfigError("contacts header must be " + ",".join(HEADER), file=str(path), line=1)
    out: dict[str, Contact] = {}
    for line, row in enumerate(it, start=2):
        if not row:
            continue  # a blank line
        try:
            contact = _contact(row, isp)
        except ValueError as exc:
            raise ConfigError(
                "bad contact row", file=str(path), line=line, reason=str(exc)
            ) from exc
        if contact.subscriber_id in out:
            raise ConfigError("subscriber listed twice", file=str(path), line=line)
        out[contact.subscriber_id] = contact
    return list(out.values())


def _contact(row: list[str], isp: str) -> Contact:
    if len(row) != len(HEADER):
        raise ValueError(f"expected {len(HEADER)} fields, got {len(row)}")
    sub, name, email, phone, postal, lang, managed = (c.strip() for c in row)
    if not sub:
        raise ValueError("empty subscriber_id")
    if email and not _EMAIL.fullmatch(email):
        raise ValueError(f"not an e-mail address: {email[:60]!r}")
    if phone and not _PHONE.fullmatch(phone):
        raise ValueError(f"not a phone number: {phone[:30]!r}")
    if lang not in ("", "ja", "en"):
        raise ValueError(f"language must be ja or en: {lang[:10]!r}")
    if managed.lower() not in _TRUE | _FALSE:
        raise ValueError(f"managed_cpe must be true or false: {managed[:10]!r}")
    return Contact(
        isp=isp,
        subscriber_id=sub,
        name=name or None,
        email=email or None,
        phone=phone or None,
        postal=postal.replace(" / ", "\n") or None,
        language=lang or None,
        managed_cpe=managed.lower() in _TRUE,
    )
