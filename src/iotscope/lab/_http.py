"""An embedded web server's behaviour, sans-IO (HTTP/1.1: RFC 9110, RFC 9112).

Per profile: ``Server`` header, page title, extra headers and body, and the login style:
``none`` (the page is public), ``basic`` (RFC 7617) or ``digest`` (RFC 7616) answered with 401
and a challenge until the right credential comes, or ``form``: ``GET /`` shows a login page
whose form POSTs ``username`` and ``password`` (urlencoded) to ``/login``; the right pair gets
``302 Found`` to ``/`` with a ``Set-Cookie: session=...``; a wrong pair gets the login page
again (200) with "Invalid username or password". A device that also speaks UPnP serves its
device description at the SSDP ``LOCATION`` path. An HTTP/1.0 request is answered with
HTTP/1.0 (as Boa, lighttpd and most embedded servers do). Keep-alive per RFC 9112 s9.3; a request
that breaks the limits of ``_message`` gets its 4xx/5xx and the connection closes. ``pages``
are read-only resources served to anyone (GET/HEAD), such as D-Link's HNAP ``/HNAP1/``
device-settings answer.
"""

from __future__ import annotations

import hashlib
import html
from collections.abc import Callable
from dataclasses import dataclass
from email.utils import formatdate
from urllib.parse import parse_qs

from iotscope.lab._auth import authorized, basic_challenge, device_nonce, digest_challenge
from iotscope.lab._catalog import ServiceProfile
from iotscope.lab._creds import Pair
from iotscope.lab._message import MessageError, Request, RequestReader, render

REASONS = {200: "OK", 302: "Found", 400: "Bad Request", 401: "Unauthorized", 404: "Not Found",
           413: "Content Too Large", 431: "Request Header Fields Too Large",
           501: "Not Implemented"}  # fmt: skip
USER_FIELDS = ("username", "user", "login", "name", "uname", "usr")
PASSWORD_FIELDS = ("password", "pass", "passwd", "pwd", "psw")
LOGIN_FORM = (
    '<form method="POST" action="/login">'
    '<input type="text" name="username"><input type="password" name="password">'
    '<input type="submit" value="Login"></form>'
)


@dataclass(frozen=True, slots=True)
class Site:
    """What a device's web server knows about its device."""

    ip: str
    facts: dict[str, str]
    upnp_path: str | None = None  # serve the UPnP description here (device has SSDP)
    clock: Callable[[], float] | None = None  # for the Date header; None: no Date

    @property
    def nonce(self) -> str:
        return device_nonce(f"{self.ip}/{self.facts.get('serial', '')}")

    @property
    def cookie(self) -> str:
        return hashlib.sha256(f"cookie:{self.ip}".encode()).hexdigest()[:24]


class HttpSession:
    """One HTTP connection (several requests with keep-alive)."""

    def __init__(self, spec: ServiceProfile, pair: Pair | None, site: Site) -> None:
        self.spec, self.pair, self.site = spec, pair, site
        self.closed = False
        self._reader = RequestReader()
        self._version = "HTTP/1.1"  # answer HTTP/1.0 clients in kind, as embedded servers do

    def start(self) -> bytes:
        return b""

    def feed(self, data: bytes) -> bytes:
        if self.closed:
            return b""
        try:
            requests = self._reader.feed(data)
        except MessageError as exc:
            self.closed = True
            return self._response(exc.status, b"", [])
        out = bytearray()
        for req in requests:
            self._version = "HTTP/1.0" if req.version == "HTTP/1.0" else "HTTP/1.1"
            if _wants_close(req):
                self.closed = True
                return bytes(out + self.handle(req))
            out += self.handle(req)
        return bytes(out)

    def handle(self, req: Request) -> bytes:
        """The response to one request."""
        path = req.target.split("?", 1)[0]
        head_only = req.method == "HEAD"
        if self.site.upnp_path and path == self.site.upnp_path:
            return self._upnp(head_only)
        if path in self.spec.pages and req.method in ("GET", "HEAD"):
            return self._resource(self.spec.pages[path], head_only)
        if self.spec.auth == "form":
            return self._form(req, path, head_only)
        if self.spec.auth in ("basic", "digest") and not self._authorized(req):
            return self._challenge(head_only)
        if path not in ("/", "/index.html", "/index.htm", "/login"):
            return self._response(404, b"<html><body>404 Not Found</body></html>", [], head_only)
        return self._page(200, self.spec.body or "", head_only)

    # -- pieces ----------------------------------------------------------------------------
    @property
    def realm(self) -> str:
        return self.spec.realm or self.site.facts.get("model") or "Login"

    def _authorized(self, req: Request) -> bool:
        header = req.header("authorization")
        return authorized(self.spec.auth, header, self.pair, self.realm, self.site.nonce,
                          req.method)  # fmt: skip

    def _challenge(self, head_only: bool) -> bytes:
        if self.spec.auth == "digest":
            value = digest_challenge(self.realm, self.site.nonce)
        else:
            value = basic_challenge(self.realm)
        body = b"<html><head><title>401 Unauthorized</title></head><body>401</body></html>"
        return self._response(401, body, [("WWW-Authenticate", value)], head_only)

    def _form(self, req: Request, path: str, head_only: bool) -> bytes:
        if req.method == "POST" and path == "/login":
            if self._form_ok(req.body):
                cookie = f"session={self.site.cookie}; Path=/; HttpOnly"
                return self._response(302, b"", [("Location", "/"), ("Set-Cookie", cookie)])
            return self._login_page('<p class="error">Invalid username or password</p>', False)
        if f"session={self.site.cookie}" in req.header("cookie"):
            return self._page(200, "<p>Status: online</p>", head_only)
        if path not in ("/", "/index.html", "/index.htm", "/login"):
            return self._response(404, b"<html><body>404 Not Found</body></html>", [], head_only)
        return self._login_page("", head_only)

    def _form_ok(self, body: bytes) -> bool:
        pair = self.pair
        if pair is None or pair.open:
            return True
        fields = parse_qs(body.decode("utf-8", "replace"), keep_blank_values=True)
        user = next((fields[k][0] for k in USER_FIELDS if k in fields), None)
        password = next((fields[k][0] for k in PASSWORD_FIELDS if k in fields), None)
        return (user, password) == (pair.username, pair.password)

    def _login_page(self, notice: str, head_only: bool) -> bytes:
        body = self.spec.body or ""
        form = "" if "<form" in body.lower() else LOGIN_FORM
        return self._page(200, body + notice + form, head_only)

    def _page(self, status: int, inner: str, head_only: bool) -> bytes:
        title = html.escape(self.spec.title or "")
        doc = f"<html><head><title>{title}</title></head><body>{inner}</body></html>"
        return self._response(status, doc.encode("utf-8"), [], head_only)

    def _resource(self, body: str, head_only: bool) -> bytes:
        """A read-only resource the device serves without a login (``pages``)."""
        kind = "text/xml" if body.startswith("<?xml") else "text/html"
        kind = "application/json" if body.startswith("{") else kind
        return self._response(200, body.encode("utf-8"), [("Content-Type", kind)], head_only)

    def _upnp(self, head_only: bool) -> bytes:
        xml = upnp_description(self.site.facts).encode("utf-8")
        return self._response(200, xml, [("Content-Type", "text/xml")], head_only)

    def _response(
        self, status: int, body: bytes, extra: list[tuple[str, str]], head_only: bool = False
    ) -> bytes:
        headers: list[tuple[str, str]] = []
        if self.spec.server:
            headers.append(("Server", self.spec.server))
        if self.site.clock is not None:
            headers.append(("Date", formatdate(self.site.clock(), usegmt=True)))
        if not any(k == "Content-Type" for k, _ in extra):
            headers.append(("Content-Type", "text/html"))
        headers += list(self.spec.headers.items()) + extra
        if self.closed:
            headers.append(("Connection", "close"))
        line = f"{self._version} {status} {REASONS.get(status, 'Error')}"
        return render(line, headers, body, head_only)


def _wants_close(req: Request) -> bool:
    conn = req.header("connection").lower()
    if req.version == "HTTP/1.0":
        return "keep-alive" not in conn
    return "close" in conn


def upnp_description(facts: dict[str, str]) -> str:
    """A UPnP Device Architecture 1.0 root description for the device (s2.3)."""
    e = {k: html.escape(v) for k, v in facts.items()}
    return (
        '<?xml version="1.0"?>\n<root xmlns="urn:schemas-upnp-org:device-1-0">'
        "<specVersion><major>1</major><minor>0</minor></specVersion><device>"
        "<deviceType>urn:schemas-upnp-org:device:Basic:1</deviceType>"
        f"<friendlyName>{e.get('vendor', '')} {e.get('model', '')}</friendlyName>"
        f"<manufacturer>{e.get('vendor', '')}</manufacturer>"
        f"<modelDescription>{e.get('product', '')}</modelDescription>"
        f"<modelName>{e.get('model', '')}</modelName>"
        f"<modelNumber>{e.get('version', '')}</modelNumber>"
        f"<serialNumber>{e.get('serial', '')}</serialNumber>"
        f"<UDN>uuid:{device_uuid(facts)}</UDN></device></root>"
    )


def device_uuid(facts: dict[str, str]) -> str:
    h = hashlib.sha256(f"uuid:{facts.get('serial', '')}{facts.get('mac', '')}".encode()).hexdigest()
    return f"{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:32]}"
