"""The JC-STAR registry as a CSV file (``iotscope makers jcstar import FILE``).

IPA's JC-STAR scheme labels IoT products by security level (★1 self-declared baseline of 16
requirements aligned with ETSI EN 303 645; ★2 per product type; ★3/★4 third-party evaluated).
The registry file iotscope reads is one header row and one row per registration:

=============  =================================================================================
column         value
=============  =================================================================================
registration   the registration number (natural key: importing it again updates the row)
vendor         the manufacturer as registered (matched to survey identities by
               :func:`iotscope.makers.vendor_key`)
model          the product's model number (matched by :func:`iotscope.makers.model_key`)
level          ★1..★4; also accepted: ``STAR-1``, ``STAR1``, ``1``, ``Level 1``, ``レベル1``,
               ``★★`` (one star per level), full-width forms
registered     the registration date, ``YYYY-MM-DD`` (or ``YYYY/MM/DD``)
expires        the expiry date, same form; may be empty (no expiry recorded)
brand          optional column: the maker's name as its devices' banners carry it, where the
               registered name differs (``株式会社バッファロー`` registers products whose banners
               say ``Buffalo``); matched instead of ``vendor`` when given
=============  =================================================================================

Columns may come in any order and in any case; other columns are ignored; lines starting with
``#`` and blank lines are skipped. The file is UTF-8 (a byte-order mark, as Excel writes, is
fine) or, failing that, Shift_JIS (cp932). Example::

    registration,vendor,model,level,registered,expires
    JC-0001-2025,Example Networks Co., Ltd.,WR-9500N,★1,2025-05-21,2027-05-20

A bad line (a missing field, an unknown level, a bad date, expiry before registration, a
short row) is counted and reported with its line number and reason, and the rest of the file
is imported; a registration number given twice keeps the later line and reports the earlier.
"""

from __future__ import annotations

import csv
import io
import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime

from iotscope.errors import ConfigError
from iotscope.makers._names import model_key, vendor_key

FIELDS = ("registration", "vendor", "model", "level", "registered", "expires", "brand")
REQUIRED = FIELDS[:5]
_LEVEL = re.compile(r"^(?:★|☆|\*|star[-_ ]?|level ?|lv\.? ?|レベル)?([1-4])$", re.IGNORECASE)
_STARS = re.compile(r"^(★{1,4})$")
_DATE = re.compile(r"^(\d{4})[-/](\d{1,2})[-/](\d{1,2})$")
MAX_LEN = {"registration": 64, "vendor": 200, "model": 200, "brand": 200}


@dataclass(frozen=True, slots=True)
class Label:
    """One registration of the JC-STAR registry."""

    registration: str
    vendor: str
    model: str
    level: int
    registered: date
    expires: date | None
    brand: str | None = None

    @property
    def product(self) -> tuple[str, str]:
        """The (vendor key, model key) survey identities are matched on (the brand's key
        when the registry gives one)."""
        return vendor_key(self.brand or self.vendor), model_key(self.model)


@dataclass(frozen=True, slots=True)
class BadLine:
    """A line of the file that was not imported, and why."""

    line: int
    reason: str
    text: str


@dataclass(frozen=True, slots=True)
class Parsed:
    labels: tuple[Label, ...]
    bad: tuple[BadLine, ...]
    lines: int  # data lines read (not the header, comments or blank lines)


def decode(data: bytes) -> str:
    """UTF-8 (BOM stripped), else Shift_JIS (cp932); neither: :class:`ConfigError`."""
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as first:
        try:
            return data.decode("cp932")
        except UnicodeDecodeError:
            raise ConfigError(
                "registry file is neither UTF-8 nor Shift_JIS", offset=first.start
            ) from None


def parse_level(text: str) -> int:
    t = unicodedata.normalize("NFKC", text).strip()
    m = _LEVEL.match(t) or _STARS.match(t)
    if m is None:
        raise ValueError(f"unknown level {text!r} (expected ★1..★4 or STAR-1..STAR-4)")
    return len(m.group(1)) if m.group(1).startswith("★") else int(m.group(1))


def parse_date(text: str) -> date:
    m = _DATE.match(unicodedata.normalize("NFKC", text).strip())
    if m is None:
        raise ValueError(f"bad date {text!r} (expected YYYY-MM-DD)")
    try:
        return date(int(m.group(1)), int(m.group(2)), int(m.group(3)))
    except ValueError as exc:
        raise ValueError(f"bad date {text!r} ({exc})") from None


def _header(row: Sequence[str]) -> dict[str, int]:
    names = [unicodedata.normalize("NFKC", c).strip().lower() for c in row]
    missing = [f for f in REQUIRED if f not in names]
    if missing:
        raise ConfigError("registry header lacks columns", missing=missing, header=list(row))
    return {f: names.index(f) for f in FIELDS if f in names}


def _label(row: Sequence[str], cols: dict[str, int]) -> Label:
    if len(row) <= max(cols[f] for f in REQUIRED):
        raise ValueError(f"{len(row)} fields, the header has {max(cols.values()) + 1}")
    get = {f: row[i].strip() if i < len(row) else "" for f, i in cols.items()}
    for f in REQUIRED:
        if not get[f]:
            raise ValueError(f"empty {f}")
    for f, n in MAX_LEN.items():
        if len(get.get(f, "")) > n:
            raise ValueError(f"{f} longer than {n} characters")
    registered = parse_date(get["registered"])
    expires = parse_date(get["expires"]) if get.get("expires") else None
    if expires is not None and expires < registered:
        raise ValueError(f"expires {expires} before registered {registered}")
    return Label(
        get["registration"],
        get["vendor"],
        get["model"],
        parse_level(get["level"]),
        registered,
        expires,
        get.get("brand") or None,
    )


def _records(text: str) -> list[tuple[int, list[str], str]]:
    """(line number, fields, raw text) of each non-blank, non-comment line."""
    lines = text.splitlines()
    out = []
    for n, raw in enumerate(lines, start=1):
        if raw.strip() and not raw.lstrip().startswith("#"):
            out.append((n, next(csv.reader(io.StringIO(raw))), raw))
    return out


def parse_registry(text: str) -> Parsed:
    """Labels and bad lines of a registry file's text (module docstring); the header row is
    required (its absence is a :class:`ConfigError`: nothing could be read)."""
    records = _records(text.replace("\x00", ""))
    if not records:
        raise ConfigError("registry file has no header row")
    cols = _header(records[0][1])
    labels: dict[str, tuple[int, Label]] = {}
    bad: list[BadLine] = []
    for n, row, raw in records[1:]:
        try:
            label = _label(row, cols)
        except ValueError as exc:
            bad.append(BadLine(n, str(exc), raw[:300]))
            continue
        if label.registration in labels:
            earlier = labels[label.registration][0]
            bad.append(
                BadLine(
                    earlier,
                    f"registration {label.registration!r} again on line {n} (later line kept)",
                    "",
                )
            )
        labels[label.registration] = (n, label)
    return Parsed(
        tuple(x[1] for x in labels.values()),
        tuple(sorted(bad, key=lambda b: b.line)),
        len(records) - 1,
    )


def label_row(label: Label, source: str, now: datetime | None = None) -> dict[str, object]:
    vk, mk = label.product
    return {
        "registration": label.registration,
        "vendor": label.vendor,
        "model": label.model,
        "vendor_key": vk,
        "model_key": mk,
        "level": label.level,
        "registered": label.registered,
        "expires": label.expires,
        "brand": label.brand,
        "source": source[:500],
        "imported": now or datetime.now(UTC),
    }
