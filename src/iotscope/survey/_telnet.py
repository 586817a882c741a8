"""Telnet, sans-IO: option negotiation (RFC 854/855), prompt detection, the login dialogue.

:class:`TelnetCodec` is fed raw bytes and returns the data bytes (IAC sequences stripped,
``IAC IAC`` unescaped, sub-negotiations skipped) and the bytes to answer. Negotiation follows
RFC 854's rules against loops: we answer only requests that would change an option's state.
We enable nothing on our side (``DO x`` -> ``WONT x``) and let the server ECHO and
SUPPRESS-GO-AHEAD (``WILL 1|3`` -> ``DO``); any other ``WILL`` -> ``DONT``.

:class:`TelnetDialogue` is the login check as a state machine over the cleaned text: it
answers the login prompt with the username, the password prompt with the password, and decides
``accepted`` (a shell prompt), ``rejected`` (a failure message or a new login prompt),
``locked`` or ``no_auth`` (a shell before any credential). It never sends a command: after a
shell prompt the caller only closes the connection.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from enum import Enum

__all__ = [
    "Prompt",
    "TelnetCodec",
    "TelnetDialogue",
    "banner_before_prompt",
    "classify_prompt",
]

IAC, DONT, DO, WONT, WILL, SB, SE = 255, 254, 253, 252, 251, 250, 240
ECHO, SGA = 1, 3
_ACCEPTED_WILL = frozenset({ECHO, SGA})
MAX_SUBNEG = 512  # bytes of one sub-negotiation we are ready to skip


class _S(Enum):
    DATA = 0
    IAC = 1
    OPT = 2
    SB = 3
    SB_IAC = 4


@dataclass
class TelnetCodec:
    """Incremental IAC parser; state survives chunk boundaries. Bounded per sub-negotiation."""

    state: _S = _S.DATA
    command: int = 0
    sb_len: int = 0
    remote: dict[int, bool] = field(default_factory=dict)  # options the server does
    local: dict[int, bool] = field(default_factory=dict)  # options we do (always none)
    commands: int = 0

    def feed(self, data: bytes) -> tuple[bytes, bytes]:
        """Return ``(data bytes, reply bytes)`` for one chunk from the server."""
        text = bytearray()
        reply = bytearray()
        for byte in data:
            self._step(byte, text, reply)
        return bytes(text), bytes(reply)

    def _step(self, byte: int, text: bytearray, reply: bytearray) -> None:
        if self.state is _S.DATA:
            if byte == IAC:
                self.state = _S.IAC
            elif byte != 0:
                text.append(byte)
        elif self.state is _S.IAC:
            self._after_iac(byte, text)
        elif self.state is _S.OPT:
            self.commands += 1
            reply += self._negotiate(self.command, byte)
            self.state = _S.DATA
        else:
            self._in_subneg(byte)

    def _after_iac(self, byte: int, text: bytearray) -> None:
        if byte == IAC:
            text.append(IAC)
            self.state = _S.DATA
        elif byte in (DO, DONT, WILL, WONT):
            self.command = byte
            self.state = _S.OPT
        elif byte == SB:
            self.sb_len = 0
            self.state = _S.SB
        else:  # NOP, GA, DM, BRK, IP, AO, AYT, EC, EL, SE out of place: no data, no reply
            self.commands += 1
            self.state = _S.DATA

    def _in_subneg(self, byte: int) -> None:
        self.sb_len += 1
        if self.state is _S.SB_IAC:
            self.state = _S.DATA if byte == SE else _S.SB
        elif byte == IAC:
            self.state = _S.SB_IAC
        if self.sb_len > MAX_SUBNEG:  # a never-ending sub-negotiation: give up on it
            self.state = _S.DATA

    def _negotiate(self, command: int, option: int) -> bytes:
        if command in (WILL, WONT):
            want = command == WILL and option in _ACCEPTED_WILL
            if self.remote.get(option, False) == want and option in self.remote:
                return b""
            self.remote[option] = want
            return bytes((IAC, DO if want else DONT, option))
        # DO / DONT: we never enable an option on our side
        if option in self.local:
            return b""
        self.local[option] = False
        return bytes((IAC, WONT, option))


class Prompt(Enum):
    NONE = "none"
    LOGIN = "login"
    PASSWORD = "password"
    SHELL = "shell"
    FAILED = "failed"
    LOCKED = "locked"


_LOGIN_RE = re.compile(r"(?:login|user ?name|user|account|user id)\s*:\s*$", re.I)
_PASSWORD_RE = re.compile(r"(?:password|passwd|pass)\s*:\s*$", re.I)
_SHELL_RE = re.compile(r"[#$>%]\s*$")
_FAILED_RE = re.compile(
    r"incorrect|invalid|failed|failure|denied|wrong|bad password|authentication error", re.I
)
_LOCKED_RE = re.compile(r"locked|too many|try again later|temporarily disabled", re.I)


def _last_line(text: str) -> str:
    lines = [line for line in re.split(r"[\r\n]+", text) if line.strip()]
    return lines[-1] if lines else ""


def classify_prompt(text: str) -> Prompt:
    """What the tail of ``text`` (cleaned telnet data) asks for."""
    last = _last_line(text)
    if _LOCKED_RE.search(text):
        return Prompt.LOCKED
    if _PASSWORD_RE.search(last):
        return Prompt.PASSWORD
    if _LOGIN_RE.search(last):
        return Prompt.LOGIN
    if _FAILED_RE.search(text):
        return Prompt.FAILED
    if _SHELL_RE.search(last):
        return Prompt.SHELL
    return Prompt.NONE


def banner_before_prompt(text: str) -> str:
    """The banner: ``text`` up to (not including) the login prompt word, CR/LF trimmed."""
    last = _last_line(text)
    match = _LOGIN_RE.search(last) or _PASSWORD_RE.search(last)
    head = text
    if match is not None:
        cut = text.rfind(last) + match.start()
        head = text[:cut]
    return head.strip("\r\n\t \x00")


class Outcome(Enum):
    PENDING = "pending"
    ACCEPTED = "accepted"
    NO_AUTH = "no_auth"
    REJECTED = "rejected"
    LOCKED = "locked"


@dataclass
class TelnetDialogue:
    """One login attempt. ``feed(text) -> bytes to send``; watch :attr:`outcome`.

    ``username`` None means "look only" (the probe): it stops at the first prompt.
    """

    username: str | None
    password: str | None
    outcome: Outcome = Outcome.PENDING
    sent_user: bool = False
    sent_password: bool = False
    pending: str = ""  # text since our last send
    seen: str = ""  # all text, bounded
    prompt: Prompt = Prompt.NONE

    def feed(self, text: str) -> bytes:
        self.pending += text
        self.seen = (self.seen + text)[-8192:]
        self.prompt = classify_prompt(self.pending[-2048:])
        if self.prompt is Prompt.NONE or self.outcome is not Outcome.PENDING:
            return b""
        return self._act(self.prompt)

    def _act(self, prompt: Prompt) -> bytes:
        if prompt is Prompt.LOCKED:
            self.outcome = Outcome.LOCKED
        elif prompt is Prompt.SHELL:
            self.outcome = (
                Outcome.ACCEPTED if self.sent_password or self.sent_user else (Outcome.NO_AUTH)
            )
        elif self.sent_password and prompt in (Prompt.LOGIN, Prompt.FAILED, Prompt.PASSWORD):
            self.outcome = Outcome.REJECTED
        elif prompt is Prompt.FAILED:
            self.outcome = Outcome.REJECTED if self.sent_user else Outcome.PENDING
        elif self.username is None and self.password is None:
            return b""  # the probe: seeing the prompt is all it wanted
        elif prompt is Prompt.LOGIN and not self.sent_user:
            return self._send_user()
        elif prompt is Prompt.PASSWORD:
            return self._send_password()
        return b""

    def _send_user(self) -> bytes:
        self.sent_user = True
        self.pending = ""
        return (self.username or "").encode("utf-8", "replace") + b"\r\n"

    def _send_password(self) -> bytes:
        self.sent_password = True
        self.pending = ""
        return (self.password or "").encode("utf-8", "replace") + b"\r\n"
