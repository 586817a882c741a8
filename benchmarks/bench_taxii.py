"""TAXII 2.1 hub: paging through taxii2-client against OASIS medallion, and 50 ISP clients.

Run: ``make bench NAME=taxii`` (``ARGS="--sizes 10000,100000 --medallion-sizes 10000"``)

1. Paging. N STIX 2.1 indicators (pattern on ipv4-addr and network-traffic dst_port, the
   shape ``share publish`` sends), the same objects for both servers, are paged with the
   OASIS taxii2-client (``as_pages(Collection.get_objects, per_request=PAGE)``) from a client
   in this process:
   - iotscope: loaded with ``iotscope.share.add_objects`` into the embedded SQLite store
     (the load is timed and reported apart), then ``iotscope serve`` (uvicorn) on 127.0.0.1.
   - medallion 3.0 (PyPI), its memory backend, the objects and their manifest in its data
     file, run as its own process (``medallion --host 127.0.0.1 CONFIG``, Flask's server)
     with ``max_page_size`` = PAGE. Its ``next`` sessions expire 30 s after the first page, so
     it is run at growing sizes until one fails or exceeds ``--medallion-budget`` seconds.
   Every run must return exactly N distinct ids, else it counts as failed. The ratio is taken
   at the largest size both served; every iotscope size is reported (linearity: s per 1k).
2. 50 ISP clients (``--clients``) poll the shared collection every ``--poll`` s with
   ``added_after`` (the X-TAXII-Date-Added-Last they saw) over HTTP while a publisher posts a
   batch of indicators every ``--publish-every`` s for ``--duration`` s. Reported: p50/p99 of
   the poll requests' latency, and of the lag from the publisher's 202 to a client holding
   the object (bounded below by the poll interval), and for comparison the same lag for a
   fifth as many clients holding the collection's SSE stream open (push, no poll interval).
The machine is shared with other engineers: the load average at start and end is recorded.
Writes ``benchmarks/results/taxii.json``.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx

RESULTS = Path(__file__).resolve().parent / "results" / "taxii.json"
PAGE = 1000
_NS = uuid.UUID("6d1bb1f0-5a43-4c55-9a5c-0b7a7d1c2e11")
SHARED = "1d9c3c7f-5a3b-4c0e-9d2f-6f1b8e7a4c21"  # iotscope.share.SHARED_COLLECTION_ID


# --- input --------------------------------------------------------------------------------
def indicator(i: int, stamp: str = "2026-11-01T00:00:00.000Z") -> dict[str, Any]:
    ip = f"{198 + (i >> 24) % 2}.{(i >> 16) & 255}.{(i >> 8) & 255}.{i & 255}"
    return {
        "type": "indicator",
        "spec_version": "2.1",
        "id": f"indicator--{uuid.uuid5(_NS, str(i))}",
        "created": stamp,
        "modified": stamp,
        "name": f"C2 {ip}:{23 + i % 5000}/tcp",
        "indicator_types": ["malicious-activity"],
        "pattern": f"[ipv4-addr:value = '{ip}'] AND [network-traffic:dst_port = {23 + i % 5000}]",
        "pattern_type": "stix",
        "valid_from": stamp,
        "valid_until": "2026-11-04T00:00:00.000Z",
        "confidence": 70 + i % 30,
        "labels": ["mirai"],
    }


def load_average() -> list[float]:
    return [round(x, 2) for x in os.getloadavg()]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def wait_http(url: str, proc: subprocess.Popen[bytes], timeout: float = 120.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"server exited with {proc.returncode}")
        try:
            httpx.get(url, timeout=2)
            return
        except httpx.TransportError:
            time.sleep(0.2)
    raise RuntimeError(f"server at {url} did not start")


@contextmanager
def process(cmd: list[str], env: dict[str, str], probe: str) -> Iterator[None]:
    proc = subprocess.Popen(cmd, env={**os.environ, **env}, stdout=subprocess.DEVNULL)
    try:
        wait_http(probe, proc)
        yield
    finally:
        proc.terminate()
        try:
            proc.wait(20)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


# --- iotscope --------------------------------------------------------------------------------
def load_iotscope(home: Path, n: int) -> tuple[float, str]:
    """Fill a fresh store under ``home`` with n indicators; returns (seconds, an ISP token)."""
    from iotscope.share import SHARED_COLLECTION_ID, add_objects
    from iotscope.store import open_store
    from iotscope.store._tokens import mint_token
    from iotscope.tenancy import Principal

    assert SHARED_COLLECTION_ID == SHARED
    store = open_store(f"sqlite:///{home / 'iotscope.db'}")
    token = mint_token(store.engine, "isp", "isp-bench")
    who = Principal("isp", "isp-bench")
    t0 = time.perf_counter()
    for start in range(0, n, 10_000):
        objs = [indicator(i) for i in range(start, min(n, start + 10_000))]
        status = add_objects(store, who, SHARED, objs)
        assert status["failure_count"] == 0, status.get("failures", [])[:3]
    seconds = time.perf_counter() - t0
    store.engine.dispose()
    return seconds, token


@contextmanager
def iotscope_server(home: Path) -> Iterator[str]:
    port = free_port()
    env = {"IOTSCOPE_HOME": str(home), "IOTSCOPE_DATABASE_URL": f"sqlite:///{home / 'iotscope.db'}"}
    cmd = [sys.executable, "-m", "iotscope", "serve", "--listen", f"127.0.0.1:{port}"]
    with process(cmd, env, f"http://127.0.0.1:{port}/healthz"):
        yield f"http://127.0.0.1:{port}"


class Bearer:
    def __init__(self, token: str) -> None:
        self.token = token

    def __call__(self, r: Any) -> Any:
        r.headers["Authorization"] = f"Bearer {self.token}"
        return r


def page_all(collection_url: str, page: int, **auth: Any) -> tuple[int, int, float]:
    """Page a whole collection with taxii2-client; (objects, distinct ids, seconds)."""
    from taxii2client.v21 import Collection, as_pages

    coll = Collection(collection_url, **auth)
    coll.refresh()
    t0 = time.perf_counter()
    ids: set[str] = set()
    count = 0
    for envelope in as_pages(coll.get_objects, per_request=page):
        objs = envelope.get("objects", [])
        count += len(objs)
        ids.update(o["id"] for o in objs)
    return count, len(ids), time.perf_counter() - t0


def run_iotscope(n: int, page: int) -> dict[str, Any]:
    with tempfile.TemporaryDirectory() as tmp:
        home = Path(tmp)
        load_s, token = load_iotscope(home, n)
        with iotscope_server(home) as base:
            url = f"{base}/taxii2/hub/collections/{SHARED}/"
            count, distinct, secs = page_all(url, page, auth=Bearer(token))
    ok = count == distinct == n
    return {
        "n": n,
        "ok": ok,
        "objects": count,
        "seconds": round(secs, 3),
        "objects_per_s": round(count / secs),
        "s_per_1k": round(secs / n * 1000, 5),
        "load_seconds": round(load_s, 2),
    }


# --- medallion ---------------------------------------------------------------------------------
def medallion_data(n: int, port: int) -> dict[str, Any]:
    root = f"http://127.0.0.1:{port}/api1/"
    objects = [indicator(i) for i in range(n)]
    manifest = [
        {
            "id": o["id"],
            "date_added": f"2026-11-01T00:00:{i // 1_000_000:02d}.{i % 1_000_000:06d}Z",
            "version": o["modified"],
            "media_type": "application/stix+json;version=2.1",
        }
        for i, o in enumerate(objects)
    ]
    collection = {
        "id": SHARED,
        "title": "Shared C2 feed",
        "can_read": True,
        "can_write": True,
        "media_types": ["application/stix+json;version=2.1"],
        "objects": objects,
        "manifest": manifest,
    }
    info = {
        "title": "bench",
        "versions": ["application/taxii+json;version=2.1"],
        "max_content_length": 100_000_000,
    }
    return {
        "/discovery": {"title": "bench", "default": root, "api_roots": [root]},
        "api1": {"information": info, "status": [], "collections": [collection]},
    }


def run_medallion(n: int, page: int) -> dict[str, Any]:
    exe = shutil.which("medallion") or str(Path(sys.executable).parent / "medallion")
    with tempfile.TemporaryDirectory() as tmp:
        port = free_port()
        data = Path(tmp) / "data.json"
        data.write_text(json.dumps(medallion_data(n, port)))
        config = {
            "backend": {
                "module": "medallion.backends.memory_backend",
                "module_class": "MemoryBackend",
                "filename": str(data),
            },
            "users": {"bench": "bench-password"},
            "taxii": {"max_page_size": page},
        }
        cfg = Path(tmp) / "config.json"
        cfg.write_text(json.dumps(config))
        cmd = [exe, "--host", "127.0.0.1", "--port", str(port), str(cfg)]
        with process(cmd, {}, f"http://127.0.0.1:{port}/taxii2/"):
            url = f"http://127.0.0.1:{port}/api1/collections/{SHARED}/"
            try:
                count, distinct, secs = page_all(url, page, user="bench", password="bench-password")
            except Exception as exc:  # e.g. its next session expired (30 s)
                return {"n": n, "ok": False, "error": f"{type(exc).__name__}: {exc}"[:300]}
    return {
        "n": n,
        "ok": count == distinct == n,
        "objects": count,
        "seconds": round(secs, 3),
        "objects_per_s": round(count / secs),
        "s_per_1k": round(secs / n * 1000, 5),
    }


# --- 50 clients ----------------------------------------------------------------------------------
def percentile(xs: list[float], p: float) -> float:
    if not xs:
        return float("nan")
    xs = sorted(xs)
    return xs[min(len(xs) - 1, round(p / 100 * (len(xs) - 1)))]


def run_clients(
    clients: int, duration: float, poll: float, every: float, batch: int
) -> dict[str, Any]:
    """``clients`` ISPs poll while one ISP publishes (see the module docstring)."""
    from iotscope.store import open_store
    from iotscope.store._tokens import mint_token

    with tempfile.TemporaryDirectory() as tmp:
        home = Path(tmp)
        store = open_store(f"sqlite:///{home / 'iotscope.db'}")
        pub = mint_token(store.engine, "isp", "isp-pub")
        tokens = [mint_token(store.engine, "isp", f"isp-{k:02d}") for k in range(clients)]
        store.engine.dispose()
        with iotscope_server(home) as base:
            url = f"{base}/taxii2/hub/collections/{SHARED}/objects/"
            return asyncio.run(_clients(url, pub, tokens, duration, poll, every, batch))


async def _clients(
    url: str, pub: str, tokens: list[str], duration: float, poll: float, every: float, batch: int
) -> dict[str, Any]:
    media = "application/taxii+json;version=2.1"
    published: dict[str, float] = {}
    request_ms: list[float] = []
    lag_ms: list[float] = []
    post_ms: list[float] = []
    sse_lag_ms: list[float] = []
    errors = 0
    stop = time.monotonic() + duration
    limits = httpx.Limits(max_connections=len(tokens) + 4)

    async with httpx.AsyncClient(timeout=30, limits=limits) as http:

        async def publisher() -> None:
            nonlocal errors
            k = 0
            while time.monotonic() < stop:
                stamp = time.strftime("%Y-%m-%dT%H:%M:%S.000Z", time.gmtime())
                objs = [indicator(10_000_000 + k + j, stamp) for j in range(batch)]
                k += batch
                t0 = time.monotonic()
                r = await http.post(
                    url,
                    content=json.dumps({"objects": objs}),
                    headers={
                        "Authorization": f"Bearer {pub}",
                        "Accept": media,
                        "Content-Type": media,
                    },
                )
                t1 = time.monotonic()
                if r.status_code != 202:
                    errors += 1
                post_ms.append((t1 - t0) * 1000)
                for o in objs:
                    published[o["id"]] = t0
                await asyncio.sleep(max(0.0, every - (t1 - t0)))

        async def sse(token: str) -> None:
            headers = {"Authorization": f"Bearer {token}", "Accept": "text/event-stream"}
            try:
                async with http.stream(
                    "GET", url[: -len("objects/")] + "stream/", headers=headers
                ) as r:
                    async for line in r.aiter_lines():
                        if line.startswith("data: "):
                            oid = json.loads(line[6:])["id"]
                            if oid in published:
                                sse_lag_ms.append((time.monotonic() - published[oid]) * 1000)
                        if time.monotonic() > stop + 2:
                            return
            except httpx.HTTPError:
                pass

        async def client(token: str, offset: float) -> None:
            nonlocal errors
            after: str | None = None
            headers = {"Authorization": f"Bearer {token}", "Accept": media}
            await asyncio.sleep(offset)
            while time.monotonic() < stop + poll:
                params: dict[str, Any] = {"limit": 1000}
                if after:
                    params["added_after"] = after
                t0 = time.monotonic()
                r = await http.get(url, headers=headers, params=params)
                t1 = time.monotonic()
                request_ms.append((t1 - t0) * 1000)
                if r.status_code != 200:
                    errors += 1
                else:
                    after = r.headers.get("X-TAXII-Date-Added-Last", after)
                    for o in r.json().get("objects", []):
                        if o["id"] in published:
                            lag_ms.append((t1 - published[o["id"]]) * 1000)
                await asyncio.sleep(poll)

        streams = [asyncio.create_task(sse(t)) for t in tokens[: len(tokens) // 5]]
        await asyncio.sleep(1.0)  # the streams are open before the first publication
        await asyncio.gather(
            publisher(), *(client(t, poll * i / len(tokens)) for i, t in enumerate(tokens))
        )
        await asyncio.sleep(2.0)
        for task in streams:
            task.cancel()
    expected = len(published) * len(tokens)
    return {
        "clients": len(tokens),
        "duration_s": duration,
        "poll_interval_s": poll,
        "publish_every_s": every,
        "batch": batch,
        "published": len(published),
        "received": len(lag_ms),
        "expected_received": expected,
        "errors": errors,
        "poll_requests": len(request_ms),
        "poll_p50_ms": round(percentile(request_ms, 50), 2),
        "poll_p99_ms": round(percentile(request_ms, 99), 2),
        "post_p50_ms": round(percentile(post_ms, 50), 2),
        "post_p99_ms": round(percentile(post_ms, 99), 2),
        "lag_p50_ms": round(percentile(lag_ms, 50), 2),
        "lag_p99_ms": round(percentile(lag_ms, 99), 2),
        "lag_mean_ms": round(statistics.fmean(lag_ms), 2) if lag_ms else None,
        "sse_streams": len(tokens) // 5,
        "sse_received": len(sse_lag_ms),
        "sse_lag_p50_ms": round(percentile(sse_lag_ms, 50), 2),
        "sse_lag_p99_ms": round(percentile(sse_lag_ms, 99), 2),
        "lag_measured_from": "the publisher sending its POST (commit happens inside it)",
    }


# --- main ----------------------------------------------------------------------------------
def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--sizes", default="10000,100000,1000000")
    parser.add_argument("--medallion-sizes", default="250,500,1000,2000")
    parser.add_argument("--medallion-budget", type=float, default=60.0)
    parser.add_argument("--page", type=int, default=PAGE)
    parser.add_argument("--clients", type=int, default=50)
    parser.add_argument("--duration", type=float, default=20.0)
    parser.add_argument("--poll", type=float, default=1.0)
    parser.add_argument("--publish-every", type=float, default=0.5)
    parser.add_argument("--batch", type=int, default=20)
    parser.add_argument("--skip-clients", action="store_true")
    args = parser.parse_args()
    results: dict[str, Any] = {
        "machine": platform.processor() or platform.machine(),
        "cpus": os.cpu_count(),
        "shared_machine": "2 cores shared with 7 other engineers' work",
        "load_average_start": load_average(),
        "page_size": args.page,
        "client": "taxii2-client as_pages(Collection.get_objects), one process",
    }
    med: list[dict[str, Any]] = []
    for n in [int(x) for x in args.medallion_sizes.split(",") if x]:
        r = run_medallion(n, args.page)
        print("medallion", r, flush=True)
        med.append(r)
        if not r["ok"] or r["seconds"] > args.medallion_budget:
            break
    ios: list[dict[str, Any]] = []
    for n in [int(x) for x in args.sizes.split(",") if x]:
        r = run_iotscope(n, args.page)
        print("iotscope", r, flush=True)
        ios.append(r)
    served = [m for m in med if m["ok"]]
    results["medallion"] = med
    results["iotscope"] = ios
    if served:
        largest = served[-1]
        same = next((r for r in ios if r["n"] == largest["n"]), None)
        if same is None:
            same = run_iotscope(largest["n"], args.page)
            print("iotscope", same, flush=True)
            ios.append(same)
        results["comparison"] = {
            "n": largest["n"],
            "medallion_seconds": largest["seconds"],
            "iotscope_seconds": same["seconds"],
            "speedup": round(largest["seconds"] / same["seconds"], 1),
        }
    million = next((r for r in ios if r["n"] == 1_000_000), None)
    if million:
        results["goal_1m_under_60s"] = bool(million["ok"] and million["seconds"] < 60)
    if not args.skip_clients:
        results["clients"] = run_clients(
            args.clients, args.duration, args.poll, args.publish_every, args.batch
        )
        print("clients", results["clients"], flush=True)
    results["load_average_end"] = load_average()
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(results, indent=2) + "\n")
    print(json.dumps({k: results[k] for k in ("comparison",) if k in results}, indent=2))


if __name__ == "__main__":
    main()
