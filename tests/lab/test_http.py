"""Embedded web servers through the sans-IO session: none/basic/digest/form, UPnP, limits."""

from __future__ import annotations

import base64

from hypothesis import given, settings
from hypothesis import strategies as st

from iotscope.lab._catalog import ServiceProfile
from iotscope.lab._creds import OPEN, Pair
from iotscope.lab._http import HttpSession, Site
from tests.lab.test_auth import client_digest

PAIR = Pair("admin", "12345", True)
FACTS = {"vendor": "Acme", "product": "Cam", "model": "AC-1", "version": "1.0", "serial": "S1",
         "mac": "00:11:22:33:44:55", "hostname": "ac-1"}  # fmt: skip
SITE = Site("127.150.0.9", FACTS, "/rootDesc.xml", clock=lambda: 0.0)


def spec(**kw: object) -> ServiceProfile:
    base: dict[str, object] = {
        "service": "http",
        "port": 80,
        "server": "AcmeWeb/1.0",
        "title": "Acme AC-1",
    }
    return ServiceProfile.model_validate({**base, **kw})


def get(path: str = "/", extra: str = "") -> bytes:
    return f"GET {path} HTTP/1.1\r\nHost: x\r\n{extra}\r\n".encode()


def status(resp: bytes) -> int:
    return int(resp.split(b" ", 2)[1])


def test_public_page_has_server_title_and_date() -> None:
    s = HttpSession(spec(headers={"X-Frame-Options": "SAMEORIGIN"}), None, SITE)
    resp = s.feed(get())
    assert resp.startswith(
        b"HTTP/1.1 200 OK\r\nServer: AcmeWeb/1.0\r\nDate: Thu, 01 Jan 1970 00:00:00 GMT\r\n"
    )
    assert b"X-Frame-Options: SAMEORIGIN" in resp
    assert b"<title>Acme AC-1</title>" in resp
    assert status(s.feed(get("/nothing"))) == 404
    assert not s.closed


def test_basic_auth() -> None:
    s = HttpSession(spec(auth="basic", realm="AC-1"), PAIR, SITE)
    resp = s.feed(get())
    assert status(resp) == 401 and b'WWW-Authenticate: Basic realm="AC-1"' in resp
    token = base64.b64encode(b"admin:12345").decode()
    assert status(s.feed(get(extra=f"Authorization: Basic {token}\r\n"))) == 200
    bad = base64.b64encode(b"admin:admin").decode()
    assert status(s.feed(get(extra=f"Authorization: Basic {bad}\r\n"))) == 401


def test_digest_auth() -> None:
    s = HttpSession(spec(auth="digest", realm="AC-1"), PAIR, SITE)
    resp = s.feed(get())
    assert status(resp) == 401
    assert (
        b'WWW-Authenticate: Digest realm="AC-1", qop="auth", nonce="' + SITE.nonce.encode() in resp
    )
    header = client_digest(PAIR, "AC-1", SITE.nonce)
    assert status(s.feed(get(extra=f"Authorization: {header}\r\n"))) == 200
    wrong = client_digest(Pair("admin", "x", True), "AC-1", SITE.nonce)
    assert status(s.feed(get(extra=f"Authorization: {wrong}\r\n"))) == 401


def post_login(body: str) -> bytes:
    return (f"POST /login HTTP/1.1\r\nContent-Type: application/x-www-form-urlencoded\r\n"
            f"Content-Length: {len(body)}\r\n\r\n{body}").encode()  # fmt: skip


def test_form_login() -> None:
    s = HttpSession(spec(auth="form"), PAIR, SITE)
    page = s.feed(get())
    assert status(page) == 200 and b'<form method="POST" action="/login">' in page
    fail = s.feed(post_login("username=admin&password=nope"))
    assert status(fail) == 200 and b"Invalid username or password" in fail
    ok = s.feed(post_login("username=admin&password=12345"))
    assert status(ok) == 302 and b"Location: /" in ok
    cookie = ok.split(b"Set-Cookie: ", 1)[1].split(b";", 1)[0].decode()
    inside = s.feed(get(extra=f"Cookie: {cookie}\r\n"))
    assert b"Status: online" in inside


def test_form_profile_markup_and_other_field_names() -> None:
    s = HttpSession(
        spec(
            auth="form", body='<form action="/login"><input name="user"><input name="pwd"></form>'
        ),
        PAIR,
        SITE,
    )
    page = s.feed(get())
    assert page.count(b"<form") == 1
    assert status(s.feed(post_login("user=admin&pwd=12345"))) == 302


def test_upnp_description_served_at_location() -> None:
    s = HttpSession(spec(auth="basic"), PAIR, SITE)
    resp = s.feed(get("/rootDesc.xml"))
    assert status(resp) == 200
    assert b"<manufacturer>Acme</manufacturer>" in resp and b"<modelName>AC-1</modelName>" in resp


def test_head_and_http10_answered_in_kind_then_closed() -> None:
    s = HttpSession(spec(), OPEN, SITE)
    resp = s.feed(b"HEAD / HTTP/1.0\r\n\r\n")
    assert resp.startswith(b"HTTP/1.0 200 OK\r\nServer: AcmeWeb/1.0\r\n")
    assert b"Connection: close\r\n" in resp
    assert resp.endswith(b"\r\n\r\n") and b"<title>" not in resp
    assert s.closed


def test_bad_request_line_answered_before_the_headers_end() -> None:
    s = HttpSession(spec(), OPEN, SITE)
    assert status(s.feed(b"\x16\x03\x01 junk\r\n")) == 400 and s.closed


def test_oversized_request_gets_431_and_close() -> None:
    s = HttpSession(spec(), None, SITE)
    resp = s.feed(b"GET / HTTP/1.1\r\nX: " + b"a" * 9000)
    assert status(resp) == 431 and s.closed


@settings(max_examples=200, deadline=None)
@given(st.lists(st.binary(max_size=300), max_size=8))
def test_fuzz_never_crashes(chunks: list[bytes]) -> None:
    s = HttpSession(spec(auth="digest"), PAIR, SITE)
    for chunk in chunks:
        out = s.feed(chunk)
        assert out == b"" or out.startswith(b"HTTP/1.1 ")
