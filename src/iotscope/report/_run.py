"""One reporting round: build, store, write, mail (what the CLI and the demo call)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from pathlib import Path

from iotscope.attribution import isps
from iotscope.errors import ConfigError
from iotscope.report._build import ReportFile, build_reports
from iotscope.report._deliver import SENDER, send_email, store_reports, write_dir
from iotscope.store import Store


def report_isps(
    store: Store,
    day: date,
    names: Sequence[str] | None = None,
    out: Path | None = None,
    smtp: tuple[str, int] | None = None,
    sender: str = SENDER,
) -> list[ReportFile]:
    """Reports for the named ISPs (all when None) for the period holding ``day``: stored for
    the API, written under ``out``, mailed through ``smtp``."""
    registry = isps(store)
    if names is not None:
        known = {e.name for e in registry}
        missing = [n for n in names if n not in known]
        if missing:
            raise ConfigError("unknown ISP (import the registry first)", isp=", ".join(missing))
        registry = [e for e in registry if e.name in names]
    files = build_reports(store, day, registry)
    store_reports(store, files)
    if out is not None:
        write_dir(store, files, out)
    if smtp is not None:
        for e in registry:
            mine = [f for f in files if f.isp == e.name]
            if mine and e.abuse_email:
                send_email(store, e, mine, smtp, sender)
    return files
