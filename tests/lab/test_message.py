"""Incremental request parsing with limits (RFC 9112)."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from iotscope.lab._message import MAX_BODY, MAX_HEAD, MessageError, RequestReader, render


def test_requests_split_anywhere_and_pipelined() -> None:
    data = (
        b"\r\nGET / HTTP/1.1\r\nHost: a\r\nX: 1\r\nx: 2\r\n\r\n"
        b"POST /l HTTP/1.1\r\nContent-Length: 3\r\n\r\nabc"
    )
    reader = RequestReader()
    got = []
    for i in range(len(data)):
        got += reader.feed(data[i : i + 1])
    assert [(r.method, r.target, r.body) for r in got] == [
        ("GET", "/", b""),
        ("POST", "/l", b"abc"),
    ]
    assert got[0].header("x") == "1, 2"


@pytest.mark.parametrize(
    ("data", "status"),
    [
        (b"GARBAGE\r\n\r\n", 400),
        (b"GET / HTTP/1.1\r\nbad header\r\n\r\n", 400),
        (b"GET / HTTP/1.1\r\nContent-Length: x\r\n\r\n", 400),
        (b"POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n", 501),
        (b"POST / HTTP/1.1\r\nContent-Length: %d\r\n\r\n" % (MAX_BODY + 1), 413),
        (b"GET / HTTP/1.1\r\nX: " + b"a" * MAX_HEAD, 431),
    ],
)
def test_limits_and_bad_requests(data: bytes, status: int) -> None:
    with pytest.raises(MessageError) as err:
        RequestReader().feed(data)
    assert err.value.status == status


def test_render_adds_content_length() -> None:
    assert (
        render("HTTP/1.1 200 OK", [("A", "b")], b"xy")
        == b"HTTP/1.1 200 OK\r\nA: b\r\nContent-Length: 2\r\n\r\nxy"
    )
    assert render("HTTP/1.1 200 OK", [], b"xy", head_only=True).endswith(b"\r\n\r\n")


@settings(max_examples=300, deadline=None)
@given(st.lists(st.binary(max_size=200), max_size=10))
def test_fuzz_only_message_errors(chunks: list[bytes]) -> None:
    reader = RequestReader()
    try:
        for chunk in chunks:
            reader.feed(chunk)
    except MessageError as exc:
        assert 400 <= exc.status < 600
