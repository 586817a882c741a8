"""HTTP-family messages, sans-IO: requests we send and the response heads we parse.

Used for HTTP/HTTPS (RFC 9112 message syntax), RTSP (RFC 2326 §7, the same head shape) and
SSDP (UPnP Device Architecture 1.1 §1.3, HTTP over UDP). :func:`parse_head` reads a status
line and header fields from attacker-controlled bytes: it returns None while the head is
incomplete and raises :class:`~iotscope.errors.ParseError` when the bytes are not a response.

Authentication (for the login check): ``Basic`` per RFC 7617 and ``Digest`` per RFC 7616
(MD5, ``qop=auth``, or RFC 2069 style when the server offers no qop).
"""

from __future__ import annotations

import base64
import hashlib
import html
import re
from dataclasses import dataclass

from iotscope.errors import ParseError

__all__ = [
    "Challenge",
    "Head",
    "basic_authorization",
    "body_after_head",
    "build_request",
    "digest_authorization",
    "extract_title",
    "parse_challenge",
    "parse_head",
]

MAX_HEAD = 16 * 1024
MAX_FIELDS = 100
_STATUS_RE = re.compile(rb"^(HTTP|RTSP)/(\d)\.(\d)[ \t]+(\d{3})(?:[ \t]+([^\r\n]*))?$")
_TITLE_RE = re.compile(r"<title[^>]*>(.*?)</title\s*>", re.I | re.S)
USER_AGENT = "iotscope-survey/0.1 (NOTICE-style research survey)"


@dataclass(frozen=True)
class Head:
    """A response head: protocol (HTTP or RTSP), status, reason, fields (names lowercased)."""

    protocol: str
    status: int
    reason: str
    fields: tuple[tuple[str, str], ...]
    length: int  # bytes of the head including the blank line

    def get(self, name: str) -> str | None:
        """The first field called ``name`` (case-insensitive), or None."""
        lname = name.lower()
        return next((v for k, v in self.fields if k == lname), None)

    def get_all(self, name: str) -> list[str]:
        lname = name.lower()
        return [v for k, v in self.fields if k == lname]


def _decode(raw: bytes) -> str:
    return raw.decode("utf-8", "replace").strip()


def parse_head(data: bytes) -> Head | None:
    """The head at the start of ``data``; None if incomplete; ParseError if not a response."""
    end = data.find(b"\r\n\r\n")
    sep = 4
    alt = data.find(b"\n\n")
    if alt != -1 and (end == -1 or alt < end):
        end, sep = alt, 2
    if end == -1:
        if len(data) > MAX_HEAD:
            raise ParseError("response head too long", size=len(data))
        _check_status(data.split(b"\n", 1)[0], partial=b"\n" not in data)
        return None
    lines = re.split(rb"\r?\n", data[:end])
    protocol, status, reason = _check_status(lines[0], partial=False)
    fields = _fields(lines[1:])
    return Head(protocol, status, reason, fields, end + sep)


def _check_status(line: bytes, *, partial: bool) -> tuple[str, int, str]:
    line = line.rstrip(b"\r")
    if partial:
        if not (b"HTTP/".startswith(line[:5]) or b"RTSP/".startswith(line[:5])):
            raise ParseError("not an HTTP/RTSP response", start=line[:40].hex())
        return ("", 0, "")
    match = _STATUS_RE.match(line)
    if match is None:
        raise ParseError("bad status line", line=line[:80].decode("latin-1"))
    return match[1].decode(), int(match[4]), _decode(match[5] or b"")


def _fields(lines: list[bytes]) -> tuple[tuple[str, str], ...]:
    out: list[tuple[str, str]] = []
    for raw in lines[:MAX_FIELDS]:
        if raw[:1] in (b" ", b"\t") and out:  # obsolete line folding (RFC 9112 §5.2)
            name, folded = out[-1]
            out[-1] = (name, f"{folded} {_decode(raw)}")
            continue
        key, colon, value = raw.partition(b":")
        if not colon or not key.strip():
            continue  # a malformed field: skip it, keep the rest
        out.append((_decode(key).lower(), _decode(value)))
    return tuple(out)


def body_after_head(data: bytes, head: Head, limit: int = 4096) -> str:
    """Up to ``limit`` bytes of body text (chunked transfer coding undone best-effort)."""
    body = data[head.length :]
    if (head.get("transfer-encoding") or "").lower().endswith("chunked"):
        body = _dechunk(body)
    return body[:limit].decode("utf-8", "replace")


def _dechunk(body: bytes) -> bytes:
    out = bytearray()
    pos = 0
    while pos < len(body):
        line_end = body.find(b"\r\n", pos)
        if line_end == -1:
            break
        try:
            size = int(body[pos:line_end].split(b";")[0].strip() or b"0", 16)
        except ValueError:
            break
        if size <= 0:
            break
        out += body[line_end + 2 : line_end + 2 + size]
        pos = line_end + 2 + size + 2
    return bytes(out)


def extract_title(body: str) -> str | None:
    """The HTML ``<title>`` text, entities decoded and whitespace collapsed."""
    match = _TITLE_RE.search(body)
    if match is None:
        return None
    title = " ".join(html.unescape(match[1]).split())
    return title or None


def build_request(
    method: str,
    target: str,
    host: str,
    extra: dict[str, str] | None = None,
    protocol: str = "HTTP/1.1",
) -> bytes:
    """A request head (``Connection: close``); header values must not contain CR/LF."""
    fields = {"Host": host, "User-Agent": USER_AGENT, "Accept": "*/*", "Connection": "close"}
    fields.update(extra or {})
    lines = [f"{method} {target} {protocol}"]
    lines += [f"{k}: {v}" for k, v in fields.items() if "\r" not in v and "\n" not in v]
    return ("\r\n".join(lines) + "\r\n\r\n").encode("utf-8")


@dataclass(frozen=True)
class Challenge:
    """One ``WWW-Authenticate`` challenge: scheme (lowercase) and its parameters."""

    scheme: str
    params: dict[str, str]


_PARAM_RE = re.compile(r'\s*([\w-]+)\s*=\s*(?:"((?:[^"\\]|\\.)*)"|([^\s,]*))\s*,?')


def parse_challenge(value: str) -> Challenge | None:
    """The first challenge of a ``WWW-Authenticate`` value (RFC 9110 §11.6.1), or None."""
    value = value.strip()
    scheme, _, rest = value.partition(" ")
    if not scheme or not re.fullmatch(r"[\w!#$%&'*+.^`|~-]+", scheme):
        return None
    params: dict[str, str] = {}
    pos = 0
    while pos < len(rest):
        match = _PARAM_RE.match(rest, pos)
        if match is None or match.end() == pos:
            break
        quoted = match[2]
        params[match[1].lower()] = (
            re.sub(r"\\(.)", r"\1", quoted) if quoted is not None else match[3]
        )
        pos = match.end()
    return Challenge(scheme.lower(), params)


def basic_authorization(username: str, password: str) -> str:
    """``Authorization`` value for HTTP Basic (RFC 7617 §2, UTF-8 user-pass)."""
    token = base64.b64encode(f"{username}:{password}".encode()).decode("ascii")
    return f"Basic {token}"


def _md5(text: str) -> str:
    return hashlib.md5(text.encode("utf-8"), usedforsecurity=False).hexdigest()


def digest_authorization(
    challenge: Challenge, username: str, password: str, method: str, uri: str, cnonce: str
) -> str:
    """``Authorization`` value for Digest MD5 (RFC 7616 §3.4; RFC 2069 form without qop)."""
    realm = challenge.params.get("realm", "")
    nonce = challenge.params.get("nonce", "")
    ha1 = _md5(f"{username}:{realm}:{password}")
    ha2 = _md5(f"{method}:{uri}")
    qops = [q.strip() for q in challenge.params.get("qop", "").split(",") if q.strip()]
    parts = [f'username="{username}"', f'realm="{realm}"', f'nonce="{nonce}"', f'uri="{uri}"']
    if "auth" in qops:
        nc = "00000001"
        response = _md5(f"{ha1}:{nonce}:{nc}:{cnonce}:auth:{ha2}")
        parts += ["qop=auth", f"nc={nc}", f'cnonce="{cnonce}"']
    else:
        response = _md5(f"{ha1}:{nonce}:{ha2}")
    parts += ["algorithm=MD5", f'response="{response}"']
    if "opaque" in challenge.params:
        parts.append(f'opaque="{challenge.params["opaque"]}"')
    return "Digest " + ", ".join(parts)
