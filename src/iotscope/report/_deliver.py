"""Delivering report files: to a directory, by e-mail (SMTP, the files as attachments, to the
ISP's abuse contact), and into the store for the API. Every delivery is recorded."""

from __future__ import annotations

import os
import smtplib
from collections.abc import Sequence
from email.message import EmailMessage
from email.utils import formatdate, make_msgid
from pathlib import Path

from iotscope.attribution import IspEntry
from iotscope.errors import ConfigError
from iotscope.report._build import ReportFile
from iotscope.store import Store
from iotscope.store import _attribution as sa

SENDER = "iotscope-reports@localhost"


def store_reports(store: Store, files: Sequence[ReportFile]) -> None:
    """Keep the files (content too) so the ISP can list and fetch them over the API."""
    from datetime import UTC, datetime

    now = datetime.now(UTC)
    sa.save_reports(store, [
        {"isp": f.isp, "filename": f.filename, "period": f.period, "report_type": f.report_type,
         "rows": f.rows, "sha256": f.sha256, "created": now, "content": f.content}
        for f in files
    ])  # fmt: skip


def write_dir(store: Store, files: Sequence[ReportFile], out: Path) -> list[Path]:
    """Write each file atomically under ``out`` (temporary name, then rename)."""
    out.mkdir(parents=True, exist_ok=True)
    paths = []
    for f in files:
        path = out / f.filename
        tmp = path.with_name(f".{f.filename}.{os.getpid()}.tmp")
        tmp.write_bytes(f.content)
        os.replace(tmp, path)
        paths.append(path)
    for isp in sorted({f.isp for f in files}):
        mine = [f.filename for f in files if f.isp == isp]
        sa.save_delivery(store, isp, mine, "dir", str(out.resolve()))
    return paths


_SUBJECT = {
    "ja": "[iotscope] {isp} 様 IoT 機器に関するレポート ({period}, {n} 件)",
    "en": "[iotscope] IoT device reports for {isp} ({period}, {n} events)",
}
_BODY = {
    "ja": (
        "{isp} ご担当者様\n\n{period} の期間に貴社ネットワークで観測された IoT 機器の情報を、"
        "Shadowserver 形式の CSV で添付します。\n\n{files}\n\n"
        "同じファイルは API (/reports/) からも取得できます。\n"
    ),
    "en": (
        "To the security team of {isp},\n\nattached are the IoT device reports for your network "
        "for {period}, in Shadowserver's CSV formats.\n\n{files}\n\n"
        "The same files can be fetched from the API (/reports/).\n"
    ),
}


def message(isp: IspEntry, files: Sequence[ReportFile], sender: str = SENDER) -> EmailMessage:
    """One e-mail per ISP and period: a short text in the ISP's language + the CSVs."""
    if not isp.abuse_email:
        raise ConfigError("the ISP has no abuse_email in the registry", isp=isp.name)
    period = files[0].period if files else ""
    n = sum(f.rows for f in files)
    listing = "\n".join(f"- {f.filename} ({f.report_type}: {f.rows})" for f in files)
    msg = EmailMessage()
    msg["From"] = sender
    msg["To"] = isp.abuse_email
    msg["Subject"] = _SUBJECT[isp.language].format(isp=isp.name, period=period, n=n)
    msg["Date"] = formatdate(usegmt=True)
    msg["Message-ID"] = make_msgid(domain="iotscope.localhost")
    msg.set_content(_BODY[isp.language].format(isp=isp.name, period=period, files=listing))
    for f in files:
        msg.add_attachment(
            f.content.decode("utf-8"), subtype="csv", charset="utf-8", filename=f.filename
        )
    return msg


def send_email(
    store: Store,
    isp: IspEntry,
    files: Sequence[ReportFile],
    smtp: tuple[str, int],
    sender: str = SENDER,
) -> str:
    """Mail the files to the ISP's abuse contact over SMTP; returns the Message-ID."""
    if not files:
        return ""
    msg = message(isp, files, sender)
    host, port = smtp
    try:
        with smtplib.SMTP(host, port, timeout=30) as s:
            s.send_message(msg)
    except (OSError, smtplib.SMTPException) as exc:
        raise ConfigError("SMTP delivery failed", smtp=f"{host}:{port}", reason=str(exc)) from exc
    sa.save_delivery(store, isp.name, [f.filename for f in files], "email",
                     str(isp.abuse_email), detail=str(msg["Message-ID"]))  # fmt: skip
    return str(msg["Message-ID"])
