"""Push latency: from a detection run's commit of a new C2 at ISP A to ISP B holding it.

Run: ``make bench NAME=push`` or ``.venv/bin/python -m benchmarks.bench_push [--c2 N]
[--per-run K] [--poll S] [--hub-db sqlite|postgresql]``

1. Starts the hub, ``iotscope serve``, as a subprocess on 127.0.0.1 over its own store
   (SQLite by default; ``--hub-db postgresql`` uses a fresh schema of the test PostgreSQL),
   and mints ISP tokens in it (isp-a publishes, isp-b subscribes).
2. ISP B holds three subscriptions to the shared collection, started before anything is
   published, in this process: the hub's server-sent-event stream
   (:class:`iotscope.isp._subscribe.Subscription`, httpx-sse); a webhook (a receiver on
   127.0.0.1 that checks the hub's HMAC-SHA256 signature); and the peer: the OASIS
   taxii2-client polling every ``--poll`` seconds (default 3), the way a TAXII consumer
   without push gets new objects (manifest with ``added_after`` the newest ``date_added`` it
   has seen, then the objects added after its previous cursor, paged).
3. ISP A, with its own store, commits ``--c2`` new C2s (default 200) in detection runs of
   ``--per-run`` C2s (default 4), spaced by a random 0.05-0.6 s; each run holds the C2s of
   the runs before (still active, so the plan finds them unchanged) and ``--per-run`` new
   ones. Each run is stored with
   :func:`iotscope.c2._history.record_run` (the commit; the C2s are synthetic candidates, so the
   DuckDB detection before the commit is not timed), then published exactly as ``isp run``
   does: :func:`publish_candidates` (plan + outbox, one transaction) and :func:`send_pending`
   (TAXII POST of the envelope with ISP A's bearer token).
4. Latency of a C2 = the wall-clock time its indicator's first version reached B's
   subscription minus the time A's run committed (both on this machine's clock). p50, p99,
   max per subscription, and the ratio polling / push.
Writes ``benchmarks/results/push.json``.
"""

from __future__ import annotations

import argparse
import ipaddress
import json
import os
import platform
import random
import socket
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import numpy as np
import requests

RESULTS = Path(__file__).resolve().parent / "results" / "push.json"
PG_BASE = "postgresql+psycopg://postgres@127.0.0.1:5432/test"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class Bearer(requests.auth.AuthBase):
    """A bearer token for taxii2-client (it speaks requests)."""

    def __init__(self, token: str) -> None:
        self.token = token

    def __call__(self, r: requests.PreparedRequest) -> requests.PreparedRequest:
        r.headers["Authorization"] = f"Bearer {self.token}"
        return r


def start_hub(db_url: str, home: Path) -> tuple[subprocess.Popen[bytes], str]:
    port = free_port()
    env = {**os.environ, "IOTSCOPE_HOME": str(home), "IOTSCOPE_DATABASE_URL": db_url}
    cmd = [sys.executable, "-m", "iotscope", "serve", "--listen", f"127.0.0.1:{port}"]
    proc = subprocess.Popen(cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"{base}/healthz", timeout=1).status_code == 200:
                return proc, base
        except httpx.TransportError:
            pass
        if proc.poll() is not None:
            break
        time.sleep(0.1)
    proc.kill()
    raise RuntimeError("iotscope serve did not start")


def hub_db(kind: str, home: Path) -> tuple[str, Any]:
    """The hub's database URL and a clean-up function."""
    if kind == "sqlite":
        return f"sqlite:///{home / 'hub.db'}", lambda: None
    import sqlalchemy as sa

    schema = f"bench_push_{uuid.uuid4().hex[:8]}"
    admin = sa.create_engine(PG_BASE)
    with admin.begin() as conn:
        conn.execute(sa.text(f"CREATE SCHEMA {schema}"))

    def drop() -> None:
        with admin.begin() as conn:
            conn.execute(sa.text(f"DROP SCHEMA {schema} CASCADE"))
        admin.dispose()

    return f"{PG_BASE}?options=-csearch_path%3D{schema}", drop


class WebhookReceiver:
    """ISP B's webhook endpoint on 127.0.0.1: checks the hub's HMAC signature, records when
    each indicator first arrived."""

    def __init__(self, secret: str, seen: dict[str, float]) -> None:
        from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

        from iotscope.share._webhooks import verify

        self.bad = 0
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                at = time.time()
                signature = self.headers.get("X-Iotscope-Signature", "")
                if not verify(secret, signature, body, at):
                    outer.bad += 1
                    self.send_response(401)
                    self.end_headers()
                    return
                for obj in json.loads(body).get("objects", []):
                    if obj.get("type") == "indicator":
                        seen.setdefault(obj["id"], at)
                self.send_response(204)
                self.end_headers()

            def log_message(self, *args: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hook"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


class Poller:
    """ISP B without push: taxii2-client polling the collection every ``interval`` seconds."""

    def __init__(self, collection_url: str, token: str, interval: float, seen: dict[str, float]):
        from taxii2client.v21 import Collection

        self.col = Collection(collection_url, auth=Bearer(token))
        self.interval = interval
        self.seen = seen
        self.cursor: str | None = None
        self.polls = 0
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self.run, daemon=True)

    def _page_all(self, fetch: Any, key: str, **filters: Any) -> list[dict[str, Any]]:
        from taxii2client.v21 import as_pages

        out: list[dict[str, Any]] = []
        for page in as_pages(fetch, per_request=1000, **filters):
            out += page.get(key, [])
        return out

    def poll(self) -> None:
        since = {"added_after": self.cursor} if self.cursor else {}
        manifest = self._page_all(self.col.get_manifest, "objects", **since)
        objects = self._page_all(self.col.get_objects, "objects", **since) if manifest else []
        now = time.time()
        for obj in objects:
            if obj.get("type") == "indicator":
                self.seen.setdefault(obj["id"], now)
        if manifest:
            self.cursor = max(m["date_added"] for m in manifest)
        self.polls += 1

    def run(self) -> None:
        self.poll()  # the present: whatever the hub held before the benchmark
        self.seen.clear()
        while not self.stop.wait(self.interval):
            self.poll()


def candidates(n: int, start: int, last: datetime) -> list[Any]:
    from iotscope.records import C2Candidate

    base = int(ipaddress.ip_address("198.18.0.0"))
    return [
        C2Candidate(
            ip=ipaddress.ip_address(base + start + i),
            port=23,
            proto="tcp",
            score=0.7,
            clients=6,
            infected_clients=4,
            first_seen=last - timedelta(hours=1),
            last_seen=last,
            reasons=("+0.40 synthetic",),
            site="isp-a",
        )
        for i in range(n)
    ]


def publish_rounds(store: Any, hub: Any, total: int, per_run: int) -> dict[str, dict[str, float]]:
    """ISP A's runs: commit, plan + outbox, POST. Returns per indicator id: commit, sent."""
    from iotscope.c2._history import new_run_id, record_run
    from iotscope.isp._content import indicator_id
    from iotscope.isp._publish import publish_candidates, send_pending
    from iotscope.records import C2Run

    times: dict[str, dict[str, float]] = {}
    rng = random.Random(7)
    first = datetime.now(UTC)
    for start in range(0, total, per_run):
        now = datetime.now(UTC)
        old = candidates(start, 0, first)  # still active: the plan finds them unchanged
        new = candidates(min(per_run, total - start), start, now)
        run = C2Run(id=new_run_id(now), site="isp-a", started=now, finished=now)
        record_run(store, old + new, run, ["isp-a"])
        committed = time.time()
        decided, _ = publish_candidates(store, "isp-a", old + new, run.id, datetime.now(UTC))
        queued = time.time()
        report = send_pending(store, "isp-a", hub)
        sent = time.time()
        if report.failed or decided.counts()["new"] != len(new):
            raise RuntimeError(f"publish failed: {report.error} {decided.counts()}")
        for c in new:
            times[indicator_id(str(c.ip), c.port, c.proto)] = {
                "commit": committed,
                "queued": queued,
                "sent": sent,
            }
        time.sleep(rng.uniform(0.05, 0.6))
    return times


def figures(lat: list[float]) -> dict[str, float | int]:
    a = np.array(lat)
    return {
        "n": int(a.size),
        "p50_s": round(float(np.percentile(a, 50)), 4),
        "p90_s": round(float(np.percentile(a, 90)), 4),
        "p99_s": round(float(np.percentile(a, 99)), 4),
        "max_s": round(float(a.max()), 4),
        "mean_s": round(float(a.mean()), 4),
    }


def run(args: argparse.Namespace) -> dict[str, Any]:
    from iotscope.isp._subscribe import Subscription
    from iotscope.isp._taxii import Hub, bearer
    from iotscope.store import open_store
    from iotscope.store._tokens import mint_token

    load_start = os.getloadavg()
    with tempfile.TemporaryDirectory(prefix="bench-push-") as tmp:
        home = Path(tmp)
        url, drop = hub_db(args.hub_db, home)
        hub_store = open_store(url)
        token_a = mint_token(hub_store.engine, "isp", "isp-a")
        token_b = mint_token(hub_store.engine, "isp", "isp-b")
        hub_store.engine.dispose()
        proc, base = start_hub(url, home)
        try:
            hub = Hub(base + "/", headers=bearer(token_a))
            collection = hub.collection_url()
            pushed: dict[str, float] = {}

            def on_object(obj: dict[str, Any], at: float) -> None:
                if obj.get("type") == "indicator":
                    pushed.setdefault(obj["id"], at)

            sub = Subscription(collection + "stream/", token_b, on_object).start()
            if not sub.connected.is_set():
                raise RuntimeError("the stream did not answer")
            hooked: dict[str, float] = {}
            secret = uuid.uuid4().hex
            hook = WebhookReceiver(secret, hooked)
            resp = httpx.post(
                f"{base}/taxii2/hub/webhooks/",
                json={"collection_id": collection.rstrip("/").rsplit("/", 1)[-1],
                      "url": hook.url, "secret": secret},
                headers=bearer(token_b), timeout=10,
            )  # fmt: skip
            resp.raise_for_status()
            polled: dict[str, float] = {}
            poller = Poller(collection, token_b, args.poll, polled)
            poller.thread.start()
            time.sleep(0.5)
            isp_a = open_store(f"sqlite:///{home / 'isp-a.db'}")
            t0 = time.monotonic()
            times = publish_rounds(isp_a, hub, args.c2, args.per_run)
            publish_s = time.monotonic() - t0
            deadline = time.monotonic() + args.poll * 3 + 10
            while time.monotonic() < deadline and not (
                set(times) <= set(pushed)
                and set(times) <= set(polled)
                and set(times) <= set(hooked)
            ):
                time.sleep(0.1)
            sub.close()
            hook.close()
            poller.stop.set()
            hub.close()
        finally:
            proc.terminate()
            proc.wait(20)
            drop()
    push_lat = [pushed[i] - t["commit"] for i, t in times.items() if i in pushed]
    poll_lat = [polled[i] - t["commit"] for i, t in times.items() if i in polled]
    post_lat = [t["sent"] - t["commit"] for t in times.values()]
    plan_lat = [t["queued"] - t["commit"] for t in times.values()]
    http_lat = [t["sent"] - t["queued"] for t in times.values()]
    sse_hop = [pushed[i] - t["sent"] for i, t in times.items() if i in pushed]
    hook_lat = [hooked[i] - t["commit"] for i, t in times.items() if i in hooked]
    sse, poll = figures(push_lat), figures(poll_lat)
    return {
        "what": "commit of a new C2 in ISP A's detection run -> ISP B holds its indicator",
        "date": datetime.now(UTC).strftime("%Y-%m-%d"),
        "c2": args.c2,
        "per_run": args.per_run,
        "runs": -(-args.c2 // args.per_run),
        "hub_db": args.hub_db,
        "publish_seconds": round(publish_s, 2),
        "commit_to_post_acknowledged": figures(post_lat),
        "of_which_plan_and_outbox_commit": figures(plan_lat),
        "of_which_taxii_post": figures(http_lat),
        "post_acknowledged_to_sse_receipt": figures(sse_hop),
        "push_sse": sse,
        "missed_push": len(times) - len(push_lat),
        "push_webhook_hmac": figures(hook_lat) if hook_lat else None,
        "missed_webhook": len(times) - len(hook_lat),
        "webhook_bad_signatures": hook.bad,
        f"poll_taxii2_client_every_{args.poll:g}s": poll,
        "missed_poll": len(times) - len(poll_lat),
        "polls": poller.polls,
        "ratio_poll_over_push_p50": round(float(poll["p50_s"]) / float(sse["p50_s"]), 1),
        "ratio_poll_over_push_p99": round(float(poll["p99_s"]) / float(sse["p99_s"]), 1),
        "goal_p99_under_1s": float(sse["p99_s"]) < 1.0,
        "machine": {
            "cpu": platform.processor() or platform.machine(),
            "cores": os.cpu_count(),
            "python": platform.python_version(),
            "shared": "2 cores shared with 7 other engineers' work while this ran",
            "load_average_start": [round(x, 2) for x in load_start],
            "load_average_end": [round(x, 2) for x in os.getloadavg()],
        },
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--c2", type=int, default=200)
    parser.add_argument("--per-run", type=int, default=4)
    parser.add_argument("--poll", type=float, default=3.0)
    parser.add_argument("--hub-db", choices=["sqlite", "postgresql"], default="sqlite")
    parser.add_argument("--out", type=Path, default=RESULTS)
    args = parser.parse_args()
    result = run(args)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, indent=1) + "\n")
    sse = result["push_sse"]
    poll = result[f"poll_taxii2_client_every_{args.poll:g}s"]
    print(f"push (SSE):  p50 {sse['p50_s']} s  p99 {sse['p99_s']} s  max {sse['max_s']} s")
    print(
        f"poll {args.poll:g} s:  p50 {poll['p50_s']} s  p99 {poll['p99_s']} s  max {poll['max_s']}"
    )
    print(f"ratio poll/push: p50 {result['ratio_poll_over_push_p50']}x, "
          f"p99 {result['ratio_poll_over_push_p99']}x; wrote {args.out}")  # fmt: skip


if __name__ == "__main__":
    main()
