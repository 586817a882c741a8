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
from iotscope.survey._ssh import MAX_PER_CONNECTION, ssh_login
from iotscope.survey._telnet import Outcome, Prompt, TelnetCodec, TelnetDialogue

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
    @property
    def vendors(self) -> Sequence[str]: ...


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
    """Entries for ``protocol``, at most ``cap``: first the pairs the list names as the
    identified vendor's defaults, then entries whose id or source mentions the vendor, product
    or model, then the rest in list order (devices that lock out leave no room for guessing)."""
    words = _vendor_words(identity)
    vendor = (identity.vendor or "").lower() if identity else ""

    def rank(entry: CredentialLike) -> int:
        if vendor and vendor in entry.vendors:
            return 0
        text = f"{entry.id} {entry.source or ''}".lower()
        return 1 if any(w in text for w in words) else 2

    usable = [e for e in entries if protocol in e.protocols]
    return sorted(usable, key=rank)[:cap]  # sorted is stable: list order within a rank


Batch = list[CredentialLike]
Attempt = Callable[[Batch], Awaitable[tuple[str, int]]]
TELNET_PER_CONNECTION = 3  # BusyBox login and most embedded telnetds allow three tries


def _telnet_outcome(dialogue: TelnetDialogue) -> str:
    if dialogue.outcome is Outcome.PENDING:
        locked = any(w in dialogue.seen.lower() for w in _LOCK_WORDS)
        return "locked" if locked else ("rejected" if dialogue.sent_password else "error")
    return dialogue.outcome.value


async def _telnet_batch(
    backend: Backend, r: ServiceResult, t: Timeouts, batch: Batch
) -> tuple[str, int]:
    """Up to three entries on one connection, each after the device's next login prompt."""
    async with backend.connect(r.ip, r.port) as stream:
        codec, carry = TelnetCodec(), ""
        for k, entry in enumerate(batch, start=1):
            dialogue = TelnetDialogue(entry.username or "", entry.password or "")
            if carry and (out := dialogue.feed(carry)):
                await stream.write(out)
            await telnet_conversation(stream, dialogue, t, codec=codec)
            outcome = _telnet_outcome(dialogue)
            if outcome != "rejected" or dialogue.prompt is not Prompt.LOGIN:
                return outcome, k
            carry = dialogue.pending  # "Login incorrect ... login: ": the next try's prompt
    return "rejected", len(batch)


async def _http_attempt(
    backend: Backend, r: ServiceResult, t: Timeouts, entry: CredentialLike
) -> str:
    """One Basic (RFC 7617) or Digest (RFC 7616; a fresh nonce first) request."""
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


def next_batch(protocol: str, entries: Sequence[CredentialLike], start: int) -> Batch:
    """The entries tried on one connection from ``start``: SSH up to six passwords of one
    username, telnet up to three entries, HTTP and MQTT one."""
    if protocol == "ssh":
        user = entries[start].username
        batch = [entries[start]]
        for entry in entries[start + 1 : start + MAX_PER_CONNECTION]:
            if entry.username != user:
                break
            batch.append(entry)
        return batch
    size = TELNET_PER_CONNECTION if protocol == "telnet" else 1
    return list(entries[start : start + size])


def _attempt(backend: Backend, r: ServiceResult, t: Timeouts, protocol: str) -> Attempt:
    async def ssh(batch: Batch) -> tuple[str, int]:
        passwords = [e.password or "" for e in batch]
        outcome, k = await ssh_login(backend, r.ip, r.port, batch[0].username or "", passwords,
                                     t.read * 2)  # fmt: skip
        return outcome, max(k, 1)

    async def telnet(batch: Batch) -> tuple[str, int]:
        return await _telnet_batch(backend, r, t, batch)

    async def single(batch: Batch) -> tuple[str, int]:
        fn = _http_attempt if protocol == "http" else _mqtt_attempt
        return await fn(backend, r, t, batch[0]), 1

    return {"ssh": ssh, "telnet": telnet}.get(protocol, single)


async def _one(attempt: Attempt, batch: Batch, failures: int) -> tuple[str, int]:
    try:
        return await attempt(batch)
    except NetError as exc:
        return ("locked" if failures and exc.kind in ("refused", "reset") else "error"), 1
    except (ParseError, TimeoutError):
        return ("locked" if failures else "error"), 1


def _done(protocol: str, outcome: str, entry: CredentialLike, attempts: int) -> Login:
    accepted = outcome == "accepted"
    return Login(protocol=protocol, outcome=outcome,
                 username=entry.username if accepted else None,
                 credential=entry.id if accepted else None, attempts=attempts)  # fmt: skip


async def _try_list(
    attempt: Attempt, entries: list[CredentialLike], policy: LoginPolicy, protocol: str
) -> Login:
    """Entries in order, batch by batch; stop at the first success or a second lockout."""
    failures = errors = i = 0
    backed_off = False
    while i < len(entries):
        if i or failures:
            await asyncio.sleep(policy.delay)
        batch = next_batch(protocol, entries, i)
        outcome, k = await _one(attempt, batch, failures)
        if outcome in ("accepted", "no_auth"):
            return _done(protocol, outcome, batch[k - 1], i + k)
        if outcome == "locked":
            if backed_off:
                return Login(protocol=protocol, outcome="error", attempts=i + k,
                             detail="locked out; stopped")  # fmt: skip
            backed_off = True
            failures += k - 1
            i += k - 1  # the entry that met the lock is tried again after the back-off
            await asyncio.sleep(policy.lockout_backoff)
            continue
        failures += k if outcome == "rejected" else k - 1
        errors += outcome == "error"
        i += k
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
    attempt = _attempt(backend, result, timeouts, protocol)
    try:
        async with asyncio.timeout(timeouts.login):
            return await _try_list(attempt, ordered, policy, protocol)
    except TimeoutError:
        return Login(protocol=protocol, outcome="error", detail="login check timed out")
