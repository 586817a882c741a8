"""Bounces of e-mailed notices: delivery status notifications (RFC 3464) read back.

An ISP's MTA answers an undeliverable notice with a ``multipart/report;
report-type=delivery-status`` message (RFC 6522): a human part, a ``message/delivery-status``
part (per-message fields, then one block per recipient: ``Final-Recipient``, ``Action``,
``Status`` as RFC 3463 ``class.subject.detail``, ``Diagnostic-Code``) and the returned message
or its headers. The returned ``Message-ID`` names the notice (``notice send`` records it with
the ``sent`` event). A permanent failure (``Action: failed``, status 5.x.x) is recorded as a
``bounced`` event, so the ISP sends that subscriber a letter instead; a delay (4.x.x) as
``delayed``. Bounces come from the network: :func:`parse_dsn` never raises on bad bytes, and
:func:`read_bounces` counts every message it could not use, by reason.
"""

from __future__ import annotations

import email
import email.policy
import mailbox
from collections import Counter
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import datetime
from email.message import Message
from email.utils import collapse_rfc2231_value
from pathlib import Path

from sqlalchemy import select

from iotscope.notify._db import check_isp, record_event
from iotscope.notify._model import NoticeEvent
from iotscope.store import Store
from iotscope.store._schema_notices import notices
from iotscope.tenancy import Principal

_HEADER_TYPES = ("message/rfc822", "text/rfc822-headers", "message/global",
                 "message/global-headers")  # fmt: skip


@dataclass(frozen=True, slots=True)
class Bounce:
    """One recipient's delivery status from a DSN."""

    message_id: str | None
    recipient: str | None
    action: str  # failed | delayed | delivered | relayed | expanded
    status: str  # RFC 3463, e.g. 5.1.1
    diagnostic: str | None = None

    @property
    def permanent(self) -> bool:
        return self.action == "failed" or self.status.startswith("5.")


@dataclass
class BounceReport:
    """What a batch of messages did: events recorded, and every message not used, by reason."""

    bounced: int = 0
    delayed: int = 0
    skipped: Counter[str] = field(default_factory=Counter)


def _field(block: Message, name: str) -> str | None:
    value = block.get(name)
    if value is None:
        return None
    text = " ".join(str(value).split())
    return text.split(";", 1)[1].strip() if ";" in text else text  # "rfc822; user@host"


def _returned_message_id(msg: Message) -> str | None:
    for part in msg.walk():
        if part.get_content_type() not in _HEADER_TYPES:
            continue
        payload = part.get_payload()
        inner = payload[0] if isinstance(payload, list) and payload else None
        if isinstance(inner, Message) and inner.get("Message-ID"):
            return str(inner["Message-ID"]).strip()
        if isinstance(payload, str):  # text/rfc822-headers: the headers as text
            mid = email.message_from_string(payload).get("Message-ID")
            if mid:
                return str(mid).strip()
    return None


def _status_blocks(msg: Message) -> list[Message]:
    for part in msg.walk():
        if part.get_content_type() == "message/delivery-status":
            payload = part.get_payload()
            if isinstance(payload, list):
                return [b for b in payload if isinstance(b, Message)]
    return []


def parse_dsn(raw: bytes) -> list[Bounce] | None:
    """The per-recipient statuses of a DSN; ``None`` when ``raw`` is not one. Never raises."""
    try:
        msg = email.message_from_bytes(raw, policy=email.policy.compat32)
        if msg.get_content_type() != "multipart/report":
            return None
        kind = msg.get_param("report-type")
        if not kind or collapse_rfc2231_value(kind).lower() != "delivery-status":
            return None
        blocks = _status_blocks(msg)
        message_id = _returned_message_id(msg)
    except Exception:  # the email package's parser fails in many ways on hostile bytes
        return None
    out = []
    for block in blocks[1:]:  # the first block is per-message
        action, status = _field(block, "Action"), _field(block, "Status")
        if action and status:
            out.append(Bounce(message_id, _field(block, "Final-Recipient"), action.lower(),
                              status.split()[0], _field(block, "Diagnostic-Code")))  # fmt: skip
    return out


def messages_in(path: Path) -> Iterator[bytes]:
    """The raw messages of an mbox file, a Maildir (a directory with ``cur``/``new``) or a
    directory of ``.eml`` files."""
    if path.is_dir() and (path / "cur").is_dir():
        box: mailbox.Mailbox = mailbox.Maildir(path, create=False)
    elif path.is_dir():
        yield from (p.read_bytes() for p in sorted(path.glob("*.eml")))
        return
    else:
        box = mailbox.mbox(path, create=False)
    for key in box.iterkeys():
        yield box.get_bytes(key)


def _sent_ids(store: Store, isp: str) -> dict[str, str]:
    """Message-ID -> notice id, for the ISP's e-mailed notices."""
    stmt = select(notices.c.id, notices.c.message_id).where(
        notices.c.isp == isp, notices.c.message_id.is_not(None)
    )
    return {str(r["message_id"]).strip(): r["id"] for r in store._query(stmt, notices.name)}


def read_bounces(
    store: Store, principal: Principal, isp: str, raws: Iterable[bytes], when: datetime
) -> BounceReport:
    """Record the bounces among ``raws`` against the ISP's notices; only its ISP may."""
    check_isp(principal, isp)
    sent = _sent_ids(store, isp)
    report = BounceReport()
    for raw in raws:
        bounces = parse_dsn(raw)
        if bounces is None:
            report.skipped["not_a_dsn"] += 1
            continue
        if not bounces:
            report.skipped["no_recipient_status"] += 1
            continue
        notice_id = sent.get(bounces[0].message_id or "")
        if notice_id is None:
            report.skipped["no_matching_notice"] += 1
            continue
        for b in bounces:
            if b.action not in ("failed", "delayed"):
                report.skipped[f"action_{b.action}"[:40]] += 1
                continue
            event: NoticeEvent = "bounced" if b.permanent else "delayed"
            detail = {"status": b.status, "action": b.action,
                      "diagnostic": (b.diagnostic or "")[:300]}  # fmt: skip
            record_event(store, notice_id, event, when, detail)
            report.bounced += event == "bounced"
            report.delayed += event == "delayed"
    return report
