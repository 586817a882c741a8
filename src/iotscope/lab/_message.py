"""Incremental, bounded parsing of HTTP/1.1 and RTSP/1.0 requests (RFC 9112 s2-6, RFC 2326 s6).

``RequestReader.feed`` takes bytes as they arrive and returns the complete requests so far.
A request line that is not ``METHOD TARGET PROTO/x.y``, a header block over ``MAX_HEAD``
bytes, a body over ``MAX_BODY`` or a chunked body raises ``MessageError`` carrying the status
the device answers with before it hangs up.
"""

from __future__ import annotations

from dataclasses import dataclass

MAX_HEAD = 8192
MAX_BODY = 16384


class MessageError(Exception):
    def __init__(self, status: int, reason: str) -> None:
        super().__init__(f"{status} {reason}")
        self.status, self.reason = status, reason


@dataclass(frozen=True, slots=True)
class Request:
    method: str
    target: str
    version: str  # "HTTP/1.1", "RTSP/1.0", ...
    headers: dict[str, str]  # lower-cased names; repeated names joined with ", "
    body: bytes = b""

    def header(self, name: str, default: str = "") -> str:
        return self.headers.get(name.lower(), default)


def parse_head(head: bytes) -> Request:
    """The request line and header fields of one message (without its body)."""
    lines = head.decode("latin-1").split("\r\n")
    parts = lines[0].split(" ")
    if len(parts) != 3 or not parts[0].isalpha() or "/" not in parts[2]:
        raise MessageError(400, "Bad Request")
    headers: dict[str, str] = {}
    for line in lines[1:]:
        name, sep, value = line.partition(":")
        if not sep or not name or name != name.strip():
            raise MessageError(400, "Bad Request")
        key = name.lower()
        headers[key] = f"{headers[key]}, {value.strip()}" if key in headers else value.strip()
    return Request(parts[0].upper(), parts[1], parts[2].upper(), headers)


class RequestReader:
    """Splits a byte stream into requests; at most ``MAX_HEAD`` + ``MAX_BODY`` buffered."""

    def __init__(self) -> None:
        self._buf = bytearray()
        self._head: Request | None = None
        self._need = 0

    def feed(self, data: bytes) -> list[Request]:
        self._buf += data
        out: list[Request] = []
        while (req := self._next()) is not None:
            out.append(req)
        return out

    def _next(self) -> Request | None:
        if self._head is None:
            while self._buf.startswith(b"\r\n"):
                del self._buf[:2]  # RFC 9112 s2.2: ignore empty lines before a request
            end = self._buf.find(b"\r\n\r\n")
            line_end = self._buf.find(b"\r\n")
            if line_end > 0 and (end < 0 or line_end < end):
                parse_head(bytes(self._buf[:line_end]))  # a bad request line fails at once
            if end < 0:
                if len(self._buf) > MAX_HEAD:
                    raise MessageError(431, "Request Header Fields Too Large")
                return None
            if end > MAX_HEAD:
                raise MessageError(431, "Request Header Fields Too Large")
            self._head = parse_head(bytes(self._buf[:end]))
            del self._buf[: end + 4]
            self._need = _body_length(self._head)
        if len(self._buf) < self._need:
            return None
        head, body = self._head, bytes(self._buf[: self._need])
        del self._buf[: self._need]
        self._head = None
        return Request(head.method, head.target, head.version, head.headers, body)


def _body_length(req: Request) -> int:
    if req.header("transfer-encoding"):
        raise MessageError(501, "Not Implemented")
    raw = req.header("content-length", "0")
    if not raw.isdigit():
        raise MessageError(400, "Bad Request")
    if int(raw) > MAX_BODY:
        raise MessageError(413, "Content Too Large")
    return int(raw)


def render(
    status_line: str, headers: list[tuple[str, str]], body: bytes = b"", head_only: bool = False
) -> bytes:
    """One response: status line, headers (Content-Length added), blank line, body."""
    lines = [status_line, *(f"{k}: {v}" for k, v in headers)]
    lines.append(f"Content-Length: {len(body)}")
    data = ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1", "replace")
    return data if head_only else data + body
