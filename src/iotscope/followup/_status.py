"""What a notice's landing page shows about the re-check: ``notice_status``."""

from __future__ import annotations

from typing import Any

from iotscope.followup import _store as fs
from iotscope.store import Store

MESSAGES = {
    "notified": "Not re-checked yet.",
    "remediated": "Our re-check found the device fixed: it no longer accepts the default password.",
    "still_weak": "Our re-check found the device still accepts the default password.",
    "unreachable": "Our re-check could not reach the device.",
    "replaced": "Our re-check found a different device in its place.",
    "reinfected": "Our re-check saw the device scanning the Internet again: it is infected.",
}


def notice_status(store: Store, notice_id: str) -> dict[str, Any] | None:
    """The follow-up state of the device a notice was about, for its landing page: None when
    the notice is not in a follow-up trial; else ``state`` (``notified`` until a round ran),
    ``checked`` (ISO time or None), ``round`` and a plain-language ``message``. Holds no
    subscriber data beyond what the notice's own page already shows."""
    subject = fs.subject_of_notice(store, notice_id)
    if subject is None:
        return None
    history = fs.checks_of(store, subject.id)
    last = history[-1] if history else None
    state = last.state if last else "notified"
    return {
        "state": state,
        "checked": last.checked.isoformat() if last else None,
        "round": last.round if last else None,
        "passed": state in ("remediated", "replaced"),
        "message": MESSAGES[state],
    }
