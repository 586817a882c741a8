"""ISP reports in the formats their tools already read (Shadowserver CSV), per ISP and period,
delivered to a directory, by e-mail, and over the API (``router``)."""

from __future__ import annotations

from iotscope.report._api import router
from iotscope.report._build import (
    Period,
    ReportFile,
    build_reports,
    filename,
    period_of,
)
from iotscope.report._deliver import message, send_email, store_reports, write_dir
from iotscope.report._run import report_isps

__all__ = [
    "Period",
    "ReportFile",
    "build_reports",
    "filename",
    "message",
    "period_of",
    "report_isps",
    "router",
    "send_email",
    "store_reports",
    "write_dir",
]
