"""Sending a batch of notices over their channels; every hand-over is recorded as ``sent``.

- e-mail: over SMTP to the server given (the ISP's MTA); without one, as ``.eml`` files in the
  output directory for the ISP's own mailer.
- letter: one PDF of every letter of the batch in ``letters/`` for the ISP's print service
  (the Japanese font embedded once), with a CSV index: reference -> first page.
- sms: ``sms.csv`` (phone, text, encoding, segments) for the ISP's SMS gateway.
- landing: ``walled-garden.csv`` (address, landing URL) for the ISP's redirecting proxy.

The support staff's sheet ``support.csv`` (reference, subscriber, address, ports, CVEs) stays
with the ISP: technical ids are for the staff who answer the phone, not for the letter.
A notice read back from the store has no landing token (only its hash is kept), so sending it
mints a fresh one and stores the new hash in the same transaction as its ``sent`` event.
"""

from __future__ import annotations

import csv
import secrets
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import IO, Any

from iotscope.errors import ConfigError
from iotscope.notify import _db
from iotscope.notify._compose import Content, compose
from iotscope.notify._email import DeliveryError, Mailer, build_email
from iotscope.notify._letter import letters_pdf
from iotscope.notify._model import Contact, Notice, NoticeProfile
from iotscope.notify._render import sms_text
from iotscope.notify._sms import sms_size
from iotscope.records import utc
from iotscope.store import Store
from iotscope.tenancy import Principal


@dataclass
class SendReport:
    """What a batch did: counts per channel and outcome, and the landing URLs issued."""

    sent: Counter[str] = field(default_factory=Counter)
    failed: Counter[str] = field(default_factory=Counter)
    landing: dict[str, str] = field(default_factory=dict)  # notice id -> landing URL
    files: list[Path] = field(default_factory=list)
    sms_segments: Counter[int] = field(default_factory=Counter)


def send_notices(
    store: Store,
    principal: Principal,
    isp: str,
    out: Path,
    *,
    smtp: tuple[str, int] | None = None,
    notices: Sequence[Notice] | None = None,
    now: datetime | None = None,
) -> SendReport:
    """Send ``notices`` (default: every unsent notice of ``isp``) over their channels."""
    _db.check_isp(principal, isp)
    profile = _db.load_profile(store, principal, isp)
    if profile is None:
        raise ConfigError("no notice profile for this ISP", isp=isp)
    when = utc(now or datetime.now(UTC))
    todo = (
        list(notices)
        if notices is not None
        else _db.list_notices(store, principal, isp, unsent=True)
    )
    contacts = _db.load_contacts(store, principal, isp)
    out.mkdir(parents=True, exist_ok=True)
    report = SendReport()
    batch = _Batch(store, profile, out, when, report)
    mailer = Mailer(*smtp) if smtp and any(n.channel == "email" for n in todo) else None
    try:
        for n in todo:
            if n.isp != isp or n.sent is not None:
                continue
            batch.one(n, contacts.get(n.subscriber_id), mailer)
        batch.finish_letters()
    finally:
        if mailer is not None:
            mailer.close()
        batch.close()
    return report


class _Batch:
    def __init__(
        self, store: Store, profile: NoticeProfile, out: Path, when: datetime, report: SendReport
    ) -> None:
        self.store, self.profile, self.out = store, profile, out
        self.when, self.report = when, report
        self.letters: list[tuple[Notice, Content, str]] = []  # printed as one batch at the end
        self.support = _CsvSink(
            out / "support.csv",
            [
                "reference",
                "notice_id",
                "subscriber_id",
                "ip",
                "ports",
                "finding_time",
                "kinds",
                "device",
                "cves",
                "channel",
                "variant",
                "language",
            ],
        )
        self.sms = _CsvSink(out / "sms.csv", ["notice_id", "phone", "text", "encoding", "segments"])
        self.garden = _CsvSink(out / "walled-garden.csv", ["ip", "landing_url", "notice_id"])

    def one(self, n: Notice, contact: Contact | None, mailer: Mailer | None) -> None:
        token = n.token or secrets.token_urlsafe(16)
        content = compose(n, self.profile, contact, token)
        if n.channel == "letter":
            self.letters.append((n, content, token))
            return
        try:
            detail = self._deliver(n, content, contact, mailer)
        except DeliveryError as exc:
            self.report.failed[n.channel] += 1
            _db.record_event(self.store, n.id, "send_failed", self.when, {"error": str(exc)[:300]})
            return
        self._record(n, content, token, detail)

    def _record(self, n: Notice, content: Content, token: str, detail: dict[str, str]) -> None:
        columns = {} if n.token else {"token_hash": _db.token_hash(token)}
        if "message_id" in detail:
            columns["message_id"] = detail["message_id"]
        _db.record_event(self.store, n.id, "sent", self.when, detail, **columns)
        self.report.sent[n.channel] += 1
        self.report.landing[n.id] = content.landing_url
        self._support_row(n, content)

    def _deliver(
        self, n: Notice, content: Content, contact: Contact | None, mailer: Mailer | None
    ) -> dict[str, str]:
        if n.channel == "email":
            return self._email(content, contact, mailer)
        if n.channel == "sms":
            text = sms_text(content)
            size = sms_size(text)
            phone = contact.phone if contact and contact.phone else ""
            self.sms.write([n.id, phone, text, size.encoding, size.segments])
            self.report.sms_segments[size.segments] += 1
            return {"via": "file", "segments": str(size.segments)}
        self.garden.write([str(n.ip), content.landing_url, n.id])
        return {"via": "walled-garden"}

    def _email(
        self, content: Content, contact: Contact | None, mailer: Mailer | None
    ) -> dict[str, str]:
        if contact is None or not contact.email:
            raise DeliveryError("no e-mail address for the subscriber")
        msg = build_email(content, self.profile, contact.email, self.when)
        if mailer is not None:
            mailer.send(msg, self.profile.sender, contact.email)
            return {"via": "smtp", "message_id": str(msg["Message-ID"])}
        path = self.out / "email" / f"{content.reference}.eml"
        path.parent.mkdir(exist_ok=True)
        path.write_bytes(msg.as_bytes())
        self.report.files.append(path)
        return {"via": "file", "message_id": str(msg["Message-ID"]), "path": path.name}

    def finish_letters(self) -> None:
        """Print the batch's letters into one PDF (one font embedding) with a page index."""
        if not self.letters:
            return
        folder = self.out / "letters"
        folder.mkdir(exist_ok=True)
        stamp = self.when.strftime("%Y%m%dT%H%M%S")
        path = folder / f"letters-{stamp}.pdf"
        items = [(c, self._letterhead(c.language)) for _n, c, _t in self.letters]
        pdf, starts = letters_pdf(items, self.when)
        path.write_bytes(pdf)
        self.report.files.append(path)
        index = _CsvSink(folder / f"letters-{stamp}.csv", ["reference", "notice_id", "page"])
        for (n, content, token), page in zip(self.letters, starts, strict=True):
            index.write([content.reference, n.id, page])
            self._record(n, content, token, {"via": "file", "path": path.name, "page": str(page)})
        index.close()
        self.report.files.append(index.path)

    def _letterhead(self, language: str) -> list[str]:
        p = self.profile
        desk = "サポート窓口" if language == "ja" else "Support desk"
        return [p.display_name(language), f"{desk} {p.support_phone}", p.domain]

    def _support_row(self, n: Notice, content: Content) -> None:
        d = n.device
        device = " ".join(x for x in (d.vendor, d.model, d.version) if x)
        self.support.write(
            [
                content.reference,
                n.id,
                n.subscriber_id,
                str(n.ip),
                " ".join(map(str, n.ports)),
                n.finding_time.isoformat(),
                " ".join(n.kinds),
                device,
                " ".join(n.details.get("cves", [])),
                n.channel,
                n.variant,
                n.language,
            ]
        )

    def close(self) -> None:
        for sink in (self.support, self.sms, self.garden):
            if sink.close():
                self.report.files.append(sink.path)


class _CsvSink:
    """A CSV file opened on its first row (appending, header once)."""

    def __init__(self, path: Path, header: list[str]) -> None:
        self.path, self.header = path, header
        self.fh: IO[str] | None = None
        self.writer: Any = None  # csv.writer's type is private

    def write(self, row: list[object]) -> None:
        if self.writer is None:
            new = not self.path.exists()
            fh = self.path.open("a", newline="", encoding="utf-8")
            self.fh, self.writer = fh, csv.writer(fh)
            if new:
                self.writer.writerow(self.header)
        self.writer.writerow(row)

    def close(self) -> bool:
        if self.fh is None:
            return False
        self.fh.close()
        return True
