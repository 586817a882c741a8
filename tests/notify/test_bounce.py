"""Bounces read back: a DSN (RFC 3464, in the layout Postfix writes) for a notice sent over real
SMTP marks it bounced; delays, strangers and junk are counted, never a crash."""

from __future__ import annotations

import mailbox
import random
from email import message_from_bytes, policy
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from iotscope.notify import IspFindings, NoticeProfile, create_notices, from_mapping, save_profile
from iotscope.notify._bounce import messages_in, parse_dsn, read_bounces
from iotscope.notify._db import NotOwned, events_of, save_contacts
from iotscope.notify._send import send_notices
from iotscope.store import Store
from iotscope.tenancy import Principal
from tests.conftest import FIXED_NOW
from tests.notify.conftest import ISP, ISP_P, SUBSCRIBERS, contacts, findings
from tests.notify.helpers import smtp_server


def dsn(returned_headers: str, *, action: str = "failed", status: str = "5.1.1") -> bytes:
    """A delivery status notification as Postfix's bounce daemon lays it out."""
    return f"""Return-Path: <>
From: MAILER-DAEMON@mx.isp.example (Mail Delivery System)
To: security-notice@isp.example
Subject: Undelivered Mail Returned to Sender
MIME-Version: 1.0
Content-Type: multipart/report; report-type=delivery-status;
\tboundary="B1"

--B1
Content-Description: Notification
Content-Type: text/plain; charset=us-ascii

I'm sorry to have to inform you that your message could not be delivered.

--B1
Content-Description: Delivery report
Content-Type: message/delivery-status

Reporting-MTA: dns; mx.isp.example
X-Postfix-Queue-ID: 4F2A81C0
Arrival-Date: Sun,  1 Nov 2026 03:00:01 +0000 (UTC)

Final-Recipient: rfc822; taro@mail.example
Original-Recipient: rfc822;taro@mail.example
Action: {action}
Status: {status}
Remote-MTA: dns; mail.example
Diagnostic-Code: smtp; 550 5.1.1 <taro@mail.example>: Recipient address rejected

--B1
Content-Description: Undelivered Message Headers
Content-Type: text/rfc822-headers

{returned_headers}
--B1--
""".replace("\n", "\r\n").encode()


@pytest.fixture
def sent_mail(store: Store, profile: NoticeProfile, tmp_path: Path) -> tuple[Store, bytes]:
    save_profile(store, ISP_P, profile)
    save_contacts(store, ISP_P, contacts())
    job = IspFindings(ISP, tuple(findings()), from_mapping(SUBSCRIBERS))
    made = create_notices(store, ISP_P, job, random.Random(4), now=FIXED_NOW)
    with smtp_server() as (box, port):
        send_notices(store, ISP_P, ISP, tmp_path, smtp=("127.0.0.1", port), notices=made,
                     now=FIXED_NOW)  # fmt: skip
    return store, box.messages[0][2]


def _headers(raw: bytes) -> str:
    return raw.decode().split("\r\n\r\n", 1)[0].replace("\r\n", "\n")


@pytest.mark.network
def test_a_bounce_marks_the_notice_and_strangers_are_counted(sent_mail, tmp_path: Path) -> None:
    store, raw = sent_mail
    mid = str(message_from_bytes(raw, policy=policy.default)["Message-ID"])
    box = mailbox.mbox(tmp_path / "bounces.mbox")
    box.add(dsn(_headers(raw)))
    box.add(dsn(_headers(raw), action="delayed", status="4.4.1"))
    box.add(dsn("Message-ID: <someone-else@isp.example>\n"))
    box.add(b"Subject: an out-of-office reply\r\n\r\nI am away.\r\n")
    box.flush()
    report = read_bounces(store, ISP_P, ISP, messages_in(tmp_path / "bounces.mbox"), FIXED_NOW)
    assert (report.bounced, report.delayed) == (1, 1)
    assert report.skipped == {"no_matching_notice": 1, "not_a_dsn": 1}
    parsed = parse_dsn(dsn(_headers(raw)))
    assert parsed is not None and parsed[0].message_id == mid
    events = [e for n in _ids(store) for e in events_of(store, ISP_P, n)]
    bounced = [e for e in events if e["event"] == "bounced"]
    assert len(bounced) == 1 and bounced[0]["detail"]["status"] == "5.1.1"
    assert "Recipient address rejected" in bounced[0]["detail"]["diagnostic"]
    with pytest.raises(NotOwned):
        read_bounces(store, Principal("isp", "Other Net"), ISP, [], FIXED_NOW)


def _ids(store: Store) -> list[str]:
    from iotscope.notify import list_notices

    return [n.id for n in list_notices(store, ISP_P, ISP)]


def test_maildir_and_eml_folders_are_read(tmp_path: Path) -> None:
    md = mailbox.Maildir(tmp_path / "Maildir")
    md.add(dsn("Message-ID: <a@b>\n"))
    (tmp_path / "eml").mkdir()
    (tmp_path / "eml" / "1.eml").write_bytes(dsn("Message-ID: <c@d>\n", status="5.2.2"))
    got = [parse_dsn(r) for p in ("Maildir", "eml") for r in messages_in(tmp_path / p)]
    assert [(b[0].message_id, b[0].status, b[0].permanent) for b in got if b] == [
        ("<a@b>", "5.1.1", True), ("<c@d>", "5.2.2", True)]  # fmt: skip


@settings(max_examples=200, deadline=None)
@given(st.binary(max_size=2000))
def test_parse_dsn_never_raises_on_hostile_bytes(raw: bytes) -> None:
    got = parse_dsn(raw)
    assert got is None or isinstance(got, list)


@settings(max_examples=100, deadline=None)
@given(st.text(max_size=300), st.sampled_from(["failed", "delayed", "x"]), st.text(max_size=20))
def test_parse_dsn_fuzzed_fields(headers: str, action: str, status: str) -> None:
    raw = dsn(headers, action=action, status=status.replace("\n", " ")) if status else b""
    got = parse_dsn(raw)
    assert got is None or all(b.action for b in got)
