"""What the landing page says about the re-check: the one seam between notices and follow-up.

Helper C2's follow-up (``notice follow-up``) fills :func:`notice_status` from its re-check
rounds; until a round has looked at the device, the page says it has not been checked yet.
"""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from iotscope.records import Record, UtcTime
from iotscope.store import Store

CheckState = Literal[
    "not_checked", "remediated", "still_weak", "unreachable", "replaced", "reinfected"
]


class NoticeStatus(Record):
    """The latest re-check of a notice's device: its state and when it was checked."""

    state: CheckState = "not_checked"
    checked: UtcTime | None = None

    @property
    def passed(self) -> bool | None:
        """True when the re-check found the problem gone, False when not, None: not checked."""
        if self.state == "not_checked":
            return None
        return self.state in ("remediated", "replaced")


def notice_status(store: Store, notice_id: str) -> NoticeStatus:
    """The re-check state of ``notice_id``'s device (``not_checked`` until follow-up runs).

    The caller holds the notice's landing token or is its ISP. The state is the newest
    follow-up check of the notice's device (``iotscope.followup.notice_status``).
    """
    from iotscope.followup import notice_status as followup_status

    found = followup_status(store, notice_id)
    if found is None or found["checked"] is None:
        return NoticeStatus()
    return NoticeStatus(state=found["state"], checked=found["checked"])


def status_at(state: CheckState, checked: datetime | None) -> NoticeStatus:
    return NoticeStatus(state=state, checked=checked)
