"""HTTP/RTSP/SSDP response heads, titles, challenges, Basic and Digest."""

from __future__ import annotations

import contextlib

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from iotscope.errors import ParseError
from iotscope.survey._http import (
    basic_authorization,
    body_after_head,
    build_request,
    digest_authorization,
    extract_title,
    parse_challenge,
    parse_head,
)

RESPONSE = (
    b"HTTP/1.1 401 Unauthorized\r\nServer: Boa/0.94.14rc21\r\n"
    b'WWW-Authenticate: Digest realm="DVR", nonce="abc", qop="auth"\r\n'
    b"X-Folded: a\r\n  b\r\nbroken line\r\nContent-Length: 40\r\n\r\n"
    b"<html><title>  Web &amp; DVR\n</title></html>"
)


def test_head_fields_and_body() -> None:
    head = parse_head(RESPONSE)
    assert head is not None
    assert (head.protocol, head.status, head.reason) == ("HTTP", 401, "Unauthorized")
    assert head.get("SERVER") == "Boa/0.94.14rc21"
    assert head.get("x-folded") == "a b"
    assert extract_title(body_after_head(RESPONSE, head)) == "Web & DVR"


def test_incomplete_and_garbage() -> None:
    assert parse_head(b"HTTP/1.1 200 OK\r\nServer: x\r\n") is None
    assert parse_head(b"HTT") is None
    with pytest.raises(ParseError):
        parse_head(b"SSH-2.0-dropbear\r\n")
    with pytest.raises(ParseError):
        parse_head(b"HTTP/1.1 abc\r\n\r\n")
    with pytest.raises(ParseError):
        parse_head(b"HTTP/1.1 200 OK\r\n" + b"X: y\r\n" * 5000)


def test_rtsp_and_chunked() -> None:
    head = parse_head(b"RTSP/1.0 200 OK\r\nCSeq: 1\r\nServer: Hipcam RealServer/V1.0\r\n\r\n")
    assert head is not None and head.protocol == "RTSP"
    data = (
        b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
        b"7\r\n<title>\r\n3\r\nab<\r\n0\r\n\r\n"
    )
    head = parse_head(data)
    assert head is not None and body_after_head(data, head) == "<title>ab<"


def test_challenge_and_basic() -> None:
    ch = parse_challenge('Basic realm="NETGEAR \\"DGN\\"", charset=UTF-8')
    assert ch is not None and ch.scheme == "basic"
    assert ch.params == {"realm": 'NETGEAR "DGN"', "charset": "UTF-8"}
    assert parse_challenge("") is None
    assert basic_authorization("Aladdin", "open sesame") == "Basic QWxhZGRpbjpvcGVuIHNlc2FtZQ=="


def test_digest_rfc2617_example() -> None:
    """The worked example of RFC 2617 §3.5 (the same MD5/qop=auth scheme as RFC 7616)."""
    ch = parse_challenge(
        'Digest realm="testrealm@host.com", qop="auth,auth-int", '
        'nonce="dcd98b7102dd2f0e8b11d0f600bfb0c093", opaque="5ccc069c403ebaf9f0171e9517f40e41"'
    )
    assert ch is not None
    value = digest_authorization(
        ch, "Mufasa", "Circle Of Life", "GET", "/dir/index.html", "0a4f113b"
    )
    assert 'response="6629fae49393a05397450978507c4ef1"' in value
    assert 'opaque="5ccc069c403ebaf9f0171e9517f40e41"' in value


def test_request_drops_header_injection() -> None:
    req = build_request("GET", "/", "h:80", {"X": "a\r\nEvil: 1"})
    assert b"Evil" not in req and req.endswith(b"\r\n\r\n")


@settings(max_examples=400, deadline=None)
@given(st.binary(max_size=600))
def test_fuzz_head_parser(data: bytes) -> None:
    try:
        head = parse_head(data)
    except ParseError:
        return
    if head is not None:
        assert 100 <= head.status <= 999
        body_after_head(data, head)


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=300))
def test_fuzz_status_line_prefix(tail: bytes) -> None:
    data = b"HTTP/1.0 200 OK\r\n" + tail
    with contextlib.suppress(ParseError):
        head = parse_head(data)
        if head is not None:  # a complete head keeps the status line it was given
            assert (head.protocol, head.status) == ("HTTP", 200)
            assert 0 < head.length <= len(data)


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=200))
def test_fuzz_challenge_and_title(text: str) -> None:
    challenge = parse_challenge(text)
    if challenge is not None:
        assert challenge.scheme and challenge.scheme == challenge.scheme.lower()
    title = extract_title(text)
    assert title is None or (title == title.strip() and "  " not in title)
