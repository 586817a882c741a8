"""Application-layer probes: one bounded conversation per open service.

Each probe takes the injected backend, talks to one port for at most ``Timeouts.probe``
seconds and ``MAX_READ`` bytes, and returns a :class:`ServiceResult`: the banner, the texts
the fingerprint engine identifies (by its service names: telnet, ssh, http, http_title,
http_realm, http_body, x509_subject, rtsp, ssdp), details, and what the login check needs.
A failing probe returns a result with ``error`` set; it never raises (except ScopeError).
"""

from __future__ import annotations

import asyncio
import secrets
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

from iotscope.errors import ParseError
from iotscope.survey._http import (
    Head,
    body_after_head,
    build_request,
    extract_title,
    parse_challenge,
    parse_head,
)
from iotscope.survey._mqtt import DISCONNECT, build_connect, parse_connack
from iotscope.survey._net import Backend, NetError, Stream, Timeouts
from iotscope.survey._scope import IPAddress
from iotscope.survey._ssh import VersionReader, ssh_server_info
from iotscope.survey._telnet import (
    Outcome,
    Prompt,
    TelnetCodec,
    TelnetDialogue,
    banner_before_prompt,
)

__all__ = [
    "PORT_HINTS",
    "ServiceResult",
    "http_exchange",
    "probe_service",
    "probe_ssdp",
    "read_until",
    "sniff",
]

MAX_READ = 64 * 1024
PORT_HINTS: dict[int, str] = {
    22: "ssh", 23: "telnet", 2323: "telnet", 80: "http", 8000: "http", 8080: "http",
    8081: "http", 7547: "http", 37215: "http", 52869: "http", 443: "https", 8443: "https",
    554: "rtsp", 1883: "mqtt", 5555: "unknown",
    # common IoT web ports beyond the default list (NAS, hubs, broker dashboards), for --ports
    88: "http", 5000: "http", 8008: "http", 8088: "http", 8123: "http", 18083: "http",
    5001: "https", 9000: "http",
}  # fmt: skip


@dataclass
class ServiceResult:
    """What one probe learned about one (ip, port)."""

    ip: IPAddress
    port: int
    service: str
    transport: str = "tcp"
    banner: str | None = None
    texts: list[tuple[str, str]] = field(default_factory=list)
    details: dict[str, str] = field(default_factory=dict)
    error: str | None = None
    auth: str | None = None  # http: none, basic, digest, form; telnet/mqtt: none when open
    challenge: str | None = None  # http: the WWW-Authenticate value
    path: str = "/"


async def read_until(
    stream: Stream, done: Callable[[bytes], bool], timeout: float, limit: int = MAX_READ
) -> tuple[bytes, bool]:
    """Read until ``done(data)``, end of stream, ``limit`` bytes or ``timeout``.

    Returns ``(data, finished)`` where finished means ``done`` held or the stream ended.
    """
    data = b""
    try:
        async with asyncio.timeout(timeout):
            while len(data) < limit:
                chunk = await stream.read(min(8192, limit - len(data)))
                if not chunk:
                    return data, True
                data += chunk
                if done(data):
                    return data, True
    except TimeoutError:
        pass
    return data, False


def sniff(data: bytes) -> str | None:
    """The protocol a server-first greeting reveals, or None."""
    if data.startswith(b"SSH-") or b"\nSSH-" in data[:1024]:
        return "ssh"
    if data[:1] == b"\xff" or b"login:" in data.lower() or b"password:" in data.lower():
        return "telnet"
    if data.startswith(b"HTTP/"):
        return "http"
    if data.startswith(b"RTSP/"):
        return "rtsp"
    return None


# --- telnet ---------------------------------------------------------------------------------


async def telnet_conversation(
    stream: Stream,
    dialogue: TelnetDialogue,
    timeouts: Timeouts,
    first: bytes = b"",
    codec: TelnetCodec | None = None,
) -> tuple[TelnetCodec, bool]:
    """Drive ``dialogue`` over ``stream`` until it decides, the stream ends or time runs out.

    Returns the codec (negotiation counts) and whether the exchange ended by a decision or
    a prompt (True) rather than by a timeout, end of stream or the byte limit (False).
    """
    codec = codec or TelnetCodec()
    total = 0
    pending = first
    try:
        async with asyncio.timeout(timeouts.read * 2):
            while total < MAX_READ:
                chunk = pending or await stream.read(4096)
                pending = b""
                if not chunk:
                    return codec, False
                total += len(chunk)
                text, reply = codec.feed(chunk)
                out = dialogue.feed(text.decode("utf-8", "replace"))
                if reply or out:
                    await stream.write(reply + out)
                if await _settled(stream, dialogue, codec):
                    return codec, True
    except TimeoutError:
        pass
    return codec, False


async def _settled(stream: Stream, dialogue: TelnetDialogue, codec: TelnetCodec) -> bool:
    """Has the dialogue decided? A shell prompt must hold for a short quiet period."""
    probing = dialogue.username is None and dialogue.password is None
    seen_prompt = dialogue.prompt in (Prompt.LOGIN, Prompt.PASSWORD, Prompt.SHELL)
    if dialogue.outcome is Outcome.PENDING and not (probing and seen_prompt):
        return False
    if dialogue.prompt is not Prompt.SHELL:
        return True
    try:
        async with asyncio.timeout(0.3):
            more = await stream.read(4096)
    except TimeoutError:
        return True
    if not more:
        return True
    text, reply = codec.feed(more)
    if reply:
        await stream.write(reply)
    dialogue.outcome = Outcome.PENDING
    out = dialogue.feed(text.decode("utf-8", "replace"))
    if out:
        await stream.write(out)
    return False


async def probe_telnet(stream: Stream, result: ServiceResult, timeouts: Timeouts) -> None:
    dialogue = TelnetDialogue(username=None, password=None)
    first, _ = await read_until(stream, lambda d: len(d) > 0, timeouts.read)
    if sniff(first) == "ssh":
        result.service = "ssh"
        result.banner = VersionReader().feed(first) or first[:255].decode("utf-8", "replace")
        result.texts.append(("ssh", result.banner))
        return
    codec, _ = await telnet_conversation(stream, dialogue, timeouts, first)
    result.banner = banner_before_prompt(dialogue.seen) if dialogue.seen else None
    result.details["prompt"] = dialogue.prompt.value
    result.details["negotiations"] = str(codec.commands)
    if dialogue.prompt is Prompt.SHELL:
        result.auth = "none"
    if result.banner:
        result.texts.append(("telnet", result.banner))


# --- ssh ------------------------------------------------------------------------------------


async def probe_ssh_line(stream: Stream, result: ServiceResult, timeouts: Timeouts) -> None:
    reader = VersionReader()
    try:
        await read_until(stream, lambda d: reader.feed(d[-8192:]) is not None, timeouts.read)
    except ParseError as exc:
        result.error = f"ssh: {exc.message}"
    if reader.version is None:
        result.error = result.error or "ssh: no identification line"
        return
    result.banner = reader.version
    result.texts.append(("ssh", reader.version))


# --- http / https / rtsp --------------------------------------------------------------------


def _head_done(data: bytes, want_body: int) -> bool:
    head = parse_head(data)
    if head is None:
        return False
    length = head.get("content-length")
    if length is not None and length.isdigit():
        return len(data) - head.length >= min(int(length), want_body)
    return len(data) - head.length >= want_body


async def http_exchange(
    stream: Stream, request: bytes, timeouts: Timeouts, want_body: int
) -> tuple[Head, bytes]:
    await stream.write(request)
    data, _ = await read_until(stream, lambda d: _head_done(d, want_body), timeouts.read)
    head = parse_head(data)
    if head is None:
        raise ParseError("incomplete response head", size=len(data))
    return head, data


def _http_auth(head: Head, body: str) -> tuple[str, str | None]:
    value = head.get("www-authenticate")
    if head.status == 401 and value:
        challenge = parse_challenge(value)
        scheme = challenge.scheme if challenge else "other"
        return (scheme if scheme in ("basic", "digest") else "other"), value
    if 'type="password"' in body.lower() or "type=password" in body.lower():
        return "form", value
    return ("none" if head.status < 400 else "other"), value


async def probe_http(stream: Stream, result: ServiceResult, timeouts: Timeouts, host: str) -> None:
    head, data = await http_exchange(stream, build_request("GET", "/", host), timeouts, 4096)
    body = body_after_head(data, head)
    result.auth, result.challenge = _http_auth(head, body)
    server, title = head.get("server"), extract_title(body)
    result.banner = server or title
    result.details.update(status=str(head.status), auth=result.auth)
    for name, text in (("http", server), ("http_title", title), ("http_realm", result.challenge)):
        if text:
            result.texts.append((name, text))
            result.details[name] = text
    if body.strip():
        result.texts.append(("http_body", body))
    subject = stream.cert_subject()
    if subject:
        result.details["cert_subject"] = subject
        result.texts.append(("x509_subject", subject))


async def probe_rtsp(stream: Stream, result: ServiceResult, timeouts: Timeouts, host: str) -> None:
    request = build_request("OPTIONS", f"rtsp://{host}/", host, {"CSeq": "1"}, protocol="RTSP/1.0")
    head, _ = await http_exchange(stream, request, timeouts, 0)
    server = head.get("server")
    result.banner = server
    result.details.update(status=str(head.status), public=head.get("public") or "")
    if server:
        result.texts.append(("rtsp", server))


async def probe_mqtt(stream: Stream, result: ServiceResult, timeouts: Timeouts) -> None:
    """An anonymous CONNECT: is it accepted (CONNACK 0)? DISCONNECT at once if so."""
    await stream.write(build_connect(f"iotscope-{secrets.token_hex(4)}"))
    data, _ = await read_until(stream, lambda d: len(d) >= 4, timeouts.read, limit=4)
    connack = parse_connack(data)
    if connack is None:
        raise ParseError("no CONNACK", size=len(data))
    if connack.accepted:
        await stream.write(DISCONNECT)
    result.auth = "none" if connack.accepted else "password"
    result.banner = f"CONNACK {connack.code} ({connack.meaning})"
    result.details.update(connack=str(connack.code), anonymous=str(connack.accepted).lower())


# --- dispatch -------------------------------------------------------------------------------


def _host(ip: IPAddress, port: int) -> str:
    return f"[{ip}]:{port}" if ip.version == 6 else f"{ip}:{port}"


async def _probe_stream(
    stream: Stream, result: ServiceResult, timeouts: Timeouts, backend: Backend
) -> None:
    host = _host(result.ip, result.port)
    service = result.service
    if service in ("telnet", "unknown"):
        await probe_telnet(stream, result, timeouts)
        if result.service == "unknown" and not result.banner:
            result.error = "no recognisable greeting"
    elif service == "ssh":
        await probe_ssh_line(stream, result, timeouts)
    elif service in ("http", "https"):
        await probe_http(stream, result, timeouts, host)
    elif service == "rtsp":
        await probe_rtsp(stream, result, timeouts, host)
    elif service == "mqtt":
        await probe_mqtt(stream, result, timeouts)


async def probe_service(
    backend: Backend, ip: IPAddress, port: int, timeouts: Timeouts, service: str | None = None
) -> ServiceResult:
    """Probe one open TCP port (``service`` defaults to the port's usual one)."""
    result = ServiceResult(ip=ip, port=port, service=service or PORT_HINTS.get(port, "unknown"))
    try:
        async with asyncio.timeout(timeouts.probe):
            async with backend.connect(ip, port, tls=result.service == "https") as stream:
                await _probe_stream(stream, result, timeouts, backend)
            if result.service == "unknown" and result.banner:
                result.service = "telnet"
            if result.service == "ssh" and result.banner:
                info = await ssh_server_info(backend, ip, port, timeouts.read * 2)
                _ssh_details(result, info.host_key, info.auth_methods)
    except (NetError, ParseError, TimeoutError, UnicodeError) as exc:
        result.error = result.error or f"{type(exc).__name__}: {exc}"[:200]
    return result


def _ssh_details(result: ServiceResult, host_key: str | None, methods: list[str]) -> None:
    if host_key:
        result.details["host_key"] = host_key
    if methods:
        result.details["auth_methods"] = ",".join(methods)
        if methods == ["none"]:
            result.auth = "none"


def msearch(ip: IPAddress) -> bytes:
    """A unicast M-SEARCH (UPnP Device Architecture 1.1 §1.3.2): HOST is the target itself."""
    return (
        f'M-SEARCH * HTTP/1.1\r\nHOST: {_host(ip, 1900)}\r\nMAN: "ssdp:discover"\r\n'
        f"ST: ssdp:all\r\nUSER-AGENT: iotscope/0.1 UPnP/1.1\r\n\r\n"
    ).encode()


async def probe_ssdp(backend: Backend, ip: IPAddress, timeouts: Timeouts) -> ServiceResult | None:
    """SSDP over UDP 1900: None when no (parseable) reply came."""
    reply = await backend.datagram(ip, 1900, msearch(ip), 8192)
    if not reply:
        return None
    result = ServiceResult(ip=ip, port=1900, service="ssdp", transport="udp")
    try:
        head = parse_head(reply if b"\r\n\r\n" in reply else reply + b"\r\n\r\n")
    except ParseError as exc:
        result.error = f"ssdp: {exc.message}"
        return result
    if head is None:
        result.error = "ssdp: truncated reply"
        return result
    server = head.get("server")
    result.banner = server
    for name in ("server", "st", "usn", "location"):
        value = head.get(name)
        if value:
            result.details[name] = value
    if server:
        result.texts.append(("ssdp", server))
    return result


ProbeFn = Callable[[Backend, IPAddress, int, Timeouts], Awaitable[ServiceResult]]
