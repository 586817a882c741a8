"""Basic (RFC 7617) and Digest (RFC 7616, MD5, qop=auth) checks."""

from __future__ import annotations

import base64

from iotscope.lab._auth import (
    authorized,
    check_basic,
    check_digest,
    digest_challenge,
    digest_params,
    md5_hex,
)
from iotscope.lab._creds import OPEN, Pair

PAIR = Pair("admin", "12345", True)


def basic(user: str, password: str) -> str:
    return "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()


def test_basic() -> None:
    assert check_basic(basic("admin", "12345"), PAIR)
    assert not check_basic(basic("admin", "1234"), PAIR)
    assert not check_basic("Basic !!!", PAIR)
    assert not check_basic("Bearer x", PAIR)
    assert not check_basic("Basic " + base64.b64encode(b"admin").decode(), PAIR)


def test_rfc7616_worked_example_md5() -> None:
    # RFC 7616 s3.9.1 (MD5): Mufasa / Circle of Life
    params = {"username": "Mufasa", "realm": "http-auth@example.org", "uri": "/dir/index.html",
              "nonce": "7ypf/xlj9XXwfDPEoM4URrv/xwf94BcCAzFZH4GiTo0v", "nc": "00000001",
              "cnonce": "f2/wE4q74E6zIJEtWaHKaf5wv/H5QzzpXusqGemxURZJ", "qop": "auth"}  # fmt: skip
    from iotscope.lab._auth import digest_response

    assert digest_response(params, "Circle of Life", "GET") == "8ca523f5e9506fed4657c9700eebdbec"


def client_digest(pair: Pair, realm: str, nonce: str, method: str = "GET", uri: str = "/") -> str:
    ha1 = md5_hex(f"{pair.username}:{realm}:{pair.password}")
    ha2 = md5_hex(f"{method}:{uri}")
    resp = md5_hex(f"{ha1}:{nonce}:00000001:abc:auth:{ha2}")
    return (f'Digest username="{pair.username}", realm="{realm}", nonce="{nonce}", uri="{uri}", '
            f'qop=auth, nc=00000001, cnonce="abc", response="{resp}"')  # fmt: skip


def test_digest() -> None:
    header = client_digest(PAIR, "cam", "n1")
    assert check_digest(header, PAIR, "cam", "n1", "GET")
    assert not check_digest(header, PAIR, "cam", "n2", "GET")  # someone else's nonce
    assert not check_digest(header, PAIR, "other", "n1", "GET")
    assert not check_digest(header, PAIR, "cam", "n1", "POST")
    assert not check_digest(
        client_digest(Pair("admin", "x", True), "cam", "n1"), PAIR, "cam", "n1", "GET"
    )


def test_challenge_parses_back() -> None:
    params = digest_params(digest_challenge("cam", "n1"))
    assert params is not None
    assert params["realm"] == "cam" and params["nonce"] == "n1" and params["qop"] == "auth"


def test_authorized_open_and_missing() -> None:
    assert authorized("basic", "", OPEN, "r", "n", "GET")
    assert authorized("basic", "", None, "r", "n", "GET")
    assert not authorized("digest", "", PAIR, "r", "n", "GET")
