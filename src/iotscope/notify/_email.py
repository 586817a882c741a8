"""E-mail notices: multipart/alternative (plain text, then HTML), UTF-8 bodies and RFC 2047
encoded headers (RFC 2045-2049, RFC 6532's UTF-8 is not assumed of the receiving MTA).

UTF-8 rather than ISO-2022-JP: every Japanese mail client of the last fifteen years reads it,
it carries every character a subscriber's name may hold (ISO-2022-JP lacks many, such as
髙 or ①), and Python's email package encodes it correctly end to end. From and Reply-To are on
the ISP's own domain; Message-ID too, so the ISP can match bounces and replies to the notice.
"""

from __future__ import annotations

import smtplib
from datetime import datetime
from email.headerregistry import Address
from email.message import EmailMessage
from email.policy import SMTP
from email.utils import format_datetime, make_msgid

from iotscope.errors import ConfigError, IotscopeError
from iotscope.notify._compose import Content
from iotscope.notify._model import NoticeProfile
from iotscope.notify._render import html_email, text_body


class DeliveryError(IotscopeError):
    """A channel could not hand a notice on (the MTA refused it, or was unreachable)."""


def build_email(content: Content, profile: NoticeProfile, to: str, now: datetime) -> EmailMessage:
    """The notice as an e-mail ready for SMTP."""
    msg = EmailMessage(policy=SMTP)
    msg["From"] = Address(profile.display_name(content.language), addr_spec=profile.sender)
    msg["Reply-To"] = Address(addr_spec=profile.reply_to)
    msg["To"] = Address(content.addressee or "", addr_spec=to)
    msg["Subject"] = content.subject
    msg["Date"] = format_datetime(now)
    msg["Message-ID"] = make_msgid(idstring=content.notice.id[:16], domain=profile.domain)
    msg["Auto-Submitted"] = "auto-generated"  # RFC 3834: no auto-replies to it, please
    msg["Content-Language"] = content.language
    msg.set_content(text_body(content), charset="utf-8", cte="base64")
    msg.add_alternative(html_email(content), subtype="html", charset="utf-8", cte="base64")
    return msg


def parse_smtp(value: str) -> tuple[str, int]:
    """``HOST:PORT`` -> (host, port); SMTP is only ever sent to the host named here."""
    host, sep, port = value.rpartition(":")
    if not sep or not host or not port.isdigit() or not 0 < int(port) < 65536:
        raise ConfigError("--smtp must be HOST:PORT", value=value)
    return host.strip("[]"), int(port)


class Mailer:
    """One SMTP session for a batch of notices (the connection is opened once)."""

    def __init__(self, host: str, port: int, timeout: float = 30.0) -> None:
        try:
            self.smtp = smtplib.SMTP(host, port, timeout=timeout)
        except OSError as exc:
            raise DeliveryError("cannot reach the SMTP server", host=host, port=port) from exc

    def send(self, msg: EmailMessage, envelope_from: str, to: str) -> None:
        try:
            refused = self.smtp.send_message(msg, from_addr=envelope_from, to_addrs=[to])
        except (smtplib.SMTPException, OSError) as exc:
            raise DeliveryError("SMTP server refused the notice", reason=str(exc)[:200]) from exc
        if refused:
            raise DeliveryError("SMTP server refused the recipient", refused=str(refused)[:200])

    def close(self) -> None:
        try:
            self.smtp.quit()
        except (smtplib.SMTPException, OSError):
            self.smtp.close()

    def __enter__(self) -> Mailer:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.close()
