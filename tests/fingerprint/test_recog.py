"""Recog's XML semantics, each rule from rapid7/recog's Ruby library."""

from __future__ import annotations

import base64

import pytest
from hypothesis import given
from hypothesis import strategies as st

from iotscope.errors import ConfigError
from iotscope.fingerprint._recog import decode_base64, parse_recog


def db(body: str, root: str = 'matches="telnet.banner" protocol="Telnet"') -> bytes:
    return f"<fingerprints {root}>{body}</fingerprints>".encode()


def first(body: str, text: str) -> dict[str, str | None] | None:
    database = parse_recog(db(body), "t.xml")
    for fp in database.fingerprints:
        result = fp.match(text)
        if result is not None:
            return result
    return None


def test_root_attributes_and_default_key() -> None:
    parsed = parse_recog(db("", 'protocol="SSH" preference="0.8"'), "x.xml", default_key="ssh_x")
    assert (parsed.match_key, parsed.protocol, parsed.preference) == ("ssh_x", "ssh", 0.8)


def test_result_carries_recog_bookkeeping() -> None:
    body = '<fingerprint pattern="^Hi"><description> Say\n  hi </description></fingerprint>'
    result = first(body, "Hi there")
    assert result == {
        "matched": "Say hi",
        "service.protocol": "telnet",
        "fingerprint_db": "telnet.banner",
    }


def test_icase_flag_and_default_case_sensitivity() -> None:
    body = '<fingerprint pattern="^router$" flags="REG_ICASE"/>'
    assert first(body, "ROUTER") is not None
    assert first('<fingerprint pattern="^router$"/>', "ROUTER") is None


@pytest.mark.parametrize("flag", ["REG_MULTILINE", "REG_DOT_NEWLINE", "REG_LINE_ANY_CRLF"])
def test_multiline_flags_make_dot_match_newline(flag: str) -> None:
    assert first(f'<fingerprint pattern="a.b" flags="{flag}"/>', "a\nb") is not None
    assert first('<fingerprint pattern="a.b"/>', "a\nb") is None


def test_combined_flags_and_unknown_flag_is_an_error() -> None:
    both = '<fingerprint pattern="a.B" flags="REG_ICASE,REG_MULTILINE"/>'
    assert first(both, "A\nb") is not None
    parsed = parse_recog(db('<fingerprint pattern="x" flags="REG_LINE_ANCHORS"/>'), "t.xml")
    assert parsed.fingerprints[0].regex is None
    assert "REG_LINE_ANCHORS" in str(parsed.errors[0])


def test_positions_fixed_values_and_interpolation() -> None:
    body = """<fingerprint pattern="^(\\w+) OS v([\\d.]+)">
      <param pos="0" name="os.vendor" value="Acme"/>
      <param pos="1" name="os.product"/>
      <param pos="2" name="os.version"/>
      <param pos="0" name="os.cpe23" value="cpe:/o:acme:{os.product}:{os.version}"/>
    </fingerprint>"""
    result = first(body, "Roadrunner OS v2.1 ready")
    assert result is not None
    assert result["os.product"] == "Roadrunner"
    assert result["os.version"] == "2.1"
    assert result["os.cpe23"] == "cpe:/o:acme:Roadrunner:2.1"


def test_non_participating_group_is_nil_and_cpe_version_becomes_dash() -> None:
    body = """<fingerprint pattern="^Box(?: v([\\d.]+))?$">
      <param pos="1" name="hw.version"/>
      <param pos="7" name="hw.serial"/>
      <param pos="0" name="hw.cpe23" value="cpe:/h:acme:box:{hw.version}"/>
      <param pos="0" name="hw.note" value="v{hw.version}"/>
    </fingerprint>"""
    result = first(body, "Box")
    assert result is not None
    assert result["hw.version"] is None
    assert result["hw.serial"] is None  # beyond the group count: nil, as Ruby's match_data[7]
    assert result["hw.cpe23"] == "cpe:/h:acme:box:-"
    assert result["hw.note"] is None  # Recog raises here; we leave the param unset


def test_first_match_wins_even_when_it_asserts_nothing() -> None:
    body = """<fingerprint pattern="(?i)\\Alogin:\\s*$">
      <param pos="0" name="hw.certainty" value="0.0"/></fingerprint>
      <fingerprint pattern="login"><param pos="0" name="hw.vendor" value="X"/></fingerprint>"""
    result = first(body, "login:")
    assert result is not None
    assert "hw.vendor" not in result
    assert result["hw.certainty"] == "0.0"


def test_later_param_of_same_name_replaces_value() -> None:
    body = """<fingerprint pattern="x"><param pos="0" name="a" value="1"/>
      <param pos="0" name="a" value="2"/></fingerprint>"""
    assert first(body, "x") is not None
    assert first(body, "x")["a"] == "2"  # type: ignore[index]


def test_fingerprint_protocol_param_overrides_database_protocol() -> None:
    body = (
        '<fingerprint pattern="x">'
        '<param pos="0" name="service.protocol" value="ftp"/></fingerprint>'
    )
    assert first(body, "x")["service.protocol"] == "ftp"  # type: ignore[index]


def test_examples_text_base64_and_attributes() -> None:
    raw = b"MikroTik v6.1\r\nLogin: \xff"
    encoded = base64.b64encode(raw).decode()
    body = f"""<fingerprint pattern="x">
      <example os.version="6.1">plain</example>
      <example _encoding="base64">{encoded[:10]}
        {encoded[10:]}</example></fingerprint>"""
    parsed = parse_recog(db(body), "t.xml")
    plain, b64 = parsed.fingerprints[0].examples
    assert plain.text == "plain"
    assert plain.expected == {"os.version": "6.1"}
    assert b64.text == raw.decode("latin-1")  # not UTF-8: one character per byte
    assert b64.expected == {}


def test_base64_is_lenient_like_ruby_unpack_m() -> None:
    assert decode_base64("aGVs\nbG8=") == b"hello"
    assert decode_base64("aGVsbG8") == b"hello"
    assert decode_base64("!!!") == b""


def test_bad_regex_is_a_config_error_and_the_rest_still_loads() -> None:
    body = """<fingerprint pattern="(unclosed"><description>broken</description></fingerprint>
      <fingerprint pattern="fine"/>"""
    parsed = parse_recog(db(body), "bad.xml")
    assert len(parsed.fingerprints) == 2
    assert [fp.regex is None for fp in parsed.fingerprints] == [True, False]
    (error,) = parsed.errors
    assert isinstance(error, ConfigError)
    assert error.data["file"] == "bad.xml"
    assert error.data["fingerprint"] == "#1 broken"


@pytest.mark.parametrize("data", [b"", b"<fingerprints>", b"<other/>", b"\xff\xfe<x"])
def test_not_recog_xml_raises_config_error(data: bytes) -> None:
    with pytest.raises(ConfigError):
        parse_recog(data, "junk.xml")


@given(st.binary(max_size=300))
def test_loader_on_arbitrary_bytes_raises_only_config_error(data: bytes) -> None:
    try:
        parsed = parse_recog(data, "fuzz.xml")
    except ConfigError as exc:
        assert exc.data["file"] == "fuzz.xml"
    else:
        assert parsed.source == "fuzz.xml"


_ATTR_CHARS = st.text(st.characters(blacklist_categories=("Cs",)), max_size=30)


@given(_ATTR_CHARS, _ATTR_CHARS, st.text(max_size=60))
def test_loader_on_arbitrary_patterns_and_values(pattern: str, value: str, text: str) -> None:
    from xml.sax.saxutils import quoteattr

    body = (
        f"<fingerprint pattern={quoteattr(pattern)} flags={quoteattr(value)}>"
        f"<param pos={quoteattr(value)} name={quoteattr(value)} value={quoteattr(pattern)}/>"
        "</fingerprint>"
    )
    try:
        parsed = parse_recog(db(body), "fuzz.xml")
    except ConfigError:
        return
    for fp in parsed.fingerprints:
        fp.apply(text)  # never raises
