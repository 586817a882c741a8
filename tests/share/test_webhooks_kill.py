"""kill -9 of ``iotscope serve`` in the middle of retrying a webhook: the next server picks
up from the store (cursor, failures, backoff) and delivers everything."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from iotscope.share import SHARED_COLLECTION_ID, add_objects
from iotscope.store import open_store
from iotscope.store._tokens import mint_token
from iotscope.tenancy import Principal
from tests.share.conftest import indicator
from tests.share.receiver import receiver
from tests.share.server import free_port

pytestmark = [pytest.mark.network, pytest.mark.slow]


def _start(env: dict[str, str], port: int) -> subprocess.Popen[bytes]:
    cmd = [sys.executable, "-m", "iotscope", "serve", "--listen", f"127.0.0.1:{port}"]
    proc = subprocess.Popen(cmd, env={**os.environ, **env}, stdout=subprocess.DEVNULL)
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=1).status_code == 200:
                return proc
        except httpx.TransportError:
            time.sleep(0.1)
    proc.kill()
    raise RuntimeError("iotscope serve did not start")


def test_delivery_survives_kill_9(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'iotscope.db'}"
    env = {"IOTSCOPE_HOME": str(tmp_path), "IOTSCOPE_DATABASE_URL": url}
    store = open_store(url)
    token = mint_token(store.engine, "isp", "isp-b")
    port = free_port()
    with receiver() as (hook, got):
        got.always_fail = True
        proc = _start(env, port)
        try:
            r = httpx.post(
                f"http://127.0.0.1:{port}/taxii2/hub/webhooks/",
                headers={"Authorization": f"Bearer {token}"},
                json={"collection_id": SHARED_COLLECTION_ID, "url": hook, "from_start": True},
            )
            assert r.status_code == 201
            add_objects(store, Principal("isp", "isp-a"), SHARED_COLLECTION_ID, [indicator(1)])
            deadline = time.monotonic() + 30
            while got.attempts < 1 and time.monotonic() < deadline:
                time.sleep(0.05)
            assert got.attempts >= 1  # the server tried (and failed) before it was killed
        finally:
            proc.send_signal(signal.SIGKILL)
            proc.wait()
        got.always_fail = False
        add_objects(store, Principal("isp", "isp-a"), SHARED_COLLECTION_ID, [indicator(2)])
        proc = _start(env, port)
        try:
            deadline = time.monotonic() + 30
            while len({o["id"] for b in got.bodies for o in json.loads(b)["objects"]}) < 2:
                assert time.monotonic() < deadline, "not delivered after the restart"
                time.sleep(0.05)
        finally:
            proc.terminate()
            proc.wait(20)
    ids = [o["id"] for b in got.bodies for o in json.loads(b)["objects"]]
    assert set(ids) == {indicator(1)["id"], indicator(2)["id"]}
