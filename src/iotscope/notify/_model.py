"""The records of notices: what a finding says about a device, the notice made of it, how an
ISP sends notices, a subscriber's contact data and a network-side protection.

Immutable and validated on construction like every record of ``iotscope.records``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal

from pydantic import Field

from iotscope.records import IPAddr, Record, UtcTime

Kind = Literal["weak_login", "vulnerable", "infected"]
Channel = Literal["email", "letter", "sms", "landing"]
Measure = Literal["inbound_filter", "c2_block", "firmware_push"]
ProtectionState = Literal["proposed", "applied", "lifted"]
NoticeEvent = Literal[
    "created", "sent", "send_failed", "delivered", "viewed", "fixed_reported", "bounced", "delayed"
]

KINDS: tuple[Kind, ...] = ("infected", "vulnerable", "weak_login")
"""Most pressing first: a notice about a device leads with the worst of its findings."""
CHANNELS: tuple[Channel, ...] = ("email", "letter", "sms", "landing")
EVENTS: tuple[NoticeEvent, ...] = ("created", "sent", "delivered", "viewed", "fixed_reported")
"""Events that set the notice column of their name (first time only); ``send_failed`` is only
logged, so the next ``notice send`` tries again."""


class Device(Record):
    """What the survey identified, as far as it did (every field may be unknown)."""

    vendor: str | None = None
    product: str | None = None
    model: str | None = None
    version: str | None = None
    device_type: str | None = None


class DeviceFinding(Record):
    """One finding about one device that an ISP must tell its subscriber about.

    ``protocol`` is the login that accepted a weak or no password (weak_login); ``cves`` the
    vulnerabilities that apply (vulnerable), ``evidence`` how they were established; for an
    infected device ``detail`` says what saw it (the telescope, a C2 contact).
    """

    ip: IPAddr
    port: int = Field(ge=0, le=65535)
    time: UtcTime
    kind: Kind
    service: str | None = None
    device: Device = Device()
    protocol: str | None = None
    cves: tuple[str, ...] = ()
    evidence: str | None = None
    kev: bool = False
    detail: str | None = None


class Notice(Record):
    """One notice to one subscriber about one device (its address at the finding's time).

    ``token`` (the landing page's credential) is only known right after it is minted; the
    store keeps its SHA-256 alone, so a notice read back has ``token`` None.
    """

    id: str
    isp: str
    subscriber_id: str
    ip: IPAddr
    port: int = Field(ge=0, le=65535)
    finding_time: UtcTime
    kind: Kind
    kinds: tuple[Kind, ...]
    ports: tuple[int, ...]
    device: Device = Device()
    details: dict[str, Any] = Field(default_factory=dict)
    channel: Channel
    variant: str
    language: str
    created: UtcTime
    sent: UtcTime | None = None
    delivered: UtcTime | None = None
    viewed: UtcTime | None = None
    fixed_reported: UtcTime | None = None
    message_id: str | None = None
    token: str | None = Field(default=None, exclude=True, repr=False)


class NoticeProfile(Record):
    """How one ISP sends notices. Every link and sender address is on ``domain``."""

    isp: str
    domain: str
    name_ja: str | None = None
    name_en: str | None = None
    support_phone: str = "0120-000-000"
    support_hours_ja: str = "平日 9時から18時"
    support_hours_en: str = "weekdays 9:00-18:00"
    channels: tuple[Channel, ...] = ("email", "sms", "letter", "landing")
    language: str = "ja"
    manages_cpe: bool = False
    landing_base: str | None = None

    @property
    def landing_prefix(self) -> str:
        """Where landing pages live: the ISP's own site, proxied to iotscope's /notice/."""
        return self.landing_base or f"https://{self.domain}/notice/"

    @property
    def sender(self) -> str:
        return f"security-notice@{self.domain}"

    @property
    def reply_to(self) -> str:
        return f"support@{self.domain}"

    def display_name(self, language: str) -> str:
        if language == "ja":
            return self.name_ja or self.isp
        return self.name_en or self.isp


class Contact(Record):
    """A subscriber's contact data (in its ISP's tenancy only)."""

    isp: str
    subscriber_id: str
    name: str | None = None
    email: str | None = None
    phone: str | None = None
    postal: str | None = None
    language: str | None = None
    managed_cpe: bool = False


class Protection(Record):
    """A network-side measure for one finding: proposed -> applied -> lifted."""

    id: str
    isp: str
    subscriber_id: str
    notice_id: str | None = None
    ip: IPAddr
    finding_time: UtcTime
    measure: Measure
    params: dict[str, Any] = Field(default_factory=dict)
    state: ProtectionState = "proposed"
    proposed: UtcTime
    applied: UtcTime | None = None
    applied_by: str | None = None
    lifted: UtcTime | None = None
    lifted_by: str | None = None


SubscriberOf = Callable[[str, datetime], str | None]
"""(address, time) -> the ISP's subscriber holding it then, or None."""


@dataclass(frozen=True, slots=True)
class IspFindings:
    """One ISP's new findings and how it resolves an address and time to its subscriber.

    ``subscriber_of`` None: the store's lease log through ``iotscope.attribution`` (the
    ISP's own tenancy); tests and lease CSV files pass a function (see ``_subscribers``).
    """

    isp: str
    findings: tuple[DeviceFinding, ...]
    subscriber_of: SubscriberOf | None = None
