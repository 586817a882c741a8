"""Every probe against scripted services: bounded in time and bytes, never raising."""

from __future__ import annotations

import asyncio
import ipaddress
import time

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from iotscope.survey._net import Timeouts
from iotscope.survey._probe import probe_service, probe_ssdp, sniff
from iotscope.survey._scripted import Chunks, Handler, ScriptedBackend

IP = ipaddress.ip_address("127.70.0.5")
FAST = Timeouts(connect=0.2, read=0.2, probe=1.0)
IAC_WILL_ECHO = b"\xff\xfb\x01"


def backend(port: int, handler: object) -> ScriptedBackend:
    return ScriptedBackend({(str(IP), port): handler})  # type: ignore[dict-item]


async def test_telnet_banner_and_negotiation() -> None:
    be = backend(
        23, lambda: Chunks(greeting=[IAC_WILL_ECHO + b"\r\nBusyBox on DVR\r\nDVR lo", b"gin: "])
    )
    result = await probe_service(be, IP, 23, FAST)
    assert result.service == "telnet" and result.banner == "BusyBox on DVR\r\nDVR"
    assert ("telnet", "BusyBox on DVR\r\nDVR") in result.texts
    assert result.details["prompt"] == "login"
    assert be.writes[(str(IP), 23)][0] == b"\xff\xfd\x01"  # DO ECHO, and no credential
    assert all(b"\r\n" not in w for w in be.writes[(str(IP), 23)][:-1])


async def test_telnet_shell_without_login() -> None:
    be = backend(
        23, lambda: Chunks(greeting=[b"BusyBox v1.00 built-in shell (msh)\r\n# "], hang=True)
    )
    result = await probe_service(be, IP, 23, FAST)
    assert result.auth == "none" and result.details["prompt"] == "shell"


async def test_ssh_on_a_telnet_port_is_recognised() -> None:
    be = backend(2323, lambda: Chunks(greeting=[b"SSH-2.0-dropbear_2019.78\r\n"], hang=True))
    result = await probe_service(be, IP, 2323, FAST)
    assert result.service == "ssh" and result.banner == "SSH-2.0-dropbear_2019.78"


async def test_http_basic_realm_title_and_cert() -> None:
    reply = (
        b"HTTP/1.1 401 Unauthorized\r\nServer: lighttpd/1.4.35\r\n"
        b'WWW-Authenticate: Basic realm="TL-WR841N"\r\nContent-Length: 30\r\n\r\n'
        b"<title>TL-WR841N</title>......"
    )
    be = backend(443, lambda: Chunks(replies=[[reply]], cert="CN=router.local,O=TP-Link"))
    result = await probe_service(be, IP, 443, FAST)
    assert result.service == "https" and result.auth == "basic"
    assert result.challenge == 'Basic realm="TL-WR841N"'
    kinds = dict(result.texts)
    assert kinds["http"] == "lighttpd/1.4.35" and kinds["http_title"] == "TL-WR841N"
    assert kinds["x509_subject"] == "CN=router.local,O=TP-Link"
    request = be.writes[(str(IP), 443)][0]
    assert request.startswith(b"GET / HTTP/1.1\r\nHost: 127.70.0.5:443\r\n")
    assert be.contacts[0][2] == "tls"


async def test_http_form_login_is_detected() -> None:
    body = b'<form><input type="password" name="p"></form>'
    reply = b"HTTP/1.0 200 OK\r\n\r\n" + body
    result = await probe_service(backend(80, lambda: Chunks(replies=[[reply]])), IP, 80, FAST)
    assert result.auth == "form" and result.error is None


async def test_rtsp_server_header() -> None:
    reply = b"RTSP/1.0 200 OK\r\nCSeq: 1\r\nServer: Hipcam RealServer/V1.0\r\n\r\n"
    be = backend(554, lambda: Chunks(replies=[[reply]]))
    result = await probe_service(be, IP, 554, FAST)
    assert result.banner == "Hipcam RealServer/V1.0" and ("rtsp", result.banner) in result.texts
    assert be.writes[(str(IP), 554)][0].startswith(b"OPTIONS rtsp://127.70.0.5:554/ RTSP/1.0")


async def test_mqtt_anonymous_and_refused() -> None:
    be = backend(1883, lambda: Chunks(replies=[[b"\x20\x02\x00\x00"], []]))
    result = await probe_service(be, IP, 1883, FAST)
    assert result.auth == "none" and result.details["anonymous"] == "true"
    assert be.writes[(str(IP), 1883)][1] == b"\xe0\x00"  # DISCONNECT at once
    be = backend(1883, lambda: Chunks(replies=[[b"\x20\x02\x00\x05"]]))
    result = await probe_service(be, IP, 1883, FAST)
    assert result.auth == "password" and result.details["connack"] == "5"


async def test_ssdp_reply() -> None:
    reply = (
        b"HTTP/1.1 200 OK\r\nSERVER: Linux/2.6, UPnP/1.0, TP-LINK TL-WR841N/0.9.1\r\n"
        b"ST: upnp:rootdevice\r\nLOCATION: http://127.70.0.5:1900/rootDesc.xml\r\n\r\n"
    )
    be = ScriptedBackend(udp={(str(IP), 1900): reply})
    result = await probe_ssdp(be, IP, FAST)
    assert result is not None and result.transport == "udp"
    assert result.texts == [("ssdp", "Linux/2.6, UPnP/1.0, TP-LINK TL-WR841N/0.9.1")]
    assert be.writes[(str(IP), 1900)][0].startswith(b"M-SEARCH * HTTP/1.1\r\nHOST: 127.70.0.5:1900")
    assert await probe_ssdp(ScriptedBackend(), IP, FAST) is None


class Tarpit(Handler):
    hang = True


class Flood(Handler):
    """Sends far more than any probe may read, in one go."""

    def start(self) -> list[bytes]:
        return [b"\xff\xfb" + bytes([n % 256]) for n in range(200_000)]


async def test_hostile_hosts_cost_a_bounded_time() -> None:
    for port in (23, 80, 22, 554, 1883):
        start = time.monotonic()
        result = await probe_service(backend(port, Tarpit), IP, port, FAST)
        assert time.monotonic() - start < FAST.probe + 0.5
        assert result.banner is None
    start = time.monotonic()
    result = await probe_service(backend(23, Flood), IP, 23, FAST)
    assert time.monotonic() - start < FAST.probe + 0.5


async def test_refused_port_is_an_error_not_an_exception() -> None:
    result = await probe_service(ScriptedBackend(), IP, 80, FAST)
    assert result.error is not None and "refused" in result.error


def test_sniff() -> None:
    assert sniff(b"SSH-2.0-x") == "ssh"
    assert sniff(b"\xff\xfd\x18") == "telnet"
    assert sniff(b"RTSP/1.0 200") == "rtsp"
    assert sniff(b"\x00\x01") is None


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.integers(min_value=0, max_value=5), st.lists(st.binary(max_size=200), max_size=6))
def test_fuzz_every_probe(which: int, chunks: list[bytes]) -> None:
    port = (23, 80, 554, 1883, 22, 443)[which]
    be = backend(port, lambda: Chunks(greeting=chunks[:2], replies=[chunks[2:]]))
    result = asyncio.run(probe_service(be, IP, port, Timeouts(connect=0.05, read=0.05, probe=0.3)))
    assert result.port == port


@settings(max_examples=200, deadline=None)
@given(st.binary(max_size=400))
def test_fuzz_ssdp_reply(reply: bytes) -> None:
    be = ScriptedBackend(udp={(str(IP), 1900): reply})
    result = asyncio.run(probe_ssdp(be, IP, FAST))
    assert (result is None) == (not reply)
