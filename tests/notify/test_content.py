"""What a notice says: plain language (no jargon), links only to the ISP's domain or the
vendor's listed support site, device steps from the table, hostile banners harmless."""

from __future__ import annotations

import random
import re
from urllib.parse import urlsplit

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from iotscope.lab._hostile import chunk
from iotscope.notify import Device, Notice, NoticeProfile, plan_notices
from iotscope.notify._compose import compose, device_table, showable, support_domains
from iotscope.notify._render import html_body, html_email, sms_text, text_body
from iotscope.notify._subscribers import from_mapping
from tests.conftest import FIXED_NOW
from tests.notify.conftest import DOMAIN, SUBSCRIBERS, contacts, findings

# Words a person who never reads security news would not know. Technical ids belong in the
# support staff's sheet (support.csv), never in what the subscriber reads.
JARGON = [
    "CVE",
    "exploit",
    "エクスプロイト",
    "botnet",
    "ボットネット",
    "C2",
    "C&C",
    "telnet",
    "Telnet",
    "SSH",
    "Mirai",
    "malware",
    "マルウェア",
    "payload",
    "脆弱性",
    "vulnerab",
    "port ",
    "ポート番号",
    "IPアドレス",
    "IP address",
    "CVSS",
    "KEV",
    "firmware version",
    "brute",
    "ブルートフォース",
    "credential",
]
GARBAGE = chunk("garbage", random.Random(1))[:80].decode("latin-1")
ENDLESS = chunk("endless-banner", random.Random(1)).decode()
URL = re.compile(r"https?://[^\s<>\"'）)]+")
HOSTILE = [
    "<script>alert(1)</script>",
    '"><img src=x onerror=alert(1)>',
    "http://evil.example/login",
    "www.evil-phish.example",
    "{{ 7*191 }}{% raw %}",  # a template that ran would show 1337
    "\x1b[2J\r\nSubject: injected",
    "ＡＤＭＩＮ　ログイン　http：／／ｅｖｉｌ",
]


def _notices(lang: str | None = None) -> list[Notice]:
    prof = NoticeProfile(isp="Sakura Hikari Net", domain=DOMAIN, name_ja="さくら光ネット")
    cs = {c.subscriber_id: c for c in contacts()}
    plan = plan_notices(
        "Sakura Hikari Net",
        findings(),
        from_mapping(SUBSCRIBERS),
        prof,
        cs,
        random.Random(2),
        FIXED_NOW,
    )
    out = list(plan.notices)
    if lang:
        out = [n.model_copy(update={"language": lang}) for n in out]
    return out


def _texts(n: Notice, profile: NoticeProfile) -> list[str]:
    c = compose(n, profile, contacts()[0], n.token or "tok")
    return [c.subject, text_body(c), html_email(c), sms_text(c)]


def _has_word(word: str, text: str) -> bool:
    if word.isascii():
        return re.search(rf"(?<![A-Za-z0-9]){re.escape(word)}", text, re.IGNORECASE) is not None
    return word in text


def _allowed(host: str) -> bool:
    ok = {DOMAIN} | support_domains()
    return host in ok


@pytest.mark.parametrize("lang", ["ja", "en"])
def test_no_jargon_and_only_allowed_links(lang: str, profile: NoticeProfile) -> None:
    for n in _notices(lang):
        for text in _texts(n, profile):
            for word in JARGON:
                assert not _has_word(word, text), (word, text[:200])
            for url in URL.findall(text):
                host = urlsplit(url).hostname or ""
                assert _allowed(host), url
                assert not re.fullmatch(r"[0-9.]+|\[?[0-9a-f:]+\]?", host), url
                assert urlsplit(url).scheme == "https"


def test_japanese_notice_reads_right(profile: NoticeProfile) -> None:
    n = next(x for x in _notices() if x.subscriber_id == "sub-1")
    c = compose(n, profile, contacts()[0], "TOKEN123")
    body = text_body(c)
    assert body.startswith("山田 太郎 様")
    assert "Hikvision DS-2CD2032-I" in body  # device named from the table and the finding
    assert "Configuration > System > User Management" in body  # the vendor's own menu
    assert "https://www.hikvision.com/en/support/" in body
    assert f"https://{DOMAIN}/notice/TOKEN123" in body
    assert "受付番号" in body and c.reference in body
    assert "当てられやすいパスワード" in body and "ソフトウェアが古く" in body
    assert c.subject.startswith("【さくら光ネット】")


def test_managed_router_gets_no_firmware_chore(profile: NoticeProfile) -> None:
    n = next(x for x in _notices() if x.subscriber_id == "sub-2")  # infected Huawei router
    routed = n.model_copy(update={"device": n.device.model_copy(update={"device_type": "Router"})})
    c = compose(routed, profile, None, "t")
    assert "isp_update" in c.steps and "firmware" not in c.steps
    assert c.steps[0] == "restart"


def test_table_covers_every_catalog_vendor() -> None:
    import tomllib
    from importlib import resources

    vendors = set()
    for f in resources.files("iotscope.lab").joinpath("catalog").iterdir():
        if f.name.endswith(".toml"):
            vendors |= {p["vendor"] for p in tomllib.loads(f.read_text("utf-8"))["profile"]}
            kinds = {p["device_type"] for p in tomllib.loads(f.read_text("utf-8"))["profile"]}
            assert kinds <= set(device_table()["kinds"]["ja"]), kinds
    assert vendors <= set(device_table()["vendor"]), vendors - set(device_table()["vendor"])


@pytest.mark.parametrize("hostile", [*HOSTILE, GARBAGE, ENDLESS])
def test_hostile_banner_strings_are_harmless(hostile: str, profile: NoticeProfile) -> None:
    n = _notices()[0]
    evil = n.model_copy(update={"device": Device(vendor=hostile, model=hostile, version=hostile)})
    c = compose(evil, profile, None, "tok")
    html = html_email(c)
    assert "<script" not in html and "onerror" not in html and "<img" not in html
    for text in _texts(evil, profile):
        assert "evil" not in text and "1337" not in text
        assert "\x1b" not in text and "Subject: injected" not in text
        for url in URL.findall(text):
            assert _allowed(urlsplit(url).hostname or ""), url


def test_autoescape_even_for_allowed_strings(profile: NoticeProfile) -> None:
    n = _notices()[0]
    c = compose(n, profile.model_copy(update={"name_ja": "<b>さくら</b>"}), None, "tok")
    assert "&lt;b&gt;さくら&lt;/b&gt;" in str(html_body(c)) and "<b>" not in str(html_body(c))


@settings(max_examples=200, deadline=None)
@given(st.text(max_size=80))
def test_showable_never_lets_a_host_or_markup_through(value: str) -> None:
    shown = showable(value)
    if shown is not None:
        assert not re.search(r"[<>\"'{}%\x00-\x1f]|://|www", shown, re.IGNORECASE)
        assert not re.search(r"[A-Za-z0-9-]+\.[A-Za-z]{2,}(?![A-Za-z0-9])", shown)
        assert len(shown) <= 40
