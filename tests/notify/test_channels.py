"""Channels end to end: e-mail over real SMTP (aiosmtpd) parsed back with the email package,
the PDF letter checked with poppler (pdffonts, pdftotext), SMS segment counts."""

from __future__ import annotations

import random
import subprocess
from email import message_from_bytes, policy
from email.header import decode_header, make_header
from pathlib import Path

import pytest

from iotscope.notify import (
    IspFindings,
    Notice,
    NoticeProfile,
    create_notices,
    from_mapping,
    list_notices,
    save_profile,
)
from iotscope.notify._compose import compose
from iotscope.notify._db import events_of, notice_by_token, save_contacts
from iotscope.notify._letter import japanese_font, letter_pdf
from iotscope.notify._render import html_email, sms_text, text_body
from iotscope.notify._send import send_notices
from iotscope.notify._sms import sms_size
from iotscope.store import Store
from tests.conftest import FIXED_NOW, require_tool
from tests.notify.conftest import DOMAIN, ISP, ISP_P, SUBSCRIBERS, contacts, findings
from tests.notify.helpers import smtp_server


def _made(store: Store, profile: NoticeProfile) -> list[Notice]:
    save_profile(store, ISP_P, profile)
    save_contacts(store, ISP_P, contacts())
    job = IspFindings(ISP, tuple(findings()), from_mapping(SUBSCRIBERS))
    return create_notices(store, ISP_P, job, random.Random(4), now=FIXED_NOW)


@pytest.mark.network
def test_email_over_real_smtp_decodes_to_the_template(
    store: Store, profile, tmp_path: Path
) -> None:  # type: ignore[no-untyped-def]
    made = _made(store, profile)
    with smtp_server() as (box, port):
        report = send_notices(
            store, ISP_P, ISP, tmp_path, smtp=("127.0.0.1", port), notices=made, now=FIXED_NOW
        )
    assert report.sent["email"] == 1 and len(box.messages) == 1
    mail_from, rcpts, raw = box.messages[0]
    assert mail_from == f"security-notice@{DOMAIN}" and rcpts == ["taro@mail.example"]
    assert raw.isascii()  # 7-bit clean on the wire: RFC 2047 headers, base64 bodies
    msg = message_from_bytes(raw, policy=policy.default)
    n = next(x for x in made if x.channel == "email")
    content = compose(n, profile, contacts()[0], n.token or "")
    assert str(make_header(decode_header(msg["Subject"]))) == content.subject
    assert msg["Subject"] == content.subject and "=?utf-8?" in raw.decode().lower()
    assert msg["From"].addresses[0].domain == DOMAIN
    assert msg["Reply-To"].addresses[0].domain == DOMAIN
    assert msg["Message-ID"].endswith(f"@{DOMAIN}>") and msg["Date"]
    assert msg.get_content_type() == "multipart/alternative"
    plain = msg.get_body(preferencelist=("plain",))
    html = msg.get_body(preferencelist=("html",))
    assert plain is not None and html is not None
    assert plain.get_content_charset() == "utf-8"
    # MIME text travels with CRLF line ends (RFC 2046 4.1.1); the text itself is the template's
    assert plain.get_content().replace("\r\n", "\n") == text_body(content)
    assert html.get_content().replace("\r\n", "\n") == html_email(content)
    stored = list_notices(store, ISP_P, ISP)
    sent = next(x for x in stored if x.id == n.id)
    assert sent.sent == FIXED_NOW and sent.message_id == msg["Message-ID"]
    assert [e["event"] for e in events_of(store, ISP_P, n.id)] == ["created", "sent"]
    # the landing token in the mail opens this notice
    assert notice_by_token(store, n.token or "") is not None


def test_unsent_notices_get_a_fresh_token_and_files(
    store: Store, profile: NoticeProfile, tmp_path: Path
) -> None:
    _made(store, profile)
    report = send_notices(store, ISP_P, ISP, tmp_path, now=FIXED_NOW)  # read back: no tokens
    assert sum(report.sent.values()) == 4
    eml = list((tmp_path / "email").glob("*.eml"))
    assert len(eml) == 1
    assert (tmp_path / "sms.csv").read_text().count("\n") == 2
    assert "127.77.0.13" in (tmp_path / "walled-garden.csv").read_text()
    support = (tmp_path / "support.csv").read_text()
    assert "CVE-2017-7921" in support and "sub-1" in support  # ids for the staff only
    for url in report.landing.values():
        token = url.rsplit("/", 1)[1]
        assert notice_by_token(store, token) is not None
    again = send_notices(store, ISP_P, ISP, tmp_path / "again", now=FIXED_NOW)
    assert sum(again.sent.values()) == 0  # nothing sent twice


def test_letter_pdf_embeds_the_japanese_font(profile: NoticeProfile, tmp_path: Path) -> None:
    if japanese_font() is None:
        pytest.skip("no Japanese TrueType font (install fonts-ipaexfont-gothic)")
    pdffonts, pdftotext = require_tool("pdffonts"), require_tool("pdftotext")
    from tests.notify.test_content import _notices

    n = next(x for x in _notices() if x.subscriber_id == "sub-3")
    content = compose(n, profile, contacts()[2], "TOKEN")
    path = tmp_path / "letter.pdf"
    path.write_bytes(
        letter_pdf(content, ["さくら光ネット", "サポート窓口 0120-000-000"], FIXED_NOW)
    )
    fonts = subprocess.run([pdffonts, str(path)], capture_output=True, text=True, check=True)
    rows = [line.split() for line in fonts.stdout.splitlines()[2:]]
    assert rows and all(r[-5] == "yes" for r in rows), fonts.stdout  # emb column
    assert any("IPAex" in r[0] for r in rows), fonts.stdout
    text = subprocess.run(
        [pdftotext, "-enc", "UTF-8", str(path), "-"], capture_output=True, text=True, check=True
    ).stdout
    flat = "".join(text.split())
    assert "佐藤花子様" in flat and "大阪府大阪市北区梅田1-1" in flat
    assert "".join(content.subject.split()) in flat
    for line in text_body(content).splitlines()[2:]:
        assert "".join(line.split()) in flat, line


def test_sms_segments() -> None:
    assert sms_size("a" * 160).segments == 1 and sms_size("a" * 161).segments == 2
    assert sms_size("{" * 80).units == 160  # extension characters count twice
    assert sms_size("あ" * 70).segments == 1 and sms_size("あ" * 71).segments == 2
    assert sms_size("あ" * 134).segments == 2 and sms_size("あ" * 135).segments == 3
    assert sms_size("😀" * 35).units == 70  # outside the BMP: two UTF-16 units each


def test_sms_text_is_short_and_on_the_isp_domain(profile: NoticeProfile) -> None:
    from tests.notify.test_content import _notices

    for n in _notices():
        c = compose(n, profile, None, "x" * 22)  # a real token is 22 characters
        text = sms_text(c)
        size = sms_size(text)
        assert c.landing_url in text
        assert size.encoding == ("ucs2" if n.language == "ja" else "gsm7")
        assert size.segments <= 2, (text, size)


def test_english_letter_wraps_at_spaces(profile: NoticeProfile, tmp_path: Path) -> None:
    if japanese_font() is None:
        pytest.skip("no Japanese TrueType font (install fonts-ipaexfont-gothic)")
    pdftotext = require_tool("pdftotext")
    from tests.notify.test_content import _notices

    n = next(x for x in _notices("en") if x.subscriber_id == "sub-3")
    content = compose(n, profile, contacts()[2], "TOKEN")
    path = tmp_path / "letter.pdf"
    path.write_bytes(letter_pdf(content, ["Sakura Hikari Net"], FIXED_NOW))
    text = subprocess.run([pdftotext, str(path), "-"], capture_output=True, text=True,
                          check=True).stdout  # fmt: skip
    words = set(text.split())
    for word in ("password", "settings", "reference"):
        assert word in words, word  # whole words: no word broken across lines


@pytest.mark.network
def test_refused_mail_is_logged_and_retried_later(
    store: Store, profile: NoticeProfile, tmp_path: Path
) -> None:
    from tests.notify.helpers import refusing_server

    made = _made(store, profile)
    mail = [n for n in made if n.channel == "email"]
    with refusing_server() as (box, port):
        report = send_notices(store, ISP_P, ISP, tmp_path, smtp=("127.0.0.1", port),
                              notices=mail, now=FIXED_NOW)  # fmt: skip
    assert report.failed["email"] == 1 and not report.sent and not box.messages
    events = events_of(store, ISP_P, mail[0].id)
    assert [e["event"] for e in events] == ["created", "send_failed"]
    assert "550" in events[1]["detail"]["error"]
    assert [n.id for n in list_notices(store, ISP_P, ISP, unsent=True) if n.channel == "email"] == [
        mail[0].id
    ]  # still unsent: the next run tries again


def test_a_batch_of_letters_is_one_pdf_with_page_index(profile: NoticeProfile) -> None:
    if japanese_font() is None:
        pytest.skip("no Japanese TrueType font (install fonts-ipaexfont-gothic)")
    from iotscope.notify._letter import letters_pdf
    from tests.notify.test_content import _notices

    items = [(compose(n, profile, contacts()[2], "T"), ["ISP"]) for n in _notices()[:3]]
    pdf, starts = letters_pdf(items, FIXED_NOW)
    assert starts[0] == 1 and starts == sorted(set(starts)) and len(starts) == 3
    assert pdf.startswith(b"%PDF") and starts[-1] >= 3  # each letter starts on its own page
    assert pdf.count(b"/FontFile2") == 1  # the font embedded once for the whole batch
