"""The login check under NOTICE's rules: listed credentials only, stop at the first success.

For one probed service (telnet, ssh, http/https with Basic or Digest, mqtt) :func:`check_login`
tries the configured credential list, entries for the device's likely vendor first, at most
``max_attempts`` times, one attempt at a time with ``delay`` seconds between attempts (so a
device's lockout does not hide it). A sign of lockout (a "locked" message, or refused
connections after failures) makes it back off once and then stop. On success it closes at
once and runs no command. The outcome is recorded with the username and the id of the list
entry that worked, never the password.
"""

from __future__ import annotations

import asyncio
import secrets
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import Protocol

from iotscope.errors import ParseError
from iotscope.records import Identity, Login
from iotscope.survey._http import (
    basic_authorization,
    build_request,
    digest_authorization,
    parse_challenge,
)
from iotscope.survey._mqtt import DISCONNECT, build_connect, parse_connack
from iotscope.survey._net import Backend, NetError, Timeouts
from iotscope.survey._probe import ServiceResult, http_exchange, read_until, telnet_conversation
from iotscope.survey._ssh import ssh_login
from iotscope.survey._telnet import Outcome, TelnetDialogue

__all__ = ["CredentialLike", "LoginPolicy", "check_login", "login_protocol", "order_credentials"]

_LOCK_WORDS = ("locked", "too many", "try again later")


class CredentialLike(Protocol):
    """What the survey reads of a credential-list entry (``knowledge.CredentialEntry``)."""

    @property
    def id(self) -> str: ...
    @property
    def protocols(self) -> Sequence[str]: ...
    @property
    def username(self) -> str | None: ...
    @property
    def password(self) -> str | None: ...
    @property
    def source(self) -> str | None: ...


@dataclass(frozen=True)
class LoginPolicy:
    max_attempts: int = 1000  # per service: by default the whole list
    delay: float = 0.05  # seconds between two attempts on one host
    lockout_backoff: float = 2.0  # seconds to wait once when a lockout shows


def login_protocol(result: ServiceResult) -> str | None:
    """The credential-list protocol a service is checked with, or None (not checkable)."""
    if result.service in ("telnet", "ssh", "mqtt"):
        return result.service
    if result.service in ("http", "https") and result.auth in ("basic", "digest"):
        return "http"
    return None


def _vendor_words(identity: Identity | None) -> list[str]:
    if identity is None:
        return []
    words = [identity.vendor, identity.product, identity.model]
    return [w.lower() for w in words if w and len(w) >= 3]


def order_credentials(
    entries: Sequence[CredentialLike], protocol: str, identity: Identity | None, cap: int
) -> list[CredentialLike]:
    """Entries for ``protocol``, the identified vendor's defaults first, at most ``cap``."""
    words = _vendor_words(identity)

    def rank(entry: CredentialLike) -> int:
        text = f"{entry.id} {entry.source or ''}".lower()
        return 0 if any(w in text for w in words) else 1

    usable = [e for e in entries if protocol in e.protocols]
    return sorted(usable, key=rank)[:cap]  # sorted is stable: list order within a rank


Attempt = Callable[[CredentialLike], Awaitable[str]]


async def _telnet_attempt(
    backend: Backend, r: ServiceResult, t: Timeouts, entry: CredentialLike
) -> str:
    dialogue = TelnetDialogue(entry.username or "", entry.password or "")
    async with backend.connect(r.ip, r.port) as stream:
        await telnet_conversation(stream, dialogue, t)
    if dialogue.outcome is Outcome.PENDING:
        locked = any(w in dialogue.seen.lower() for w in _LOCK_WORDS)
        return "locked" if locked else ("rejected" if dialogue.sent_password else "error")
    return dialogue.outcome.value


async def _http_attempt(
    backend: Backend, r: ServiceResult, t: Timeouts, entry: CredentialLike
) -> str:
    host, tls = f"{r.ip}:{r.port}", r.service == "https"
    user, password = entry.username or "", entry.password or ""
    if r.auth == "digest":
        async with backend.connect(r.ip, r.port, tls=tls) as stream:
            head, _ = await http_exchange(stream, build_request("GET", r.path, host), t, 0)
        challenge = parse_challenge(head.get("www-authenticate") or "")
        if challenge is None or challenge.scheme != "digest":
            return "error"
        auth = digest_authorization(challenge, user, password, "GET", r.path, secrets.token_hex(8))
    else:
        auth = basic_authorization(user, password)
    request = build_request("GET", r.path, host, {"Authorization": auth})
    async with backend.connect(r.ip, r.port, tls=tls) as stream:
        head, data = await http_exchange(stream, request, t, 512)
    if head.status < 400:
        return "accepted"
    if any(w.encode() in data.lower() for w in _LOCK_WORDS) or head.status == 429:
        return "locked"
    return "rejected" if head.status in (401, 403) else "error"


async def _mqtt_attempt(
    backend: Backend, r: ServiceResult, t: Timeouts, entry: CredentialLike
) -> str:
    packet = build_connect(f"iotscope-{secrets.token_hex(4)}", entry.username, entry.password)
    async with backend.connect(r.ip, r.port) as stream:
        await stream.write(packet)
        data, _ = await read_until(stream, lambda d: len(d) >= 4, t.read, limit=4)
        connack = parse_connack(data)
        if connack is not None and connack.accepted:
            await stream.write(DISCONNECT)
    if connack is None:
        return "error"
    return "accepted" if connack.accepted else ("rejected" if connack.code in (4, 5) else "error")


async def _ssh_attempt(
    backend: Backend, r: ServiceResult, t: Timeouts, entry: CredentialLike
) -> str:
    outcome, _ = await ssh_login(
        backend, r.ip, r.port, entry.username or "", entry.password or "", t.read * 2
    )
    return outcome


_ATTEMPTS = {"telnet": _telnet_attempt, "http": _http_attempt, "mqtt": _mqtt_attempt,
             "ssh": _ssh_attempt}  # fmt: skip


async def _one(attempt: Attempt, entry: CredentialLike, failures: int) -> str:
    try:
        return await attempt(entry)
    except NetError as exc:
        return "locked" if failures and exc.kind in ("refused", "reset") else "error"
    except (ParseError, TimeoutError):
        return "locked" if failures else "error"


async def _try_list(
    attempt: Attempt, entries: list[CredentialLike], policy: LoginPolicy, protocol: str
) -> Login:
    failures = errors = 0
    backed_off = False
    i = 0
    while i < len(entries):
        entry = entries[i]
        if i or failures:
            await asyncio.sleep(policy.delay)
        outcome = await _one(attempt, entry, failures)
        if outcome in ("accepted", "no_auth"):
            user = entry.username if outcome == "accepted" else None
            cred = entry.id if outcome == "accepted" else None
            return Login(protocol=protocol, outcome=outcome, username=user, credential=cred,
                         attempts=i + 1)  # fmt: skip
        if outcome == "locked":
            if backed_off:
                return Login(protocol=protocol, outcome="error", attempts=i + 1,
                             detail="locked out; stopped")  # fmt: skip
            backed_off = True
            await asyncio.sleep(policy.lockout_backoff)
            continue  # retry the same entry once
        failures += outcome == "rejected"
        errors += outcome == "error"
        i += 1
    if failures:
        return Login(protocol=protocol, outcome="rejected", attempts=len(entries))
    return Login(protocol=protocol, outcome="error", attempts=len(entries),
                 detail=f"{errors} attempts failed without an answer")  # fmt: skip


async def check_login(
    backend: Backend,
    result: ServiceResult,
    entries: Sequence[CredentialLike],
    identity: Identity | None,
    policy: LoginPolicy,
    timeouts: Timeouts,
) -> Login:
    """The login outcome of one probed service (see the module docstring)."""
    protocol = login_protocol(result)
    if protocol is None:
        detail = "form login" if result.auth == "form" else "no login to check"
        return Login(protocol=result.service, outcome="not_tried", detail=detail)
    if result.auth == "none" and protocol in ("telnet", "mqtt", "ssh"):
        return Login(protocol=protocol, outcome="no_auth", attempts=0)
    if protocol == "telnet" and result.details.get("prompt") not in ("login", "password"):
        return Login(protocol=protocol, outcome="not_tried", detail="no login prompt seen")
    ordered = order_credentials(entries, protocol, identity, policy.max_attempts)
    if not ordered:
        return Login(protocol=protocol, outcome="not_tried", detail="no credential for protocol")
    fn = _ATTEMPTS[protocol]

    async def attempt(entry: CredentialLike) -> str:
        return await fn(backend, result, timeouts, entry)

    try:
        async with asyncio.timeout(timeouts.login):
            return await _try_list(attempt, ordered, policy, protocol)
    except TimeoutError:
        return Login(protocol=protocol, outcome="error", detail="login check timed out")
