"""The engine over a scripted backend: discovery, probes, merged identity, logins, counts."""

from __future__ import annotations

import ipaddress

from iotscope.knowledge import CredentialEntry
from iotscope.records import Finding, Identity, Survey
from iotscope.survey import SurveyEngine, SurveyOptions, Target, parse_ports, parse_shard
from iotscope.survey._login import LoginPolicy
from iotscope.survey._net import Timeouts
from iotscope.survey._scripted import Chunks, ScriptedBackend
from tests.conftest import FIXED_NOW

A, B = "127.72.0.1", "127.72.0.2"
PAGE = b"HTTP/1.1 200 OK\r\nServer: App-webs/\r\n\r\n<title>DS-2CD2032</title>"
SSDP = b"HTTP/1.1 200 OK\r\nSERVER: UPnP/1.0\r\n\r\n"


def TELNET() -> Chunks:
    return Chunks(greeting=[b"Hikvision DS-2CD2032\r\nlogin: "], hang=True)


def HTTP() -> Chunks:
    return Chunks(replies=[[PAGE]])


def BROKER() -> Chunks:
    return Chunks(replies=[[b"\x20\x02\x00\x00"], []])


def identify(service: str, text: str) -> Identity | None:
    """A two-rule identifier: the title names the model, the telnet banner the version."""
    if service == "http_title" and text.startswith("DS-2CD"):
        return Identity(vendor="Hikvision", product="DS-2CD IP camera", model=text)
    if service == "telnet" and "Hikvision" in text:
        return Identity(vendor="Hikvision Digital", version="V5.4.5")
    return None


def engine(backend: ScriptedBackend, login: bool = True) -> SurveyEngine:
    opts = SurveyOptions(ports=parse_ports("23,80,1883,U:1900"), login=login, concurrency=8,
                         timeouts=Timeouts(read=0.2, probe=1.0),
                         policy=LoginPolicy(delay=0.0), survey_id="s1")  # fmt: skip
    creds = [CredentialEntry(id="x#1", protocols=("telnet",), username="a", password="b",
                             source="test")]  # fmt: skip
    return SurveyEngine(backend, opts, identify, creds, cves=lambda i: ("CVE-2017-7921",))


async def test_host_findings_share_the_merged_identity() -> None:
    be = ScriptedBackend({(A, 23): TELNET, (A, 80): HTTP, (B, 1883): BROKER},
                         udp={(B, 1900): SSDP})  # fmt: skip
    eng = engine(be, login=False)
    out: list[Finding] = []
    survey = Survey(id="s1", started=FIXED_NOW, scope=("127.72.0.0/30",))
    targets = [Target(ipaddress.ip_address(x)) for x in (A, B, "127.72.0.3")]
    done = await eng.run(targets, out.extend, survey)
    a = [f for f in out if str(f.ip) == A]
    assert {f.service for f in a} == {"telnet", "http"}
    # title (ranked first) gives vendor/product/model; telnet fills the version
    assert a[0].identity == Identity(vendor="Hikvision", product="DS-2CD IP camera",
                                     model="DS-2CD2032", version="V5.4.5")  # fmt: skip
    assert all(f.cves == ("CVE-2017-7921",) and f.survey_id == "s1" for f in a)
    b = {f.service: f for f in out if str(f.ip) == B}
    assert set(b) == {"mqtt", "ssdp"} and b["ssdp"].transport == "udp"
    assert all(f.login.outcome == "not_tried" for f in out)
    assert done.finished is not None
    assert done.counts["hosts"] == 3 and done.counts["hosts_up"] == 2
    assert done.counts["service:telnet"] == 1
    syns = [(ip, port) for ip, port, kind in be.contacts if kind == "syn"]
    assert len(syns) == 9  # one connect per TCP port per host, no more


async def test_logins_and_no_auth() -> None:
    be = ScriptedBackend({(B, 1883): BROKER})
    out: list[Finding] = []
    done = await engine(be).run([Target(ipaddress.ip_address(B))], out.extend,
                                Survey(id="s1", started=FIXED_NOW, scope=("x",)))  # fmt: skip
    assert [f.login.outcome for f in out] == ["no_auth"]
    assert done.counts["hosts_weak"] == 1


async def test_zmap_ports_skip_discovery_and_shard_filters() -> None:
    be = ScriptedBackend({(A, 80): HTTP})
    eng = engine(be, login=False)
    out: list[Finding] = []
    await eng.run([Target(ipaddress.ip_address(A), (80,))], out.extend,
                  Survey(id="s1", started=FIXED_NOW, scope=("x",)))  # fmt: skip
    assert [f.port for f in out] == [80]
    assert not [c for c in be.contacts if c[2] == "syn"]
    opts = SurveyOptions(ports=parse_ports("80"), shard=parse_shard("1/2"), login=False)
    sharded = SurveyEngine(ScriptedBackend({(A, 80): HTTP}), opts, identify)
    ips = [ipaddress.ip_address(f"127.72.1.{n}") for n in range(50)]
    await sharded.run([Target(ip) for ip in ips], lambda f: None,
                      Survey(id="s2", started=FIXED_NOW, scope=("x",)))  # fmt: skip
    assert sharded.counts["hosts"] == sum(parse_shard("1/2").owns(ip) for ip in ips)


def EXPLODES() -> Chunks:
    raise RuntimeError("File descriptor 33 is used by transport")


async def test_a_crash_in_one_host_is_an_error_finding_not_the_end_of_the_run() -> None:
    bad = "127.72.0.9"
    be = ScriptedBackend({(A, 80): HTTP, (bad, 80): EXPLODES, (B, 1883): BROKER})
    out: list[Finding] = []
    done_hosts: list[Target] = []
    targets = [Target(ipaddress.ip_address(x), position=n) for n, x in enumerate((bad, A, B))]
    done = await engine(be).run(targets, out.extend,
                                Survey(id="s1", started=FIXED_NOW, scope=("x",)),
                                lambda t, f: done_hosts.append(t))  # fmt: skip
    [error] = [f for f in out if str(f.ip) == bad]
    assert (error.service, error.port, error.login.outcome) == ("error", 0, "error")
    assert "RuntimeError" in error.details["error"] and error.survey_id == "s1"
    assert {str(f.ip) for f in out} == {bad, A, B}  # the other hosts were surveyed
    assert done.counts["host_errors"] == 1 and done.counts["hosts"] == 3
    assert sorted(t.position or 0 for t in done_hosts) == [0, 1, 2]


async def test_a_crash_in_one_login_check_is_that_service_s_error() -> None:
    class Boom(Chunks):
        def received(self, data: bytes) -> list[bytes]:
            if data.startswith(b"a"):  # the username of the credential tried
                raise KeyError("boom")
            return super().received(data)

    be = ScriptedBackend({(A, 23): lambda: Boom(greeting=[b"login: "], hang=True),
                          (A, 1883): BROKER})  # fmt: skip
    eng = engine(be)
    out: list[Finding] = []
    await eng.run([Target(ipaddress.ip_address(A))], out.extend,
                  Survey(id="s1", started=FIXED_NOW, scope=("x",)))  # fmt: skip
    by_service = {f.service: f.login for f in out}
    assert by_service["telnet"].outcome == "error" and "KeyError" in (
        by_service["telnet"].detail or ""
    )
    assert by_service["mqtt"].outcome == "no_auth"  # the host's other service was checked
    assert eng.counts["login_crashes"] == 1
