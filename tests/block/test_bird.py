"""Against a real BGP daemon: BIRD 2 on loopback receives our blackhole routes, and loses
them when the C2 expires or is revoked (skipped when bird is not installed)."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from iotscope.block import (
    Policy,
    SessionConfig,
    SpeakerOptions,
    bundle_objects,
    run_speaker,
    select,
)
from iotscope.block._bird import SPEAKER_ADDR, Bird, start_bird
from iotscope.block._export import bgp_recorder
from iotscope.store import open_store
from iotscope.store._block import block_log
from iotscope.tenancy import CENTRE
from tests.block.conftest import indicator, write_bundle
from tests.conftest import require_tool

pytestmark = [pytest.mark.network, pytest.mark.slow]


@pytest.fixture
def bird(tmp_path: Path) -> Iterator[Bird]:
    require_tool("bird")
    require_tool("birdc")
    b = start_bird(tmp_path, bird_as=65001, speaker_as=65000)
    yield b
    b.stop()


async def _until(check: Callable[[], bool], what: str, bird: Bird, timeout: float = 20) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if await asyncio.to_thread(check):
            return
        await asyncio.sleep(0.2)
    raise AssertionError(f"timed out waiting for {what}:\n{bird.state()}\n{bird.routes()}")


async def test_bird_holds_exactly_the_blocklist(bird: Bird, tmp_path: Path) -> None:
    now = datetime.now(UTC)
    bundle = tmp_path / "feed.json"
    lasting = indicator("198.51.100.7", now, port=23)
    brief = indicator("203.0.113.9", now, valid_for=timedelta(seconds=4))
    write_bundle(bundle, [lasting, brief])
    store = open_store(f"sqlite:///{tmp_path / 'db.sqlite'}")
    policy = Policy("isp-a")
    opts = SpeakerOptions(
        "127.0.0.2",
        bird.port,
        SessionConfig(65000, 65001, "192.0.2.254", hold_time=9),
        local_address=SPEAKER_ADDR,
        reload_every=30,
        connect_retry=0.5,
    )
    stop, reload = asyncio.Event(), asyncio.Event()
    channel = f"bgp:127.0.0.2:{bird.port}"
    speaker = asyncio.create_task(
        run_speaker(
            opts,
            lambda: select(bundle_objects(bundle), policy, datetime.now(UTC)),
            stop,
            bgp_recorder(store, "isp-a", channel),
            reload,
        )
    )
    try:
        await _until(
            lambda: set(bird.routes()) == {"198.51.100.7/32", "203.0.113.9/32"}, "both routes", bird
        )
        routes = bird.routes()
        assert "(65535,666)" in routes["198.51.100.7/32"]
        assert "(65535,65281)" in routes["198.51.100.7/32"]  # NO_EXPORT
        detail = bird.cli("show", "route", "all", "198.51.100.7/32")
        assert "BGP.next_hop: 192.0.2.1" in detail and "BGP.as_path: 65000" in detail
        # the brief one expires by itself (valid_until passes), without a reload event
        await _until(lambda: set(bird.routes()) == {"198.51.100.7/32"}, "expiry", bird)
        # a new C2 arrives and the old one is revoked: a hub event triggers the reload
        revoked = dict(
            lasting,
            revoked=True,
            modified=(now + timedelta(seconds=1)).strftime("%Y-%m-%dT%H:%M:%S.000Z"),
        )
        write_bundle(bundle, [revoked, brief, indicator("192.0.2.77", now)])
        reload.set()
        await _until(lambda: set(bird.routes()) == {"192.0.2.77/32"}, "revocation", bird)
    finally:
        stop.set()
        await asyncio.wait_for(speaker, 10)
    await _until(lambda: bird.routes() == {}, "withdrawal on stop", bird)
    log = [(r["target"], r["action"], r["reason"]) for r in block_log(store, CENTRE, "isp-a")]
    assert log[:2] == [
        ("198.51.100.7/32", "announced", None),
        ("203.0.113.9/32", "announced", None),
    ]
    assert ("203.0.113.9/32", "withdrawn", "expired") in log
    assert ("198.51.100.7/32", "withdrawn", "revoked") in log
    assert ("192.0.2.77/32", "announced", None) in log
    assert log[-1] == ("192.0.2.77/32", "withdrawn", "stopped")
    store.engine.dispose()


def test_block_bgp_command_announces_until_stopped(bird: Bird, tmp_path: Path) -> None:
    """The contract command as an operator runs it: SIGTERM ends it with a clean Cease."""
    import signal
    import subprocess
    import sys

    now = datetime.now(UTC)
    bundle = write_bundle(tmp_path / "feed.json", [indicator("198.51.100.70", now)])
    cmd = [
        sys.executable,
        "-m",
        "iotscope",
        "block",
        "bgp",
        "--isp",
        "isp-a",
        "--peer",
        f"127.0.0.2:{bird.port}",
        "--local-as",
        "65000",
        "--peer-as",
        "65001",
        "--local-address",
        SPEAKER_ADDR,
        "--hold-time",
        "9",
        "--bundle",
        str(bundle),
    ]
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline and "198.51.100.70/32" not in bird.routes():
            time.sleep(0.2)
        assert "(65535,666)" in bird.routes().get("198.51.100.70/32", ""), bird.state()
    finally:
        proc.send_signal(signal.SIGTERM)
        output, _ = proc.communicate(timeout=15)
    assert proc.returncode == 0, output
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline and bird.routes():
        time.sleep(0.2)
    assert bird.routes() == {}
    assert "Administrative shutdown" in bird.state() or "Received" in bird.state()
