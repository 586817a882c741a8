"""Notices at national scale: 100,000 findings of one ISP to notices, rendered and sent.

Run: ``.venv/bin/python -m benchmarks.bench_notify [--findings N] [--emails N] [--letters N]``

The issue's goal is 100,000 findings attributed, reported and noticed end to end in under a
minute; this measures the notice part on the embedded store (SQLite in a temporary directory):

1. ``create_notices``: 100,000 findings (70% weak login, 20% vulnerable firmware, 10%
   infected; about 15% of devices have two findings) -> one notice per subscriber and device
   (lease lookup per finding, grouping, seeded A/B draw, channel from contact data, batched
   insert with a ``created`` event each). Timed whole.
2. ``propose_protections`` for every notice (inbound filter, C2 block, firmware push). Timed.
3. Rendering (compose + Jinja2 text and HTML e-mail bodies) of every notice, timed whole;
   then what each notice's channel needs only (``channel_bodies``), timed whole.
4. Sending ``--emails`` e-mail notices over SMTP to aiosmtpd on 127.0.0.1 (one session),
   each recorded ``sent`` in the store; rate reported.
5. ``--letters`` letters as one print-batch PDF with the embedded Japanese font (skipped if
   the font is absent).

Each stage reports wall seconds and CPU seconds of this process (``time.process_time``): on
a machine shared with other work, CPU seconds say what the stage costs, wall seconds what it
took under that load.

No peer tool is named for notices (ISPs use their own mailers); the figures are absolute.
Writes ``benchmarks/results/notify.json``.
"""

from __future__ import annotations

import argparse
import ipaddress
import json
import os
import platform
import random
import socket
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from aiosmtpd.controller import Controller

from iotscope.notify import IspFindings, NoticeProfile, create_notices, from_leases
from iotscope.notify._compose import compose
from iotscope.notify._db import list_notices, load_contacts, save_contacts, save_profile
from iotscope.notify._letter import japanese_font, letters_pdf
from iotscope.notify._model import Contact, Device, DeviceFinding
from iotscope.notify._protect import propose_protections
from iotscope.notify._render import channel_bodies, html_email, text_body
from iotscope.notify._send import send_notices
from iotscope.store import open_store
from iotscope.tenancy import Principal

RESULTS = Path(__file__).resolve().parent / "results" / "notify.json"
ISP = "Sakura Hikari Net"
T0 = datetime(2026, 11, 1, tzinfo=UTC)
DEVICES = [
    Device(vendor="Hikvision", model="DS-2CD2032-I", version="V5.2.0 build 140721",
           device_type="IP Camera"),
    Device(vendor="Huawei", model="HG532e", version="V100R001C01B016", device_type="Router"),
    Device(vendor="Xiongmai", model="AHB7008T-MH", device_type="DVR"),
    Device(vendor="Synology", version="6.1.7-15284", device_type="NAS"),
    Device(),
]  # fmt: skip


def make_findings(n: int, rng: random.Random) -> list[DeviceFinding]:
    out: list[DeviceFinding] = []
    base = int(ipaddress.ip_address("10.0.0.0"))
    ip_i = 0
    while len(out) < n:
        ip = ipaddress.ip_address(base + ip_i)
        ip_i += 1
        dev = rng.choice(DEVICES)
        roll = rng.random()
        kind = "weak_login" if roll < 0.7 else "vulnerable" if roll < 0.9 else "infected"
        when = T0 + timedelta(seconds=rng.randrange(86400))
        out.append(_finding(ip, kind, when, dev))
        if rng.random() < 0.15 and len(out) < n:  # a second finding on the same device
            out.append(_finding(ip, "vulnerable", when + timedelta(seconds=3), dev, port=80))
    return out


def _finding(ip: Any, kind: str, when: datetime, dev: Device, port: int = 23) -> DeviceFinding:
    extra: dict[str, Any] = {}
    if kind == "vulnerable":
        extra = {"cves": ("CVE-2017-7921",), "evidence": "inferred"}
    elif kind == "weak_login":
        extra = {"protocol": "telnet", "service": "telnet"}
    return DeviceFinding(ip=ip, port=port if kind != "infected" else 0, time=when, kind=kind,
                         device=dev, **extra)  # fmt: skip


def contacts_for(ips: list[str], rng: random.Random) -> list[Contact]:
    out = []
    for i, _ip in enumerate(ips):
        roll = rng.random()
        out.append(Contact(isp=ISP, subscriber_id=f"S{i:07d}",
                           email=f"s{i}@mail.example" if roll < 0.6 else None,
                           phone="09012345678" if 0.6 <= roll < 0.8 else None,
                           postal="〒100-0001 東京都千代田区" if 0.8 <= roll < 0.9 else None,
                           language="ja"))  # fmt: skip
    return out


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


class Counter:
    def __init__(self) -> None:
        self.n = 0

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        self.n += 1
        return "250 OK"


def _log(result: dict[str, Any]) -> None:
    print(json.dumps(result), file=sys.stderr, flush=True)


def run(n: int, emails: int, letters: int) -> dict[str, Any]:
    rng = random.Random(7)
    load0 = os.getloadavg()
    result: dict[str, Any] = {"findings": n}
    with tempfile.TemporaryDirectory() as tmp:
        store = open_store(f"sqlite:///{tmp}/db.sqlite")
        p = Principal("isp", ISP)
        prof = NoticeProfile(isp=ISP, domain="sakura-hikari.example.jp", name_ja="さくら光ネット",
                             manages_cpe=True)  # fmt: skip
        save_profile(store, p, prof)
        found = make_findings(n, rng)
        ips = sorted({str(f.ip) for f in found})
        subs = {ip: f"S{i:07d}" for i, ip in enumerate(ips)}
        leases = {ip: [(T0 - timedelta(days=30), None, s)] for ip, s in subs.items()}
        save_contacts(store, p, contacts_for(ips, rng))
        result["devices"] = len(ips)

        t, cpu0 = time.perf_counter(), time.process_time()
        made = create_notices(store, p, IspFindings(ISP, tuple(found), from_leases(leases)),
                              random.Random(1), now=T0)  # fmt: skip
        result["create_notices_s"] = round(time.perf_counter() - t, 2)
        result["create_notices_cpu_s"] = round(time.process_time() - cpu0, 2)
        _log(result)
        result["notices"] = len(made)

        t, cpu0 = time.perf_counter(), time.process_time()
        prots = propose_protections(store, p, ISP, made, now=T0)
        result["propose_protections_s"] = round(time.perf_counter() - t, 2)
        result["propose_protections_cpu_s"] = round(time.process_time() - cpu0, 2)
        result["protections"] = len(prots)

        contacts = load_contacts(store, p, ISP)
        t, cpu0 = time.perf_counter(), time.process_time()
        for notice in made:
            c = compose(notice, prof, contacts.get(notice.subscriber_id), notice.token or "")
            text_body(c)
            html_email(c)
        result["render_all_s"] = round(time.perf_counter() - t, 2)
        result["render_all_cpu_s"] = round(time.process_time() - cpu0, 2)
        _log(result)

        t, cpu0 = time.perf_counter(), time.process_time()
        for notice in made:
            c = compose(notice, prof, contacts.get(notice.subscriber_id), notice.token or "")
            channel_bodies(c, notice.channel)
        result["render_channel_s"] = round(time.perf_counter() - t, 2)
        result["render_channel_cpu_s"] = round(time.process_time() - cpu0, 2)
        _log(result)

        mail = [x for x in made if x.channel == "email"][:emails]
        box = Counter()
        port = free_port()
        ctl = Controller(box, hostname="127.0.0.1", port=port)
        ctl.start()
        try:
            t = time.perf_counter()
            rep = send_notices(store, p, ISP, Path(tmp) / "out", smtp=("127.0.0.1", port),
                               notices=mail, now=T0)  # fmt: skip
            dt = time.perf_counter() - t
        finally:
            ctl.stop()
        result["smtp"] = {"emails": rep.sent["email"], "received": box.n, "seconds": round(dt, 2),
                          "per_second": round(rep.sent["email"] / dt, 1)}  # fmt: skip
        if japanese_font() is not None and letters:
            post = [x for x in made if x.channel == "letter"][:letters]
            items = [(compose(x, prof, contacts.get(x.subscriber_id), "t" * 22), ["ISP"])
                     for x in post]  # fmt: skip
            t, cpu0 = time.perf_counter(), time.process_time()
            pdf, starts = letters_pdf(items, T0)
            dt = time.perf_counter() - t
            one_page = starts == list(range(1, len(starts) + 1))
            result["letters"] = {"letters": len(post), "one_page_each": one_page,
                                 "pdf_bytes": len(pdf), "seconds": round(dt, 2),
                                 "cpu_s": round(time.process_time() - cpu0, 2),
                                 "per_second": round(len(post) / dt, 1)}  # fmt: skip
        result["stored_notices"] = len(list_notices(store, p, ISP))
        store.engine.dispose()
    result["load_average"] = {"start": load0, "end": os.getloadavg()}
    return result


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--findings", type=int, default=100_000)
    ap.add_argument("--emails", type=int, default=1000)
    ap.add_argument("--letters", type=int, default=300)
    args = ap.parse_args()
    res = run(args.findings, args.emails, args.letters)
    stages = ("create_notices", "propose_protections", "render_channel")
    res["noticed_end_to_end_s"] = round(sum(res[f"{x}_s"] for x in stages), 2)
    res["noticed_end_to_end_cpu_s"] = round(sum(res[f"{x}_cpu_s"] for x in stages), 2)
    res["noticed_stages"] = list(stages)
    res["render_note"] = (
        "render_all: text and HTML e-mail bodies of every notice (the earlier measure); "
        "render_channel: what each notice's channel sends (e-mail text+HTML, letter text, "
        "SMS text, landing HTML body), which is what noticing costs"
    )
    res["goal"] = "100,000 findings attributed, reported and noticed end to end in < 60 s"
    res["peer"] = "none named by the issue (ISPs send with their own MTAs); absolute figures"
    res["machine"] = {
        "python": platform.python_version(),
        "cpus": os.cpu_count(),
        "note": "2 cores shared by 8 engineers working at the same time",
    }
    res["date"] = datetime.now(UTC).isoformat(timespec="seconds")
    res["command"] = "make bench NAME=notify"
    RESULTS.parent.mkdir(exist_ok=True)
    RESULTS.write_text(json.dumps(res, indent=2, ensure_ascii=False) + "\n")
    print(json.dumps(res, indent=2, ensure_ascii=False))


if __name__ == "__main__":
    main()
