"""Login pacing: the list in weight order, a per-host budget, fail delays met with parallel
connections, slow answers retried, over real sockets on 127.0.0.0/8."""

from __future__ import annotations

import asyncio
import ipaddress
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field

import pytest

from iotscope.knowledge import CredentialEntry, load_default_credentials
from iotscope.records import Identity, Login
from iotscope.survey import Limits, LoginPolicy, RealBackend, Scope, Timeouts, check_login
from iotscope.survey._login import order_credentials
from iotscope.survey._pacing import AttemptResult, HostBudget, Pace
from iotscope.survey._probe import ServiceResult
from iotscope.survey._scope import parse_networks

pytestmark = pytest.mark.network
NET = "127.213.0.0/24"


@dataclass
class BinLogin:
    """A telnet login that answers as Debian's /bin/login does: every failure costs
    ``fail_delay`` seconds before "Login incorrect", five tries per connection."""

    user: str
    password: str
    fail_delay: float = 3.0
    retries: int = 5
    connections: int = 0
    peak: int = 0
    open_now: int = 0
    tries: list[tuple[str, str]] = field(default_factory=list)

    async def handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.connections += 1
        self.open_now += 1
        self.peak = max(self.peak, self.open_now)
        try:
            await self._dialogue(reader, writer)
        except (ConnectionError, asyncio.IncompleteReadError, asyncio.CancelledError):
            pass
        finally:
            self.open_now -= 1
            writer.close()

    async def _line(self, reader: asyncio.StreamReader) -> str:
        line = await reader.readuntil(b"\n")
        return line.replace(b"\r", b"").replace(b"\x00", b"").decode().strip()

    async def _dialogue(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        writer.write(b"\r\nDebian GNU/Linux 12\r\n\r\nvm login: ")
        for _ in range(self.retries):
            user = await self._line(reader)
            writer.write(b"Password: ")
            password = await self._line(reader)
            self.tries.append((user, password))
            if (user, password) == (self.user, self.password):
                writer.write(b"\r\nLinux vm 6.1.0\r\n$ ")
                await reader.read(100)  # the prober closes; it never types a command
                return
            await asyncio.sleep(self.fail_delay)
            writer.write(b"\r\nLogin incorrect\r\nvm login: ")


@asynccontextmanager
async def served(device: BinLogin, host: str) -> AsyncIterator[int]:
    server = await asyncio.start_server(device.handle, host, 0, backlog=1)
    try:
        yield server.sockets[0].getsockname()[1]
    finally:
        server.close()


def _target(host: str, port: int) -> ServiceResult:
    return ServiceResult(ip=ipaddress.ip_address(host), port=port, service="telnet",
                         banner="Debian GNU/Linux 12", details={"prompt": "login"})  # fmt: skip


def _backend() -> RealBackend:
    return RealBackend(Scope.from_networks(parse_networks([NET])), Limits(64, 64))


def test_weights_put_the_issue_s_pair_eleventh() -> None:
    ordered = order_credentials(load_default_credentials(), "telnet", None, 1000)
    weights = [e.weight for e in ordered if e.weight is not None]
    assert weights == sorted(weights, reverse=True)  # most often working first
    pairs = [(e.username, e.password) for e in ordered]
    assert pairs[:2] == [("root", "xc3511"), ("root", "vizxv")]
    assert (ordered[10].username, ordered[10].password) == ("support", "support")
    assert all(e.weight is None for e in ordered[len(weights) :])  # unknown weights last


def test_vendor_defaults_before_weight() -> None:
    entries = [
        CredentialEntry(id="w#1", protocols=("telnet",), username="root", password="a",
                        source="s", weight=10),
        CredentialEntry(id="v#1", protocols=("telnet",), username="admin", password="b",
                        source="s", vendors=("acme",)),
        CredentialEntry(id="w#2", protocols=("telnet",), username="root", password="c",
                        source="s", weight=20),
        CredentialEntry(id="u#1", protocols=("telnet",), username="root", password="d",
                        source="s"),
    ]  # fmt: skip
    ordered = order_credentials(entries, "telnet", Identity(vendor="ACME"), 10)
    assert [e.id for e in ordered] == ["v#1", "w#2", "w#1", "u#1"]


def test_pace_opens_connections_only_when_the_list_would_not_fit() -> None:
    pace = Pace(budget=60.0, max_parallel=4, timeouts=Timeouts(), started=0.0)
    assert pace.parallel(100, 0.0) == 1  # nothing measured yet: one connection
    pace.learn(AttemptResult("rejected", 3, (3.0, 3.0, 3.0)), 9.6)
    assert pace.fail_delay() == 3.0
    assert pace.parallel(20, 9.6) == 2  # 20 x 3.2 s by 70% of the budget (42 s)
    assert pace.parallel(100, 9.6) == 4  # capped
    fast = Pace(budget=60.0, max_parallel=4, timeouts=Timeouts(), started=0.0)
    fast.learn(AttemptResult("rejected", 3), 0.03)
    assert fast.parallel(100, 0.03) == 1  # no fail delay: one connection is enough
    assert pace.parallel(10, 61.0) == 0  # the budget is spent


def test_slow_answer_widens_the_read_window_not_the_list() -> None:
    pace = Pace(budget=60.0, max_parallel=4, timeouts=Timeouts(read=1.0), started=0.0)
    pace.learn(AttemptResult("slow", 1), 2.0)
    assert pace.timeouts.read == 2.0 and pace.tried == 0


def test_host_budget_leaves_unused_time_to_the_next_service() -> None:
    now = [0.0]
    budget = HostBudget(90.0, 3, clock=lambda: now[0])
    assert budget.share() == 30.0
    now[0] = 1.0  # the first service took 1 s of its 30
    assert budget.share() == pytest.approx(44.5)
    now[0] = 2.0
    assert budget.share() == pytest.approx(88.0)


async def _check(device: BinLogin, host: str, policy: LoginPolicy) -> tuple[Login, float]:
    async with served(device, host) as port:
        began = time.monotonic()
        login = await check_login(_backend(), _target(host, port), load_default_credentials(),
                                  None, policy, Timeouts())  # fmt: skip
        return login, time.monotonic() - began


async def test_bin_login_with_3s_fail_delay_and_the_pair_11th_is_found_every_time() -> None:
    """Three independent runs at once, each against its own /bin/login-like server."""
    devices = [BinLogin("support", "support") for _ in range(3)]
    hosts = [f"127.213.0.{n}" for n in (11, 12, 13)]
    policy = LoginPolicy(budget=60.0)
    pairs = zip(devices, hosts, strict=True)
    runs = await asyncio.gather(*(_check(d, h, policy) for d, h in pairs))
    for (login, took), device in zip(runs, devices, strict=True):
        assert login.outcome == "accepted", login
        assert login.credential == "mirai-2016#11"
        assert "fail delay" in (login.detail or "")
        assert took < 40.0  # sequentially it would take 10 x 3 s + connections
        assert device.peak > 1  # the fail delay was met with parallel connections
        assert ("support", "support") in device.tries


async def test_budget_is_kept_and_says_how_far_the_list_got() -> None:
    device = BinLogin("admin", "a-Strong-one-9", fail_delay=1.0)
    login, took = await _check(device, "127.213.0.21", LoginPolicy(budget=4.0, max_parallel=2))
    assert login.outcome == "rejected"
    assert "budget spent" in (login.detail or "")
    assert 3.5 < took < 6.0
    assert device.peak <= 2


async def test_one_slow_answer_does_not_lose_the_host() -> None:
    """The fail delay is longer than the read window: the attempt is tried again with a
    wider window, and the pair after it is still found."""
    device = BinLogin("root", "vizxv", fail_delay=1.6)
    host = "127.213.0.31"
    async with served(device, host) as port:
        login = await check_login(_backend(), _target(host, port), load_default_credentials(),
                                  None, LoginPolicy(budget=30.0), Timeouts(read=0.6))  # fmt: skip
    assert (login.outcome, login.credential) == ("accepted", "mirai-2016#2")
    assert device.tries.count(("root", "xc3511")) >= 2  # the slow one was asked again


async def test_a_host_that_never_answers_a_password_is_not_waited_on_for_the_budget() -> None:
    device = BinLogin("root", "vizxv", fail_delay=600.0)  # a tarpit after the password
    host = "127.213.0.41"
    async with served(device, host) as port:
        began = time.monotonic()
        login = await check_login(_backend(), _target(host, port), load_default_credentials(),
                                  None, LoginPolicy(budget=100.0), Timeouts(read=0.5))  # fmt: skip
        took = time.monotonic() - began
    assert login.outcome == "error" and "no answer to a password" in (login.detail or "")
    assert took < 12.0  # windows of 1, 2 and 4 s, not the 100 s budget
