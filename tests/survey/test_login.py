"""Login checks against scripted devices: list entries only, first success, no command."""

from __future__ import annotations

import base64
import ipaddress
import re

import pytest

from iotscope.knowledge import CredentialEntry
from iotscope.records import Identity
from iotscope.survey import LoginPolicy, check_login, order_credentials
from iotscope.survey._net import Timeouts
from iotscope.survey._probe import ServiceResult
from iotscope.survey._scripted import Handler, ScriptedBackend

IP = ipaddress.ip_address("127.71.0.9")
FAST = Timeouts(connect=0.2, read=0.2, probe=1.0, login=10.0)
POLICY = LoginPolicy(max_attempts=10, delay=0.0, lockout_backoff=0.01)


def entry(
    n: int, user: str, password: str, source: str = "list", protos: str = "telnet|ssh|http|mqtt"
) -> CredentialEntry:
    return CredentialEntry(id=f"e#{n}", protocols=tuple(protos.split("|")), username=user,
                           password=password, source=source)  # fmt: skip


LIST = [entry(1, "root", "xc3511"), entry(2, "admin", "admin"), entry(3, "root", "vizxv"),
        entry(4, "admin", "12345", "Hikvision manual")]  # fmt: skip


class TelnetDevice(Handler):
    """A telnet login: prompt, password, shell or failure; shared lockout counter."""

    failures = 0

    def __init__(self, user: str, password: str, lock_after: int = 0) -> None:
        self.user, self.password, self.lock_after = user, password, lock_after
        self.state = "login"
        self.typed = ""
        self.hang = True

    def start(self) -> list[bytes]:
        if self.lock_after and TelnetDevice.failures >= self.lock_after:
            return [b"Account locked. Try again later.\r\n"]
        return [b"\xff\xfb\x01Welcome\r\nlogin: "]

    def received(self, data: bytes) -> list[bytes]:
        data = re.sub(rb"\xff[\xfb-\xfe].", b"", data, flags=re.S)
        if not data:
            return []
        line = data.decode().strip()
        if self.state == "login":
            self.typed, self.state = line, "password"
            return [data, b"Password: "]
        if self.state == "password":
            if (self.typed, line) == (self.user, self.password):
                self.state = "shell"
                return [b"\r\nBusyBox built-in shell\r\n# "]
            TelnetDevice.failures += 1
            self.state = "login"
            return [b"\r\nLogin incorrect\r\nlogin: "]
        raise AssertionError(f"a command was sent after login: {data!r}")


def telnet_result() -> ServiceResult:
    return ServiceResult(
        ip=IP, port=23, service="telnet", banner="Welcome", details={"prompt": "login"}
    )


@pytest.fixture(autouse=True)
def _reset() -> None:
    TelnetDevice.failures = 0


async def test_telnet_accepted_stops_at_first_success() -> None:
    be = ScriptedBackend({(str(IP), 23): lambda: TelnetDevice("root", "vizxv")})
    login = await check_login(be, telnet_result(), LIST, None, POLICY, FAST)
    assert (login.outcome, login.username, login.credential, login.attempts) == (
        "accepted", "root", "e#3", 3)  # fmt: skip
    last = be.writes[(str(IP), 23)]
    assert last[-1] == b"<close>" and last[-2] == b"vizxv\r\n"  # nothing after the password


async def test_telnet_rejected_after_the_list() -> None:
    be = ScriptedBackend({(str(IP), 23): lambda: TelnetDevice("root", "strong-Pw-1")})
    login = await check_login(be, telnet_result(), LIST, None, POLICY, FAST)
    assert login.outcome == "rejected" and login.attempts == 4 and login.credential is None
    writes = be.writes[(str(IP), 23)]
    assert writes.count(b"<close>") == 2  # three tries on the first connection, one on the next
    assert b"admin\r\n" in writes[: writes.index(b"<close>")]


async def test_vendor_defaults_first_beat_a_lockout() -> None:
    be = ScriptedBackend({(str(IP), 23): lambda: TelnetDevice("admin", "12345", lock_after=2)})
    identity = Identity(vendor="Hikvision", product="DS-2CD")
    login = await check_login(be, telnet_result(), LIST, identity, POLICY, FAST)
    assert login.outcome == "accepted" and login.credential == "e#4" and login.attempts == 1
    TelnetDevice.failures = 0
    login = await check_login(be, telnet_result(), LIST, None, POLICY, FAST)
    assert login.outcome == "error" and "locked" in (login.detail or "")


def test_order_and_cap() -> None:
    identity = Identity(vendor="Hikvision")
    ordered = order_credentials(LIST, "telnet", identity, 3)
    assert [e.id for e in ordered] == ["e#4", "e#1", "e#2"]
    assert order_credentials([entry(9, "a", "b", protos="rtsp")], "telnet", None, 5) == []


def test_pairs_listed_as_the_vendors_defaults_come_first() -> None:
    huawei = CredentialEntry(
        id="m#7", protocols=("telnet",), username="admin", password="admin",
        source="Mirai list", vendors=("huawei",),
    )  # fmt: skip
    ordered = order_credentials([*LIST, huawei], "telnet", Identity(vendor="Huawei"), 2)
    assert [e.id for e in ordered] == ["m#7", "e#1"]


async def test_shell_without_credentials_is_no_auth() -> None:
    result = telnet_result()
    result.auth = "none"
    login = await check_login(ScriptedBackend(), result, LIST, None, POLICY, FAST)
    assert login.outcome == "no_auth" and login.attempts == 0


class HttpDevice(Handler):
    closed = True

    def __init__(self, scheme: str, user: str, password: str) -> None:
        self.scheme, self.user, self.password = scheme, user, password
        self.queue: list[bytes] = []
        self.hang = False

    def received(self, data: bytes) -> list[bytes]:
        head = data.decode()
        auth = next(
            (ln.split(": ", 1)[1] for ln in head.split("\r\n") if ln.startswith("Authorization")),
            "",
        )
        ok = False
        if self.scheme == "basic" and auth.startswith("Basic "):
            ok = base64.b64decode(auth[6:]).decode() == f"{self.user}:{self.password}"
        if self.scheme == "digest" and auth.startswith("Digest "):
            ok = f'username="{self.user}"' in auth and self._digest_ok(auth)
        if ok:
            return [b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok"]
        challenge = ('Basic realm="cam"' if self.scheme == "basic"
                     else 'Digest realm="cam", nonce="n1", qop="auth"')  # fmt: skip
        return [f"HTTP/1.1 401 Unauthorized\r\nWWW-Authenticate: {challenge}\r\n\r\n".encode()]

    def _digest_ok(self, auth: str) -> bool:
        import hashlib

        p = dict(re.findall(r'(\w+)="?([^",]*)"?', auth[7:]))
        md5 = lambda s: hashlib.md5(s.encode()).hexdigest()  # noqa: E731
        ha1, ha2 = md5(f"{self.user}:cam:{self.password}"), md5(f"GET:{p['uri']}")
        return p["response"] == md5(f"{ha1}:{p['nonce']}:{p['nc']}:{p['cnonce']}:auth:{ha2}")


@pytest.mark.parametrize("scheme", ["basic", "digest"])
async def test_http_basic_and_digest(scheme: str) -> None:
    be = ScriptedBackend({(str(IP), 80): lambda: HttpDevice(scheme, "admin", "12345")})
    result = ServiceResult(ip=IP, port=80, service="http", auth=scheme)
    login = await check_login(be, result, LIST, None, POLICY, FAST)
    assert (login.protocol, login.outcome, login.credential) == ("http", "accepted", "e#4")


async def test_http_form_and_public_pages_are_not_tried() -> None:
    for auth in ("form", "none"):
        result = ServiceResult(ip=IP, port=80, service="http", auth=auth)
        login = await check_login(ScriptedBackend(), result, LIST, None, POLICY, FAST)
        assert login.outcome == "not_tried"


class Broker(Handler):
    hang = False

    def received(self, data: bytes) -> list[bytes]:
        ok = b"\x00\x05admin\x00\x05admin" in data
        return [b"\x20\x02\x00" + (b"\x00" if ok else b"\x05")]


async def test_mqtt_credentials() -> None:
    be = ScriptedBackend({(str(IP), 1883): Broker})
    result = ServiceResult(ip=IP, port=1883, service="mqtt", auth="password")
    login = await check_login(be, result, LIST, None, POLICY, FAST)
    assert (login.outcome, login.credential, login.attempts) == ("accepted", "e#2", 2)
    assert be.writes[(str(IP), 1883)][-2] == b"\xe0\x00"


async def test_unreachable_service_is_error() -> None:
    login = await check_login(ScriptedBackend(), telnet_result(), LIST, None, POLICY, FAST)
    assert login.outcome == "error"


async def test_telnet_without_a_login_prompt_is_not_tried() -> None:
    result = telnet_result()
    result.details["prompt"] = "none"  # an endless banner, an IAC flood: nothing to answer
    login = await check_login(ScriptedBackend(), result, LIST, None, POLICY, FAST)
    assert login.outcome == "not_tried" and login.attempts == 0
