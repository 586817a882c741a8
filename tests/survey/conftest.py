"""Survey test helpers: a lab running in its own thread and event loop (for CLI runs)."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Iterator
from contextlib import contextmanager

from iotscope.lab import World, build_world, start_lab
from iotscope.lab._creds import credential_protocol
from iotscope.records import LabManifest


@contextmanager
def lab_in_thread(devices: int, seed: int, network: str) -> Iterator[LabManifest]:
    """``start_lab`` in a background thread; yields the manifest, closes the lab after."""
    world: World = build_world(devices, seed, network)
    ready = threading.Event()
    box: dict[str, object] = {}

    async def main() -> None:
        stop = asyncio.Event()
        box["stop"], box["loop"] = stop, asyncio.get_running_loop()
        async with await start_lab(world) as lab:
            box["manifest"] = lab.manifest
            ready.set()
            await stop.wait()

    def run() -> None:
        try:
            asyncio.run(main())
        except BaseException as exc:  # surface start-up failures to the test
            box["error"] = exc
            ready.set()

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    ready.wait(60)
    if "error" in box:
        raise box["error"]  # type: ignore[misc]
    try:
        yield box["manifest"]  # type: ignore[misc]
    finally:
        loop: asyncio.AbstractEventLoop = box["loop"]  # type: ignore[assignment]
        loop.call_soon_threadsafe(box["stop"].set)  # type: ignore[attr-defined]
        thread.join(30)


def weak_truth(world: World, lockout: bool = True) -> dict[str, set[int]]:
    """ip -> ports of the services the survey checks (telnet, ssh, mqtt, HTTP Basic/Digest)
    that accept a publicly listed pair or no login at all; hostile hosts excluded; services
    that lock out after failed logins left out unless ``lockout``."""
    out: dict[str, set[int]] = {}
    for dev in world.devices:
        for svc in dev.services if not dev.hostile else ():
            proto = credential_protocol(svc.spec.service)
            checked = proto in ("telnet", "ssh", "mqtt") or (
                proto == "http" and svc.spec.auth in ("basic", "digest")
            )
            if not lockout and svc.spec.lockout_after:
                continue
            if checked and svc.pair is not None and svc.pair.weak:
                out.setdefault(dev.ip, set()).add(svc.spec.port)
    return out
