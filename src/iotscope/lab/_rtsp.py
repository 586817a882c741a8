"""An IP camera's RTSP/1.0 server, sans-IO (RFC 2326 s10).

``OPTIONS`` answers 200 with ``Public``; ``DESCRIBE`` answers 401 with a Basic or Digest
challenge until the right credential comes, then 200 with an SDP description (RFC 4566);
other methods get 405; an HTTP request gets 400. Every response repeats the request's
``CSeq`` (s12.17; left out when the request had none, as cameras answer nmap's bare
``OPTIONS``) and carries the profile's ``Server`` header.
"""

from __future__ import annotations

from iotscope.lab._auth import authorized, basic_challenge, digest_challenge
from iotscope.lab._catalog import ServiceProfile
from iotscope.lab._creds import Pair
from iotscope.lab._http import Site
from iotscope.lab._message import MessageError, Request, RequestReader, render

PUBLIC = "OPTIONS, DESCRIBE, SETUP, TEARDOWN, PLAY, PAUSE, GET_PARAMETER, SET_PARAMETER"
REASONS = {200: "OK", 400: "Bad Request", 401: "Unauthorized", 405: "Method Not Allowed",
           413: "Request Entity Too Large", 431: "Request Header Fields Too Large",
           501: "Not Implemented"}  # fmt: skip


class RtspSession:
    def __init__(self, spec: ServiceProfile, pair: Pair | None, site: Site) -> None:
        self.spec, self.pair, self.site = spec, pair, site
        self.closed = False
        self._reader = RequestReader()

    def start(self) -> bytes:
        return b""

    def feed(self, data: bytes) -> bytes:
        if self.closed:
            return b""
        try:
            requests = self._reader.feed(data)
        except MessageError as exc:
            self.closed = True
            return self._response(exc.status, "", [])
        return b"".join(self.handle(req) for req in requests)

    @property
    def realm(self) -> str:
        return self.spec.realm or self.site.facts.get("model") or "RTSP"

    def handle(self, req: Request) -> bytes:
        cseq = req.header("cseq")  # may be absent (nmap's probe): answered without one
        if not req.version.startswith("RTSP/"):
            return self._response(400, cseq, [])
        if req.method == "OPTIONS":
            return self._response(200, cseq, [("Public", PUBLIC)])
        if req.method != "DESCRIBE":
            return self._response(405, cseq, [("Allow", "OPTIONS, DESCRIBE")])
        scheme = "digest" if self.spec.auth == "digest" else "basic"
        needs = self.spec.auth != "none" and not self.spec.no_auth
        auth = req.header("authorization")
        if needs and not authorized(
            scheme, auth, self.pair, self.realm, self.site.nonce, "DESCRIBE"
        ):
            challenge = (
                digest_challenge(self.realm, self.site.nonce)
                if scheme == "digest"
                else basic_challenge(self.realm)
            )
            return self._response(401, cseq, [("WWW-Authenticate", challenge)])
        sdp = self._sdp().encode()
        extra = [
            ("Content-Base", f"{req.target.rstrip('/')}/"),
            ("Content-Type", "application/sdp"),
        ]
        return self._response(200, cseq, extra, sdp)

    def _sdp(self) -> str:
        name = self.site.facts.get("model", "stream")
        return (
            f"v=0\r\no=- 1 1 IN IP4 {self.site.ip}\r\ns={name}\r\nc=IN IP4 0.0.0.0\r\nt=0 0\r\n"
            "m=video 0 RTP/AVP 96\r\na=rtpmap:96 H264/90000\r\na=control:trackID=1\r\n"
        )

    def _response(
        self, status: int, cseq: str, extra: list[tuple[str, str]], body: bytes = b""
    ) -> bytes:
        headers = [("CSeq", cseq)] if cseq else []
        if self.spec.server:
            headers.append(("Server", self.spec.server))
        line = f"RTSP/1.0 {status} {REASONS.get(status, 'Error')}"
        return render(line, headers + extra, body)
