"""HTTP authentication checks for the lab's devices: Basic (RFC 7617), Digest (RFC 7616).

Digest uses MD5 with ``qop=auth`` (RFC 7616 s3.4.1); requests without ``qop`` (RFC 2069
style) are accepted too, as old device firmware does. Each device has one fixed nonce, as
many embedded servers do; replay protection is not part of the emulation.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import re

from iotscope.lab._creds import Pair

_PARAM = re.compile(r'(\w+)\s*=\s*(?:"((?:[^"\\]|\\.)*)"|([^\s,]+))')


def md5_hex(text: str) -> str:
    return hashlib.md5(text.encode("utf-8"), usedforsecurity=False).hexdigest()


def device_nonce(seed_text: str) -> str:
    return hashlib.sha256(f"nonce:{seed_text}".encode()).hexdigest()[:32]


def basic_challenge(realm: str) -> str:
    return f'Basic realm="{realm}"'


def digest_challenge(realm: str, nonce: str) -> str:
    opaque = md5_hex(realm)
    return f'Digest realm="{realm}", qop="auth", nonce="{nonce}", opaque="{opaque}", algorithm=MD5'


def check_basic(header: str, pair: Pair) -> bool:
    """RFC 7617 s2: ``Basic base64(user ":" password)``."""
    scheme, _, token = header.strip().partition(" ")
    if scheme.lower() != "basic":
        return False
    try:
        decoded = base64.b64decode(token.strip(), validate=True).decode("utf-8")
    except (binascii.Error, UnicodeDecodeError):
        return False
    user, sep, password = decoded.partition(":")
    return bool(sep) and (user, password) == (pair.username, pair.password)


def digest_params(header: str) -> dict[str, str] | None:
    scheme, _, rest = header.strip().partition(" ")
    if scheme.lower() != "digest":
        return None
    return {m.group(1).lower(): m.group(2) or m.group(3) or "" for m in _PARAM.finditer(rest)}


def digest_response(params: dict[str, str], password: str, method: str) -> str:
    """The ``response`` value a client with ``password`` computes (RFC 7616 s3.4.1)."""
    ha1 = md5_hex(f"{params.get('username', '')}:{params.get('realm', '')}:{password}")
    ha2 = md5_hex(f"{method}:{params.get('uri', '')}")
    nonce = params.get("nonce", "")
    if params.get("qop"):
        nc, cnonce, qop = params.get("nc", ""), params.get("cnonce", ""), params["qop"]
        return md5_hex(f"{ha1}:{nonce}:{nc}:{cnonce}:{qop}:{ha2}")
    return md5_hex(f"{ha1}:{nonce}:{ha2}")


def check_digest(header: str, pair: Pair, realm: str, nonce: str, method: str) -> bool:
    params = digest_params(header)
    if params is None or pair.password is None:
        return False
    if params.get("username") != pair.username or params.get("realm") != realm:
        return False
    if params.get("nonce") != nonce or params.get("qop", "auth") != "auth":
        return False
    return params.get("response", "").lower() == digest_response(params, pair.password, method)


def authorized(
    scheme: str, header: str, pair: Pair | None, realm: str, nonce: str, method: str
) -> bool:
    """Whether ``header`` (an Authorization value) logs in under ``scheme``."""
    if pair is None or pair.open:
        return True
    if not header:
        return False
    if scheme == "digest":
        return check_digest(header, pair, realm, nonce, method)
    return check_basic(header, pair)
