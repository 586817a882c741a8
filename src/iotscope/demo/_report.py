"""Demo step (issue 8, who must act): the lab's ISPs become the registry, each gets a lease log,
the findings, the telescope's infected devices and the C2 servers become Shadowserver-style
reports per ISP for every day they were seen, mailed to a local mailbox.

Call after the survey (and the telescope/C2 steps, if any) has filled the store::

    from iotscope.demo._report import report_step
    report_step(store, manifest, work)

The mailbox is an aiosmtpd server on 127.0.0.1 for the length of the step; each message is
also saved under ``work/report-mail/`` as ``.eml`` so it can be opened afterwards.
"""

from __future__ import annotations

import socket
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

from iotscope._output import console, table
from iotscope.attribution import import_leases, import_registry, isps, subscribers_at
from iotscope.lab._leases import lease_log, write_lease_logs
from iotscope.lab._manifest import write_manifest
from iotscope.records import LabManifest
from iotscope.report import ReportFile, period_of, report_isps
from iotscope.store import Store
from iotscope.store._hosts import INFECTED_CLASSES, WEAK_OUTCOMES
from iotscope.tenancy import Principal


@dataclass
class ReportDemo:
    day: date  # the last day reported (the survey's, in the demo)
    files: list[ReportFile]
    days: list[date] = field(default_factory=list)  # every day reported
    mails: list[bytes] = field(default_factory=list)
    resolved: dict[str, tuple[int, int]] = field(default_factory=dict)  # isp: (found, asked)


class _Mailbox:
    def __init__(self) -> None:
        self.messages: list[bytes] = []

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        self.messages.append(bytes(envelope.content))
        return "250 OK"


@contextmanager
def local_mailbox() -> Iterator[tuple[_Mailbox, int] | None]:
    """An aiosmtpd SMTP server on 127.0.0.1 (None when aiosmtpd is not installed)."""
    try:
        from aiosmtpd.controller import Controller
    except ImportError:
        yield None
        return
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    box = _Mailbox()
    ctl = Controller(box, hostname="127.0.0.1", port=port)
    ctl.start()
    try:
        yield box, port
    finally:
        ctl.stop()


MAX_SPAN_DAYS = 62  # a sighting or C2 candidate active longer is reported on its last days


def report_days(store: Store) -> list[date]:
    """Every day with something to report: the survey's findings, the telescope's sightings of
    infected devices and the C2 candidates, each on every day it was active (the lab's darknet
    and flows are dated in the lab's own time, not the survey's day)."""
    days = {f.time.date() for f in store.findings()}
    for s in store.sightings():
        if s.classification in INFECTED_CLASSES:
            days |= _span(s.first_seen, s.last_seen)
    for c in store.c2_candidates():
        days |= _span(c.first_seen, c.last_seen)
    return sorted(days) or [datetime.now(UTC).date()]


def _span(first: datetime, last: datetime) -> set[date]:
    end = last.date()
    n = min((end - first.date()).days, MAX_SPAN_DAYS - 1)
    return {end - timedelta(days=k) for k in range(max(n, 0) + 1)}


def report_step(
    store: Store, manifest: LabManifest, work: Path, day: date | None = None, churn: float = 0.1
) -> ReportDemo:
    """Registry + lease logs from the lab, then the ISP reports of ``day`` (default: every day
    with findings, sightings or C2 candidates; each ISP's period once) written to
    ``work/reports`` and mailed to a local mailbox."""
    days = [day] if day is not None else report_days(store)
    manifest_path = work / "manifest-registry.json"
    write_manifest(manifest, manifest_path)
    import_registry(store, manifest_path)
    first = days[0]
    start = datetime(first.year, first.month, first.day, tzinfo=UTC) - timedelta(days=7)
    # The lab's devices sit at their manifest addresses now: the leases end there.
    rows = lease_log(manifest.isps, manifest.devices, manifest.seed,
                     days=(days[-1] - first).days + 8, churn=churn, start=start,
                     anchor="end")  # fmt: skip
    for isp, path in write_lease_logs(rows, work / "leases").items():
        import_leases(store, isp, path, replace=True)
    demo = ReportDemo(day=days[-1], files=[], days=days)
    with local_mailbox() as mailbox:
        smtp = ("127.0.0.1", mailbox[1]) if mailbox else None
        demo.files = report_periods(store, days, work / "reports", smtp)
        if mailbox:
            demo.mails = list(mailbox[0].messages)
    _save_mails(demo.mails, work / "report-mail")
    demo.resolved = _resolve_subscribers(store, manifest, set(days))
    _show(demo, work, mailbox_used=bool(demo.mails))
    return demo


def report_periods(
    store: Store, days: list[date], out: Path, smtp: tuple[str, int] | None
) -> list[ReportFile]:
    """One report round per ISP and period holding any of ``days`` (a weekly ISP's week once,
    however many of its days have data)."""
    registry = isps(store)
    done: set[tuple[str, str]] = set()
    files: list[ReportFile] = []
    for d in days:
        due = {e.name: period_of(d, e.interval).label for e in registry}
        names = sorted(n for n, label in due.items() if (n, label) not in done)
        done |= set(due.items())
        if names:
            files += report_isps(store, d, names, out=out, smtp=smtp)
    return files


def _save_mails(mails: list[bytes], out: Path) -> None:
    out.mkdir(parents=True, exist_ok=True)
    for i, raw in enumerate(mails, 1):
        (out / f"{i:03d}.eml").write_bytes(raw)


def _resolve_subscribers(
    store: Store, manifest: LabManifest, days: set[date]
) -> dict[str, tuple[int, int]]:
    """Per ISP, how many of its weak-login findings it can tie to a subscriber (as the ISP:
    its own Principal, one batched lease lookup; only counts leave the ISP's view)."""
    owner = {str(d.ip): d.isp for d in manifest.devices if d.isp}
    asked: dict[str, list[tuple[str, datetime]]] = {}
    for f in store.findings():
        isp = owner.get(str(f.ip))
        if isp is None or f.login.outcome not in WEAK_OUTCOMES or f.time.date() not in days:
            continue
        asked.setdefault(isp, []).append((str(f.ip), f.time))
    out: dict[str, tuple[int, int]] = {}
    for isp, queries in sorted(asked.items()):
        found = subscribers_at(store, Principal("isp", isp), isp, queries)
        out[isp] = (sum(s is not None for s in found), len(queries))
    return out


def _show(demo: ReportDemo, work: Path, mailbox_used: bool) -> None:
    per: dict[str, list[ReportFile]] = {}
    for f in demo.files:
        per.setdefault(f.isp, []).append(f)
    rows = [
        [isp, len(fs), sum(f.rows for f in fs), ", ".join(sorted({f.report_type for f in fs})),
         "{}/{}".format(*demo.resolved.get(isp, (0, 0)))]
        for isp, fs in sorted(per.items())
    ]  # fmt: skip
    cols = ["ISP", "files", "rows", "report types", "weak logins -> subscriber"]
    console.rule("[bold]5. who must act: each ISP's reports (Shadowserver CSV)")
    span = f"{demo.days[0]} to {demo.days[-1]}" if len(demo.days) > 1 else str(demo.day)
    console.print(table(f"ISP reports for {span}", cols, rows))
    where = f"{len(demo.mails)} e-mail(s) in {work / 'report-mail'}" if mailbox_used else "no mail"
    console.print(f"reports in {work / 'reports'}; {where}")
