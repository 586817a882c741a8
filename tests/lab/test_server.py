"""Real sockets against a small in-process lab, with standard clients (network tests)."""

from __future__ import annotations

import asyncio
import contextlib
import http.client
import socket
import ssl
import urllib.request
from collections.abc import AsyncIterator
from pathlib import Path

import asyncssh
import pytest

from iotscope.lab import RunningLab, World, build_world, start_lab
from iotscope.lab._server import (
    LabStats,
    SessionProtocol,
    listen_socket,
    raise_open_files,
    socket_count,
)
from tests.conftest import require_tool
from tests.lab.labkit import find, test_catalog

pytestmark = pytest.mark.network
TIMEOUT = 5


@pytest.fixture
def world(lab_network: str) -> World:
    return build_world(60, 11, lab_network, test_catalog())


@pytest.fixture
async def lab(world: World, iotscope_home: Path) -> AsyncIterator[RunningLab]:
    async with await start_lab(world) as running:
        yield running


async def test_everything_listens(lab: RunningLab) -> None:
    expected = sum(len(d.services) for d in lab.manifest.devices)
    assert lab.listening == expected == socket_count(lab.world.devices)
    assert lab.manifest.created.year >= 2025


async def test_ssh_password_login_and_version(lab: RunningLab) -> None:
    dev, svc = find(lab.world, "test-router", "ssh")
    pair = svc.pair
    assert pair is not None
    async with asyncssh.connect(dev.ip, 22, username=pair.username, password=pair.password,
                                known_hosts=None) as conn:  # fmt: skip
        assert conn.get_extra_info("server_version") == "SSH-2.0-dropbear_2019.78"
        proc = await conn.create_process(term_type="vt100")
        assert await asyncio.wait_for(proc.stdout.read(2), TIMEOUT) == "# "
        proc.stdin.write("exit\n")
        await asyncio.wait_for(proc.wait(), TIMEOUT)
    with pytest.raises(asyncssh.PermissionDenied):
        await asyncssh.connect(dev.ip, 22, username=pair.username, password="wrong",
                               known_hosts=None)  # fmt: skip


async def test_ssh_openssh_version_with_comment(lab: RunningLab) -> None:
    dev, _ = find(lab.world, "test-open", "ssh")
    reader, writer = await asyncio.open_connection(dev.ip, 22)
    line = await asyncio.wait_for(reader.readline(), TIMEOUT)
    writer.close()
    assert line == b"SSH-2.0-OpenSSH_7.4p1 Debian-10+deb9u7\r\n"


def _http_get(
    ip: str, port: int, headers: dict[str, str] | None = None
) -> tuple[int, dict[str, str], bytes]:
    conn = http.client.HTTPConnection(ip, port, timeout=TIMEOUT)
    conn.request("GET", "/", headers=headers or {})
    resp = conn.getresponse()
    out = resp.status, dict(resp.getheaders()), resp.read()
    conn.close()
    return out


async def test_http_basic(lab: RunningLab) -> None:
    dev, svc = find(lab.world, "test-router", "http")
    assert svc.pair is not None
    status, headers, _ = await asyncio.to_thread(_http_get, dev.ip, 80)
    assert status == 401 and headers["Server"] == "thttpd/2.25b 29dec2003"
    mgr = urllib.request.HTTPPasswordMgrWithDefaultRealm()
    mgr.add_password(None, f"http://{dev.ip}/", svc.pair.username or "", svc.pair.password or "")
    opener = urllib.request.build_opener(urllib.request.HTTPBasicAuthHandler(mgr))
    body = await asyncio.to_thread(lambda: opener.open(f"http://{dev.ip}/", timeout=TIMEOUT).read())
    assert b"<title>RG-7 Setup</title>" in body


async def test_http_digest_with_urllib(lab: RunningLab) -> None:
    dev, svc = find(lab.world, "test-camera", "http")
    assert svc.pair is not None
    mgr = urllib.request.HTTPPasswordMgrWithDefaultRealm()
    mgr.add_password(None, f"http://{dev.ip}/", svc.pair.username or "", svc.pair.password or "")
    opener = urllib.request.build_opener(urllib.request.HTTPDigestAuthHandler(mgr))
    body = await asyncio.to_thread(lambda: opener.open(f"http://{dev.ip}/", timeout=TIMEOUT).read())
    assert f"<title>Acme {dev.device.model} Web</title>".encode() in body


async def test_https_certificate_subject_and_form(lab: RunningLab) -> None:
    dev, _ = find(lab.world, "test-router", "https")
    ctx = ssl.create_default_context()
    ctx.check_hostname, ctx.verify_mode = False, ssl.CERT_NONE

    def fetch() -> tuple[bytes | None, int, bytes]:
        conn = http.client.HTTPSConnection(dev.ip, 443, timeout=TIMEOUT, context=ctx)
        conn.request("GET", "/")
        resp = conn.getresponse()
        body = resp.read()
        assert conn.sock is not None
        der = conn.sock.getpeercert(binary_form=True)
        conn.close()
        return der, resp.status, body

    der, status, body = await asyncio.to_thread(fetch)
    from cryptography import x509

    assert der is not None
    cert = x509.load_der_x509_certificate(der)
    assert cert.subject.rfc4514_string() == "CN=rg7.routeco.example,O=Routeco"
    assert status == 200 and b'action="/login"' in body


async def test_raw_telnet_login(lab: RunningLab) -> None:
    dev, svc = find(lab.world, "test-camera", "telnet")
    assert svc.pair is not None
    reader, writer = await asyncio.open_connection(dev.ip, 23)
    greeting = await asyncio.wait_for(reader.readuntil(b"login: "), TIMEOUT)
    assert greeting.startswith(b"\xff\xfb\x01\xff\xfb\x03\xff\xfd\x1f")
    writer.write(
        b"\xff\xfe\x01\xff\xfc\x1f" + f"{svc.pair.username}\r\n".encode()
    )  # DONT ECHO, WONT NAWS
    await asyncio.wait_for(reader.readuntil(b"Password: "), TIMEOUT)
    writer.write(f"{svc.pair.password}\r\n".encode())
    assert (await asyncio.wait_for(reader.readuntil(b"# "), TIMEOUT)).endswith(b"# ")
    writer.write(b"exit\r\n")
    assert await asyncio.wait_for(reader.read(), TIMEOUT) == b""
    writer.close()


async def test_telnet_lockout_over_sockets(lab: RunningLab) -> None:
    dev, _ = find(lab.world, "test-router", "telnet")
    for _ in range(3):
        reader, writer = await asyncio.open_connection(dev.ip, 23)
        await asyncio.wait_for(reader.readuntil(b"Username: "), TIMEOUT)
        writer.write(b"admin\r\nwrong-password\r\n")
        await asyncio.wait_for(reader.readuntil(b"failed\r\n"), TIMEOUT)
        writer.close()
    reader, writer = await asyncio.open_connection(dev.ip, 23)
    assert b"try again later" in await asyncio.wait_for(reader.read(), TIMEOUT)  # then EOF
    writer.close()


async def test_mqtt_over_sockets(lab: RunningLab) -> None:
    from tests.lab.test_mqtt import connect

    open_dev, _ = find(lab.world, "test-open", "mqtt")
    broker, svc = find(lab.world, "test-broker", "mqtt")
    assert svc.pair is not None
    for ip, packet, code in [
        (open_dev.ip, connect(), 0),
        (broker.ip, connect(), 5),
        (broker.ip, connect(svc.pair.username, "bad"), 4),
        (broker.ip, connect(svc.pair.username, svc.pair.password), 0),
    ]:
        reader, writer = await asyncio.open_connection(ip, 1883)
        writer.write(packet)
        assert await asyncio.wait_for(reader.readexactly(4), TIMEOUT) == bytes((0x20, 2, 0, code))
        writer.close()


def _ssdp_ask(ip: str) -> bytes:
    msg = (
        b"M-SEARCH * HTTP/1.1\r\nHOST: 239.255.255.250:1900\r\n"
        b'MAN: "ssdp:discover"\r\nMX: 1\r\nST: ssdp:all\r\n\r\n'
    )
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        sock.settimeout(TIMEOUT)
        sock.sendto(msg, (ip, 1900))
        return sock.recv(2048)


async def test_ssdp_msearch_over_udp(lab: RunningLab) -> None:
    dev, _ = find(lab.world, "test-camera", "ssdp")

    reply = await asyncio.to_thread(_ssdp_ask, dev.ip)
    assert reply.startswith(b"HTTP/1.1 200 OK")
    assert f"LOCATION: http://{dev.ip}:80/rootDesc.xml".encode() in reply
    status, _, _ = await asyncio.to_thread(_http_get, dev.ip, 80)
    assert status == 401  # the page needs a login; the description does not
    conn = http.client.HTTPConnection(dev.ip, 80, timeout=TIMEOUT)
    await asyncio.to_thread(conn.request, "GET", "/rootDesc.xml")
    resp = await asyncio.to_thread(conn.getresponse)
    assert (
        resp.status == 200 and f"<modelName>{dev.device.model}</modelName>".encode() in resp.read()
    )
    conn.close()


async def test_rtsp_over_sockets(lab: RunningLab) -> None:
    dev, _ = find(lab.world, "test-camera", "rtsp")
    reader, writer = await asyncio.open_connection(dev.ip, 554)
    writer.write(f"DESCRIBE rtsp://{dev.ip}/ RTSP/1.0\r\nCSeq: 1\r\n\r\n".encode())
    head = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), TIMEOUT)
    assert head.startswith(b"RTSP/1.0 401") and b"Server: Acme RTSP/1.0" in head
    writer.close()


async def _hostile_ip(lab: RunningLab, kind: str) -> str:
    return next(str(d.ip) for d in lab.manifest.devices if d.hostile == kind)


async def test_hostile_tarpit_says_nothing(lab: RunningLab) -> None:
    reader, writer = await asyncio.open_connection(await _hostile_ip(lab, "tarpit"), 23)
    with pytest.raises(TimeoutError):
        await asyncio.wait_for(reader.read(1), 0.5)
    writer.close()


@pytest.mark.parametrize("kind", ["endless-banner", "garbage", "iac-flood"])
async def test_hostile_talkers_flood(lab: RunningLab, kind: str) -> None:
    reader, writer = await asyncio.open_connection(await _hostile_ip(lab, kind), 23)
    data = await asyncio.wait_for(reader.readexactly(20000), TIMEOUT)
    writer.close()
    if kind == "endless-banner":
        assert b"\n" not in data and data.startswith(b"Welcome")
    elif kind == "iac-flood":
        assert data[0] == 255 and data.count(255) >= len(data) // 3 - 1
    else:
        assert len(set(data)) > 200  # binary noise, every byte value


async def test_hostile_reset(lab: RunningLab) -> None:
    reader, writer = await asyncio.open_connection(await _hostile_ip(lab, "reset"), 80)
    with pytest.raises(ConnectionResetError):
        await asyncio.wait_for(reader.read(100), TIMEOUT)
        writer.write(b"x" * 10)
        await writer.drain()
        await asyncio.wait_for(reader.read(100), TIMEOUT)
    writer.close()


async def test_close_frees_the_addresses(world: World, iotscope_home: Path) -> None:
    async with await start_lab(world) as first:
        count = first.listening
    async with await start_lab(world) as second:  # rebinding the same addresses works at once
        assert second.listening == count > 0


def test_open_file_limit_is_at_least_what_was_asked() -> None:
    assert raise_open_files(64) >= 64


async def _run(*argv: str) -> tuple[int, str]:
    proc = await asyncio.create_subprocess_exec(
        *argv, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT
    )
    out, _ = await asyncio.wait_for(proc.communicate(), 20)
    return proc.returncode or 0, out.decode(errors="replace")


async def test_mosquitto_pub_against_the_brokers(lab: RunningLab) -> None:
    pub = require_tool("mosquitto_pub")
    open_dev, _ = find(lab.world, "test-open", "mqtt")
    broker, svc = find(lab.world, "test-broker", "mqtt")
    assert svc.pair is not None and svc.pair.username and svc.pair.password
    base = ["-p", "1883", "-t", "lab/test", "-m", "hello", "-q", "1"]
    assert (await _run(pub, "-h", open_dev.ip, *base))[0] == 0
    code, out = await _run(pub, "-h", broker.ip, *base)
    assert code != 0 and "not authori" in out.lower()
    code, out = await _run(pub, "-h", broker.ip, *base, "-u", svc.pair.username, "-P", "bad")
    assert code != 0 and "bad user name or password" in out.lower()
    ok = await _run(pub, "-h", broker.ip, *base, "-u", svc.pair.username, "-P", svc.pair.password)
    assert ok[0] == 0, ok[1]


class _Boom:
    closed = False

    def start(self) -> bytes:
        return b"hi"

    def feed(self, data: bytes) -> bytes:
        raise ValueError("unexpected input")


async def test_a_failing_session_is_counted_and_closed(lab_network: str) -> None:
    stats = LabStats()
    tracker: set[asyncio.BaseTransport] = set()
    ip = lab_network.rsplit(".", 1)[0] + ".9"
    server = await asyncio.get_running_loop().create_server(
        lambda: SessionProtocol(_Boom(), tracker, stats), sock=listen_socket(ip, 2323)
    )
    async with server:
        reader, writer = await asyncio.open_connection(ip, 2323)
        assert await asyncio.wait_for(reader.readexactly(2), TIMEOUT) == b"hi"
        writer.write(b"x")
        with contextlib.suppress(ConnectionResetError):
            assert await asyncio.wait_for(reader.read(), TIMEOUT) == b""
        writer.close()
    assert stats.connections == 1 and stats.session_errors == 1
    assert "unexpected input" in stats.errors[0]
