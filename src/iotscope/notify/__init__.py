"""Subscriber notices that get acted on, and protection that does not wait for the user.

One notice per subscriber and device for an ISP's new findings (weak login, vulnerable
firmware, infected), in plain Japanese or English, with device-specific steps; sent by e-mail,
as a printable PDF letter, as SMS-length text, or shown on a walled-garden landing page served
by iotscope (``/notice/{token}``). A/B variants are drawn per notice from a seeded RNG and
recorded. Network-side protections (inbound filter, C2 block, firmware push) are proposed per
finding and tracked proposed -> applied -> lifted.
"""

from __future__ import annotations

from iotscope.notify._create import Plan, create_notices, notice_id, plan_notices, variants
from iotscope.notify._db import NotOwned, get_notice, list_notices, load_profile, save_profile
from iotscope.notify._landing import router
from iotscope.notify._model import (
    KINDS,
    Channel,
    Contact,
    Device,
    DeviceFinding,
    IspFindings,
    Kind,
    Notice,
    NoticeProfile,
    Protection,
    SubscriberOf,
)
from iotscope.notify._status import NoticeStatus, notice_status
from iotscope.notify._subscribers import from_attribution, from_leases, from_mapping, read_lease_csv

__all__ = [
    "KINDS",
    "Channel",
    "Contact",
    "Device",
    "DeviceFinding",
    "IspFindings",
    "Kind",
    "NotOwned",
    "Notice",
    "NoticeProfile",
    "NoticeStatus",
    "Plan",
    "Protection",
    "SubscriberOf",
    "create_notices",
    "from_attribution",
    "from_leases",
    "from_mapping",
    "get_notice",
    "list_notices",
    "load_profile",
    "notice_id",
    "notice_status",
    "plan_notices",
    "read_lease_csv",
    "router",
    "save_profile",
    "variants",
]
