"""Safe checks: the table, the sans-IO halves, and the lab's devices answering truthfully
over a real socket on 127.0.0.1 (the lab's own HTTP session for the catalog's DIR-645)."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from ipaddress import ip_address

import pytest

from iotscope.errors import ConfigError, ScopeError
from iotscope.lab._catalog import load_catalog
from iotscope.lab._creds import Pair
from iotscope.lab._http import HttpSession, Site
from iotscope.lab._world import _render, _version_services
from iotscope.records import Finding, Identity
from iotscope.vulns import VulnDb, default_checks, parse_cve, read_document, run_check
from iotscope.vulns._checks import fetch, parse_checks, read_answer, request
from iotscope.vulns._enrich import proved
from tests.vulns.conftest import NVD

HNAP = default_checks()[0]


def lab_dir645(version: str) -> HttpSession:
    profile = load_catalog().by_id()["dlink-dir-645"]
    v = next(x for x in profile.versions if x.version == version)
    facts = {
        "vendor": "D-Link",
        "product": profile.product,
        "model": "DIR-645",
        "version": version,
        "mac": "00:11:22:33:44:55",
        "serial": "S1",
        "hostname": "h",
    }
    spec = _render(next(s for s in _version_services(profile, v) if s.service == "http"), facts)
    return HttpSession(spec, Pair("admin", "secret", False), Site("127.0.0.1", facts))


@contextmanager
def serving(version: str) -> Iterator[int]:
    """The lab's DIR-645 web server (``version``) on 127.0.0.1, in a thread's event loop."""
    import threading

    loop = asyncio.new_event_loop()
    ready = threading.Event()
    port: list[int] = []

    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        session = lab_dir645(version)
        while not session.closed:
            data = await reader.read(4096)
            if not data:
                break
            writer.write(session.feed(data))
            await writer.drain()
        writer.close()

    async def main() -> asyncio.Server:
        server = await asyncio.start_server(handle, "127.0.0.1", 0)
        port.append(server.sockets[0].getsockname()[1])
        ready.set()
        return server

    def run() -> None:
        asyncio.set_event_loop(loop)
        loop.run_until_complete(main())
        loop.run_forever()

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    ready.wait(5)
    try:
        yield port[0]
    finally:
        loop.call_soon_threadsafe(loop.stop)
        thread.join(5)


def loopback(ip: str) -> bool:
    return ip_address(ip).is_loopback


@pytest.fixture(scope="module")
def db() -> VulnDb:
    return VulnDb.build([parse_cve(read_document(NVD / "CVE-2015-2051.json")[1])])


def finding(port: int, version: str) -> Finding:
    ident = Identity(
        vendor="D-Link",
        product="DIR-645 Wireless Router",
        model="DIR-645",
        version=version,
        cpe=f"cpe:2.3:o:dlink:dir-645_firmware:{version}:*:*:*:*:*:*:*",
    )
    return Finding(
        ip="127.0.0.1",
        port=port,
        service="http",
        time=datetime(2026, 11, 1, tzinfo=UTC),
        identity=ident,
        survey_id="s1",
    )


@pytest.mark.parametrize(
    ("version", "vulnerable"), [("1.03", True), ("1.04B12", True), ("1.05B01", False)]
)
def test_lab_dir645_answers_the_hnap_check_truthfully(
    db: VulnDb, version: str, vulnerable: bool
) -> None:
    profile = load_catalog().by_id()["dlink-dir-645"]
    truth = "CVE-2015-2051" in next(v.cves for v in profile.versions if v.version == version)
    assert truth is vulnerable
    with serving(version) as port:
        reading = asyncio.run(run_check(HNAP, "127.0.0.1", port, False, loopback))
    assert reading.proved and reading.version == version and reading.model == "DIR-645"
    got = proved(HNAP, reading, finding(port, version), db)
    assert got == (["CVE-2015-2051"] if vulnerable else [])


def test_the_check_only_reads() -> None:
    req = request(HNAP, "127.0.0.1")
    assert req.startswith(b"GET /HNAP1/ HTTP/1.1\r\n") and req.endswith(b"\r\n\r\n")
    with pytest.raises(ConfigError, match="only reads"):
        parse_checks(
            '[[check]]\nid="x"\ncves=[]\nvendor="v"\npath="/"\nexpect="x"\nmethod="POST"\n', "t"
        )
    with pytest.raises(ConfigError, match="unknown check fields"):
        parse_checks(
            '[[check]]\nid="x"\ncves=[]\nvendor="v"\npath="/"\nexpect="x"\nbody="cmd"\n', "t"
        )


def test_out_of_scope_address_is_refused_before_any_socket() -> None:
    with pytest.raises(ScopeError):
        asyncio.run(fetch("192.0.2.1", 80, b"", False, loopback, 1.0))


def test_answers_that_prove_nothing() -> None:
    assert not read_answer(HNAP, b"garbage").proved
    assert not read_answer(HNAP, b"HTTP/1.1 404 Not Found\r\n\r\n").proved
    assert not read_answer(HNAP, b"HTTP/1.1 200 OK\r\n\r\n<html>login</html>").proved
    r = read_answer(
        HNAP,
        b"HTTP/1.1 200 OK\r\n\r\n<GetDeviceSettingsResponse>"
        b"<FirmwareVersion>1.03</FirmwareVersion>",
    )
    assert r.proved and r.version == "1.03" and r.model is None


def test_nothing_listening_is_a_reading_not_an_error() -> None:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    reading = asyncio.run(run_check(HNAP, "127.0.0.1", port, False, loopback, timeout=1.0))
    assert not reading.proved and "no answer" in reading.detail
