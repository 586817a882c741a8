"""The reader's entry points: what is not a capture, and fuzzing with arbitrary bytes."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from iotscope.errors import ParseError
from iotscope.pcap import read_frames
from tests.pcap import pcapng_builder as ng
from tests.pcap.captures import T0, classic


@pytest.mark.parametrize("raw", [b"", b"\xd4\xc3", b"GET / HTTP/1.1\r\n\r\n", b"\xd4\xc3\xb2\xa1"])
def test_not_a_capture_raises_parse_error(raw: bytes) -> None:
    with pytest.raises(ParseError):
        read_frames(raw)


def test_missing_file_is_a_parse_error(tmp_path: Path) -> None:
    with pytest.raises(ParseError):
        read_frames(tmp_path / "absent.pcap")


def test_empty_capture_has_no_packets() -> None:
    frames = read_frames(classic("<", False, [], []))
    assert len(frames) == 0 and frames.errors == 0


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=600))
def test_fuzz_arbitrary_bytes_only_parse_error(raw: bytes) -> None:
    for candidate in (raw, b"\xd4\xc3\xb2\xa1" + raw, ng.shb("<") + raw):
        try:
            frames = read_frames(candidate)
        except ParseError:
            continue
        ends = frames.offsets + frames.caplen
        assert np.all(ends <= len(candidate)) and frames.errors >= 0


@settings(max_examples=200, deadline=None)
@given(st.lists(st.binary(max_size=80), max_size=6), st.integers(0, 200))
def test_fuzz_valid_capture_with_garbage_tail(packets: list[bytes], cut: int) -> None:
    raw = classic("<", False, packets, [T0] * len(packets))
    frames = read_frames(raw[: max(24, len(raw) - cut)])
    if cut == 0:
        assert len(frames) == len(packets) and frames.errors == 0
    assert [frames.packet(i) for i in range(len(frames))] == packets[: len(frames)]
