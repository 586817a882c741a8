"""The login check under NOTICE's rules: listed credentials only, stop at the first success.

For one probed service (telnet, ssh, http/https with Basic or Digest, mqtt) :func:`check_login`
tries the configured credential list in :func:`order_credentials`' order (the identified
vendor's defaults first, then by how often a pair is known to work), at most ``max_attempts``
entries, paced within the host's login budget by :mod:`._pacing` (one connection at first;
more, up to ``max_parallel``, only when the host's fail delay would not let the list fit in
the budget; ``delay`` seconds between two connections). A sign of lockout (a "locked"
message, or refused connections after failures) makes it back off once, go on one connection
at a time, and stop at the second sign. On success it closes at once and runs no command.
The outcome is recorded with the username and the id of the list entry that worked, never
the password.
"""

from __future__ import annotations

import asyncio
import secrets
import time
from collections.abc import Sequence
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
from iotscope.survey._net import Backend, NetError, Stream, Timeouts
from iotscope.survey._pacing import Attempt, AttemptResult, Entry, HostBudget, Pace, run_paced
from iotscope.survey._probe import ServiceResult, http_exchange, read_until, telnet_conversation
from iotscope.survey._ssh import MAX_PER_CONNECTION, ssh_login
from iotscope.survey._telnet import Outcome, Prompt, TelnetCodec, TelnetDialogue

__all__ = [
    "CredentialLike",
    "LoginPolicy",
    "check_login",
    "host_budget",
    "login_protocol",
    "next_batch",
    "order_credentials",
]

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
    @property
    def weight(self) -> float | None: ...


@dataclass(frozen=True)
class LoginPolicy:
    """How hard the login check may try. ``budget`` is seconds per host, shared by its
    services (:class:`~._pacing.HostBudget`); ``max_parallel`` bounds the connections open at
    once to one service when its fail delay needs them."""

    max_attempts: int = 1000  # per service: by default the whole list
    delay: float = 0.05  # seconds between two connection starts to one service
    lockout_backoff: float = 2.0  # seconds to wait once when a lockout shows
    budget: float = 120.0  # seconds of login checks per host
    max_parallel: int = 4  # connections at once to one service, at most

    def __post_init__(self) -> None:
        if self.budget <= 0 or self.max_parallel < 1 or self.max_attempts < 1:
            raise ValueError("budget must be > 0, max_parallel and max_attempts >= 1")


def login_protocol(result: ServiceResult) -> str | None:
    """The credential-list protocol a service is checked with, or None (not checkable)."""
    if result.service in ("telnet", "ssh", "mqtt"):
        return result.service
    if result.service in ("http", "https") and result.auth in ("basic", "digest"):
        return "http"
    return None


def host_budget(policy: LoginPolicy, results: Sequence[ServiceResult]) -> HostBudget:
    """One host's login budget, shared by those of its services a login check applies to."""
    return HostBudget(policy.budget, sum(login_protocol(r) is not None for r in results))


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
    or model, then the rest; within each group by weight (how often the pair is known to work,
    highest first; unknown weights after known ones), list order among equals. Devices that
    lock out or make every failure cost seconds leave no room for unlikely guesses first."""
    words = _vendor_words(identity)
    vendor = (identity.vendor or "").lower() if identity else ""

    def rank(entry: CredentialLike) -> tuple[int, int, float]:
        if vendor and vendor in entry.vendors:
            group = 0
        else:
            text = f"{entry.id} {entry.source or ''}".lower()
            group = 1 if any(w in text for w in words) else 2
        weight = entry.weight
        return group, weight is None, -(weight or 0.0)

    usable = [e for e in entries if protocol in e.protocols]
    return sorted(usable, key=rank)[:cap]  # sorted is stable: list order among equals


Batch = list[CredentialLike]
TELNET_PER_CONNECTION = 3  # BusyBox login and most embedded telnetds allow three tries


class _Timed:
    """A stream that remembers when we last wrote and whether the server hung up."""

    def __init__(self, stream: Stream) -> None:
        self.stream, self.wrote, self.eof = stream, time.monotonic(), False

    async def read(self, max_bytes: int) -> bytes:
        data = await self.stream.read(max_bytes)
        self.eof = self.eof or not data
        return data

    async def write(self, data: bytes) -> None:
        self.wrote = time.monotonic()
        await self.stream.write(data)

    async def close(self) -> None:
        await self.stream.close()

    def cert_subject(self) -> str | None:
        return self.stream.cert_subject()


def _telnet_outcome(dialogue: TelnetDialogue, eof: bool) -> str:
    if dialogue.outcome is Outcome.PENDING:
        locked = any(w in dialogue.seen.lower() for w in _LOCK_WORDS)
        if locked:
            return "locked"
        if dialogue.sent_password and not eof and not dialogue.pending.strip():
            return "slow"  # no answer to the password yet: not a failure
        return "rejected" if dialogue.sent_password else "error"
    return dialogue.outcome.value


async def _telnet_batch(
    backend: Backend, r: ServiceResult, t: Timeouts, batch: Batch
) -> AttemptResult:
    """Up to three entries on one connection, each after the device's next login prompt;
    the fail delay of each rejected one is measured (password sent -> failure seen)."""
    delays: list[float] = []
    async with backend.connect(r.ip, r.port) as raw:
        stream, codec, carry = _Timed(raw), TelnetCodec(), ""
        for k, entry in enumerate(batch, start=1):
            dialogue = TelnetDialogue(entry.username or "", entry.password or "")
            if carry and (out := dialogue.feed(carry)):
                await stream.write(out)
            await telnet_conversation(stream, dialogue, t, codec=codec)
            outcome = _telnet_outcome(dialogue, stream.eof)
            if outcome == "rejected" and dialogue.sent_password:
                delays.append(time.monotonic() - stream.wrote)
            if outcome != "rejected" or dialogue.prompt is not Prompt.LOGIN:
                return AttemptResult(outcome, k, tuple(delays))
            carry = dialogue.pending  # "Login incorrect ... login: ": the next try's prompt
    return AttemptResult("rejected", len(batch), tuple(delays))


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


def _attempt(backend: Backend, r: ServiceResult, protocol: str) -> Attempt:
    async def ssh(batch: Batch, t: Timeouts) -> AttemptResult:
        passwords = [e.password or "" for e in batch]
        outcome, k = await ssh_login(backend, r.ip, r.port, batch[0].username or "", passwords,
                                     t.read * 2)  # fmt: skip
        return AttemptResult(outcome, max(k, 1))

    async def telnet(batch: Batch, t: Timeouts) -> AttemptResult:
        return await _telnet_batch(backend, r, t, batch)

    async def single(batch: Batch, t: Timeouts) -> AttemptResult:
        fn = _http_attempt if protocol == "http" else _mqtt_attempt
        return AttemptResult(await fn(backend, r, t, batch[0]), 1)

    run = {"ssh": ssh, "telnet": telnet}.get(protocol, single)

    async def guarded(batch: Batch, t: Timeouts) -> AttemptResult:
        try:
            return await run(batch, t)
        except NetError as exc:  # after a failure, a refused or reset connection is a lock
            return AttemptResult("refused" if exc.kind in ("refused", "reset") else "error", 1)
        except (ParseError, TimeoutError):
            return AttemptResult("no_answer", 1)

    return guarded  # type: ignore[return-value]


async def check_login(
    backend: Backend,
    result: ServiceResult,
    entries: Sequence[CredentialLike],
    identity: Identity | None,
    policy: LoginPolicy,
    timeouts: Timeouts,
    budget: HostBudget | None = None,
) -> Login:
    """The login outcome of one probed service (see the module docstring), within its share
    of the host's ``budget`` (default: the policy's whole per-host budget)."""
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
    seconds = (budget or HostBudget(policy.budget, 1)).share()
    pace = Pace(seconds, policy.max_parallel, timeouts, asyncio.get_running_loop().time())
    attempt = _attempt(backend, result, protocol)

    def batcher(window: Sequence[Entry], start: int) -> list[Entry]:
        return next_batch(protocol, window, start)  # type: ignore[arg-type,return-value]

    return await run_paced(attempt, batcher, ordered, protocol, pace, policy.delay,
                           policy.lockout_backoff)  # fmt: skip
