"""Ruby/PCRE -> Python translation and the literal prefilter."""

from __future__ import annotations

import re

import pytest
from hypothesis import given
from hypothesis import strategies as st

from iotscope.fingerprint._regex import (
    compile_pattern,
    required_literal,
    required_literals,
    translate,
)


@pytest.mark.parametrize(
    ("pattern", "text", "group"),
    [
        (r"(?<ver>\d+\.\d+)", "v 1.25 x", "1.25"),
        (r"(?'ver'\d+)", "v 7", "7"),
        (r"\A(\w+)\z", "abc", "abc"),
        (r"[[:alpha:]]+ ([[:digit:]]+)", "build 42", "build 42"),
        (r"id=(\h+)", "id=0aF9z", "id=0aF9"),
    ],
)
def test_ruby_spellings_compile_and_match(pattern: str, text: str, group: str) -> None:
    m = compile_pattern(pattern, "ruby").search(text)
    assert m is not None
    assert m.group(0) == group


def test_ruby_backreference_by_name() -> None:
    rx = compile_pattern(r"(?<a>x+)-\k<a>", "ruby")
    assert rx.search("xx-xx")
    assert not rx.search("xx-y-")
    assert rx.fullmatch("xx-xx") and not rx.fullmatch("xx-x")


def test_ruby_z_forms() -> None:
    assert compile_pattern(r"abc\Z", "ruby").search("abc\n")
    assert not compile_pattern(r"abc\z", "ruby").search("abc\n")
    assert compile_pattern(r"abc\z", "ruby").search("abc")


def test_ruby_caret_and_dollar_are_line_anchors() -> None:
    rx = compile_pattern(r"^Login:$", "ruby")
    assert rx.search("Welcome\r\nLogin:\nmore")
    assert not compile_pattern(r"\ALogin:", "ruby").search("Welcome\nLogin:")


def test_ruby_m_flag_is_dotall() -> None:
    assert compile_pattern(r"a(?m).b", "ruby").search("a\nb")
    assert not compile_pattern(r"a.b", "ruby").search("a\nb")
    assert compile_pattern(r"a.b", "ruby", re.DOTALL).search("a\nb")


def test_mid_pattern_flags_scope_differs_by_dialect() -> None:
    assert translate("a(?i)b|c", "ruby") == "a(?i:b|c)"
    assert translate("a(?i)b|c", "pcre") == "a(?i:b)|(?i:c)"
    ruby = compile_pattern("a(?i)b|c", "ruby")
    pcre = compile_pattern("a(?i)b|c", "pcre")
    assert ruby.fullmatch("aC") and not pcre.fullmatch("aC")
    assert pcre.fullmatch("C") and not ruby.fullmatch("C")


def test_pcre_h_is_horizontal_space_and_quoting() -> None:
    assert compile_pattern(r"a\hb", "pcre").search("a\tb")
    assert compile_pattern(r"\Qa.b\E!", "pcre").search("a.b!")
    assert not compile_pattern(r"\Qa.b\E!", "pcre").search("axb!")


def test_pcre_dollar_is_end_or_final_newline_only() -> None:
    rx = compile_pattern(r"^SSH-2\.0$", "pcre")
    assert rx.search("SSH-2.0\n")
    assert not rx.search("x\nSSH-2.0\n")


def test_literal_class_bracket_first() -> None:
    assert compile_pattern(r"[]a]+", "ruby").fullmatch("]a]")


def test_required_literal_picks_longest_mandatory_run() -> None:
    rx = compile_pattern(r"(?i)\AMikroTik v([\w.]+)(?: \(x\))?\r\nLogin:", "ruby")
    assert required_literal(rx) == "mikrotik v"
    assert required_literal(compile_pattern(r"(?:abcdef|ghi)", "ruby")) is None
    assert required_literal(compile_pattern(r"(?:optional)?xy", "ruby")) is None


def test_required_literals_take_one_per_branch_of_a_required_alternation() -> None:
    rx = compile_pattern(r"(?i)\bHikvision\b|\ADS-\d", "ruby")
    assert required_literals(rx) == ("hikvision", "ds-")
    inner = compile_pattern(r"\A\s*(?:NPort|MiiNePort|ioLogik)", "ruby")
    assert required_literals(inner) == ("nport", "miineport", "iologik")
    assert required_literals(compile_pattern(r"Mikrotik v\d", "ruby")) == ("mikrotik v",)
    assert required_literals(compile_pattern(r"(?:ab|cdef)", "ruby")) is None  # "ab" too short
    assert required_literals(compile_pattern(r"(?:Acme|Zeta)?xy", "ruby")) is None  # optional


_PATTERNS = [
    r"(?i)\bZyXEL\b|\bPrestige \d|\AP-660",
    r"\A\s*(?:NPort|EDR-G?\d{3}|MiiNePort)",
    r"(?i)\AUser(?:name)?\s*:\s*$",
    r"^(?:\r|\n)*MikroTik v([\w.]+)(?: \([\w-]+\))?(?:\r|\n)+Login:\s*$",
    r"(?i)router(?<m>[0-9]+)?os",
    r"Welcome to (.+?) ver(sion)?[ :]+([\d.]+)",
]


@given(st.sampled_from(_PATTERNS), st.text(max_size=80), st.text(max_size=20))
def test_prefilter_never_rejects_a_match(pattern: str, prefix: str, suffix: str) -> None:
    rx = compile_pattern(pattern, "ruby")
    literal = required_literal(rx)
    literals = required_literals(rx)
    samples = ["MIKROTIK v1.2\r\nLogin:", "ROUTEROS", "zyxel", "Prestige 6", "P-660"]
    samples += ["NPort", "EDR-901"]
    for text in [prefix + suffix] + [prefix + x + suffix for x in samples]:
        if rx.search(text):
            assert literal is None or literal in text.lower()
            assert literals is None or any(lit in text.lower() for lit in literals)


@given(st.text(max_size=60), st.sampled_from(["ruby", "pcre"]))
def test_translate_never_crashes(pattern: str, dialect: str) -> None:
    out = translate(pattern, dialect)  # type: ignore[arg-type]
    assert isinstance(out, str)


def test_ruby_named_groups_make_plain_groups_non_capturing() -> None:
    rx = compile_pattern(r"(a|b)(?<ver>\d+)(x)?", "ruby")
    m = rx.search("b12x")
    assert m is not None
    assert rx.groups == 1
    assert m.group(1) == "12"
    assert compile_pattern(r"(a|b)(\d+)", "ruby").groups == 2
    assert compile_pattern(r"(a|b)(?<v>\d+)", "pcre").groups == 2
