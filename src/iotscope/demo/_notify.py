"""Demo step: the ISP's view of its findings: notices to its subscribers and protections.

For one lab ISP (the one with the most findings): a notice profile on its own domain, a lease
log and contact data made up for its addresses (seeded), then ``create_notices`` and sending:
e-mail over real SMTP to a local aiosmtpd server that files them in a Maildir, PDF letters,
SMS text, walled-garden landing URLs; and the network-side protections proposed.

Call it after the survey (and the botnet step, so infected devices and C2s are in the store):
``notify_step(store, manifest, work, seed)``.
"""

from __future__ import annotations

import mailbox
import random
import socket
from collections import Counter
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

from aiosmtpd.controller import Controller
from aiosmtpd.handlers import Mailbox

from iotscope._output import console, table
from iotscope.notify import IspFindings, NoticeProfile, create_notices, from_leases
from iotscope.notify._db import save_contacts, save_profile
from iotscope.notify._findings import isp_findings
from iotscope.notify._model import Contact, DeviceFinding, Notice
from iotscope.notify._protect import propose_protections
from iotscope.notify._send import SendReport, send_notices
from iotscope.records import Isp, LabManifest
from iotscope.store import Store
from iotscope.tenancy import Principal


@dataclass(frozen=True)
class NotifyDemo:
    isp: str
    findings: int
    notices: int
    report: SendReport
    maildir: Path
    protections: int


def notify_step(store: Store, manifest: LabManifest, work: Path, seed: int) -> NotifyDemo | None:
    """Notices for one lab ISP, sent to a local mailbox; prints what went where."""
    console.rule("[bold]6. the ISP's view: notices to subscribers, protections")
    picked = _busiest_isp(store, manifest)
    if picked is None:
        console.print("no findings in any lab ISP: nothing to notify")
        return None
    isp, found = picked
    p = Principal("isp", isp.name)
    rng = random.Random(seed)
    profile = lab_profile(isp)
    save_profile(store, p, profile)
    addresses = sorted({str(f.ip) for f in found})
    save_contacts(store, p, lab_contacts(isp.name, addresses, rng))
    subscriber_of = from_leases(lab_leases(addresses, min(f.time for f in found)))
    made = create_notices(store, p, IspFindings(isp.name, tuple(found), subscriber_of), rng)
    maildir = work / "mailbox"
    report = _send_via_local_smtp(store, p, isp.name, work / "notices", maildir)
    proposed = propose_protections(store, p, isp.name, made)
    _show(isp.name, len(found), made, report, maildir, len(proposed))
    return NotifyDemo(isp.name, len(found), len(made), report, maildir, len(proposed))


def _busiest_isp(store: Store, manifest: LabManifest) -> tuple[Isp, list[DeviceFinding]] | None:
    best: tuple[Isp, list[DeviceFinding]] | None = None
    for isp in manifest.isps:
        found = isp_findings(store, list(isp.prefixes))
        if found and (best is None or len(found) > len(best[1])):
            best = (isp, found)
    return best


def lab_profile(isp: Isp) -> NoticeProfile:
    slug = "".join(ch if ch.isalnum() else "-" for ch in isp.name.lower()).strip("-")
    return NoticeProfile(
        isp=isp.name, domain=f"{slug}.example.jp", name_en=isp.name, manages_cpe=True
    )


def lab_leases(
    addresses: list[str], since: datetime
) -> dict[str, list[tuple[datetime, datetime | None, str]]]:
    """One subscriber per address, leased from a month before ``since`` (the first finding)
    and still held: every finding falls inside a lease, whatever today's date."""
    start = since - timedelta(days=30)
    return {ip: [(start, None, f"S{i + 1:05d}")] for i, ip in enumerate(addresses)}


def lab_contacts(isp: str, addresses: list[str], rng: random.Random) -> list[Contact]:
    """Made-up contact data: most subscribers have e-mail, some only a phone or an address,
    some nothing (the walled garden reaches them)."""
    out = []
    for i in range(len(addresses)):
        sub, roll = f"S{i + 1:05d}", rng.random()
        lang = "en" if rng.random() < 0.1 else "ja"
        email = f"{sub.lower()}@mail.example" if roll < 0.6 else None
        phone = f"090{rng.randrange(10**8):08d}" if 0.6 <= roll < 0.8 else None
        postal = f"〒100-{i % 10000:04d} / 東京都千代田区 {i + 1}" if 0.8 <= roll < 0.9 else None
        out.append(
            Contact(
                isp=isp,
                subscriber_id=sub,
                name=f"加入者 {i + 1}",
                email=email,
                phone=phone,
                postal=postal,
                language=lang,
            )
        )
    return out


def _send_via_local_smtp(
    store: Store, p: Principal, isp: str, out: Path, maildir: Path
) -> SendReport:
    maildir.parent.mkdir(parents=True, exist_ok=True)
    mailbox.Maildir(maildir, create=True)  # its cur/new/tmp, before the server files into it
    port = _free_port()
    controller = Controller(Mailbox(maildir), hostname="127.0.0.1", port=port)
    controller.start()
    try:
        return send_notices(store, p, isp, out, smtp=("127.0.0.1", port))
    finally:
        controller.stop()


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


def _show(
    isp: str, found: int, made: list[Notice], report: SendReport, maildir: Path, proposed: int
) -> None:
    kinds = Counter(n.kind for n in made)
    variants = Counter(n.variant for n in made)
    console.print(
        f"{isp}: {found} findings -> {len(made)} notices "
        f"({', '.join(f'{k} {v}' for k, v in sorted(kinds.items()))}); "
        f"variants {dict(sorted(variants.items()))}"
    )
    rows = [
        (ch, report.sent[ch], report.failed[ch]) for ch in ("email", "letter", "sms", "landing")
    ]
    console.print(table("notices by channel", ["channel", "sent", "failed"], rows))
    mails = len(mailbox.Maildir(maildir))
    console.print(f"local mailbox {maildir}: {mails} messages")
    letters = [f for f in report.files if f.suffix == ".pdf"]
    if letters:
        console.print(f"a letter: {letters[0]}")
    if report.sms_segments:
        console.print(f"SMS segments: {dict(report.sms_segments)}")
    if report.landing:
        url = next(iter(report.landing.values()))
        console.print(
            f"a landing page: {url} (served by `iotscope serve` at /notice/{url.rsplit('/', 1)[1]})"
        )
    how = f"iotscope notice protections --isp '{isp}'"
    console.print(f"{proposed} network-side protections proposed (`{how}`)")
