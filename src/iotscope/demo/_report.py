"""Demo step (issue 8, who must act): the lab's ISPs become the registry, each gets a lease log,
the day's findings become Shadowserver-style reports per ISP, mailed to a local mailbox.

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
from iotscope.attribution import import_leases, import_registry, subscriber_at
from iotscope.lab._leases import lease_log, write_lease_logs
from iotscope.lab._manifest import write_manifest
from iotscope.records import LabManifest
from iotscope.report import ReportFile, report_isps
from iotscope.store import Store
from iotscope.tenancy import Principal


@dataclass
class ReportDemo:
    day: date
    files: list[ReportFile]
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


def _report_day(store: Store) -> date:
    times = [f.time for f in store.findings()]
    return max(times).date() if times else datetime.now(UTC).date()


def report_step(
    store: Store, manifest: LabManifest, work: Path, day: date | None = None, churn: float = 0.1
) -> ReportDemo:
    """Registry + lease logs from the lab, then the ISP reports of ``day`` (default: the day of
    the newest finding) written to ``work/reports`` and mailed to a local mailbox."""
    day = day or _report_day(store)
    manifest_path = work / "manifest-registry.json"
    write_manifest(manifest, manifest_path)
    import_registry(store, manifest_path)
    start = datetime(day.year, day.month, day.day, tzinfo=UTC) - timedelta(days=7)
    # The lab's devices sit at their manifest addresses now: the leases end there.
    rows = lease_log(manifest.isps, manifest.devices, manifest.seed, days=8, churn=churn,
                     start=start, anchor="end")  # fmt: skip
    for isp, path in write_lease_logs(rows, work / "leases").items():
        import_leases(store, isp, path, replace=True)
    demo = ReportDemo(day=day, files=[])
    with local_mailbox() as mailbox:
        smtp = ("127.0.0.1", mailbox[1]) if mailbox else None
        demo.files = report_isps(store, day, out=work / "reports", smtp=smtp)
        if mailbox:
            demo.mails = list(mailbox[0].messages)
    _save_mails(demo.mails, work / "report-mail")
    demo.resolved = _resolve_subscribers(store, manifest, day)
    _show(demo, work, mailbox_used=bool(demo.mails))
    return demo


def _save_mails(mails: list[bytes], out: Path) -> None:
    out.mkdir(parents=True, exist_ok=True)
    for i, raw in enumerate(mails, 1):
        (out / f"{i:03d}.eml").write_bytes(raw)


def _resolve_subscribers(
    store: Store, manifest: LabManifest, day: date
) -> dict[str, tuple[int, int]]:
    """Per ISP, how many of its weak-login findings it can tie to a subscriber (as the ISP:
    its own Principal; only counts leave the ISP's view)."""
    out: dict[str, tuple[int, int]] = {}
    owner = {str(d.ip): d.isp for d in manifest.devices if d.isp}
    for f in store.findings():
        isp = owner.get(str(f.ip))
        if isp is None or f.login.outcome not in ("accepted", "no_auth") or f.time.date() != day:
            continue
        found, asked = out.get(isp, (0, 0))
        hit = subscriber_at(store, Principal("isp", isp), isp, str(f.ip), f.time) is not None
        out[isp] = (found + hit, asked + 1)
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
    console.print(table(f"ISP reports for {demo.day}", cols, rows))
    where = f"{len(demo.mails)} e-mail(s) in {work / 'report-mail'}" if mailbox_used else "no mail"
    console.print(f"reports in {work / 'reports'}; {where}")
