"""Telnet negotiation (RFC 854/855), prompt detection and the login dialogue."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from iotscope.survey._telnet import (
    DO,
    DONT,
    IAC,
    SB,
    SE,
    WILL,
    WONT,
    Outcome,
    Prompt,
    TelnetCodec,
    TelnetDialogue,
    banner_before_prompt,
    classify_prompt,
)


def test_answers_without_loops() -> None:
    codec = TelnetCodec()
    text, reply = codec.feed(bytes([IAC, WILL, 1, IAC, WILL, 3, IAC, DO, 24, IAC, WILL, 31]))
    assert text == b""
    assert reply == bytes([IAC, DO, 1, IAC, DO, 3, IAC, WONT, 24, IAC, DONT, 31])
    # the same requests again change nothing: no answer (RFC 854 loop rule)
    assert codec.feed(bytes([IAC, WILL, 1, IAC, DO, 24, IAC, DONT, 24])) == (b"", b"")


def test_strips_commands_and_subnegotiation_across_chunks() -> None:
    codec = TelnetCodec()
    data = b"Hi" + bytes([IAC, SB, 24, 1, IAC, SE]) + bytes([IAC, IAC]) + b"\x00login: "
    pieces = [data[i : i + 1] for i in range(len(data))]
    text = b"".join(codec.feed(p)[0] for p in pieces)
    assert text == b"Hi\xfflogin: "


def test_runaway_subnegotiation_is_bounded() -> None:
    codec = TelnetCodec()
    text, _ = codec.feed(bytes([IAC, SB]) + b"x" * 600 + b"login: ")
    assert text.endswith(b"login: ")


def test_prompts() -> None:
    assert classify_prompt("Welcome\r\nDVR login: ") is Prompt.LOGIN
    assert classify_prompt("Username:") is Prompt.LOGIN
    assert classify_prompt("admin\r\nPassword: ") is Prompt.PASSWORD
    assert classify_prompt("\r\nBusyBox v1.00 built-in shell\r\n# ") is Prompt.SHELL
    assert classify_prompt("\r\nLogin incorrect\r\n") is Prompt.FAILED
    assert classify_prompt("Account locked, try again later") is Prompt.LOCKED
    assert classify_prompt("Welcome to the service. Please wait") is Prompt.NONE


def test_banner_is_text_before_the_prompt() -> None:
    assert banner_before_prompt("\r\nMikroTik v6.40\r\nLogin: ") == "MikroTik v6.40"
    assert banner_before_prompt("BusyBox\r\nDVR-0F7C login: ") == "BusyBox\r\nDVR-0F7C"
    assert banner_before_prompt("no prompt here\r\n") == "no prompt here"


def _run(dialogue: TelnetDialogue, chunks: list[str]) -> list[bytes]:
    return [dialogue.feed(c) for c in chunks]


def test_dialogue_accepted() -> None:
    d = TelnetDialogue("root", "xc3511")
    sent = _run(d, ["(none) login: ", "root\r\nPassword: ", "\r\n# "])
    assert sent == [b"root\r\n", b"xc3511\r\n", b""]
    assert d.outcome is Outcome.ACCEPTED


def test_dialogue_rejected_on_new_login_prompt() -> None:
    d = TelnetDialogue("root", "bad")
    _run(d, ["login: ", "root\r\n", "Password: ", "\r\nLogin incorrect\r\nlogin: "])
    assert d.outcome is Outcome.REJECTED


def test_dialogue_no_auth_and_password_only() -> None:
    d = TelnetDialogue("root", "x")
    assert d.feed("BusyBox built-in shell (msh)\r\n# ") == b""
    assert d.outcome is Outcome.NO_AUTH
    d = TelnetDialogue("admin", "1234")
    assert d.feed("Password: ") == b"1234\r\n"
    d.feed("\r\nrouter> ")
    assert d.outcome is Outcome.ACCEPTED


def test_probe_dialogue_sends_nothing() -> None:
    d = TelnetDialogue(None, None)
    assert d.feed("login: ") == b""
    assert d.prompt is Prompt.LOGIN and not d.sent_user


@settings(max_examples=300, deadline=None)
@given(st.lists(st.binary(max_size=64), max_size=20))
def test_fuzz_codec_never_crashes_and_answers_only_negotiation(chunks: list[bytes]) -> None:
    codec = TelnetCodec()
    for chunk in chunks:
        text, reply = codec.feed(chunk)
        assert len(text) <= len(chunk)
        assert len(reply) % 3 == 0
        for i in range(0, len(reply), 3):
            assert reply[i] == IAC and reply[i + 1] in (DO, DONT, WONT)


@settings(max_examples=300, deadline=None)
@given(st.lists(st.text(max_size=80), max_size=10))
def test_fuzz_dialogue(chunks: list[str]) -> None:
    d = TelnetDialogue("user", "pw")
    for chunk in chunks:
        out = d.feed(chunk)
        assert out in (b"", b"user\r\n", b"pw\r\n")
    banner_before_prompt(d.seen)
