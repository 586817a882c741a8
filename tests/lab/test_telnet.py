"""Telnet dialogues through the sans-IO session (RFC 854/857/858 negotiation, login, lockout)."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from iotscope.lab._catalog import ServiceProfile
from iotscope.lab._creds import OPEN, Pair
from iotscope.lab._session import Lockout
from iotscope.lab._telnet import (
    DO,
    DONT,
    IAC,
    LOCKED_MESSAGE,
    SB,
    SE,
    WILL,
    WONT,
    TelnetSession,
    parse_negotiation,
)

ECHO, SGA, TTYPE, NAWS = 1, 3, 24, 31
SPEC = ServiceProfile(
    service="telnet",
    port=23,
    banner="BusyBox on cam\r\n",
    negotiate=["WILL ECHO", "WILL SGA", "DO NAWS"],
)
PAIR = Pair("root", "xc3511", True)


def session(spec: ServiceProfile = SPEC, pair: Pair | None = PAIR, after: int = 0) -> TelnetSession:
    return TelnetSession(spec, pair, Lockout(after))


def test_opening_offers_banner_and_login_prompt() -> None:
    out = session().start()
    assert (
        out
        == bytes((IAC, WILL, ECHO, IAC, WILL, SGA, IAC, DO, NAWS)) + b"BusyBox on cam\r\nlogin: "
    )


def test_negotiation_words() -> None:
    assert parse_negotiation(["will echo", "DONT linemode", "WILL BOGUS", "junk"]) == bytes(
        (IAC, WILL, ECHO, IAC, DONT, 34)
    )


def test_acknowledged_offers_get_no_reply_and_unknown_options_are_refused() -> None:
    s = session()
    s.start()
    assert s.feed(bytes((IAC, DO, ECHO, IAC, DO, SGA, IAC, WILL, NAWS))) == b""
    assert s.feed(bytes((IAC, DO, TTYPE))) == bytes((IAC, WONT, TTYPE))
    assert s.feed(bytes((IAC, WILL, TTYPE))) == bytes((IAC, DONT, TTYPE))
    assert s.feed(bytes((IAC, DO, ECHO))) == b""  # already on: no acknowledgement (no loop)


def test_client_may_turn_off_an_option_that_is_on() -> None:
    s = session()
    s.start()
    s.feed(bytes((IAC, DO, ECHO)))
    assert s.feed(bytes((IAC, DONT, ECHO))) == bytes((IAC, WONT, ECHO))
    assert s.feed(bytes((IAC, DONT, ECHO))) == b""


def test_subnegotiation_is_skipped_and_split_commands_work() -> None:
    s = session()
    s.start()
    naws = bytes((IAC, SB, NAWS, 0, 80, 0, 24, IAC, SE))
    assert s.feed(naws[:4]) == b""
    assert s.feed(naws[4:] + b"ro") == b""
    assert s.feed(b"ot\r\n") == b"Password: "
    assert s.username == "root"


def test_login_success_gives_the_shell_prompt() -> None:
    s = session()
    s.start()
    assert s.feed(b"root\r\n") == b"Password: "
    assert s.feed(b"xc3511\r\n") == b"\r\n# "
    assert s.feed(b"uname\r\n") == b"-sh: uname: not found\r\n# "
    assert not s.closed
    assert s.feed(b"exit\r\n") == b""
    assert s.closed


def test_echo_only_after_do_echo_and_never_the_password() -> None:
    s = session()
    s.start()
    s.feed(bytes((IAC, DO, ECHO)))
    assert s.feed(b"ro") == b"ro"
    assert s.feed(b"x\x7f") == b"x\b \b"
    assert s.feed(b"ot\r\x00") == b"ot\r\nPassword: "
    assert s.feed(b"xc3511") == b""
    assert s.feed(b"\r\n") == b"\r\n# "


def test_line_ends_cr_nul_lf_and_iac_iac() -> None:
    s = session()
    s.start()
    assert s.feed(b"a\xff\xffb\n") == b"Password: "
    assert s.username == "a\xffb"


def test_wrong_password_three_times_closes() -> None:
    s = session()
    s.start()
    for i in range(3):
        s.feed(b"root\r\n")
        out = s.feed(b"nope\r\n")
        assert out.startswith(b"\r\nLogin incorrect\r\n")
        assert s.closed == (i == 2)
    assert s.feed(b"root\r\n") == b""


def test_lockout_after_k_failures_across_connections() -> None:
    now = [100.0]
    lockout = Lockout(2, seconds=60, clock=lambda: now[0])
    first = TelnetSession(SPEC, PAIR, lockout)
    first.start()
    first.feed(b"root\r\n")
    first.feed(b"bad\r\n")
    second = TelnetSession(SPEC, PAIR, lockout)
    second.start()
    second.feed(b"root\r\n")
    assert second.feed(b"bad\r\n") == b"\r\nLogin incorrect\r\n" + LOCKED_MESSAGE
    assert second.closed
    third = TelnetSession(SPEC, PAIR, lockout)
    assert third.start() == LOCKED_MESSAGE and third.closed  # locked: says so, hangs up
    now[0] += 61
    fourth = TelnetSession(SPEC, PAIR, lockout)
    assert fourth.start().endswith(b"login: ")


def test_no_auth_device_gives_a_shell_at_once() -> None:
    s = session(SPEC.model_copy(update={"negotiate": []}), OPEN)
    assert s.start() == b"BusyBox on cam\r\n# "
    assert s.feed(b"logout\r\n") == b"" and s.closed


def test_vendor_dialogue_prompts() -> None:
    spec = ServiceProfile(service="telnet", port=23, banner="RG-7\r\n", login_prompt="Username: ",
                          fail_message="% Authentication failed", shell_prompt="RG-7> ",
                          negotiate=[])  # fmt: skip
    s = session(spec, Pair("admin", "admin", True))
    assert s.start() == b"RG-7\r\nUsername: "
    s.feed(b"admin\r\n")
    assert s.feed(b"x\r\n") == b"\r\n% Authentication failed\r\nUsername: "
    s.feed(b"admin\r\n")
    assert s.feed(b"admin\r\n") == b"\r\nRG-7> "


def test_runaway_subnegotiation_and_long_lines_are_bounded() -> None:
    s = session()
    s.start()
    s.feed(bytes((IAC, SB, 24)) + b"x" * 5000)
    s.feed(b"y" * 5000)
    assert len(s._line) <= 1024


@settings(max_examples=300, deadline=None)
@given(st.lists(st.binary(max_size=64), max_size=20))
def test_fuzz_never_crashes(chunks: list[bytes]) -> None:
    s = session(after=3)
    out = s.start()
    for chunk in chunks:
        out += s.feed(chunk)
    assert isinstance(out, bytes)
    assert s.state in ("login", "password", "shell")
