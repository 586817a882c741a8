"""RTSP/1.0 camera dialogues (RFC 2326): OPTIONS, DESCRIBE with 401 Basic/Digest, CSeq."""

from __future__ import annotations

import base64

from hypothesis import given, settings
from hypothesis import strategies as st

from iotscope.lab._catalog import ServiceProfile
from iotscope.lab._creds import Pair
from iotscope.lab._rtsp import RtspSession
from tests.lab.test_auth import client_digest
from tests.lab.test_http import SITE

PAIR = Pair("admin", "12345", True)


def spec(auth: str) -> ServiceProfile:
    return ServiceProfile(service="rtsp", port=554, server="Acme RTSP/1.0", auth=auth, realm="cam")  # type: ignore[arg-type]


def req(method: str, cseq: int, extra: str = "") -> bytes:
    return f"{method} rtsp://127.150.0.9:554/live RTSP/1.0\r\nCSeq: {cseq}\r\n{extra}\r\n".encode()


def test_options() -> None:
    resp = RtspSession(spec("basic"), PAIR, SITE).feed(req("OPTIONS", 1))
    assert resp.startswith(
        b"RTSP/1.0 200 OK\r\nCSeq: 1\r\nServer: Acme RTSP/1.0\r\nPublic: OPTIONS, DESCRIBE"
    )


def test_describe_basic() -> None:
    s = RtspSession(spec("basic"), PAIR, SITE)
    resp = s.feed(req("DESCRIBE", 2))
    assert resp.startswith(b"RTSP/1.0 401 Unauthorized\r\nCSeq: 2\r\n")
    assert b'WWW-Authenticate: Basic realm="cam"' in resp
    token = base64.b64encode(b"admin:12345").decode()
    ok = s.feed(req("DESCRIBE", 3, f"Authorization: Basic {token}\r\n"))
    assert ok.startswith(b"RTSP/1.0 200 OK\r\nCSeq: 3\r\n")
    assert b"Content-Type: application/sdp" in ok and b"m=video 0 RTP/AVP 96" in ok


def test_describe_digest() -> None:
    s = RtspSession(spec("digest"), PAIR, SITE)
    assert b"WWW-Authenticate: Digest" in s.feed(req("DESCRIBE", 1))
    header = client_digest(PAIR, "cam", SITE.nonce, "DESCRIBE", "rtsp://127.150.0.9:554/live")
    assert s.feed(req("DESCRIBE", 2, f"Authorization: {header}\r\n")).startswith(b"RTSP/1.0 200")


def test_open_stream_and_other_methods() -> None:
    s = RtspSession(spec("none"), None, SITE)
    assert s.feed(req("DESCRIBE", 1)).startswith(b"RTSP/1.0 200")
    assert s.feed(req("PLAY", 2)).startswith(b"RTSP/1.0 405")
    bare = s.feed(b"OPTIONS / RTSP/1.0\r\n\r\n")  # nmap's RTSPRequest probe: no CSeq
    assert bare.startswith(b"RTSP/1.0 200 OK\r\nServer: Acme RTSP/1.0\r\n")
    assert s.feed(b"GET / HTTP/1.0\r\n\r\n").startswith(b"RTSP/1.0 400")


@settings(max_examples=200, deadline=None)
@given(st.lists(st.binary(max_size=200), max_size=8))
def test_fuzz_never_crashes(chunks: list[bytes]) -> None:
    s = RtspSession(spec("digest"), PAIR, SITE)
    for chunk in chunks:
        out = s.feed(chunk)
        assert out == b"" or out.startswith(b"RTSP/1.0 ")
