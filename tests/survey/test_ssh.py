"""SSH identification line (RFC 4253 §4.2)."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from iotscope.errors import ParseError
from iotscope.survey._ssh import VersionReader, software_of


def test_version_after_prelude_lines_and_split_chunks() -> None:
    reader = VersionReader()
    assert reader.feed(b"Welcome\r\nSSH-2.0-dropb") is None
    assert reader.feed(b"ear_2019.78\r\n") == "SSH-2.0-dropbear_2019.78"
    assert software_of("SSH-2.0-OpenSSH_7.4 Debian") == "OpenSSH_7.4"


def test_no_version_line_is_bounded() -> None:
    reader = VersionReader()
    with pytest.raises(ParseError):
        for _ in range(10):
            reader.feed(b"x" * 1000)


@settings(max_examples=400, deadline=None)
@given(st.lists(st.binary(max_size=300), max_size=40))
def test_fuzz_version_reader(chunks: list[bytes]) -> None:
    reader = VersionReader()
    try:
        for chunk in chunks:
            version = reader.feed(chunk)
            if version is not None:
                assert version.startswith("SSH-") and len(version) <= 255
    except ParseError:
        assert len(reader.buffer) > 255
